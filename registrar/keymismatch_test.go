package registrar

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
)

// TestLoadKeyMismatch checks that a key file of another certificate is
// rejected with the fix, for the domain CA and the registrar certificate.
func TestLoadKeyMismatch(t *testing.T) {
	domain := newTestCA(t, "campus CA")
	reg := issueRegistrar(t, domain)
	stranger := &testCA{key: newKey(t)}
	tests := []struct {
		name string
		load func(dir string) (certFile string, err error)
	}{
		{"domain CA", func(dir string) (string, error) {
			certFile, _ := writeTestKeyPair(t, dir, "ca", []*x509.Certificate{domain.cert},
				domain)
			_, keyFile := writeTestKeyPair(t, dir, "other", nil, stranger)
			_, err := LoadDomainCA(certFile, keyFile)
			return certFile, err
		}},
		{"registrar certificate", func(dir string) (string, error) {
			certFile, _ := writeTestKeyPair(t, dir, "registrar",
				[]*x509.Certificate{reg.cert, domain.cert}, reg)
			_, keyFile := writeTestKeyPair(t, dir, "other", nil, stranger)
			_, err := LoadRegistrarCert(certFile, keyFile)
			return certFile, err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certFile, err := tt.load(t.TempDir())
			if !errors.Is(err, ErrKeyMismatch) {
				t.Fatalf("error = %v, want ErrKeyMismatch", err)
			}
			want := "the key file belongs to another certificate; name the key of " + certFile
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		})
	}
}
