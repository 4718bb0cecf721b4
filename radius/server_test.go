package radius

import (
	"bytes"
	"net"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"
)

// withMessageAuthenticators encodes p with the given Message-Authenticator
// values in front of its attributes and signs the first 16-octet one.
func withMessageAuthenticators(t *testing.T, p *radius.Packet, sign bool,
	values ...[]byte) []byte {
	t.Helper()
	q := *p
	q.Attributes = nil
	for _, v := range values {
		q.Attributes.Add(rfc2869.MessageAuthenticator_Type, v)
	}
	q.Attributes = append(q.Attributes, p.Attributes...)
	b := marshalRaw(t, &q)
	if sign {
		copy(b[22:38], messageAuthenticator(b, 22, b[4:20], p.Secret))
	}
	return b
}

func TestServerDropsBadMessageAuthenticator(t *testing.T) {
	sixteen := make([]byte, 16)
	tests := []struct {
		name   string
		code   radius.Code
		encode func(t *testing.T, p *radius.Packet) []byte
		want   DropReason
	}{
		{"missing", radius.CodeAccessRequest, func(t *testing.T, p *radius.Packet) []byte {
			return marshalRaw(t, p)
		}, DropMessageAuthenticatorMissing},
		{"status server missing", radius.CodeStatusServer,
			func(t *testing.T, p *radius.Packet) []byte { return marshalRaw(t, p) },
			DropMessageAuthenticatorMissing},
		{"zero", radius.CodeAccessRequest, func(t *testing.T, p *radius.Packet) []byte {
			return withMessageAuthenticators(t, p, false, sixteen)
		}, DropMessageAuthenticatorZero},
		{"wrong", radius.CodeAccessRequest, func(t *testing.T, p *radius.Packet) []byte {
			b := encodeRequest(t, p)
			b[30] ^= 0x01
			return b
		}, DropMessageAuthenticatorInvalid},
		{"wrong secret", radius.CodeStatusServer, func(t *testing.T, p *radius.Packet) []byte {
			p.Secret = []byte("not the secret")
			return encodeRequest(t, p)
		}, DropMessageAuthenticatorInvalid},
		{"short", radius.CodeAccessRequest, func(t *testing.T, p *radius.Packet) []byte {
			return withMessageAuthenticators(t, p, false, make([]byte, 15))
		}, DropMessageAuthenticatorLength},
		{"long", radius.CodeAccessRequest, func(t *testing.T, p *radius.Packet) []byte {
			return withMessageAuthenticators(t, p, false, bytes.Repeat([]byte{1}, 17))
		}, DropMessageAuthenticatorLength},
		{"duplicated", radius.CodeAccessRequest, func(t *testing.T, p *radius.Packet) []byte {
			return withMessageAuthenticators(t, p, true, sixteen, sixteen)
		}, DropMessageAuthenticatorDuplicate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &countingHandler{}
			s, addr := startServer(t, h, nil)
			conn := dialFrom(t, "127.0.0.1", addr)
			p := accessRequest(t, testSecret)
			p.Code = tt.code
			send(t, conn, tt.encode(t, p))
			waitDropped(t, s, tt.want, 1)
			if got := h.calls.Load(); got != 0 {
				t.Errorf("handler calls = %d, want 0", got)
			}
			if got := s.Stats().StatusServer; got != 0 {
				t.Errorf("Status-Server answered %d times, want 0", got)
			}
		})
	}
}

func TestServerLegacyClient(t *testing.T) {
	eap := []byte{2, 1, 0, 9, 1, 'u', 's', 'e', 'r'}
	tests := []struct {
		name   string
		local  string
		secret []byte
		eap    bool
		ma     bool
		want   DropReason // meaningful when !answered
		answer bool
	}{
		{"legacy without EAP answered", "127.0.0.2", legacySecret, false, false, 0, true},
		{"legacy with valid MA answered", "127.0.0.2", legacySecret, false, true, 0, true},
		{"legacy with EAP needs MA", "127.0.0.2", legacySecret, true, false,
			DropMessageAuthenticatorMissing, false},
		{"strict without EAP needs MA", "127.0.0.1", testSecret, false, false,
			DropMessageAuthenticatorMissing, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &countingHandler{}
			s, addr := startServer(t, h, nil)
			conn := dialFrom(t, tt.local, addr)
			p := accessRequest(t, tt.secret)
			if tt.eap {
				if err := SetEAPMessage(p, eap); err != nil {
					t.Fatal(err)
				}
			}
			b := marshalRaw(t, p)
			if tt.ma {
				b = encodeRequest(t, p)
			}
			send(t, conn, b)
			if !tt.answer {
				waitDropped(t, s, tt.want, 1)
				return
			}
			checkReply(t, receive(t, conn), b, tt.secret)
		})
	}
}

