package masa_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/masaclient"
	"github.com/brski-eap/brski/voucher"
)

var oidCmcRA = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 28}

// clock is a settable time source for Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// domain is a registrar's PKI: a domain CA and a registrar certificate.
type domain struct {
	ca           *x509.Certificate
	caKey        crypto.Signer
	registrar    *x509.Certificate
	registrarKey crypto.Signer
}

// env is a factory with one minted device, a MASA serving it on loopback
// and a client that trusts the MASA's TLS certificate.
type env struct {
	t       testing.TB
	factory *masa.Factory
	device  *masa.Device
	domain  domain
	clock   *clock
	server  *masa.Server
	url     string
	client  *masaclient.Client
	https   *http.Client

	logMu sync.Mutex
	logs  []masa.RequestLog
}

// newEnv returns an env whose MASA serves on a loopback port.
func newEnv(t testing.TB, configure func(*masa.Config)) *env {
	t.Helper()
	e := newUnservedEnv(t, configure)
	e.serve()
	return e
}

// serve serves the env's MASA on a loopback port and sets the url and the
// clients that trust the factory CA.
func (e *env) serve() {
	t := e.t
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.server.Serve(l) }()
	t.Cleanup(func() {
		e.server.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	e.url = "https://" + l.Addr().String()
	roots := x509.NewCertPool()
	roots.AddCert(e.factory.CA)
	e.client, err = masaclient.New(masaclient.Config{RootCAs: roots, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.https = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(roots)}}
	t.Cleanup(e.https.CloseIdleConnections)
}

// newUnservedEnv returns an env whose MASA is only reachable through its
// Handler.
func newUnservedEnv(t testing.TB, configure func(*masa.Config)) *env {
	t.Helper()
	f, err := masa.InitFactory(t.TempDir(), "Example Devices", "https://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.Mint("SN-0001", "Switch 24P")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, factory: f, device: d, domain: newDomain(t, "Example Domain CA", true),
		clock: &clock{now: time.Now().UTC().Truncate(time.Millisecond)}}
	cfg := masa.Config{FactoryDir: f.Dir, DataDir: t.TempDir(), Now: e.clock.Now,
		OnRequest: e.record}
	if configure != nil {
		configure(&cfg)
	}
	if e.server, err = masa.New(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.server.Close() })
	return e
}

func (e *env) record(l masa.RequestLog) {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	e.logs = append(e.logs, l)
}

// newDomain returns a domain CA and a registrar certificate that it issued,
// with the cmcRA extended key usage when cmcRA is true.
func newDomain(t testing.TB, name string, cmcRA bool) domain {
	t.Helper()
	caKey := newKey(t)
	ca := issueCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: name},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign},
		caKey.Public(), nil, caKey)
	regKey := newKey(t)
	template := &x509.Certificate{Subject: pkix.Name{CommonName: name + " registrar"},
		KeyUsage: x509.KeyUsageDigitalSignature}
	if cmcRA {
		template.UnknownExtKeyUsage = []asn1.ObjectIdentifier{oidCmcRA}
	} else {
		template.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	reg := issueCert(t, template, regKey.Public(), ca, caKey)
	return domain{ca: ca, caKey: caKey, registrar: reg, registrarKey: regKey}
}

func newKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func issueCert(t testing.TB, template *x509.Certificate, pub crypto.PublicKey,
	parent *x509.Certificate, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	template.SerialNumber = serial
	template.NotBefore = time.Now().Add(-time.Hour)
	template.NotAfter = time.Now().Add(24 * time.Hour)
	if parent == nil {
		parent = template
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, pub, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// pledgeRequest returns a pledge voucher request (RFC 8995, Section 5.2)
// signed by the device's IDevID.
func (e *env) pledgeRequest(d *masa.Device, nonce []byte, proximity *x509.Certificate) []byte {
	e.t.Helper()
	v := &voucher.Voucher{CreatedOn: e.clock.Now(), Assertion: voucher.AssertionProximity,
		SerialNumber: d.SerialNumber, Nonce: nonce}
	if proximity != nil {
		v.ProximityRegistrarCert = proximity.Raw
	}
	content, err := v.MarshalRequest()
	if err != nil {
		e.t.Fatal(err)
	}
	signed, err := voucher.Sign(content, d.Certificate, d.Key, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return signed
}

// registrarRequest returns a registrar voucher request (RFC 8995,
// Section 5.5) around prior, signed by the domain's registrar with the
// domain CA carried in the CMS.
func (e *env) registrarRequest(dom domain, serial string, nonce, prior []byte) []byte {
	e.t.Helper()
	v := &voucher.Voucher{CreatedOn: e.clock.Now(), SerialNumber: serial, Nonce: nonce,
		PriorSignedVoucherRequest: prior}
	content, err := v.MarshalRequest()
	if err != nil {
		e.t.Fatal(err)
	}
	signed, err := voucher.Sign(content, dom.registrar, dom.registrarKey,
		&voucher.SignOptions{Certificates: []*x509.Certificate{dom.ca}})
	if err != nil {
		e.t.Fatal(err)
	}
	return signed
}

// claim returns a registrar voucher request for the env's device with
// nonce, through the env's domain.
func (e *env) claim(nonce []byte) []byte {
	return e.registrarRequest(e.domain, e.device.SerialNumber, nonce,
		e.pledgeRequest(e.device, nonce, e.domain.registrar))
}

func tlsConfig(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}

func newPool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}
