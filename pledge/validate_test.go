package pledge

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/brski-eap/brski/voucher"
)

func boolPtr(b bool) *bool { return &b }

func TestVerifyVoucher(t *testing.T) {
	pki := newTestPKI(t)
	nonce := []byte("0123456789abcdef")
	otherMASA := newRootCA(t, "other factory CA").issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "other MASA"},
	})
	expiredMASA := pki.factory.issue(t, &x509.Certificate{
		Subject:   pkix.Name{CommonName: "expired MASA"},
		NotBefore: testNow.Add(-48 * time.Hour),
		NotAfter:  testNow.Add(-time.Hour),
	})
	otherDomain := newRootCA(t, "other domain CA")
	tests := []struct {
		name     string
		edit     func(v *voucher.Voucher) // changes the good voucher
		signer   *testCA                  // nil means pki.masa
		pledge   func(p *Pledge)          // changes the pledge's configuration
		want     error                    // nil means the voucher is accepted
		wantX509 x509.InvalidReason       // when not zero, errors.As finds this reason
	}{
		{name: "pinned domain CA"},
		{name: "pinned registrar certificate", edit: func(v *voucher.Voucher) {
			v.PinnedDomainCert = pki.registrar.cert.Raw
		}},
		{name: "unknown leaves ignored", edit: func(v *voucher.Voucher) {
			v.Unknown = map[string]json.RawMessage{"vendor-extension": json.RawMessage(`{"x":1}`)}
		}},
		{name: "revocation checks false", edit: func(v *voucher.Voucher) {
			v.DomainCertRevocationChecks = boolPtr(false)
		}},
		{name: "created-on within skew", edit: func(v *voucher.Voucher) {
			v.CreatedOn = testNow.Add(time.Minute)
		}},
		{name: "nonceless allowed", edit: func(v *voucher.Voucher) { v.Nonce = nil },
			pledge: func(p *Pledge) { p.AllowNonceless = true }},
		{name: "wrong nonce", edit: func(v *voucher.Voucher) {
			v.Nonce = []byte("fedcba9876543210")
		}, want: ErrNonceMismatch},
		{name: "nonceless rejected", edit: func(v *voucher.Voucher) { v.Nonce = nil },
			want: ErrNonceMismatch},
		{name: "other MASA", signer: otherMASA, want: ErrVoucherSignature},
		{name: "MASA certificate expired", signer: expiredMASA, want: ErrVoucherSignature,
			wantX509: x509.Expired},
		{name: "pinned cert of another domain", edit: func(v *voucher.Voucher) {
			v.PinnedDomainCert = otherDomain.cert.Raw
		}, want: ErrPinnedDomainCert},
		{name: "pinned cert garbage", edit: func(v *voucher.Voucher) {
			v.PinnedDomainCert = []byte{0x30, 0x03, 0x02, 0x01, 0x01}
		}, want: ErrPinnedDomainCert},
		{name: "pinned cert missing", edit: func(v *voucher.Voucher) {
			v.PinnedDomainCert = nil
		}, want: ErrPinnedDomainCert},
		{name: "expires-on passed", edit: func(v *voucher.Voucher) {
			v.CreatedOn = testNow.Add(-time.Hour)
			v.ExpiresOn = testNow.Add(-time.Second)
		}, want: ErrVoucherExpired},
		{name: "expires-on now", edit: func(v *voucher.Voucher) {
			v.ExpiresOn = testNow
		}, want: ErrVoucherExpired},
		{name: "created-on in the future", edit: func(v *voucher.Voucher) {
			v.CreatedOn = testNow.Add(time.Hour)
		}, want: ErrVoucherNotYetValid},
		{name: "serial of another device", edit: func(v *voucher.Voucher) {
			v.SerialNumber = "PLEDGE-0002"
		}, want: ErrSerialMismatch},
		{name: "assertion missing", edit: func(v *voucher.Voucher) {
			v.Assertion = ""
		}, want: ErrAssertionMissing},
		{name: "idevid-issuer of another CA", edit: func(v *voucher.Voucher) {
			v.IDevIDIssuer = []byte{1, 2, 3, 4}
		}, want: ErrIDevIDIssuerMismatch},
		{name: "revocation checks required", edit: func(v *voucher.Voucher) {
			v.DomainCertRevocationChecks = boolPtr(true)
		}, want: ErrRevocationCheck},
		{name: "created-on missing", edit: func(v *voucher.Voucher) {
			v.CreatedOn = time.Time{}
		}, want: ErrVoucherMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := pki.voucherFor(nonce)
			if tt.edit != nil {
				tt.edit(v)
			}
			signer := pki.masa
			if tt.signer != nil {
				signer = tt.signer
			}
			p := pki.pledge()
			if tt.pledge != nil {
				tt.pledge(p)
			}
			got, err := p.VerifyVoucher(sign(t, v, signer), Expected{
				Nonce: nonce, SerialNumber: testDeviceSerial, IDevID: pki.idevid.cert,
				RegistrarCert: pki.registrar.cert,
			})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifyVoucher: %v", err)
				}
				if !bytes.Equal(got.PinnedDomainCert.Raw, v.PinnedDomainCert) {
					t.Errorf("PinnedDomainCert is not the voucher's pinned-domain-cert")
				}
				if !got.Signer.Equal(signer.cert) {
					t.Errorf("Signer = %q, want %q", got.Signer.Subject, signer.cert.Subject)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyVoucher error = %v, want %v", err, tt.want)
			}
			for _, other := range validationErrors {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("error %v also matches %v", err, other)
				}
			}
			if tt.wantX509 != 0 {
				var inv x509.CertificateInvalidError
				if !errors.As(err, &inv) || inv.Reason != tt.wantX509 {
					t.Errorf("error %v does not carry x509 reason %d", err, tt.wantX509)
				}
			}
		})
	}
}