func TestServerLegacyClientStillChecksPresentMA(t *testing.T) {
	s, addr := startServer(t, &countingHandler{}, nil)
	conn := dialFrom(t, "127.0.0.2", addr)
	b := encodeRequest(t, accessRequest(t, legacySecret))
	b[25] ^= 0xff
	send(t, conn, b)
	waitDropped(t, s, DropMessageAuthenticatorInvalid, 1)
}

func TestServerDropsNonConsecutiveEAPMessage(t *testing.T) {
	h := &countingHandler{}
	s, addr := startServer(t, h, nil)
	conn := dialFrom(t, "127.0.0.1", addr)
	p := accessRequest(t, testSecret)
	p.Add(rfc2869.EAPMessage_Type, radius.Attribute{2, 1, 0, 6})
	rfc2865.CallingStationID_AddString(p, "02-00-00-00-00-01")
	p.Add(rfc2869.EAPMessage_Type, radius.Attribute{1, 'x'})
	send(t, conn, encodeRequest(t, p))
	waitDropped(t, s, DropEAPMessageNotConsecutive, 1)
	if got := h.calls.Load(); got != 0 {
		t.Errorf("handler calls = %d, want 0", got)
	}
}

func TestServerReassemblesEAPMessage(t *testing.T) {
	eap := bytes.Repeat([]byte{0xab}, 600)
	got := make(chan []byte, 1)
	h := &countingHandler{reply: func(req *Request) (*radius.Packet, error) {
		got <- req.EAPMessage()
		reply := req.Reply(radius.CodeAccessChallenge)
		return reply, SetEAPMessage(reply, eap)
	}}
	_, addr := startServer(t, h, nil)
	conn := dialFrom(t, "127.0.0.1", addr)
	p := accessRequest(t, testSecret)
	if err := SetEAPMessage(p, eap); err != nil {
		t.Fatal(err)
	}
	b := encodeRequest(t, p)
	send(t, conn, b)
	reply := checkReply(t, receive(t, conn), b, testSecret)
	if diff := cmp.Diff(eap, <-got); diff != "" {
		t.Errorf("request EAP (-want +got):\n%s", diff)
	}
	replyEAP, err := EAPMessage(reply)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(eap, replyEAP); diff != "" {
		t.Errorf("reply EAP (-want +got):\n%s", diff)
	}
}

func TestServerDropsOversize(t *testing.T) {
	tests := []struct {
		name  string
		build func(t *testing.T) []byte
	}{
		{"datagram over 4096", func(t *testing.T) []byte {
			b := encodeRequest(t, accessRequest(t, testSecret))
			return append(b, make([]byte, 4097-len(b))...)
		}},
		{"length field over 4096", func(t *testing.T) []byte {
			b := encodeRequest(t, accessRequest(t, testSecret))
			b[2], b[3] = 0x10, 0x01
			return b
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, addr := startServer(t, &countingHandler{}, nil)
			conn := dialFrom(t, "127.0.0.1", addr)
			send(t, conn, tt.build(t))
			waitDropped(t, s, DropTooLarge, 1)
		})
	}
}

func TestServerReplyTooLarge(t *testing.T) {
	h := &countingHandler{reply: func(req *Request) (*radius.Packet, error) {
		reply := req.Reply(radius.CodeAccessChallenge)
		return reply, SetEAPMessage(reply, make([]byte, 4096))
	}}
	s, addr := startServer(t, h, nil)
	conn := dialFrom(t, "127.0.0.1", addr)
	send(t, conn, encodeRequest(t, accessRequest(t, testSecret)))
	waitDropped(t, s, DropReplyTooLarge, 1)
}

