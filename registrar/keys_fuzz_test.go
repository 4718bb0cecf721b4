package registrar

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
)

// FuzzCertificateFileChecks runs the checks of a registrar_cert file on
// hostile PEM input: parsing, the key rule and the chain to the domain CA.
// Each must return an error or a chain that starts with the registrar
// certificate, and never panic.
func FuzzCertificateFileChecks(f *testing.F) {
	d := newTestDomain(f)
	pemOf := func(certs ...*x509.Certificate) []byte {
		var out []byte
		for _, c := range certs {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE",
				Bytes: c.Raw})...)
		}
		return out
	}
	f.Add(pemOf(d.cert.Chain...))
	f.Add(pemOf(d.cert.Leaf()))
	f.Add(pemOf(d.cert.Leaf(), d.cert.Leaf(), d.ca.Cert))
	f.Add(pemOf(newTestCA(f, "other CA").cert))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := parseCertificatesPEM(data)
		if err != nil {
			return
		}
		if err := checkCertKeys(certs, "fuzz.pem", "certificate"); err != nil {
			if !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("checkCertKeys error %v does not wrap ErrUnsupportedKey", err)
			}
			return
		}
		rc, err := linkDomainCA(&RegistrarCert{Chain: certs, Key: d.cert.Key}, d.ca,
			"fuzz.pem")
		if err != nil {
			if !errors.Is(err, ErrForeignRegistrarCert) {
				t.Fatalf("linkDomainCA error %v does not wrap ErrForeignRegistrarCert", err)
			}
			return
		}
		if !rc.Leaf().Equal(certs[0]) {
			t.Fatal("linkDomainCA changed the registrar certificate")
		}
	})
}
