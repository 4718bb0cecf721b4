package voucher

import (
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestVerifyChainHook checks that Verify hands the chain check to
// VerifyOptions.VerifyChain with the options it built, and that an error
// of the hook fails Verify with ErrChain.
func TestVerifyChainHook(t *testing.T) {
	p := newTestPKI(t, elliptic.P256())
	der, err := Sign([]byte(testContent), p.leaf, p.leafKey,
		&SignOptions{Certificates: []*x509.Certificate{p.intermediate}})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := ParseSigned(der)
	if err != nil {
		t.Fatal(err)
	}
	errHook := errors.New("hook refuses")
	for _, tc := range []struct {
		name    string
		hookErr error
	}{{"hook verifies", nil}, {"hook fails", errHook}} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			opts := p.verifyOptions()
			opts.VerifyChain = func(signer *x509.Certificate, xo x509.VerifyOptions) (
				[][]*x509.Certificate, error) {
				got = append(got, signer.Subject.CommonName)
				if !xo.CurrentTime.Equal(pkiTime) || xo.Roots != opts.Roots {
					t.Errorf("hook options: time %v, roots %p; want %v, %p", xo.CurrentTime,
						xo.Roots, pkiTime, opts.Roots)
				}
				if tc.hookErr != nil {
					return nil, tc.hookErr
				}
				return signer.Verify(xo)
			}
			_, err := obj.Verify(opts)
			if diff := cmp.Diff([]string{"test MASA"}, got); diff != "" {
				t.Errorf("hook calls (-want +got):\n%s", diff)
			}
			if tc.hookErr == nil && err != nil {
				t.Errorf("Verify: %v", err)
			}
			if tc.hookErr != nil && (!errors.Is(err, ErrChain) || !errors.Is(err, errHook)) {
				t.Errorf("Verify error = %v, want ErrChain wrapping the hook's error", err)
			}
		})
	}
}
