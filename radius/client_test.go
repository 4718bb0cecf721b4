package radius

import (
	"context"
	"crypto/md5"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

// fakeServer records the datagrams it receives and sends what respond
// returns for each. With a nil respond it sends nothing.
type fakeServer struct {
	conn    net.PacketConn
	respond func(n int, request *radius.Packet) [][]byte

	mu       sync.Mutex
	received [][]byte
}

func startFake(t *testing.T, respond func(n int, request *radius.Packet) [][]byte) *fakeServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{conn: conn, respond: respond}
	done := make(chan struct{})
	t.Cleanup(func() { conn.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, addr, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			f.mu.Lock()
			f.received = append(f.received, append([]byte(nil), buf[:n]...))
			count := len(f.received)
			respond := f.respond
			f.mu.Unlock()
			if respond == nil {
				continue
			}
			req, err := radius.Parse(buf[:n], testSecret)
			if err != nil {
				continue
			}
			for _, b := range respond(count, req) {
				conn.WriteTo(b, addr)
			}
		}
	}()
	return f
}

func (f *fakeServer) addr() string { return f.conn.LocalAddr().String() }

func (f *fakeServer) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.received)
}

func (f *fakeServer) setRespond(respond func(int, *radius.Packet) [][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.respond = respond
}

func acceptReply(t *testing.T, req *radius.Packet) []byte {
	reply := req.Response(radius.CodeAccessAccept)
	rfc2865.ReplyMessage_SetString(reply, "fake")
	b, err := EncodeResponse(reply, req)
	if err != nil {
		t.Error(err)
	}
	return b
}

// resign recomputes the Response Authenticator after b was changed.
func resign(b []byte, req *radius.Packet) []byte {
	h := md5.New()
	h.Write(b[:4])
	h.Write(req.Authenticator[:])
	h.Write(b[20:])
	h.Write(req.Secret)
	h.Sum(b[4:4])
	return b
}

func TestClientRetransmitsSamePacket(t *testing.T) {
	f := startFake(t, func(n int, req *radius.Packet) [][]byte {
		if n < 2 {
			return nil
		}
		return [][]byte{acceptReply(t, req)}
	})
	c := &Client{Servers: []ServerAddr{{Addr: f.addr(), Secret: testSecret}},
		Timeout: 50 * time.Millisecond, Retries: 5}
	defer c.Close()
	reply, err := c.Exchange(context.Background(), accessRequest(t, testSecret))
	if err != nil {
		t.Fatal(err)
	}
	if reply.Code != radius.CodeAccessAccept {
		t.Errorf("reply code %v, want Access-Accept", reply.Code)
	}
	f.mu.Lock()
	received := f.received
	f.mu.Unlock()
	for i, b := range received[1:] {
		if diff := cmp.Diff(received[0], b); diff != "" {
			t.Errorf("retransmission %d differs (-first +got):\n%s", i+1, diff)
		}
	}
	if err := VerifyMessageAuthenticator(received[0], nil, testSecret); err != nil {
		t.Errorf("request Message-Authenticator: %v", err)
	}
	if got := c.Stats().Retransmissions; got < 1 {
		t.Errorf("Retransmissions = %d, want 1 or more", got)
	}
}

func TestClientFailsOverToSecondServer(t *testing.T) {
	dead := startFake(t, nil)
	_, live := startServer(t, &countingHandler{}, nil)
	c := &Client{Servers: []ServerAddr{
		{Addr: dead.addr(), Secret: testSecret},
		{Addr: live, Secret: testSecret},
	}, Timeout: 100 * time.Millisecond, Retries: 1}
	defer c.Close()
	reply, err := c.Exchange(context.Background(), accessRequest(t, testSecret))
	if err != nil {
		t.Fatal(err)
	}
	if got := rfc2865.ReplyMessage_GetString(reply); got != "welcome" {
		t.Errorf("Reply-Message = %q, want welcome", got)
	}
	waitFor(t, "2 datagrams at the dead server", func() bool { return dead.count() == 2 })
	if got := c.Stats().Failovers; got != 1 {
		t.Errorf("Failovers = %d, want 1", got)
	}
}

func TestClientFailsBackToFirstServer(t *testing.T) {
	primary := startFake(t, nil)
	secondary := startFake(t, func(_ int, req *radius.Packet) [][]byte {
		return [][]byte{acceptReply(t, req)}
	})
	clock := fixedClock()
	c := &Client{Servers: []ServerAddr{
		{Addr: primary.addr(), Secret: testSecret},
		{Addr: secondary.addr(), Secret: testSecret},
	}, Timeout: 50 * time.Millisecond, Retries: 2, FailbackAfter: time.Minute, now: clock.Now}
	defer c.Close()
	exchange := func() {
		t.Helper()
		if _, err := c.Exchange(context.Background(), accessRequest(t, testSecret)); err != nil {
			t.Fatal(err)
		}
	}

	exchange()
	waitFor(t, "3 datagrams at the primary", func() bool { return primary.count() == 3 })
	exchange()
	if got := primary.count(); got != 3 {
		t.Errorf("primary received %d datagrams before failback, want 3", got)
	}
	secondaryBefore := secondary.count()

	primary.setRespond(func(_ int, req *radius.Packet) [][]byte {
		return [][]byte{acceptReply(t, req)}
	})
	clock.Advance(time.Minute)
	exchange()
	if got := primary.count(); got < 4 {
		t.Errorf("primary received %d datagrams after failback, want 4 or more", got)
	}
	if got := secondary.count(); got != secondaryBefore {
		t.Errorf("secondary received %d datagrams after failback, want %d",
			got, secondaryBefore)
	}
}

func TestClientIgnoresBadResponses(t *testing.T) {
	f := startFake(t, func(_ int, req *radius.Packet) [][]byte {
		badAuth := acceptReply(t, req)
		badAuth[4] ^= 0xff
		badMA := acceptReply(t, req)
		badMA[25] ^= 0xff
		resign(badMA, req)
		noMA, _ := req.Response(radius.CodeAccessAccept).Encode()
		otherID := acceptReply(t, req)
		otherID[1]++
		return [][]byte{badAuth, badMA, noMA, otherID, {1, 2, 3}, acceptReply(t, req)}
	})
	c := &Client{Servers: []ServerAddr{{Addr: f.addr(), Secret: testSecret}}}
	defer c.Close()
	reply, err := c.Exchange(context.Background(), accessRequest(t, testSecret))
	if err != nil {
		t.Fatal(err)
	}
	if got := rfc2865.ReplyMessage_GetString(reply); got != "fake" {
		t.Errorf("Reply-Message = %q, want fake", got)
	}
	if got := c.Stats().BadResponses; got != 5 {
		t.Errorf("BadResponses = %d, want 5", got)
	}
	if got := f.count(); got != 1 {
		t.Errorf("server received %d datagrams, want 1", got)
	}
}

func TestClientLegacyServerWithoutMA(t *testing.T) {
	f := startFake(t, func(_ int, req *radius.Packet) [][]byte {
		noMA, _ := req.Response(radius.CodeAccessReject).Encode()
		return [][]byte{noMA}
	})
	c := &Client{Servers: []ServerAddr{{Addr: f.addr(), Secret: testSecret, Legacy: true}}}
	defer c.Close()
	reply, err := c.Exchange(context.Background(), accessRequest(t, testSecret))
	if err != nil {
		t.Fatal(err)
	}
	if reply.Code != radius.CodeAccessReject {
		t.Errorf("reply code %v, want Access-Reject", reply.Code)
	}
}

func TestClientTimesOut(t *testing.T) {
	a, b := startFake(t, nil), startFake(t, nil)
	c := &Client{Servers: []ServerAddr{{Addr: a.addr(), Secret: testSecret},
		{Addr: b.addr(), Secret: testSecret}}, Timeout: 10 * time.Millisecond, Retries: 1}
	defer c.Close()
	_, err := c.Exchange(context.Background(), accessRequest(t, testSecret))
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("error %v, want ErrTimeout", err)
	}
}

