package eapest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brski-eap/brski/eap"
	"github.com/google/go-cmp/cmp"
)

type estSetup struct {
	conv *eap.Conversation
	tr   *convTransport
	srv  *ESTServer
}

func newESTSetup(t *testing.T, p *pki, typ eap.MethodType, h http.Handler,
	budget time.Duration) *estSetup {
	t.Helper()
	srv, err := NewESTServer(ESTServerConfig{
		Type: typ, TLS: p.serverTLS(0), Handler: h, RoundBudget: budget,
	})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := eap.NewConversation(eap.Config{
		Methods: func(context.Context, string) ([]eap.Method, error) {
			return []eap.Method{srv.NewMethod()}, nil
		},
		MaxRounds: 10000,
		Facts:     "nas-facts",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conv.Close() })
	return &estSetup{conv: conv, tr: &convTransport{conv: conv}, srv: srv}
}

func (s *estSetup) dial(t *testing.T, p *pki, typ eap.MethodType) *Tunnel {
	t.Helper()
	return s.dialVersion(t, p, typ, 0)
}

func (s *estSetup) dialVersion(t *testing.T, p *pki, typ eap.MethodType,
	maxVersion uint16) *Tunnel {
	t.Helper()
	cfg := ProvisionalTLSConfig(p.client)
	cfg.MaxVersion = maxVersion
	tun, err := Dial(context.Background(), s.tr, PeerConfig{
		Identity: "pledge-1", Type: typ, TLS: cfg, Hold: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return tun
}

// echoHandler responds with the method, path, body, client certificate and
// tunnel facts of each request.
func echoHandler(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	info, ok := TunnelInfoFromContext(r.Context())
	if !ok {
		http.Error(w, "no tunnel info", http.StatusInternalServerError)
		return
	}
	cn := ""
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		cn = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "%s %s %s cn=%s id=%s facts=%v", r.Method, r.URL.Path, body, cn,
		info.Identity, info.Facts)
}

func TestESTRequestsInTunnel(t *testing.T) {
	p := newPKI(t)
	tests := []struct {
		name    string
		typ     eap.MethodType
		version uint16
	}{
		{"experimental TLS 1.3", TypeEST, tls.VersionTLS13},
		{"experimental TLS 1.2", TypeEST, tls.VersionTLS12},
		{"expanded", eap.MethodType{Type: eap.TypeExpanded, VendorID: 0xabcdef, VendorType: 7},
			tls.VersionTLS13},
	}
	for _, tt := range tests {
		typ := tt.typ
		t.Run(tt.name, func(t *testing.T) {
			s := newESTSetup(t, p, typ, http.HandlerFunc(echoHandler), 0)
			tun := s.dialVersion(t, p, typ, tt.version)
			if got := tun.ConnectionState().Version; got != tt.version {
				t.Errorf("TLS version = %x, want %x", got, tt.version)
			}
			if got := tun.ServerCertificates(); len(got) == 0 ||
				got[0].Subject.CommonName != "radius.example" {
				t.Fatalf("server certificates = %v, want the registrar's", got)
			}
			client := tun.Client()
			requests := []struct{ method, path, body string }{
				{"POST", "/.well-known/brski/requestvoucher", "voucher-request"},
				{"GET", "/.well-known/est/cacerts", ""},
				{"POST", "/.well-known/est/simpleenroll", strings.Repeat("c", 5000)},
				{"POST", "/.well-known/est/simplereenroll", strings.Repeat("r", 150000)},
				{"POST", "/.well-known/brski/enrollstatus", "ok"},
			}
			for _, rq := range requests {
				req, _ := http.NewRequest(rq.method, "https://registrar"+rq.path,
					strings.NewReader(rq.body))
				resp, err := client.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", rq.method, rq.path, err)
				}
				got, _ := io.ReadAll(resp.Body)
				want := fmt.Sprintf("%s %s %s cn=device-1 id=pledge-1 facts=nas-facts",
					rq.method, rq.path, rq.body)
				if diff := cmp.Diff(want, string(got)); diff != "" {
					t.Errorf("%s %s response (-want +got):\n%s", rq.method, rq.path, diff)
				}
			}
			pres, err := tun.Close(context.Background())
			if err != nil {
				t.Fatalf("close: %v", err)
			}
			res := s.conv.Result()
			if res.Status != eap.StatusSuccess || pres.Status != eap.StatusSuccess {
				t.Fatalf("status server %v (%v), peer %v", res.Status, res.Err, pres.Status)
			}
			if len(res.MSK) != 64 || !bytes.Equal(res.MSK, pres.MSK) {
				t.Error("server and peer MSK differ or are not 64 bytes")
			}
			if !bytes.Equal(res.SessionID, pres.SessionID) ||
				!bytes.HasPrefix(res.SessionID, typeCode(typ)) {
				t.Errorf("Session-Id %x, peer %x, want equal with prefix %x",
					res.SessionID, pres.SessionID, typeCode(typ))
			}
		})
	}
}

