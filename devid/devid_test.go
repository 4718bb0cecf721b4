package devid

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const rfc8995Dir = "../voucher/testdata/rfc8995/"

func readCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(rfc8995Dir + name)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// rawName encodes a subject with one attribute whose string has ASN.1 tag.
func rawName(t *testing.T, oid asn1.ObjectIdentifier, tag int, value string) []byte {
	t.Helper()
	atv := struct {
		Type  asn1.ObjectIdentifier
		Value asn1.RawValue
	}{oid, asn1.RawValue{Tag: tag, Bytes: []byte(value)}}
	rdn, err := asn1.MarshalWithParams([]any{atv}, "set")
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal([]asn1.RawValue{{FullBytes: rdn}})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// newCert returns a self-signed certificate built from template.
func newCert(t *testing.T, template *x509.Certificate) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template.SerialNumber = big.NewInt(4242)
	template.NotBefore = time.Unix(0, 0)
	template.NotAfter = time.Unix(1<<33, 0)
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestSerialNumberRFC8995AppendixC15(t *testing.T) {
	cert := readCert(t, "pledge_idevid_00-D0-E5-F2-00-02.crt.pem")
	got, err := SerialNumber(cert)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("00-D0-E5-F2-00-02", got); diff != "" {
		t.Errorf("serial (-want +got):\n%s", diff)
	}
	if cert.SerialNumber.String() == got {
		t.Error("serial number equals the certificate serial")
	}
}

func TestSerialNumberSources(t *testing.T) {
	san, err := MarshalHardwareModuleName(HardwareModuleName{
		Type: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, SerialNum: []byte("HW-77")})
	if err != nil {
		t.Fatal(err)
	}
	sanExt := pkix.Extension{Id: oidSubjectAltName, Value: san}
	tests := []struct {
		name     string
		template *x509.Certificate
		want     string
		wantErr  error
	}{
		{"printable string", &x509.Certificate{
			RawSubject: rawName(t, OIDSerialNumber, asn1.TagPrintableString, "AB-1")}, "AB-1", nil},
		{"utf8 string", &x509.Certificate{
			RawSubject: rawName(t, OIDSerialNumber, asn1.TagUTF8String, "Zähler-9")},
			"Zähler-9", nil},
		{"hardware module name", &x509.Certificate{
			Subject: pkix.Name{CommonName: "no serial"}, ExtraExtensions: []pkix.Extension{sanExt}},
			"HW-77", nil},
		{"subject wins over san", &x509.Certificate{
			Subject:         pkix.Name{SerialNumber: "SUBJ-1"},
			ExtraExtensions: []pkix.Extension{sanExt}}, "SUBJ-1", nil},
		{"neither", &x509.Certificate{Subject: pkix.Name{CommonName: "x"}}, "", ErrNoSerialNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SerialNumber(newCert(t, tt.template))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("serial (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMASAURLRFC8995AppendixC15(t *testing.T) {
	got, err := MASAURL(readCert(t, "pledge_idevid_00-D0-E5-F2-00-02.crt.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("https://highway-test.example.com:9443", got); diff != "" {
		t.Errorf("MASA URL (-want +got):\n%s", diff)
	}
}

func TestMASAURLMissing(t *testing.T) {
	_, err := MASAURL(readCert(t, "registrar_jrc_prime256v1.crt.pem"))
	if !errors.Is(err, ErrNoMASAURL) {
		t.Fatalf("error = %v, want ErrNoMASAURL", err)
	}
}

func TestParseMASAURL(t *testing.T) {
	utf8, _ := asn1.MarshalWithParams("masa.example.com", "utf8")
	tests := []struct {
		name    string
		value   []byte
		want    string
		wantErr bool
	}{
		{"host and port", mustMarshalURL(t, "masa.example.com:9443"),
			"https://masa.example.com:9443", false},
		{"with scheme and path", mustMarshalURL(t, "https://m.example.com/brski/"),
			"https://m.example.com/brski", false},
		{"upper-case scheme", mustMarshalURL(t, "HTTPS://m.example.com"),
			"https://m.example.com", false},
		{"http scheme", mustMarshalURL(t, "http://m.example.com"), "", true},
		{"no host", mustMarshalURL(t, "https:///path"), "", true},
		{"user info", mustMarshalURL(t, "https://u:p@m.example.com"), "", true},
		{"query", mustMarshalURL(t, "m.example.com/?a=b"), "", true},
		{"empty", mustMarshalURL(t, ""), "", true},
		{"utf8 string tag", utf8, "", true},
		{"trailing bytes", append(mustMarshalURL(t, "m.example.com"), 0), "", true},
		{"truncated", mustMarshalURL(t, "m.example.com")[:5], "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMASAURL(tt.value)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("URL (-want +got):\n%s", diff)
			}
		})
	}
}

func mustMarshalURL(t *testing.T, s string) []byte {
	t.Helper()
	b, err := MarshalMASAURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMarshalMASAURLNonASCII(t *testing.T) {
	if _, err := MarshalMASAURL("https://bücher.example"); err == nil {
		t.Fatal("no error for a non-ASCII URL")
	}
}

func TestModel(t *testing.T) {
	cert := newCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Switch-24P",
		SerialNumber: "S1"}})
	if diff := cmp.Diff("Switch-24P", Model(cert)); diff != "" {
		t.Errorf("model (-want +got):\n%s", diff)
	}
	if got := Model(readCert(t, "pledge_idevid_00-D0-E5-F2-00-02.crt.pem")); got != "" {
		t.Errorf("model of the RFC 8995 IDevID = %q, want empty", got)
	}
}

func TestKeyIdentifier(t *testing.T) {
	cert := readCert(t, "pledge_idevid_00-D0-E5-F2-00-02.crt.pem")
	got, err := KeyIdentifier(cert.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	// The RFC 8995 IDevID carries a method 1 subject key identifier.
	want := hex.EncodeToString(cert.SubjectKeyId)
	if diff := cmp.Diff(want, hex.EncodeToString(got)); diff != "" {
		t.Errorf("key identifier (-want +got):\n%s", diff)
	}
	key := cert.PublicKey.(*ecdsa.PublicKey)
	point, err := key.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(point)
	if diff := cmp.Diff(sum[:], got); diff != "" {
		t.Errorf("key identifier (-want +got):\n%s", diff)
	}
}

func TestDomainID(t *testing.T) {
	ca := readCert(t, "registrar-ca_ownerca_secp384r1.crt.pem")
	if diff := cmp.Diff(ca.SubjectKeyId, DomainID(ca)); diff != "" {
		t.Errorf("domainID with SKI (-want +got):\n%s", diff)
	}
	noSKI := newCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "leaf"}})
	if len(noSKI.SubjectKeyId) != 0 {
		t.Fatal("test certificate has a subject key identifier")
	}
	if got := DomainID(noSKI); len(got) != 32 {
		t.Errorf("domainID without SKI has %d bytes, want a SHA-256 fingerprint", len(got))
	}
}

func TestFingerprint(t *testing.T) {
	got := Fingerprint(readCert(t, "pledge_idevid_00-D0-E5-F2-00-02.crt.pem"))
	if len(got) != 64 {
		t.Fatalf("fingerprint %q is not 64 hex digits", got)
	}
	if _, err := hex.DecodeString(got); err != nil {
		t.Fatal(err)
	}
}

func TestHasCmcRA(t *testing.T) {
	tests := []struct {
		name string
		file string
		want bool
	}{
		{"registrar", "registrar_jrc_prime256v1.crt.pem", true},
		{"idevid", "pledge_idevid_00-D0-E5-F2-00-02.crt.pem", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HasCmcRA(readCert(t, tt.file)); got != tt.want {
				t.Errorf("HasCmcRA = %v, want %v", got, tt.want)
			}
		})
	}
}