func TestVerifyVoucherMalformed(t *testing.T) {
	pki := newTestPKI(t)
	nonce := []byte("0123456789abcdef")
	request, err := pki.voucherFor(nonce).MarshalRequest()
	if err != nil {
		t.Fatal(err)
	}
	signedRequest, err := voucher.Sign(request, pki.masa.cert, pki.masa.key, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := sign(t, pki.voucherFor(nonce), pki.masa)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"JSON without CMS", []byte(`{"ietf-voucher:voucher":{}}`)},
		{"truncated CMS", good[:len(good)/2]},
		{"voucher request container", signedRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pki.pledge().VerifyVoucher(tt.data, Expected{Nonce: nonce,
				SerialNumber: testDeviceSerial, RegistrarCert: pki.registrar.cert})
			if !errors.Is(err, ErrVoucherMalformed) {
				t.Errorf("VerifyVoucher error = %v, want ErrVoucherMalformed", err)
			}
		})
	}
}

func TestVerifyVoucherRegistrarChain(t *testing.T) {
	pki := newTestPKI(t)
	nonce := []byte("0123456789abcdef")
	issuing := pki.domainCA.issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "issuing CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	})
	reg := issuing.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "registrar 2"}})
	signed := sign(t, pki.voucherFor(nonce), pki.masa)
	want := Expected{Nonce: nonce, SerialNumber: testDeviceSerial, RegistrarCert: reg.cert}
	if _, err := pki.pledge().VerifyVoucher(signed, want); !errors.Is(err,
		ErrPinnedDomainCert) {
		t.Errorf("without the intermediate: error = %v, want ErrPinnedDomainCert", err)
	}
	want.RegistrarChain = []*x509.Certificate{issuing.cert}
	if _, err := pki.pledge().VerifyVoucher(signed, want); err != nil {
		t.Errorf("with the intermediate: %v", err)
	}
}

// FuzzVoucherContent fuzzes the leaf checks behind the signature check.
// Signature verification itself is fuzzed in package voucher, and with it
// in the loop the fuzzer runs only a few inputs per second.
func FuzzVoucherContent(f *testing.F) {
	pki := newTestPKI(f)
	nonce := []byte("0123456789abcdef")
	for _, edit := range []func(v *voucher.Voucher){
		func(v *voucher.Voucher) {},
		func(v *voucher.Voucher) { v.PinnedDomainCert = pki.registrar.cert.Raw },
		func(v *voucher.Voucher) { v.ExpiresOn = testNow.Add(time.Hour) },
		func(v *voucher.Voucher) { v.DomainCertRevocationChecks = boolPtr(false) },
	} {
		v := pki.voucherFor(nonce)
		edit(v)
		content, err := v.MarshalVoucher()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(content)
	}
	want := Expected{Nonce: nonce, SerialNumber: testDeviceSerial, IDevID: pki.idevid.cert,
		RegistrarCert: pki.registrar.cert}
	p := pki.pledge()
	f.Fuzz(func(t *testing.T, content []byte) {
		v, pinned, err := p.checkContent(content, want, testNow)
		if err != nil {
			for _, s := range validationErrors {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v wraps no sentinel", err)
		}
		if !bytes.Equal(v.Nonce, nonce) || v.SerialNumber != testDeviceSerial {
			t.Fatalf("accepted voucher with nonce %x, serial %q", v.Nonce, v.SerialNumber)
		}
		if !bytes.Equal(pinned.Raw, pki.domainCA.cert.Raw) &&
			!bytes.Equal(pinned.Raw, pki.registrar.cert.Raw) {
			t.Fatalf("accepted pinned-domain-cert %q", pinned.Subject)
		}
	})
}
