package eap

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeMethod succeeds after rounds Responses, or never when rounds is 0.
type fakeMethod struct {
	typ     MethodType
	rounds  int
	seen    int
	session Session
	closed  bool
}

func (m *fakeMethod) Type() MethodType { return m.typ }

func (m *fakeMethod) Start(_ context.Context, s Session) ([]byte, error) {
	m.session = s
	return []byte("start"), nil
}

func (m *fakeMethod) Process(_ context.Context, data []byte) (Step, error) {
	m.seen++
	if m.rounds > 0 && m.seen >= m.rounds {
		return Step{Status: StatusSuccess, Outcome: Outcome{MSK: bytes.Repeat([]byte{7}, 64),
			Detail: string(data)}}, nil
	}
	return Step{Status: StatusContinue, Data: []byte("more")}, nil
}

func (m *fakeMethod) Close() error { m.closed = true; return nil }

// fakePeerMethod echoes "ok" and accepts Success.
type fakePeerMethod struct{ typ MethodType }

func (m *fakePeerMethod) Type() MethodType { return m.typ }

func (m *fakePeerMethod) Process(context.Context, []byte) ([]byte, error) {
	return []byte("ok"), nil
}

func (m *fakePeerMethod) Success() (Outcome, error) {
	return Outcome{MSK: bytes.Repeat([]byte{7}, 64)}, nil
}

var (
	typeA = MethodType{Type: TypeTLS}
	typeB = MethodType{Type: TypeExperimental}
	typeV = MethodType{Type: TypeExpanded, VendorID: 99, VendorType: 1}
)

func newConv(t *testing.T, cfg Config, methods ...Method) *Conversation {
	t.Helper()
	cfg.Methods = func(context.Context, string) ([]Method, error) { return methods, nil }
	c, err := NewConversation(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// drive runs the conversation against peer until it ends.
func drive(t *testing.T, c *Conversation, peer *PeerConversation) Reply {
	t.Helper()
	ctx := context.Background()
	reply, err := c.Handle(ctx, nil)
	for range 100 {
		if reply.Status != StatusContinue {
			peer.Handle(ctx, reply.Packet)
			return reply
		}
		if err != nil {
			t.Fatalf("server: %v", err)
		}
		resp, _, err := peer.Handle(ctx, reply.Packet)
		if err != nil {
			t.Fatalf("peer: %v", err)
		}
		reply, err = c.Handle(ctx, resp)
	}
	t.Fatal("conversation did not end")
	return Reply{}
}

func TestConversationNakSwitch(t *testing.T) {
	tests := []struct {
		name       string
		peerType   MethodType
		wantStatus Status
		wantMethod MethodType
		wantErr    error
	}{
		{"first method accepted", typeA, StatusSuccess, typeA, nil},
		{"Nak to the second", typeB, StatusSuccess, typeB, nil},
		{"expanded Nak to a vendor type", typeV, StatusSuccess, typeV, nil},
		{"legacy Nak with 254", typeV, StatusSuccess, typeV, nil},
		{"nothing acceptable", MethodType{Type: TypeMD5Challenge}, StatusFailure, typeA,
			ErrNoMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &fakeMethod{typ: typeA, rounds: 1}
			b := &fakeMethod{typ: typeB, rounds: 2}
			v := &fakeMethod{typ: typeV, rounds: 1}
			if tt.name == "expanded Nak to a vendor type" {
				// An expanded first Request makes the peer send an Expanded
				// Nak. A legacy one gets a legacy Nak with the octet 254.
				a = &fakeMethod{typ: MethodType{Type: TypeExpanded, VendorID: 1}, rounds: 1}
			}
			peerMethod := &fakePeerMethod{typ: tt.peerType}
			c := newConv(t, Config{FramedMTU: 1400, Facts: "facts"}, a, b, v)
			peer := NewPeerConversation(PeerConfig{
				Identity: "dev", Methods: []PeerMethod{peerMethod},
			})
			reply := drive(t, c, peer)
			res := c.Result()
			if reply.Status != tt.wantStatus || res.Status != tt.wantStatus {
				t.Fatalf("status = %v/%v, want %v (err %v)", reply.Status, res.Status,
					tt.wantStatus, res.Err)
			}
			if tt.wantErr != nil && !errors.Is(res.Err, tt.wantErr) {
				t.Errorf("err = %v, want %v", res.Err, tt.wantErr)
			}
			if tt.wantStatus == StatusSuccess {
				if res.Method != tt.wantMethod {
					t.Errorf("method = %v, want %v", res.Method, tt.wantMethod)
				}
				if got := peer.Result().Status; got != StatusSuccess {
					t.Errorf("peer status = %v, want success", got)
				}
			}
			if !a.closed || !b.closed || !v.closed {
				t.Errorf("methods closed: a %v, b %v, v %v; want all", a.closed, b.closed,
					v.closed)
			}
		})
	}
}

func TestConversationSession(t *testing.T) {
	m := &fakeMethod{typ: typeA, rounds: 1}
	c := newConv(t, Config{FramedMTU: 1400, Facts: "facts"}, m)
	peer := NewPeerConversation(PeerConfig{Identity: "dev-7",
		Methods: []PeerMethod{&fakePeerMethod{typ: typeA}}})
	drive(t, c, peer)
	want := Session{Identity: "dev-7", FramedMTU: 1400, Facts: "facts"}
	if diff := cmp.Diff(want, m.session); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}
	res := c.Result()
	if res.Identity != "dev-7" || res.Detail != "ok" || len(res.MSK) != 64 {
		t.Errorf("result identity %q, detail %v, MSK %d bytes", res.Identity, res.Detail,
			len(res.MSK))
	}
	if res.Rounds != 2 {
		t.Errorf("rounds = %d, want 2", res.Rounds)
	}
}

