package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/eapest"
	"github.com/brski-eap/brski/masa"
	brskiradius "github.com/brski-eap/brski/radius"
)

func TestCheckBenchTarget(t *testing.T) {
	tests := []struct {
		name        string
		server      string
		allowRemote bool
		ok          bool
	}{
		{"loopback v4", "127.0.0.1:1812", false, true},
		{"loopback v4 other", "127.1.2.3:1812", false, true},
		{"loopback v6", "[::1]:1812", false, true},
		{"localhost", "localhost:1812", false, true},
		{"private address", "10.0.0.1:1812", false, false},
		{"host name", "radius.example:1812", false, false},
		{"unspecified", "0.0.0.0:1812", false, false},
		{"remote allowed", "192.0.2.1:1812", true, true},
		{"no port", "127.0.0.1", false, false},
		{"port zero", "127.0.0.1:0", false, false},
		{"port too large", "127.0.0.1:70000", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkBenchTarget(tt.server, tt.allowRemote)
			if got := err == nil; got != tt.ok {
				t.Fatalf("checkBenchTarget(%q, %t) = %v, want ok %t", tt.server,
					tt.allowRemote, err, tt.ok)
			}
			var ee *exitError
			if err != nil && (!errors.As(err, &ee) || ee.code != 2) {
				t.Errorf("error %v is not a usage error with exit code 2", err)
			}
		})
	}
}