// TestESTSlowHandler checks that a handler slower than the round budget
// does not stall the EAP rounds: the server sends empty Requests until
// the handler returns.
func TestESTSlowHandler(t *testing.T) {
	p := newPKI(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "voucher")
	})
	s := newESTSetup(t, p, TypeEST, h, 5*time.Millisecond)
	var mu sync.Mutex
	polls := 0
	polled := make(chan struct{})
	s.tr.onReply = func(r eap.Reply) {
		select {
		case <-entered:
		default:
			return
		}
		pkt, err := eap.Parse(r.Packet)
		if err != nil || pkt.Code != eap.CodeRequest || len(pkt.Data) != 1 {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if polls++; polls == 3 {
			close(polled)
		}
	}
	tun := s.dial(t, p, TypeEST)
	done := make(chan error, 1)
	var body []byte
	go func() {
		resp, err := tun.Client().Post("https://registrar/.well-known/brski/requestvoucher",
			"application/voucher-cms+json", strings.NewReader("vr"))
		if err == nil {
			body, err = io.ReadAll(resp.Body)
		}
		done <- err
	}()
	<-polled
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if string(body) != "voucher" {
		t.Errorf("body = %q, want voucher", body)
	}
	if _, err := tun.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := s.conv.Result(); res.Status != eap.StatusSuccess {
		t.Errorf("server status = %v (%v), want success", res.Status, res.Err)
	}
}

func TestESTRejectsUnknownIDevID(t *testing.T) {
	p := newPKI(t)
	s := newESTSetup(t, p, TypeEST, http.HandlerFunc(echoHandler), 0)
	other := newTestCA(t, "other manufacturer")
	_, err := Dial(context.Background(), s.tr, PeerConfig{
		Identity: "pledge-1", TLS: ProvisionalTLSConfig(other.issue(t, "rogue", false)),
		Hold: 5 * time.Millisecond,
	})
	if err == nil {
		t.Fatal("dial with an unknown IDevID succeeded")
	}
	res := s.conv.Result()
	if res.Status != eap.StatusFailure || !errors.Is(res.Err, errUntrustedClient) {
		t.Errorf("server status %v, err %v; want failure with errUntrustedClient",
			res.Status, res.Err)
	}
}

