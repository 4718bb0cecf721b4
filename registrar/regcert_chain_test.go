package registrar

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeTestKeyPair writes chain and key under name in dir and returns the
// certificate and key file names.
func writeTestKeyPair(t *testing.T, dir, name string, chain []*x509.Certificate,
	key *testCA) (string, string) {
	t.Helper()
	var ders [][]byte
	for _, c := range chain {
		ders = append(ders, c.Raw)
	}
	certFile := filepath.Join(dir, name+".crt.pem")
	keyFile := filepath.Join(dir, name+".key.pem")
	if err := writeKeyPair(certFile, keyFile, ders, key.key); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// issueRegistrar returns a registrar certificate that issuer signed, as a
// testCA so that it carries its key.
func issueRegistrar(t *testing.T, issuer *testCA) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl, err := registrarTemplate(key.Public(), []string{"localhost"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer.cert, key.Public(), issuer.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// externalConfig returns a configuration with a domain_ca block for the
// caChain file and a registrar_cert block for the regChain file, and the
// registrar certificate file name.
func externalConfig(t *testing.T, caChain []*x509.Certificate, ca *testCA,
	regChain []*x509.Certificate, reg *testCA) (*Config, string) {
	t.Helper()
	dir := t.TempDir()
	caCert, caKey := writeTestKeyPair(t, dir, "domain-ca", caChain, ca)
	regCert, regKey := writeTestKeyPair(t, dir, "registrar", regChain, reg)
	src := fmt.Sprintf("domain_ca {\n  cert = %q\n  key = %q\n}\n"+
		"registrar_cert {\n  cert = %q\n  key = %q\n}\n%s",
		caCert, caKey, regCert, regKey, minimalPolicy)
	cfg, err := ParseConfig(filepath.Join(dir, "registrar.hcl"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, regCert
}

// TestRegistrarCertIssuer checks that start and CheckFiles reject a
// registrar certificate that does not chain to the domain CA.
func TestRegistrarCertIssuer(t *testing.T) {
	root := newTestCA(t, "campus root")
	domain := newSubCA(t, "campus CA", root)
	sub := newSubCA(t, "campus sub CA", domain)
	other := newTestCA(t, "other CA")
	fromDomain, fromSub, fromRoot := issueRegistrar(t, domain), issueRegistrar(t, sub),
		issueRegistrar(t, root)
	fromOther := issueRegistrar(t, other)
	tests := []struct {
		name     string
		caChain  []*x509.Certificate
		reg      *testCA
		regChain []*x509.Certificate
		wantErr  bool
	}{
		{"issued by the domain CA", []*x509.Certificate{domain.cert}, fromDomain,
			[]*x509.Certificate{fromDomain.cert, domain.cert}, false},
		{"issued by a sub CA in the file", []*x509.Certificate{domain.cert}, fromSub,
			[]*x509.Certificate{fromSub.cert, sub.cert}, false},
		{"issued by the root of domain_ca", []*x509.Certificate{domain.cert, root.cert},
			fromRoot, []*x509.Certificate{fromRoot.cert}, false},
		{"issued by another CA", []*x509.Certificate{domain.cert}, fromOther,
			[]*x509.Certificate{fromOther.cert, other.cert}, true},
		{"sub CA missing from the file", []*x509.Certificate{domain.cert}, fromSub,
			[]*x509.Certificate{fromSub.cert}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, regFile := externalConfig(t, tt.caChain, domain, tt.regChain, tt.reg)
			_, err := cfg.Options(newMemStore(), time.Now())
			diags := cfg.CheckFiles()
			if !tt.wantErr {
				if err != nil {
					t.Errorf("Options: %v", err)
				}
				if diags.HasErrors() {
					t.Errorf("CheckFiles: %v", diags)
				}
				return
			}
			if !errors.Is(err, ErrForeignRegistrarCert) {
				t.Fatalf("Options error = %v, want ErrForeignRegistrarCert", err)
			}
			if !diags.HasErrors() {
				t.Fatal("CheckFiles found no error")
			}
			summary := firstError(diags).Summary
			issuer := tt.regChain[len(tt.regChain)-1].Issuer.String()
			for _, want := range []string{regFile, issuer, domain.cert.Subject.String(),
				"issue it from the domain CA", "domain_ca"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Options error %q does not contain %q", err, want)
				}
				if !strings.Contains(summary, want) {
					t.Errorf("CheckFiles error %q does not contain %q", summary, want)
				}
			}
		})
	}
}

// TestRegistrarCertGeneratedCA checks a registrar_cert without domain_ca:
// CheckFiles compares it with the generated domain CA once DataDir has one,
// and start rejects it, because a new domain CA cannot have issued it.
func TestRegistrarCertGeneratedCA(t *testing.T) {
	other := newTestCA(t, "other CA")
	reg := issueRegistrar(t, other)
	for _, generated := range []bool{false, true} {
		t.Run(fmt.Sprintf("generated CA %v", generated), func(t *testing.T) {
			dir := t.TempDir()
			regCert, regKey := writeTestKeyPair(t, dir, "registrar",
				[]*x509.Certificate{reg.cert}, reg)
			if generated {
				if _, err := GenerateDomainCA(filepath.Join(dir, DefaultDataDir),
					time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			src := fmt.Sprintf("registrar_cert {\n  cert = %q\n  key = %q\n}\n%s",
				regCert, regKey, minimalPolicy)
			cfg, err := ParseConfig(filepath.Join(dir, "registrar.hcl"), []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			diags := cfg.CheckFiles()
			if got := diags.HasErrors(); got != generated {
				t.Errorf("CheckFiles has errors = %v, want %v: %v", got, generated, diags)
			}
			_, err = cfg.Options(newMemStore(), time.Now())
			if !errors.Is(err, ErrForeignRegistrarCert) {
				t.Errorf("Options error = %v, want ErrForeignRegistrarCert", err)
			}
		})
	}
}