func TestClientContextCancelled(t *testing.T) {
	f := startFake(t, nil)
	c := &Client{Servers: []ServerAddr{{Addr: f.addr(), Secret: testSecret}}}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waitFor(t, "the request", func() bool { return f.count() == 1 })
		cancel()
	}()
	_, err := c.Exchange(ctx, accessRequest(t, testSecret))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestClientConcurrentExchanges(t *testing.T) {
	h := &countingHandler{}
	_, addr := startServer(t, h, nil)
	c := &Client{Servers: []ServerAddr{{Addr: addr, Secret: testSecret}}}
	defer c.Close()
	const n = 300 // more than the 256 Identifiers of one socket
	errs := make(chan error, n)
	for range n {
		go func() {
			req := radius.New(radius.CodeAccessRequest, testSecret)
			_, err := c.Exchange(context.Background(), req)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := h.calls.Load(); got != n {
		t.Errorf("handler calls = %d, want %d", got, n)
	}
}

func TestClientStatusServer(t *testing.T) {
	_, addr := startServer(t, &countingHandler{}, nil)
	c := &Client{Servers: []ServerAddr{{Addr: addr, Secret: testSecret}}}
	defer c.Close()
	reply, err := c.Exchange(context.Background(), radius.New(radius.CodeStatusServer, testSecret))
	if err != nil {
		t.Fatal(err)
	}
	if reply.Code != radius.CodeAccessAccept {
		t.Errorf("reply code %v, want Access-Accept", reply.Code)
	}
}

func TestClientDisconnectRequest(t *testing.T) {
	f := startFake(t, func(_ int, req *radius.Packet) [][]byte {
		ack, err := req.Response(radius.CodeDisconnectACK).Encode()
		if err != nil {
			t.Error(err)
		}
		return [][]byte{ack}
	})
	c := &Client{Servers: []ServerAddr{{Addr: f.addr(), Secret: testSecret}}}
	defer c.Close()
	p := radius.New(radius.CodeDisconnectRequest, testSecret)
	rfc2865.CallingStationID_SetString(p, "02-00-00-00-00-01")
	reply, err := c.Exchange(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if reply.Code != radius.CodeDisconnectACK {
		t.Errorf("reply code %v, want Disconnect-ACK", reply.Code)
	}
	f.mu.Lock()
	request := f.received[0]
	f.mu.Unlock()
	if !radius.IsAuthenticRequest(request, testSecret) {
		t.Error("Disconnect-Request has a wrong Request Authenticator (RFC 5176)")
	}
}

func TestClientSendsStatusServerOnce(t *testing.T) {
	a, b := startFake(t, nil), startFake(t, nil)
	c := &Client{Servers: []ServerAddr{{Addr: a.addr(), Secret: testSecret},
		{Addr: b.addr(), Secret: testSecret}}, Timeout: 10 * time.Millisecond, Retries: 3}
	defer c.Close()
	_, err := c.Exchange(context.Background(), radius.New(radius.CodeStatusServer, testSecret))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error %v, want ErrTimeout", err)
	}
	waitFor(t, "one Status-Server at each server", func() bool {
		return a.count() == 1 && b.count() == 1
	})
	if got := c.Stats().Retransmissions; got != 0 {
		t.Errorf("Retransmissions = %d, want 0", got)
	}
}