func TestConversationIdentifier(t *testing.T) {
	ctx := context.Background()
	c := newConv(t, Config{}, &fakeMethod{typ: typeA, rounds: 1})
	reply, err := c.Handle(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := Parse(reply.Packet)
	wrong, _ := NewIdentityResponse(req.Identifier+1, "dev").Marshal()
	if _, err := c.Handle(ctx, wrong); !errors.Is(err, ErrDiscard) {
		t.Fatalf("wrong Identifier: err %v, want ErrDiscard", err)
	}
	request, _ := NewIdentityRequest(req.Identifier).Marshal()
	if _, err := c.Handle(ctx, request); !errors.Is(err, ErrDiscard) {
		t.Fatalf("Request from the peer: err %v, want ErrDiscard", err)
	}
	if _, err := c.Handle(ctx, []byte{2, 1}); !errors.Is(err, ErrDiscard) {
		t.Fatalf("garbage: err %v, want ErrDiscard", err)
	}
	right, _ := NewIdentityResponse(req.Identifier, "dev").Marshal()
	reply, err = c.Handle(ctx, right)
	if err != nil || reply.Status != StatusContinue {
		t.Fatalf("right Identifier: status %v, err %v", reply.Status, err)
	}
	next, _ := Parse(reply.Packet)
	if next.Identifier != req.Identifier+1 {
		t.Errorf("next Identifier = %d, want %d", next.Identifier, req.Identifier+1)
	}
}

func TestConversationNASIdentity(t *testing.T) {
	ctx := context.Background()
	c := newConv(t, Config{}, &fakeMethod{typ: typeA, rounds: 1})
	first, _ := NewIdentityResponse(42, "dev").Marshal()
	reply, err := c.Handle(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Parse(reply.Packet)
	if p.Identifier != 43 || p.Type != TypeTLS {
		t.Errorf("reply = %v, want Request/EAP-TLS id=43", p)
	}
	if _, err := c.Handle(ctx, nil); !errors.Is(err, ErrDiscard) {
		t.Errorf("late EAP-Start: err %v, want ErrDiscard", err)
	}
}

func TestConversationRoundLimit(t *testing.T) {
	c := newConv(t, Config{MaxRounds: 5}, &fakeMethod{typ: typeA})
	peer := NewPeerConversation(PeerConfig{Identity: "dev",
		Methods: []PeerMethod{&fakePeerMethod{typ: typeA}}})
	reply := drive(t, c, peer)
	res := c.Result()
	if reply.Status != StatusFailure || !errors.Is(res.Err, ErrRoundLimit) {
		t.Fatalf("status %v, err %v; want failure with ErrRoundLimit", reply.Status, res.Err)
	}
	if res.Rounds != 5 {
		t.Errorf("rounds = %d, want 5", res.Rounds)
	}
	if _, err := c.Handle(context.Background(), nil); !errors.Is(err, ErrFinished) {
		t.Errorf("after the end: err %v, want ErrFinished", err)
	}
}

func TestConversationIdleTimeout(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newConv(t, Config{IdleTimeout: time.Minute, Now: func() time.Time { return now }},
		&fakeMethod{typ: typeA})
	ctx := context.Background()
	reply, _ := c.Handle(ctx, nil)
	req, _ := Parse(reply.Packet)
	if got, want := c.Deadline(), now.Add(time.Minute); !got.Equal(want) {
		t.Errorf("deadline = %v, want %v", got, want)
	}
	now = now.Add(time.Minute + time.Second)
	resp, _ := NewIdentityResponse(req.Identifier, "dev").Marshal()
	reply, err := c.Handle(ctx, resp)
	if !errors.Is(err, ErrIdleTimeout) || reply.Status != StatusFailure {
		t.Fatalf("status %v, err %v; want failure with ErrIdleTimeout", reply.Status, err)
	}
	fail, _ := Parse(reply.Packet)
	if fail.Code != CodeFailure || fail.Identifier != req.Identifier {
		t.Errorf("reply = %v, want Failure id=%d", fail, req.Identifier)
	}
}

func TestConversationNakAfterStart(t *testing.T) {
	ctx := context.Background()
	c := newConv(t, Config{}, &fakeMethod{typ: typeA}, &fakeMethod{typ: typeB})
	first, _ := NewIdentityResponse(1, "dev").Marshal()
	reply, _ := c.Handle(ctx, first)
	p, _ := Parse(reply.Packet)
	resp := &Packet{Code: CodeResponse, Identifier: p.Identifier, Type: TypeTLS,
		Data: []byte("x")}
	b, _ := resp.Marshal()
	reply, _ = c.Handle(ctx, b)
	p, _ = Parse(reply.Packet)
	nak, _ := NewNak(p.Identifier, []MethodType{typeB}, false).Marshal()
	reply, err := c.Handle(ctx, nak)
	if reply.Status != StatusFailure || !errors.Is(err, ErrProtocol) {
		t.Errorf("status %v, err %v; want failure with ErrProtocol", reply.Status, err)
	}
}

func TestNewConversationNeedsMethods(t *testing.T) {
	if _, err := NewConversation(Config{}); err == nil {
		t.Error("NewConversation without Methods succeeded")
	}
}
