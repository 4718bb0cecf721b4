package pledge

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// oidSHA256WithRSA is sha256WithRSAEncryption (RFC 8017).
var oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}

func TestCSRAttributesKeyType(t *testing.T) {
	rsaBits := func(bits any) csrAttribute {
		return csrAttribute{Type: oidRSAEncryption, Values: []asn1.RawValue{rawOf(t, bits)}}
	}
	tests := []struct {
		name        string
		der         []byte
		key         x509.PublicKeyAlgorithm // KeyAlgorithm
		keyType     x509.PublicKeyAlgorithm // KeyType()
		alg         x509.SignatureAlgorithm
		bits        int
		unsupported []asn1.ObjectIdentifier
	}{
		{"none", csrAttrsDER(t, oidAttrSerialNumber), x509.UnknownPublicKeyAlgorithm,
			x509.ECDSA, x509.UnknownSignatureAlgorithm, 0, nil},
		{"RSA key and SHA-256", csrAttrsDER(t, oidSHA256WithRSA, oidRSAEncryption,
			oidAttrSerialNumber), x509.RSA, x509.RSA, x509.SHA256WithRSA, 0, nil},
		{"RSA signature only", csrAttrsDER(t, oidSHA256WithRSA), x509.UnknownPublicKeyAlgorithm,
			x509.RSA, x509.SHA256WithRSA, 0, nil},
		{"EC key and RSA signature", csrAttrsDER(t, oidECPublicKey, oidSHA256WithRSA),
			x509.ECDSA, x509.ECDSA, x509.SHA256WithRSA, 0, nil},
		{"P-384 attribute", csrAttrsDER(t, csrAttribute{Type: oidECPublicKey,
			Values: []asn1.RawValue{rawOf(t, curves[1].oid)}}),
			x509.ECDSA, x509.ECDSA, x509.UnknownSignatureAlgorithm, 0, nil},
		{"RSA-3072 attribute", csrAttrsDER(t, rsaBits(3072)), x509.RSA, x509.RSA,
			x509.UnknownSignatureAlgorithm, 3072, nil},
		{"RSA-1024 attribute", csrAttrsDER(t, rsaBits(1024)), x509.RSA, x509.RSA,
			x509.UnknownSignatureAlgorithm, 0, []asn1.ObjectIdentifier{oidRSAEncryption}},
		{"RSA-16384 attribute", csrAttrsDER(t, rsaBits(16384)), x509.RSA, x509.RSA,
			x509.UnknownSignatureAlgorithm, 0, []asn1.ObjectIdentifier{oidRSAEncryption}},
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
			if a.RSABits != tt.bits {
				t.Errorf("RSABits = %d, want %d", a.RSABits, tt.bits)
			}
			if diff := cmp.Diff(tt.unsupported, a.Unsupported); diff != "" {
				t.Errorf("Unsupported (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCSRAttributesRSABitsNotInteger(t *testing.T) {
	der := csrAttrsDER(t, csrAttribute{Type: oidRSAEncryption,
		Values: []asn1.RawValue{rawOf(t, "2048")}})
	if _, err := ParseCSRAttributes(der); !errors.Is(err, ErrCSRAttributes) {
		t.Fatalf("ParseCSRAttributes error = %v, want ErrCSRAttributes", err)
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
		{"RSA-3072 requested", &CSRAttributes{KeyAlgorithm: x509.RSA, RSABits: 3072},
			"RSA-3072", x509.SHA256WithRSA},
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