func TestServerRetransmissionGetsCachedReply(t *testing.T) {
	h := &countingHandler{}
	s, addr := startServer(t, h, nil)
	conn := dialFrom(t, "127.0.0.1", addr)
	b := encodeRequest(t, accessRequest(t, testSecret))
	send(t, conn, b)
	first := receive(t, conn)
	send(t, conn, b)
	second := receive(t, conn)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("retransmission reply (-want +got):\n%s", diff)
	}
	if got := h.calls.Load(); got != 1 {
		t.Errorf("handler calls = %d, want 1", got)
	}
	waitFor(t, "a duplicate reply counted", func() bool { return s.Stats().DuplicateReplies == 1 })
}

func TestServerRetransmissionDuringProcessingDropped(t *testing.T) {
	h := blockingHandler()
	s, addr := startServer(t, h, nil)
	conn := dialFrom(t, "127.0.0.1", addr)
	b := encodeRequest(t, accessRequest(t, testSecret))
	send(t, conn, b)
	<-h.entered
	send(t, conn, b)
	waitDropped(t, s, DropDuplicateInProgress, 1)
	close(h.gate)
	checkReply(t, receive(t, conn), b, testSecret)
	if got := h.calls.Load(); got != 1 {
		t.Errorf("handler calls = %d, want 1", got)
	}
}

func TestServerIdentifierReusedWithNewAuthenticator(t *testing.T) {
	h := &countingHandler{}
	_, addr := startServer(t, h, nil)
	conn := dialFrom(t, "127.0.0.1", addr)
	p := accessRequest(t, testSecret)
	first := encodeRequest(t, p)
	send(t, conn, first)
	checkReply(t, receive(t, conn), first, testSecret)
	p.Authenticator[0] ^= 0xff
	second := encodeRequest(t, p)
	send(t, conn, second)
	checkReply(t, receive(t, conn), second, testSecret)
	if got := h.calls.Load(); got != 2 {
		t.Errorf("handler calls = %d, want 2", got)
	}
}

func TestServerNoReplyLetsRetransmissionThrough(t *testing.T) {
	h := &countingHandler{reply: func(*Request) (*radius.Packet, error) { return nil, nil }}
	s, addr := startServer(t, h, nil)
	conn := dialFrom(t, "127.0.0.1", addr)
	b := encodeRequest(t, accessRequest(t, testSecret))
	send(t, conn, b)
	waitDropped(t, s, DropNoReply, 1)
	send(t, conn, b)
	waitDropped(t, s, DropNoReply, 2)
	if got := h.calls.Load(); got != 2 {
		t.Errorf("handler calls = %d, want 2", got)
	}
}

func TestServerCopiesProxyStateInOrder(t *testing.T) {
	h := &countingHandler{reply: func(req *Request) (*radius.Packet, error) {
		reply := req.Reply(radius.CodeAccessAccept)
		rfc2865.ProxyState_Add(reply, []byte("from handler"))
		rfc2865.ReplyMessage_SetString(reply, "ok")
		return reply, nil
	}}
	_, addr := startServer(t, h, nil)
	conn := dialFrom(t, "127.0.0.1", addr)
	p := accessRequest(t, testSecret)
	rfc2865.ProxyState_Add(p, []byte("first"))
	rfc2865.NASIdentifier_SetString(p, "switch")
	rfc2865.ProxyState_Add(p, []byte{0, 1, 2})
	rfc2865.ProxyState_Add(p, []byte("third"))
	b := encodeRequest(t, p)
	send(t, conn, b)
	reply := checkReply(t, receive(t, conn), b, testSecret)

	var got []radius.Type
	for _, avp := range reply.Attributes {
		got = append(got, avp.Type)
	}
	wantTypes := []radius.Type{rfc2869.MessageAuthenticator_Type, rfc2865.ProxyState_Type,
		rfc2865.ProxyState_Type, rfc2865.ProxyState_Type, rfc2865.ReplyMessage_Type}
	if diff := cmp.Diff(wantTypes, got); diff != "" {
		t.Errorf("reply attribute types (-want +got):\n%s", diff)
	}
	states, err := rfc2865.ProxyState_Gets(reply)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{[]byte("first"), {0, 1, 2}, []byte("third")}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("Proxy-State (-want +got):\n%s", diff)
	}
}