func TestESTServerConfigType(t *testing.T) {
	p := newPKI(t)
	h := http.HandlerFunc(echoHandler)
	tests := []struct {
		name    string
		typ     eap.MethodType
		want    eap.MethodType
		wantErr bool
	}{
		{"default", eap.MethodType{}, TypeEST, false},
		{"private type", eap.MethodType{Type: 200}, eap.MethodType{Type: 200}, false},
		{"expanded", eap.MethodType{Type: 254, VendorID: 1, VendorType: 2},
			eap.MethodType{Type: 254, VendorID: 1, VendorType: 2}, false},
		{"expanded without vendor", eap.MethodType{Type: 254, VendorType: 2},
			eap.MethodType{}, true},
		{"EAP-TLS code", eap.MethodType{Type: eap.TypeTLS}, eap.MethodType{}, true},
		{"Nak code", eap.MethodType{Type: eap.TypeNak}, eap.MethodType{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := NewESTServer(ESTServerConfig{
				Type: tt.typ, TLS: p.serverTLS(0), Handler: h,
			})
			if tt.wantErr {
				if err == nil {
					t.Fatalf("type %v accepted", tt.typ)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, srv.Type()); diff != "" {
				t.Errorf("type (-want +got):\n%s", diff)
			}
		})
	}
}

// TestESTTunnelInfoOutsideTunnel checks the accessor for HTTPS requests.
func TestESTTunnelInfoOutsideTunnel(t *testing.T) {
	if _, ok := TunnelInfoFromContext(context.Background()); ok {
		t.Error("TunnelInfo found in a plain context")
	}
}

// TestESTAfterNak offers EAP-TLS first, as the RADIUS server does for an
// unknown identity; the pledge runs only EAP-EST and Naks its way there.
func TestESTAfterNak(t *testing.T) {
	p := newPKI(t)
	tlsSrv, err := NewTLSServer(TLSServerConfig{TLS: p.serverTLS(0)})
	if err != nil {
		t.Fatal(err)
	}
	estSrv, err := NewESTServer(ESTServerConfig{TLS: p.serverTLS(0),
		Handler: http.HandlerFunc(echoHandler)})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := eap.NewConversation(eap.Config{
		Methods: func(context.Context, string) ([]eap.Method, error) {
			return []eap.Method{tlsSrv.NewMethod(), estSrv.NewMethod()}, nil
		},
		MaxRounds: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conv.Close()
	s := &estSetup{conv: conv, tr: &convTransport{conv: conv}, srv: estSrv}
	tun := s.dial(t, p, TypeEST)
	resp, err := tun.Client().Get("https://registrar/.well-known/est/cacerts")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := tun.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	res := conv.Result()
	if res.Status != eap.StatusSuccess || res.Method != TypeEST {
		t.Errorf("status %v, method %v (err %v); want success with EAP-EST", res.Status,
			res.Method, res.Err)
	}
}

// TestESTIdlePeer keeps the pledge idle between two requests until the
// conversation has run several polling rounds, as while it validates a
// voucher, and checks that the tunnel still works afterwards.
func TestESTIdlePeer(t *testing.T) {
	p := newPKI(t)
	s := newESTSetup(t, p, TypeEST, http.HandlerFunc(echoHandler), 5*time.Millisecond)
	var counting atomic.Bool
	rounds := 0 // touched by the pump goroutine only
	idle := make(chan struct{})
	s.tr.onReply = func(eap.Reply) {
		if !counting.Load() {
			return
		}
		if rounds++; rounds == 5 {
			close(idle)
		}
	}
	tun := s.dial(t, p, TypeEST)
	client := tun.Client()
	get := func() {
		t.Helper()
		resp, err := client.Get("https://registrar/.well-known/est/cacerts")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want 200", resp.StatusCode)
		}
	}
	get()

	counting.Store(true)
	<-idle
	get()
	if _, err := tun.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := s.conv.Result(); res.Status != eap.StatusSuccess {
		t.Errorf("server status = %v (%v), want success", res.Status, res.Err)
	}
}

func TestESTServerFramingErrors(t *testing.T) {
	p := newPKI(t)
	srv, err := NewESTServer(ESTServerConfig{TLS: p.serverTLS(0),
		Handler: http.HandlerFunc(echoHandler)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"version 1", []byte{0x01, 22}, ErrProtocol},
		{"S flag from the peer", []byte{byte(FlagStart)}, ErrProtocol},
		{"empty Response to the Start", []byte{0x00}, ErrProtocol},
		{"missing flags", nil, ErrFragment},
		{"first fragment without L", []byte{byte(FlagMore), 22}, ErrFragment},
		{"over 64 KiB", []byte{byte(FlagLength | FlagMore), 0, 1, 0, 1, 22}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := srv.NewMethod()
			defer m.Close()
			start, err := m.Start(context.Background(), eap.Session{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]byte{byte(FlagStart | Version)}, start); diff != "" {
				t.Errorf("Start (-want +got):\n%s", diff)
			}
			if _, err := m.Process(context.Background(), tt.data); !errors.Is(err, tt.want) {
				t.Errorf("Process(%x) error = %v, want %v", tt.data, err, tt.want)
			}
		})
	}
}

func TestESTRejectsHugeHeader(t *testing.T) {
	p := newPKI(t)
	s := newESTSetup(t, p, TypeEST, http.HandlerFunc(echoHandler), 0)
	tun := s.dial(t, p, TypeEST)
	req, _ := http.NewRequest("GET", "https://registrar/.well-known/est/cacerts", nil)
	req.Header.Set("X-Filler", strings.Repeat("h", maxHeaderBytes+DefaultMaxBodyBytes))
	resp, err := tun.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status = %d, want 400", resp.StatusCode)
		}
	}
	tun.Close(context.Background())
	res := s.conv.Result()
	if res.Status != eap.StatusFailure || !errors.Is(res.Err, errRequestTooLarge) {
		t.Errorf("server status %v, err %v; want failure with errRequestTooLarge",
			res.Status, res.Err)
	}
}

// TestESTCloseStopsHandler closes the conversation while the handler runs,
// as the RADIUS session table does on expiry, and waits for the handler to
// see its request context canceled.
func TestESTCloseStopsHandler(t *testing.T) {
	p := newPKI(t)
	entered := make(chan struct{})
	canceled := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
		close(canceled)
	})
	s := newESTSetup(t, p, TypeEST, h, 5*time.Millisecond)
	tun := s.dial(t, p, TypeEST)
	done := make(chan error, 1)
	go func() {
		_, err := tun.Client().Get("https://registrar/.well-known/brski/requestvoucher")
		done <- err
	}()
	<-entered
	s.conv.Close()
	<-canceled
	// The pledge sees the conversation end: its next poll gets no reply.
	if err := <-done; err == nil {
		t.Error("request succeeded after the conversation was closed")
	}
	if res := s.conv.Result(); res.Status != eap.StatusFailure {
		t.Errorf("server status = %v, want failure", res.Status)
	}
}
