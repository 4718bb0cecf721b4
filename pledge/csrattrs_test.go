package pledge

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rfc7030CSRAttrs is the CSR attributes example of RFC 7030, Section 4.5.2:
// challengePassword, an id-ecPublicKey attribute naming secp384r1, an
// extensionRequest naming macAddress (1.3.6.1.1.1.1.22) and
// ecdsa-with-SHA384.
const rfc7030CSRAttrs = "MEEGCSqGSIb3DQEJBzASBgcqhkjOPQIBMQcGBSuBBAAiMBYGCSqGSIb3DQEJDjEJBgcr" +
	"BgEBAQEWBggqhkjOPQQDAw=="

var (
	oidChallengePassword = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 7}
	oidMACAddress        = asn1.ObjectIdentifier{1, 3, 6, 1, 1, 1, 1, 22}
	oidSubjectAltName    = asn1.ObjectIdentifier{2, 5, 29, 17}
)

// csrAttrsDER encodes items, each an asn1.ObjectIdentifier or a
// csrAttribute, as CsrAttrs.
func csrAttrsDER(t testing.TB, items ...any) []byte {
	t.Helper()
	raw := make([]asn1.RawValue, 0, len(items))
	for _, it := range items {
		der, err := asn1.Marshal(it)
		if err != nil {
			t.Fatalf("marshal %v: %v", it, err)
		}
		raw = append(raw, asn1.RawValue{FullBytes: der})
	}
	der, err := asn1.Marshal(raw)
	if err != nil {
		t.Fatalf("marshal CsrAttrs: %v", err)
	}
	return der
}

// rawOf returns v as an asn1.RawValue for csrAttribute.Values.
func rawOf(t testing.TB, v any) asn1.RawValue {
	t.Helper()
	der, err := asn1.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	var rv asn1.RawValue
	if _, err := asn1.Unmarshal(der, &rv); err != nil {
		t.Fatalf("unmarshal %x: %v", der, err)
	}
	return rv
}

// attrsView is the comparable form of CSRAttributes.
type attrsView struct {
	Curve       string
	Alg         x509.SignatureAlgorithm
	Extensions  []pkix.Extension
	Unsupported []string
}

func viewOf(a *CSRAttributes) attrsView {
	v := attrsView{Alg: a.SignatureAlgorithm, Extensions: a.Extensions}
	if a.Curve != nil {
		v.Curve = a.Curve.Params().Name
	}
	for _, oid := range a.Unsupported {
		v.Unsupported = append(v.Unsupported, oid.String())
	}
	return v
}