func TestServerAnswersStatusServer(t *testing.T) {
	h := &countingHandler{}
	s, addr := startServer(t, h, nil)
	conn := dialFrom(t, "127.0.0.1", addr)
	p := radius.New(radius.CodeStatusServer, testSecret)
	b := encodeRequest(t, p)
	for range 2 {
		send(t, conn, b)
		reply := checkReply(t, receive(t, conn), b, testSecret)
		if reply.Code != radius.CodeAccessAccept {
			t.Errorf("reply code = %v, want Access-Accept", reply.Code)
		}
	}
	if got := h.calls.Load(); got != 0 {
		t.Errorf("handler calls = %d, want 0", got)
	}
	waitFor(t, "2 Status-Server counted", func() bool { return s.Stats().StatusServer == 2 })
	if got := s.Stats().DuplicateReplies; got != 0 {
		t.Errorf("DuplicateReplies = %d, want 0", got)
	}
	if n := s.dups.len(); n != 0 {
		t.Errorf("duplicate cache has %d entries, want 0", n)
	}
}

func TestServerDropsUnknownClient(t *testing.T) {
	h := &countingHandler{}
	s, addr := startServer(t, h, nil)
	conn := dialFrom(t, "127.0.0.3", addr)
	send(t, conn, encodeRequest(t, accessRequest(t, testSecret)))
	waitDropped(t, s, DropUnknownClient, 1)
	if got := h.calls.Load(); got != 0 {
		t.Errorf("handler calls = %d, want 0", got)
	}
}

func TestServerDropsUnsupportedCode(t *testing.T) {
	s, addr := startServer(t, &countingHandler{}, nil)
	conn := dialFrom(t, "127.0.0.1", addr)
	p := radius.New(radius.CodeAccountingRequest, testSecret)
	send(t, conn, encodeRequest(t, p))
	waitDropped(t, s, DropUnsupportedCode, 1)
}

func TestServerDropsMalformed(t *testing.T) {
	s, addr := startServer(t, &countingHandler{}, nil)
	conn := dialFrom(t, "127.0.0.1", addr)
	b := encodeRequest(t, accessRequest(t, testSecret))
	b[len(b)-7] = 0xff // the User-Name length, past the end
	send(t, conn, b)
	send(t, conn, []byte{1, 2, 3})
	waitDropped(t, s, DropMalformed, 2)
}

func TestServerQueueFullDrops(t *testing.T) {
	h := blockingHandler()
	s, addr := startServer(t, h, func(s *Server) {
		s.Workers, s.QueueSize = 1, 1
	})
	conn := dialFrom(t, "127.0.0.1", addr)
	p := accessRequest(t, testSecret)
	send(t, conn, encodeRequest(t, p))
	<-h.entered
	for i := range 3 {
		p.Identifier = byte(i + 1)
		send(t, conn, encodeRequest(t, p))
	}
	waitDropped(t, s, DropQueueFull, 2)
	if got := s.Stats().Received; got != 4 {
		t.Errorf("Received = %d, want 4", got)
	}
	close(h.gate)
	for range 2 {
		receive(t, conn)
	}
}

func TestServerOnDropRateLimited(t *testing.T) {
	var mu sync.Mutex
	var calls []DropReason
	now := fixedClock()
	s, addr := startServer(t, &countingHandler{}, func(s *Server) {
		s.DropHookRate = 2
		s.now = now.Now
		s.OnDrop = func(r DropReason, _ net.Addr, _ error) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, r)
		}
	})
	conn := dialFrom(t, "127.0.0.1", addr)
	for range 5 {
		send(t, conn, marshalRaw(t, accessRequest(t, testSecret)))
	}
	waitDropped(t, s, DropMessageAuthenticatorMissing, 5)
	waitFor(t, "suppressed hooks", func() bool { return s.Stats().DropHooksSuppressed == 3 })
	want := []DropReason{DropMessageAuthenticatorMissing, DropMessageAuthenticatorMissing}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("OnDrop calls (-want +got):\n%s", diff)
	}
}
