package pledge

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// oidSHA256WithRSA is sha256WithRSAEncryption (RFC 8017, Appendix A.2.4).
var oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}

func TestCSRAttributesKeyType(t *testing.T) {
	tests := []struct {
		name    string
		der     []byte
		key     x509.PublicKeyAlgorithm // KeyAlgorithm
		keyType x509.PublicKeyAlgorithm // KeyType()
		alg     x509.SignatureAlgorithm
	}{
		{"none", csrAttrsDER(t, oidAttrSerialNumber), x509.UnknownPublicKeyAlgorithm,
			x509.ECDSA, x509.UnknownSignatureAlgorithm},
		{"RSA key and SHA-256", csrAttrsDER(t, oidSHA256WithRSA, oidRSAEncryption,
			oidAttrSerialNumber), x509.RSA, x509.RSA, x509.SHA256WithRSA},
		{"RSA signature only", csrAttrsDER(t, oidSHA256WithRSA), x509.UnknownPublicKeyAlgorithm,
			x509.RSA, x509.SHA256WithRSA},
		{"EC key and RSA signature", csrAttrsDER(t, oidECPublicKey, oidSHA256WithRSA),
			x509.ECDSA, x509.ECDSA, x509.SHA256WithRSA},
		{"P-384 attribute", csrAttrsDER(t, csrAttribute{Type: oidECPublicKey,
			Values: []asn1.RawValue{rawOf(t, curves[1].oid)}}),
			x509.ECDSA, x509.ECDSA, x509.UnknownSignatureAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseCSRAttributes(tt.der)
			if err != nil {
				t.Fatalf("ParseCSRAttributes: %v", err)
			}
			if a.KeyAlgorithm != tt.key {
				t.Errorf("KeyAlgorithm = %v, want %v", a.KeyAlgorithm, tt.key)
			}
			if got := a.KeyType(); got != tt.keyType {
				t.Errorf("KeyType() = %v, want %v", got, tt.keyType)
			}
			if a.SignatureAlgorithm != tt.alg {
				t.Errorf("SignatureAlgorithm = %v, want %v", a.SignatureAlgorithm, tt.alg)
			}
			if len(a.Unsupported) != 0 {
				t.Errorf("Unsupported = %v, want none", a.Unsupported)
			}
		})
	}
}

func TestNewCSRKeyTypes(t *testing.T) {
	tests := []struct {
		name  string
		attrs *CSRAttributes
		key   string // "RSA-2048" or the curve name
		alg   x509.SignatureAlgorithm
	}{
		{"RSA requested", &CSRAttributes{KeyAlgorithm: x509.RSA,
			SignatureAlgorithm: x509.SHA256WithRSA}, "RSA-2048", x509.SHA256WithRSA},
		{"RSA by signature algorithm", &CSRAttributes{
			SignatureAlgorithm: x509.SHA384WithRSA}, "RSA-2048", x509.SHA384WithRSA},
		{"EC key with RSA signature", &CSRAttributes{KeyAlgorithm: x509.ECDSA,
			SignatureAlgorithm: x509.SHA256WithRSA}, "P-256", x509.ECDSAWithSHA256},
		{"RSA key with EC curve", &CSRAttributes{KeyAlgorithm: x509.RSA,
			Curve: curves[1].curve}, "RSA-2048", x509.SHA256WithRSA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, der, err := newCSR("SN-7", tt.attrs)
			if err != nil {
				t.Fatalf("newCSR: %v", err)
			}
			csr, err := x509.ParseCertificateRequest(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := csr.CheckSignature(); err != nil {
				t.Errorf("CSR signature: %v", err)
			}
			var key string
			switch pub := csr.PublicKey.(type) {
			case *rsa.PublicKey:
				key = fmt.Sprintf("RSA-%d", pub.N.BitLen())
			case *ecdsa.PublicKey:
				key = pub.Curve.Params().Name
			}
			if diff := cmp.Diff(tt.key, key); diff != "" {
				t.Errorf("CSR key (-want +got):\n%s", diff)
			}
			if csr.SignatureAlgorithm != tt.alg {
				t.Errorf("CSR signature algorithm = %v, want %v", csr.SignatureAlgorithm,
					tt.alg)
			}
		})
	}
}
