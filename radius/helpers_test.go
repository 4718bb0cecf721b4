package radius

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"
)

var (
	testSecret   = []byte("testing123")
	legacySecret = []byte("legacy-secret")
)

// testClients declares 127.0.0.1 as "nas" and 127.0.0.2 as a legacy
// client. 127.0.0.3 is unknown.
func testClients(t testing.TB) *ClientTable {
	t.Helper()
	table, err := NewClientTable(
		NAS{Name: "nas", Prefix: netip.MustParsePrefix("127.0.0.1/32"), Secret: testSecret},
		NAS{Name: "legacy", Prefix: netip.MustParsePrefix("127.0.0.2/32"),
			Secret: legacySecret, Legacy: true},
	)
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// countingHandler accepts every request and counts calls. When gate is set,
// each call reports on entered and waits for gate or the context.
type countingHandler struct {
	calls   atomic.Int64
	entered chan struct{}
	gate    chan struct{}
	reply   func(req *Request) (*radius.Packet, error)
}

func (h *countingHandler) ServeRADIUS(ctx context.Context, req *Request) (*radius.Packet, error) {
	h.calls.Add(1)
	if h.gate != nil {
		h.entered <- struct{}{}
		select {
		case <-h.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if h.reply != nil {
		return h.reply(req)
	}
	reply := req.Reply(radius.CodeAccessAccept)
	rfc2865.ReplyMessage_SetString(reply, "welcome")
	return reply, nil
}

func blockingHandler() *countingHandler {
	return &countingHandler{entered: make(chan struct{}, 16), gate: make(chan struct{})}
}

// startServer serves on 127.0.0.1 port 0 and shuts down at cleanup.
func startServer(t testing.TB, h Handler, configure func(*Server)) (*Server, string) {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Clients: testClients(t), Handler: h}
	if configure != nil {
		configure(s)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(conn) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return s, conn.LocalAddr().String()
}

// dialFrom opens a UDP socket from local (for example 127.0.0.2) to addr.
func dialFrom(t testing.TB, local, addr string) *net.UDPConn {
	t.Helper()
	laddr, err := net.ResolveUDPAddr("udp", local+":0")
	if err != nil {
		t.Fatal(err)
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialUDP("udp", laddr, raddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func send(t testing.TB, conn *net.UDPConn, b []byte) {
	t.Helper()
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
}

// receive reads one datagram. The deadline only bounds a broken test.
func receive(t testing.TB, conn *net.UDPConn) []byte {
	t.Helper()
	buf := make([]byte, 8192)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	return buf[:n]
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func waitDropped(t testing.TB, s *Server, r DropReason, n uint64) {
	t.Helper()
	waitFor(t, r.String(), func() bool { return s.Stats().Dropped[r] >= n })
}

// accessRequest returns an Access-Request with a User-Name.
func accessRequest(t testing.TB, secret []byte) *radius.Packet {
	t.Helper()
	p := radius.New(radius.CodeAccessRequest, secret)
	if err := rfc2865.UserName_SetString(p, "pledge"); err != nil {
		t.Fatal(err)
	}
	return p
}

func encodeRequest(t testing.TB, p *radius.Packet) []byte {
	t.Helper()
	b, err := EncodeRequest(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// marshalRaw encodes p as it is, without computing any authenticator.
func marshalRaw(t testing.TB, p *radius.Packet) []byte {
	t.Helper()
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkReply verifies a reply to request the way a NAS does.
func checkReply(t testing.TB, reply, request []byte, secret []byte) *radius.Packet {
	t.Helper()
	if !radius.IsAuthenticResponse(reply, request, secret) {
		t.Fatal("reply has a wrong Response Authenticator")
	}
	if err := VerifyMessageAuthenticator(reply, request[4:20], secret); err != nil {
		t.Fatalf("reply Message-Authenticator: %v", err)
	}
	p, err := radius.Parse(reply, secret)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Attributes) == 0 || p.Attributes[0].Type != rfc2869.MessageAuthenticator_Type {
		t.Fatal("reply does not start with Message-Authenticator")
	}
	return p
}

// fakeClock is a clock that moves only on Advance.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func fixedClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
