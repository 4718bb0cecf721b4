package eapserver_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/masaclient"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/policies"
	"github.com/brski-eap/brski/radius"
	"github.com/brski-eap/brski/registrar"
)

const testSecret = "eapserver-test-secret"

// testPolicy admits every acme device into VLAN 100 with the other reply
// attributes that an Access-Accept can carry, except on the NAS ports
// that the first two rules match.
const testPolicy = `
rule "blocked-port" {
  nas_port = "blocked"
  outcome  = "reject"
  reason   = "port is blocked"
}

rule "guest-port" {
  nas_port = "guest-*"
  outcome  = "quarantine"
  vlan     = "guest"
}

rule "acme" {
  manufacturer       = "acme"
  outcome            = "accept"
  vlan               = 100
  session_timeout    = "1h"
  termination_action = "radius-request"
  filter_id          = "enrolled"
  attribute "Cisco-AVPair" {
    value = "device-traffic-class=switch"
  }
}

default {
  outcome = "reject"
  reason  = "not an acme device"
}
`

// env is a domain with a MASA, a registrar with its SQL store, and the
// RADIUS server with eapserver on a loopback port.
type env struct {
	t       testing.TB
	factory *masa.Factory
	ca      *registrar.DomainCA
	st      *registrar.SQLStore
	radius  *radius.Server
	keys    envKeys
	server  *eapserver.Server
	addr    string

	mu      sync.Mutex
	results []eapserver.Result
	// masaHold, when set, holds voucher requests at the MASA until it is
	// closed.
	masaHold chan struct{}
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with a function that changes the registrar options.
func newEnvWith(t testing.TB, configure func(*registrar.Options)) *env {
	t.Helper()
	return newEnvServer(t, configure, nil)
}

// newEnvServer is newEnvWith with a hook that adjusts the eapserver
// configuration too.
func newEnvServer(t testing.TB, configure func(*registrar.Options),
	configureServer func(*eapserver.Config)) *env {
	t.Helper()
	return newEnvKeys(t, envKeys{}, configure, configureServer)
}

// newEnvKeys is newEnvServer with the private keys of the env's
// certificates.
func newEnvKeys(t testing.TB, keys envKeys, configure func(*registrar.Options),
	configureServer func(*eapserver.Config)) *env {
	t.Helper()
	e := &env{t: t, keys: keys}
	dir := t.TempDir()
	ts := startMASA(t, dir, e)
	now := time.Now()
	keys.writeDomain(t, dir+"/domain", now)
	ca, err := registrar.GenerateDomainCA(dir+"/domain", now)
	if err != nil {
		t.Fatal(err)
	}
	e.ca = ca
	rc, err := registrar.GenerateRegistrarCert(dir+"/domain", ca, []string{"localhost"}, now)
	if err != nil {
		t.Fatal(err)
	}
	e.st, err = registrar.OpenStore(context.Background(), dir+"/data")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	mc, err := masaclient.New(masaclient.Config{RootCAs: pool(ts.Certificate()),
		Certificates: []tls.Certificate{rc.TLSCertificate()}, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	pol := parsePolicy(t, testPolicy)
	opts := registrar.Options{DomainCA: ca, Cert: rc, Store: e.st, Policy: pol, MASA: mc,
		Manufacturers: []registrar.Manufacturer{{Name: "acme",
			CA: []*x509.Certificate{e.factory.CA}, MASATrust: []*x509.Certificate{e.factory.CA}}}}
	if configure != nil {
		configure(&opts)
	}
	r, err := registrar.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg := eapserver.Config{Registrar: r, RegistrarTLS: r.TLSConfig(),
		PledgeCAs: []*x509.Certificate{e.factory.CA}, DomainCAs: []*x509.Certificate{ca.Cert},
		Store: e.st.DB, Policy: pol, OnResult: e.record}
	if configureServer != nil {
		configureServer(&cfg)
	}
	srv, err := eapserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.server = srv
	e.serveRADIUS(srv)
	return e
}

// startMASA starts the MASA of a new acme factory behind an HTTPS test
// server.
func startMASA(t testing.TB, dir string, e *env) *httptest.Server {
	t.Helper()
	var inner http.Handler
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter,
		req *http.Request) {
		e.mu.Lock()
		hold := e.masaHold
		e.mu.Unlock()
		if hold != nil && req.URL.Path == masaclient.PathRequestVoucher {
			<-hold
		}
		inner.ServeHTTP(w, req)
	}))
	ts.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	f, err := masa.InitFactoryWithKeys(dir+"/factory", "acme", ts.URL, e.keys.factory())
	if err != nil {
		t.Fatal(err)
	}
	e.factory = f
	m, err := masa.New(masa.Config{FactoryDir: dir + "/factory", DataDir: dir + "/masa",
		RateInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	inner = m.Handler()
	return ts
}

func (e *env) serveRADIUS(h radius.Handler) {
	clients, err := radius.NewClientTable(radius.NAS{Name: "switch-1",
		Prefix: netip.MustParsePrefix("127.0.0.1/32"), Secret: []byte(testSecret),
		TunnelTag: 3})
	if err != nil {
		e.t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	e.addr = conn.LocalAddr().String()
	e.radius = &radius.Server{Clients: clients, Handler: h}
	served := make(chan error, 1)
	go func() { served <- e.radius.Serve(conn) }()
	e.t.Cleanup(func() {
		e.radius.Shutdown(context.Background())
		<-served
	})
}

func (e *env) record(r eapserver.Result) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.results = append(e.results, r)
}

// lastResult returns the summary of the last finished conversation.
func (e *env) lastResult() eapserver.Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.results) == 0 {
		e.t.Fatal("no conversation result was reported")
	}
	return e.results[len(e.results)-1]
}

// client returns a RADIUS client of the server. timeout 0 means the
// default.
func (e *env) client(timeout time.Duration) *radius.Client {
	c := &radius.Client{Servers: []radius.ServerAddr{{Addr: e.addr,
		Secret: []byte(testSecret)}}, Timeout: timeout}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// nas returns a simulated NAS for the supplicant with MAC address mac.
func (e *env) nas(mac string) *pledge.NAS {
	return &pledge.NAS{Client: e.client(0), Identifier: "switch-1.lab",
		CallingStationID: mac, PortID: "ge-0/0/7"}
}

// mint issues an IDevID and returns the pledge for it.
func (e *env) mint(serial string) *pledge.Pledge {
	dev, err := e.factory.MintWithKey(serial, "router", e.keys.idevid)
	if err != nil {
		e.t.Fatal(err)
	}
	id := tls.Certificate{Certificate: [][]byte{dev.Certificate.Raw}, PrivateKey: dev.Key,
		Leaf: dev.Certificate}
	return &pledge.Pledge{IDevID: id, MASATrust: pool(e.factory.CA)}
}

func parsePolicy(t testing.TB, src string) *policies.Policy {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "policy.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p, diags := policies.Decode(f.Body, "policy.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}