func TestParseCSRAttributes(t *testing.T) {
	rfc, err := base64.StdEncoding.DecodeString(rfc7030CSRAttrs)
	if err != nil {
		t.Fatal(err)
	}
	san := pkix.Extension{Id: oidSubjectAltName, Value: []byte{0x30, 0x03, 0x82, 0x01, 'a'}}
	tests := []struct {
		name string
		der  []byte
		want attrsView
	}{
		{"RFC 7030 Section 4.5.2", rfc, attrsView{
			Curve: "P-384", Alg: x509.ECDSAWithSHA384,
			Unsupported: []string{oidChallengePassword.String(), oidMACAddress.String()},
		}},
		{"empty", csrAttrsDER(t), attrsView{}},
		{"extension request", csrAttrsDER(t,
			csrAttribute{Type: oidExtensionRequest,
				Values: []asn1.RawValue{rawOf(t, []pkix.Extension{san})}},
			oidECPublicKey,
		), attrsView{Extensions: []pkix.Extension{san}}},
		{"registrar serialNumber request", csrAttrsDER(t,
			signatureAlgorithms[0].oid, oidAttrSerialNumber, oidAttrCommonName,
		), attrsView{Alg: x509.ECDSAWithSHA256}},
		{"P-256 and SHA-256", csrAttrsDER(t,
			csrAttribute{Type: oidECPublicKey,
				Values: []asn1.RawValue{rawOf(t, curves[0].oid)}},
			signatureAlgorithms[0].oid,
		), attrsView{Curve: "P-256", Alg: x509.ECDSAWithSHA256}},
		{"unknown curve and attribute", csrAttrsDER(t,
			csrAttribute{Type: oidECPublicKey,
				Values: []asn1.RawValue{rawOf(t, asn1.ObjectIdentifier{1, 3, 101, 110})}},
			csrAttribute{Type: oidChallengePassword,
				Values: []asn1.RawValue{rawOf(t, "secret")}},
		), attrsView{Unsupported: []string{"1.3.101.110", oidChallengePassword.String()}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCSRAttributes(tt.der)
			if err != nil {
				t.Fatalf("ParseCSRAttributes: %v", err)
			}
			if diff := cmp.Diff(tt.want, viewOf(got)); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCSRAttributesInvalid(t *testing.T) {
	san := pkix.Extension{Id: oidSubjectAltName, Value: []byte{0x30, 0x00}}
	tests := []struct {
		name string
		der  []byte
	}{
		{"empty input", nil},
		{"not a sequence", []byte{0x04, 0x01, 0x00}},
		{"truncated", []byte{0x30, 0x05, 0x06, 0x03, 0x2a}},
		{"trailing bytes", append(csrAttrsDER(t), 0x00)},
		{"integer item", csrAttrsDER(t, 7)},
		{"attribute without values", csrAttrsDER(t,
			csrAttribute{Type: oidExtensionRequest, Values: []asn1.RawValue{}})},
		{"curve not an OID", csrAttrsDER(t,
			csrAttribute{Type: oidECPublicKey, Values: []asn1.RawValue{rawOf(t, 5)}})},
		{"extension request not extensions", csrAttrsDER(t,
			csrAttribute{Type: oidExtensionRequest, Values: []asn1.RawValue{rawOf(t, 5)}})},
		{"repeated extension", csrAttrsDER(t,
			csrAttribute{Type: oidExtensionRequest, Values: []asn1.RawValue{
				rawOf(t, []pkix.Extension{san}), rawOf(t, []pkix.Extension{san})}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCSRAttributes(tt.der)
			if !errors.Is(err, ErrCSRAttributes) {
				t.Errorf("ParseCSRAttributes error = %v, want ErrCSRAttributes", err)
			}
		})
	}
}

func TestNewCSRFollowsAttributes(t *testing.T) {
	san := pkix.Extension{Id: oidSubjectAltName,
		Value: []byte{0x30, 0x0b, 0x82, 0x09, 'p', 'l', 'e', 'd', 'g', 'e', '.', 'e', 'x'}}
	attrs := &CSRAttributes{Curve: elliptic.P384(), SignatureAlgorithm: x509.ECDSAWithSHA384,
		Extensions: []pkix.Extension{san}}
	key, der, err := newCSR("SN-42", attrs)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Errorf("CSR signature: %v", err)
	}
	type csrView struct {
		Serial, CN, Curve string
		Alg               x509.SignatureAlgorithm
		DNS               []string
		KeyMatches        bool
	}
	got := csrView{Serial: csr.Subject.SerialNumber, CN: csr.Subject.CommonName,
		Alg: csr.SignatureAlgorithm, DNS: csr.DNSNames,
		KeyMatches: key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(csr.PublicKey)}
	if pub, ok := csr.PublicKey.(*ecdsa.PublicKey); ok {
		got.Curve = pub.Curve.Params().Name
	}
	want := csrView{Serial: "SN-42", CN: "SN-42", Curve: "P-384", Alg: x509.ECDSAWithSHA384,
		DNS: []string{"pledge.ex"}, KeyMatches: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CSR (-want +got):\n%s", diff)
	}
}

func FuzzParseCSRAttributes(f *testing.F) {
	rfc, err := base64.StdEncoding.DecodeString(rfc7030CSRAttrs)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rfc)
	f.Add([]byte{0x30, 0x00})
	f.Add(csrAttrsDER(f, csrAttribute{Type: oidExtensionRequest, Values: []asn1.RawValue{
		rawOf(f, []pkix.Extension{{Id: oidSubjectAltName, Value: []byte{0x30, 0x00}}})}}))
	f.Add(csrAttrsDER(f, oidSHA256WithRSA, oidRSAEncryption, oidAttrSerialNumber))
	f.Add(csrAttrsDER(f, csrAttribute{Type: oidRSAEncryption,
		Values: []asn1.RawValue{rawOf(f, 3072)}}))
	f.Fuzz(func(t *testing.T, der []byte) {
		a, err := ParseCSRAttributes(der)
		if err != nil {
			if !errors.Is(err, ErrCSRAttributes) {
				t.Fatalf("error %v does not wrap ErrCSRAttributes", err)
			}
			return
		}
		if a.Curve != nil && a.Curve != elliptic.P256() && a.Curve != elliptic.P384() &&
			a.Curve != elliptic.P521() {
			t.Fatalf("unexpected curve %v", a.Curve.Params().Name)
		}
		if k := a.KeyType(); k != x509.ECDSA && k != x509.RSA {
			t.Fatalf("KeyType() = %v, want ECDSA or RSA", k)
		}
		if a.RSABits != 0 && (a.RSABits < minRSABits || a.RSABits > maxRSABits) {
			t.Fatalf("RSABits = %d, want 0 or %d to %d", a.RSABits, minRSABits, maxRSABits)
		}
		for i, e := range a.Extensions {
			for _, prev := range a.Extensions[:i] {
				if prev.Id.Equal(e.Id) {
					t.Fatalf("extension %v returned twice", e.Id)
				}
			}
		}
	})
}