func TestParseProcStatCPU(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		ticks uint64
		ok    bool
	}{
		{"plain", "1234 (freeradius) S 1 2 3 4 5 6 7 8 9 10 250 31 0 0 20 0 4 0 100", 281, true},
		{"name with spaces and paren", "7 (a b) c)) R 1 1 1 1 1 1 1 1 1 1 5 6 0 0", 11, true},
		{"no command", "1234 freeradius S 1 2 3", 0, false},
		{"too short", "1 (x) S 1 2 3 4 5 6 7 8 9 10 11", 0, false},
		{"bad utime", "1 (x) S 1 2 3 4 5 6 7 8 9 10 u 3 0", 0, false},
		{"empty", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStatCPU([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("parseProcStatCPU(%q) error %v, want ok %t", tt.in, err, tt.ok)
			}
			if diff := cmp.Diff(tt.ticks, got); diff != "" {
				t.Errorf("ticks (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServerCPUOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	if _, err := serverCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseProcStatCPU(f *testing.F) {
	f.Add([]byte("1234 (freeradius) S 1 2 3 4 5 6 7 8 9 10 250 31 0 0 20 0 4 0 100"))
	f.Add([]byte("7 (a b) c)) R 1 1 1 1 1 1 1 1 1 1 5 6 0 0"))
	f.Add([]byte(")"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseProcStatCPU(b)
	})
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{"p50 of 200", d, 50, 100 * time.Millisecond},
		{"p99 of 200", d, 99, 198 * time.Millisecond},
		{"p99 of 1", d[:1], 99, time.Millisecond},
		{"p50 of 3", d[:3], 50, 2 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, percentile(tt.sorted, tt.p)); diff != "" {
				t.Errorf("percentile (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBenchUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no secret", []string{"--cert", "c", "--key", "k", "--ca", "a"}},
		{"unknown method", []string{"--secret-file", "s", "--method", "pap"}},
		{"tls without cert", []string{"--secret-file", "s"}},
		{"est without factory", []string{"--secret-file", "s", "--method", "eap-est"}},
		{"count zero", []string{"--secret-file", "s", "--ldevid", "d", "--count", "0"}},
		{"remote server", []string{"--secret-file", "s", "--ldevid", "d",
			"--server", "198.51.100.7:1812"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runBrski(append([]string{"bench"}, tt.args...)...)
			if code != 2 {
				t.Errorf("exit code %d, want 2; stderr %s", code, stderr)
			}
		})
	}
}

// benchLab is a factory whose CA issues a server certificate and client
// certificates, with a RADIUS server running EAP-TLS on loopback.
type benchLab struct {
	dir     string
	factory *masa.Factory
	device  *masa.Device
	secret  string
}

func newBenchLab(t *testing.T) *benchLab {
	t.Helper()
	dir := t.TempDir()
	factory, err := masa.InitFactory(filepath.Join(dir, "factory"), "benchvendor",
		"https://localhost:9443")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := factory.Mint("BENCH-1", "bench-switch")
	if err != nil {
		t.Fatal(err)
	}
	l := &benchLab{dir: dir, factory: factory, device: dev, secret: "bench secret"}
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(l.secret+"\n"),
		0o600); err != nil {
		t.Fatal(err)
	}
	return l
}

// serve starts a RADIUS server with the EAP-TLS test handler and returns its
// address.
func (l *benchLab) serve(t *testing.T, h *tlsTestHandler) string {
	t.Helper()
	certPEM, keyPEM, err := l.factory.IssueServerCert([]string{"radius.example"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(l.factory.CA)
	h.srv, err = eapest.NewTLSServer(eapest.TLSServerConfig{TLS: &tls.Config{
		Certificates: []tls.Certificate{cert}, ClientCAs: roots,
		ClientAuth: tls.RequireAndVerifyClientCert}})
	if err != nil {
		t.Fatal(err)
	}
	clients, err := brskiradius.BuildClientTable([]brskiradius.ClientConfig{{
		Name: "bench", Address: "127.0.0.1", Secret: l.secret}}, l.dir)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &brskiradius.Server{Clients: clients, Handler: h}
	done := make(chan error, 1)
	go func() { done <- s.Serve(conn) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	})
	return conn.LocalAddr().String()
}

// tlsTestHandler runs EAP-TLS conversations with State sessions.
// corruptKeys swaps the MPPE keys, which the bench must detect.
type tlsTestHandler struct {
	srv         *eapest.TLSServer
	sessions    brskiradius.Sessions
	corruptKeys bool
	requests    atomic.Int64
}

func (h *tlsTestHandler) ServeRADIUS(ctx context.Context,
	req *brskiradius.Request) (*radius.Packet, error) {
	h.requests.Add(1)
	state := req.State()
	var conv *eap.Conversation
	if len(state) > 0 {
		v, err := h.sessions.Lookup(req)
		if err != nil {
			return req.Reply(radius.CodeAccessReject), nil
		}
		conv = v.(*eap.Conversation)
	} else {
		var err error
		conv, err = eap.NewConversation(eap.Config{
			Methods: func(context.Context, string) ([]eap.Method, error) {
				return []eap.Method{h.srv.NewMethod()}, nil
			},
			FramedMTU: int(rfc2865.FramedMTU_Get(req.Packet)),
		})
		if err != nil {
			return nil, err
		}
	}
	r, err := conv.Handle(ctx, req.EAPMessage())
	if err != nil {
		return nil, err
	}
	return h.reply(req, conv, state, r)
}

func (h *tlsTestHandler) reply(req *brskiradius.Request, conv *eap.Conversation,
	state []byte, r eap.Reply) (*radius.Packet, error) {
	var reply *radius.Packet
	switch r.Status {
	case eap.StatusContinue:
		reply = req.Reply(radius.CodeAccessChallenge)
		if len(state) == 0 {
			var err error
			state, err = h.sessions.New(req.NAS.Name, req.CallingStationID(), conv)
			if err != nil {
				return nil, err
			}
		}
		rfc2865.State_Set(reply, state)
	case eap.StatusSuccess:
		h.sessions.Delete(state)
		reply = req.Reply(radius.CodeAccessAccept)
		msk := conv.Result().MSK
		send, recv := msk[32:64], msk[:32]
		if h.corruptKeys {
			send, recv = recv, send
		}
		if err := brskiradius.AddMPPEKeys(reply, req.Packet, send, recv); err != nil {
			return nil, err
		}
	default:
		h.sessions.Delete(state)
		reply = req.Reply(radius.CodeAccessReject)
	}
	return reply, brskiradius.SetEAPMessage(reply, r.Packet)
}

func TestBenchEAPTLS(t *testing.T) {
	lab := newBenchLab(t)
	ca := filepath.Join(lab.dir, "factory", masa.FactoryCAFile)
	otherCA := filepath.Join(t.TempDir(), "other-ca.pem")
	other, err := masa.InitFactory(filepath.Join(t.TempDir(), "other"), "other",
		"https://localhost:9443")
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(other.Dir, masa.FactoryCAFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(otherCA, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		ca          string
		extra       []string
		corruptKeys bool
		wantCode    int
		wantOut     string
	}{
		{"tls 1.3", ca, nil, false, 0, "succeeded 6, failed 0"},
		{"tls 1.2", ca, []string{"--tls-max", "1.2"}, false, 0, "succeeded 6, failed 0"},
		{"server name", ca, []string{"--server-name", "radius.example"}, false, 0,
			"succeeded 6, failed 0"},
		{"wrong server name", ca, []string{"--server-name", "other.example"}, false, 1,
			"succeeded 0, failed 6"},
		{"untrusted server", otherCA, nil, false, 1, "succeeded 0, failed 6"},
		{"wrong mppe keys", ca, nil, true, 1, "do not match the peer's MSK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := lab.serve(t, &tlsTestHandler{corruptKeys: tt.corruptKeys})
			args := append([]string{"bench", "--server", addr,
				"--secret-file", filepath.Join(lab.dir, "secret"),
				"--cert", lab.device.CertFile, "--key", lab.device.KeyFile, "--ca", tt.ca,
				"--count", "6", "--concurrency", "3", "--timeout", "20s",
				"--server-pid", "1"}, tt.extra...)
			code, stdout, stderr := runBrski(args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr %s", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stdout, tt.wantOut) {
				t.Errorf("output does not contain %q:\n%s", tt.wantOut, stdout)
			}
		})
	}
}

func TestBenchRoundTrips(t *testing.T) {
	lab := newBenchLab(t)
	h := &tlsTestHandler{}
	addr := lab.serve(t, h)
	ca := filepath.Join(lab.dir, "factory", masa.FactoryCAFile)
	for _, mtu := range []string{"1400", "300"} {
		t.Run(mtu, func(t *testing.T) {
			h.requests.Store(0)
			code, stdout, stderr := runBrski("bench", "--server", addr,
				"--secret-file", filepath.Join(lab.dir, "secret"),
				"--cert", lab.device.CertFile, "--key", lab.device.KeyFile, "--ca", ca,
				"--count", "2", "--framed-mtu", mtu)
			if code != 0 {
				t.Fatalf("exit code %d; stderr %s", code, stderr)
			}
			n := h.requests.Load() / 2
			want := fmt.Sprintf("mean %d.00, min %d, max %d", n, n, n)
			if !strings.Contains(stdout, want) {
				t.Errorf("server saw %d Access-Requests per authentication, but the "+
					"output does not contain %q:\n%s", n, want, stdout)
			}
		})
	}
}

// The pool checked by benchTLSConfig without a name must still reject a
// server whose chain does not reach the CA.
func TestBenchTLSConfigNoName(t *testing.T) {
	cfg := benchTLSConfig(tls.Certificate{}, x509.NewCertPool(), "", "1.3")
	if !cfg.InsecureSkipVerify || cfg.VerifyConnection == nil {
		t.Fatal("without --server-name the chain must be checked in VerifyConnection")
	}
	if err := cfg.VerifyConnection(tls.ConnectionState{}); err == nil {
		t.Error("VerifyConnection accepted a server without certificates")
	}
}
