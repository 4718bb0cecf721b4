package registrar

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/masaclient"
	"github.com/brski-eap/brski/voucher"
)

// testMASA is a factory and its MASA behind an HTTPS test server whose
// voucher requests a test can hold back.
type testMASA struct {
	factory *masa.Factory
	server  *masa.Server
	ts      *httptest.Server

	mu       sync.Mutex
	hold     chan struct{} // when set, voucher requests wait until it is closed
	arrived  chan struct{} // receives one value per held voucher request
	requests int           // voucher requests seen
}

// newTestMASA starts a MASA. Each configure function may change its
// configuration before it starts.
func newTestMASA(t *testing.T, configure ...func(*masa.Config)) *testMASA {
	t.Helper()
	m := &testMASA{}
	var inner http.Handler
	m.ts = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter,
		req *http.Request) {
		if req.URL.Path == masaclient.PathRequestVoucher {
			m.mu.Lock()
			m.requests++
			hold, arrived := m.hold, m.arrived
			m.mu.Unlock()
			if hold != nil {
				arrived <- struct{}{}
				<-hold
			}
		}
		inner.ServeHTTP(w, req)
	}))
	m.ts.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	m.ts.StartTLS()
	t.Cleanup(m.ts.Close)
	dir := t.TempDir()
	f, err := masa.InitFactory(dir+"/factory", "acme", m.ts.URL)
	if err != nil {
		t.Fatalf("InitFactory: %v", err)
	}
	m.factory = f
	cfg := masa.Config{FactoryDir: dir + "/factory", DataDir: dir + "/masa",
		RateInterval: time.Nanosecond}
	for _, f := range configure {
		f(&cfg)
	}
	m.server, err = masa.New(cfg)
	if err != nil {
		t.Fatalf("masa.New: %v", err)
	}
	t.Cleanup(func() { m.server.Close() })
	inner = m.server.Handler()
	return m
}

// holdVouchers makes voucher requests wait until the returned function is
// called.
func (m *testMASA) holdVouchers() (arrived <-chan struct{}, release func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hold = make(chan struct{})
	m.arrived = make(chan struct{}, 16)
	hold := m.hold
	return m.arrived, func() {
		m.mu.Lock()
		m.hold = nil
		m.mu.Unlock()
		close(hold)
	}
}

func (m *testMASA) voucherRequests() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests
}

// client returns a MASA client that trusts the test server and presents
// the registrar certificate.
func (m *testMASA) client(t *testing.T, rc *RegistrarCert) *masaclient.Client {
	t.Helper()
	c, err := masaclient.New(masaclient.Config{RootCAs: chainPool([]*x509.Certificate{
		m.ts.Certificate()}), Certificates: []tls.Certificate{rc.TLSCertificate()},
		MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// manufacturer returns the registrar's view of the factory.
func (m *testMASA) manufacturer() Manufacturer {
	return Manufacturer{Name: "acme", CA: []*x509.Certificate{m.factory.CA},
		MASATrust: []*x509.Certificate{m.factory.CA}}
}

// serveRegistrar serves r over HTTPS on a loopback port and returns the
// address.
func serveRegistrar(t *testing.T, r *Registrar) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: r, TLSConfig: r.TLSConfig(), ConnContext: r.ConnContext}
	go srv.Serve(tls.NewListener(l, srv.TLSConfig))
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// testPledge is a minimal pledge: one TLS connection with the IDevID,
// on which it sends HTTP/1.1 requests one at a time.
type testPledge struct {
	dev       *masa.Device
	conn      *tls.Conn
	rd        *bufio.Reader
	registrar *x509.Certificate
	nonce     []byte
}

func dialPledge(t *testing.T, addr string, dev *masa.Device) *testPledge {
	t.Helper()
	cert := tls.Certificate{Certificate: [][]byte{dev.Certificate.Raw}, PrivateKey: dev.Key}
	// The registrar is accepted provisionally (RFC 8995, Section 5.1) and
	// checked against the voucher's pinned-domain-cert later.
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true,
		Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatalf("dial registrar: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &testPledge{dev: dev, conn: conn, rd: bufio.NewReader(conn),
		registrar: conn.ConnectionState().PeerCertificates[0]}
}

// voucherRequest signs a pledge voucher request with a fresh nonce.
func (p *testPledge) voucherRequest(t *testing.T) []byte {
	t.Helper()
	p.nonce = make([]byte, 16)
	rand.Read(p.nonce)
	vr := &voucher.Voucher{CreatedOn: time.Now(), Assertion: voucher.AssertionProximity,
		SerialNumber: p.dev.SerialNumber, Nonce: p.nonce,
		ProximityRegistrarCert: p.registrar.Raw}
	content, err := vr.MarshalRequest()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := voucher.Sign(content, p.dev.Certificate, p.dev.Key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// do sends one request on the pledge's connection and returns the
// response with its body read.
func (p *testPledge) do(t *testing.T, method, path, contentType string,
	body []byte) (*http.Response, []byte) {
	t.Helper()
	return p.send(t, method, path, contentType, "", body)
}

// doAccept posts body with an Accept header, unless accept is empty.
func (p *testPledge) doAccept(t *testing.T, path, contentType, accept string,
	body []byte) (*http.Response, []byte) {
	t.Helper()
	return p.send(t, http.MethodPost, path, contentType, accept, body)
}

func (p *testPledge) send(t *testing.T, method, path, contentType, accept string,
	body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "https://registrar"+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if err := req.Write(p.conn); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	resp, err := http.ReadResponse(p.rd, req)
	if err != nil {
		t.Fatalf("read response to %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of %s: %v", path, err)
	}
	return resp, data
}
