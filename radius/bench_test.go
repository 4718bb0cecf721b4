package radius

import (
	"net"
	"testing"
	"time"

	"layeh.com/radius"
)

// discardConn is a PacketConn whose writes go nowhere, for benchmarks of
// the request path without the kernel.
type discardConn struct{ net.PacketConn }

func (discardConn) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }

// BenchmarkHandle measures one EAP Access-Request through the worker path:
// client lookup result, parse, Message-Authenticator check, EAP-Message
// reassembly, duplicate cache, handler and reply encoding. A fake clock
// moves past the duplicate TTL between iterations, so every request is new.
func BenchmarkHandle(b *testing.B) {
	clock := fixedClock()
	h := &countingHandler{reply: func(req *Request) (*radius.Packet, error) {
		reply := req.Reply(radius.CodeAccessChallenge)
		return reply, SetEAPMessage(reply, req.EAPMessage())
	}}
	s := &Server{Clients: testClients(b), Handler: h, now: clock.Now}
	s.init()
	s.conn = discardConn{}
	nas, _ := s.Clients.Lookup(addrPort(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}).Addr())
	p := accessRequest(b, testSecret)
	if err := SetEAPMessage(p, make([]byte, 1000)); err != nil {
		b.Fatal(err)
	}
	data := encodeRequest(b, p)
	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clock.Advance(time.Minute)
		s.handle(datagram{addr: addr, nas: nas, data: data})
	}
	b.StopTimer()
	if got := s.Stats().Replied; got != uint64(h.calls.Load()) || got == 0 {
		b.Fatalf("Replied = %d for %d handler calls", got, h.calls.Load())
	}
}

// BenchmarkHandleDuplicate measures a retransmission that gets the reply
// from the duplicate cache.
func BenchmarkHandleDuplicate(b *testing.B) {
	h := &countingHandler{}
	s := &Server{Clients: testClients(b), Handler: h}
	s.init()
	s.conn = discardConn{}
	nas, _ := s.Clients.Lookup(addrPort(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}).Addr())
	data := encodeRequest(b, accessRequest(b, testSecret))
	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	b.ReportAllocs()
	for b.Loop() {
		s.handle(datagram{addr: addr, nas: nas, data: data})
	}
	b.StopTimer()
	if got := h.calls.Load(); got != 1 {
		b.Fatalf("handler calls = %d, want 1", got)
	}
}

// BenchmarkEncodeResponse measures reply encoding with Message-Authenticator,
// Proxy-State and a VLAN.
func BenchmarkEncodeResponse(b *testing.B) {
	req := accessRequest(b, testSecret)
	reply := req.Response(radius.CodeAccessAccept)
	if err := AddVLAN(reply, "100", 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeResponse(reply, req); err != nil {
			b.Fatal(err)
		}
	}
}
