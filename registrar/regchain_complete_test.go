package registrar

import (
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/brski-eap/brski/voucher"
)

func subjects(certs []*x509.Certificate) []string {
	var names []string
	for _, c := range certs {
		names = append(names, c.Subject.String())
	}
	return names
}

// TestRegistrarChainCompleted checks the chain that the registrar presents
// for a registrar_cert file: the file as it is when it reaches the domain
// CA, and otherwise the file's chain with the domain CA chain appended.
func TestRegistrarChainCompleted(t *testing.T) {
	root := newTestCA(t, "campus root")
	domain := newSubCA(t, "campus CA", root)
	sub := newSubCA(t, "campus sub CA", domain)
	fromDomain, fromSub, fromRoot := issueRegistrar(t, domain), issueRegistrar(t, sub),
		issueRegistrar(t, root)
	tests := []struct {
		name     string
		caChain  []*x509.Certificate
		reg      *testCA
		regChain []*x509.Certificate
		want     []*x509.Certificate
	}{
		{"leaf alone", []*x509.Certificate{domain.cert}, fromDomain,
			[]*x509.Certificate{fromDomain.cert},
			[]*x509.Certificate{fromDomain.cert, domain.cert}},
		{"leaf alone under a root", []*x509.Certificate{domain.cert, root.cert}, fromDomain,
			[]*x509.Certificate{fromDomain.cert},
			[]*x509.Certificate{fromDomain.cert, domain.cert, root.cert}},
		{"file reaches the domain CA", []*x509.Certificate{domain.cert, root.cert},
			fromDomain, []*x509.Certificate{fromDomain.cert, domain.cert},
			[]*x509.Certificate{fromDomain.cert, domain.cert}},
		{"sub CA in the file", []*x509.Certificate{domain.cert}, fromSub,
			[]*x509.Certificate{fromSub.cert, sub.cert},
			[]*x509.Certificate{fromSub.cert, sub.cert, domain.cert}},
		{"issued by the root", []*x509.Certificate{domain.cert, root.cert}, fromRoot,
			[]*x509.Certificate{fromRoot.cert},
			[]*x509.Certificate{fromRoot.cert, root.cert}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := externalConfig(t, tt.caChain, domain, tt.regChain, tt.reg)
			opts, err := cfg.Options(newMemStore(), time.Now())
			if err != nil {
				t.Fatalf("Options: %v", err)
			}
			if diff := cmp.Diff(subjects(tt.want), subjects(opts.Cert.Chain)); diff != "" {
				t.Errorf("chain (-want +got):\n%s", diff)
			}
			tlsChain := opts.Cert.TLSCertificate().Certificate
			if len(tlsChain) != len(tt.want) {
				t.Errorf("TLS chain has %d certificates, want %d", len(tlsChain), len(tt.want))
			}
		})
	}
}

// TestLeafAloneRegistrarPinsDomainCA runs a voucher exchange with a
// registrar_cert file that has the registrar certificate alone. The MASA
// pins the certificate of the registrar voucher request's chain farthest
// from the registrar (RFC 8995, Section 5.5.2), which must be the domain
// CA, as with a generated registrar certificate.
func TestLeafAloneRegistrarPinsDomainCA(t *testing.T) {
	domain := newTestCA(t, "campus CA")
	reg := issueRegistrar(t, domain)
	cfg, _ := externalConfig(t, []*x509.Certificate{domain.cert}, domain,
		[]*x509.Certificate{reg.cert}, reg)
	opts, err := cfg.Options(newMemStore(), time.Now())
	if err != nil {
		t.Fatalf("Options: %v", err)
	}
	m := newTestMASA(t)
	st := openTestStore(t, "SN-0701")
	r, _ := testRegistrarFor(t, m, st, Options{DomainCA: opts.DomainCA, Cert: opts.Cert})
	p := dialPledge(t, serveRegistrar(t, r), mintDevice(t, m, "SN-0701"))
	resp, body := p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType,
		p.voucherRequest(t))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("requestvoucher status = %d; body %q", resp.StatusCode, body)
	}
	if pinned := checkVoucher(t, m, p, body); !pinned.Equal(domain.cert) {
		t.Errorf("pinned-domain-cert = %q, want the domain CA %q", pinned.Subject,
			domain.cert.Subject)
	}
}
