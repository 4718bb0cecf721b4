package pledge_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/masaclient"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/policies"
	"github.com/brski-eap/brski/registrar"
)

// acceptAcme accepts every device of the manufacturer "acme".
const acceptAcme = `
rule "acme" {
  manufacturer = "acme"
  outcome      = "accept"
}
default {
  outcome = "reject"
}
`

// lab is a manufacturer with a running MASA and a domain with a running
// registrar, all on loopback.
type lab struct {
	factory      *masa.Factory
	device       *masa.Device
	domainCA     *registrar.DomainCA
	store        *statusStore
	registrarURL string
}

// newLab starts a lab. edit, when not nil, changes the registrar options
// before the registrar is created.
func newLab(t *testing.T, edit func(*registrar.Options)) *lab {
	t.Helper()
	dir := t.TempDir()
	masaListener := listen(t)
	factory, err := masa.InitFactory(filepath.Join(dir, "factory"), "Acme",
		"https://"+masaListener.Addr().String())
	if err != nil {
		t.Fatalf("InitFactory: %v", err)
	}
	device, err := factory.Mint("PLEDGE-42", "widget")
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	masaServer, err := masa.New(masa.Config{FactoryDir: factory.Dir,
		DataDir: filepath.Join(dir, "masa"), Listen: masaListener.Addr().String()})
	if err != nil {
		t.Fatalf("masa.New: %v", err)
	}
	go masaServer.Serve(masaListener)
	t.Cleanup(func() { masaServer.Close() })

	l := &lab{factory: factory, device: device, store: newStatusStore()}
	l.startRegistrar(t, filepath.Join(dir, "registrar"), edit)
	return l
}

// startRegistrar creates the domain CA and the registrar and serves the
// registrar over HTTPS with one session per TLS connection.
func (l *lab) startRegistrar(t *testing.T, dir string, edit func(*registrar.Options)) {
	t.Helper()
	now := time.Now()
	ca, err := registrar.GenerateDomainCA(dir, now)
	if err != nil {
		t.Fatalf("GenerateDomainCA: %v", err)
	}

	cert, err := registrar.GenerateRegistrarCert(dir, ca, []string{"127.0.0.1"}, now)
	if err != nil {
		t.Fatalf("GenerateRegistrarCert: %v", err)
	}
	client, err := masaclient.New(masaclient.Config{
		RootCAs:      pool(l.factory.CA),
		Certificates: []tls.Certificate{cert.TLSCertificate()},
	})
	if err != nil {
		t.Fatalf("masaclient.New: %v", err)
	}

	opts := registrar.Options{
		DomainCA: ca,
		Cert:     cert,
		Manufacturers: []registrar.Manufacturer{{Name: "acme",
			CA: []*x509.Certificate{l.factory.CA}, MASATrust: []*x509.Certificate{l.factory.CA}}},
		Store:  l.store,
		Policy: parsePolicy(t, acceptAcme),
		MASA:   client,
		// A loaded machine must not turn the voucher exchange into a 202.
		VoucherWait: time.Minute,
	}
	if edit != nil {
		edit(&opts)
	}
	r, err := registrar.New(opts)
	if err != nil {
		t.Fatalf("registrar.New: %v", err)
	}

	srv := &http.Server{Handler: r, ConnContext: r.ConnContext,
		ReadHeaderTimeout: 10 * time.Second}
	ln := listen(t)
	go srv.Serve(tls.NewListener(ln, r.TLSConfig()))
	t.Cleanup(func() { srv.Close() })
	l.domainCA = ca
	l.registrarURL = "https://" + ln.Addr().String()
}

// pledge returns the minted device as a Pledge that trusts masaTrust.
func (l *lab) pledge(t *testing.T, masaTrust *x509.Certificate) *pledge.Pledge {
	t.Helper()
	id, err := tls.LoadX509KeyPair(l.device.CertFile, l.device.KeyFile)
	if err != nil {
		t.Fatalf("load IDevID: %v", err)
	}
	return &pledge.Pledge{IDevID: id, MASATrust: pool(masaTrust)}
}

func TestBootstrapHTTPS(t *testing.T) {
	l := newLab(t, nil)
	p := l.pledge(t, l.factory.CA)
	res, err := p.Bootstrap(t.Context(), l.registrarURL)
	if err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	if !res.PinnedDomainCert.Equal(l.domainCA.Cert) {
		t.Errorf("pinned-domain-cert %q is not the domain CA", res.PinnedDomainCert.Subject)
	}
	if _, err := res.LDevID.Verify(x509.VerifyOptions{Roots: pool(l.domainCA.Cert),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("LDevID does not chain to the domain CA: %v", err)
	}
	if got := res.LDevID.Subject.SerialNumber; got != l.device.SerialNumber {
		t.Errorf("LDevID serialNumber = %q, want %q", got, l.device.SerialNumber)
	}
	// The enrollstatus report comes over a new connection with the LDevID.
	want := []report{{Kind: "voucher", Status: true, Authenticated: true},
		{Kind: "enroll", Status: true, Authenticated: true, LDevID: true}}
	if diff := cmp.Diff(want, l.store.reports()); diff != "" {
		t.Errorf("status reports at the registrar (-want +got):\n%s", diff)
	}
	dir := t.TempDir()
	if err := res.WriteFiles(dir); err != nil {
		t.Fatalf("WriteFiles: %v", err)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, pledge.LDevIDFile),
		filepath.Join(dir, pledge.LDevIDKeyFile)); err != nil {
		t.Errorf("written LDevID does not load: %v", err)
	}
}

func TestBootstrapHTTPSOtherMASA(t *testing.T) {
	l := newLab(t, nil)
	other, err := masa.InitFactory(filepath.Join(t.TempDir(), "other"), "Other",
		"https://127.0.0.1:1")
	if err != nil {
		t.Fatalf("InitFactory: %v", err)
	}
	p := l.pledge(t, other.CA)
	_, err = p.Bootstrap(t.Context(), l.registrarURL)
	if !errors.Is(err, pledge.ErrVoucherSignature) {
		t.Fatalf("Bootstrap error = %v, want ErrVoucherSignature", err)
	}
	want := []report{{Kind: "voucher", Status: false, Authenticated: true,
		Reason: "voucher signature is not from a trusted MASA"}}
	if diff := cmp.Diff(want, l.store.reports()); diff != "" {
		t.Errorf("status reports at the registrar (-want +got):\n%s", diff)
	}
}

func TestBootstrapHTTPSSlowMASA(t *testing.T) {
	gate := &gatedMASA{release: make(chan struct{})}
	l := newLab(t, func(o *registrar.Options) {
		gate.next = o.MASA
		o.MASA = gate
		o.VoucherWait = time.Millisecond
		o.RetryAfter = time.Second
	})
	p := l.pledge(t, l.factory.CA)
	var once sync.Once
	retries := 0
	p.Trace = func(e pledge.Event) {
		if e.Kind == pledge.EventRetry {
			retries++
			once.Do(func() { close(gate.release) })
		}
	}
	if _, err := p.Bootstrap(t.Context(), l.registrarURL); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	if retries == 0 {
		t.Errorf("the registrar never responded 202 while the MASA was held")
	}
}

// gatedMASA holds every voucher request until release is closed, so the
// registrar has to respond 202 first.
type gatedMASA struct {
	next    registrar.MASAClient
	release chan struct{}
}

func (g *gatedMASA) RequestVoucher(ctx context.Context, url string, req []byte) ([]byte,
	error) {
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.next.RequestVoucher(ctx, url, req)
}

func (g *gatedMASA) RequestAuditLog(ctx context.Context, url string, req []byte) (
	*masa.AuditLog, error) {
	return g.next.RequestAuditLog(ctx, url, req)
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func parsePolicy(t *testing.T, src string) *policies.Policy {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "policy.hcl")
	if diags.HasErrors() {
		t.Fatalf("parse policy: %v", diags)
	}
	p, diags := policies.Decode(f.Body, "policy.hcl")
	if diags.HasErrors() {
		t.Fatalf("decode policy: %v", diags)
	}
	return p
}

// report is the part of a registrar.StatusReport that the tests compare.
type report struct {
	Kind          string
	Status        bool
	Reason        string
	Authenticated bool // the TLS client certificate was a verified IDevID or LDevID
	LDevID        bool // the TLS client certificate was issued by the domain CA
}

// statusStore is the registrar.Store of the tests: it keeps certificates
// and status reports in memory and has no expected devices or cached
// vouchers.
type statusStore struct {
	mu        sync.Mutex
	decisions int64
	certs     map[string]registrar.IssuedCertificate
	statuses  []registrar.StatusReport
}

func newStatusStore() *statusStore {
	return &statusStore{certs: map[string]registrar.IssuedCertificate{}}
}

func (s *statusStore) reports() []report {
	s.mu.Lock()
	defer s.mu.Unlock()
	issued := map[string]bool{}
	for _, c := range s.certs {
		issued[c.Fingerprint] = true
	}
	var out []report
	for _, r := range s.statuses {
		out = append(out, report{Kind: r.Kind, Status: r.Status, Reason: r.Reason,
			Authenticated: r.Authenticated, LDevID: issued[r.Fingerprint]})
	}
	return out
}

func (s *statusStore) ExpectedDevice(context.Context, string) (registrar.ExpectedDevice,
	error) {
	return registrar.ExpectedDevice{}, registrar.ErrNotFound
}

func (s *statusStore) CachedVoucher(context.Context, string) ([]byte, error) {
	return nil, registrar.ErrNotFound
}

func (s *statusStore) RecordDecision(context.Context, registrar.DecisionRecord) (int64,
	error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decisions++
	return s.decisions, nil
}

func (s *statusStore) RecordCertificate(_ context.Context,
	c registrar.IssuedCertificate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.certs[c.Serial] = c
	return nil
}

func (s *statusStore) IssuedCertificate(_ context.Context, serial string) (
	registrar.IssuedCertificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.certs[serial]
	if !ok {
		return c, registrar.ErrNotFound
	}
	return c, nil
}

func (s *statusStore) RecordStatus(_ context.Context, r registrar.StatusReport) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses = append(s.statuses, r)
	return nil
}
