package radius

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

// TestConversationWithState runs a two-round exchange through Client and
// Server: a challenge with State, then an accept with a VLAN and MPPE keys
// that the client decrypts. A replayed State after the final result is
// rejected.
func TestConversationWithState(t *testing.T) {
	var sessions Sessions
	sendKey, recvKey := bytes.Repeat([]byte{0x11}, 32), bytes.Repeat([]byte{0x22}, 32)
	h := &countingHandler{reply: func(req *Request) (*radius.Packet, error) {
		if req.State() == nil {
			state, err := sessions.New(req.NAS.Name, req.CallingStationID(), "started")
			if err != nil {
				return nil, err
			}
			reply := req.Reply(radius.CodeAccessChallenge)
			return reply, rfc2865.State_Set(reply, state)
		}
		if _, err := sessions.Lookup(req); errors.Is(err, ErrUnknownState) {
			return req.Reply(radius.CodeAccessReject), nil
		}
		sessions.Delete(req.State())
		reply := req.Reply(radius.CodeAccessAccept)
		if err := AddVLAN(reply, "42", req.NAS.TunnelTag); err != nil {
			return nil, err
		}
		return reply, AddMPPEKeys(reply, req.Packet, sendKey, recvKey)
	}}
	_, addr := startServer(t, h, nil)
	c := &Client{Servers: []ServerAddr{{Addr: addr, Secret: testSecret}}}
	defer c.Close()
	request := func(state []byte) *radius.Packet {
		p := accessRequest(t, testSecret)
		rfc2865.CallingStationID_SetString(p, "02-00-00-00-00-01")
		if state != nil {
			rfc2865.State_Set(p, state)
		}
		return p
	}

	challenge, err := c.Exchange(context.Background(), request(nil))
	if err != nil {
		t.Fatal(err)
	}
	state := rfc2865.State_Get(challenge)
	if challenge.Code != radius.CodeAccessChallenge || len(state) < 16 {
		t.Fatalf("first reply %v with State %x, want Access-Challenge with State",
			challenge.Code, state)
	}

	second := request(state)
	accept, err := c.Exchange(context.Background(), second)
	if err != nil {
		t.Fatal(err)
	}
	if accept.Code != radius.CodeAccessAccept {
		t.Fatalf("second reply %v, want Access-Accept", accept.Code)
	}
	if diff := cmp.Diff(VLAN{Group: "42"}, mustVLAN(t, accept)); diff != "" {
		t.Errorf("VLAN (-want +got):\n%s", diff)
	}
	gotSend, gotRecv, err := MPPEKeys(accept, second.Authenticator)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotSend, sendKey) || !bytes.Equal(gotRecv, recvKey) {
		t.Errorf("MPPE keys %x, %x, want %x, %x", gotSend, gotRecv, sendKey, recvKey)
	}

	replay, err := c.Exchange(context.Background(), request(state))
	if err != nil {
		t.Fatal(err)
	}
	if replay.Code != radius.CodeAccessReject {
		t.Errorf("replayed State got %v, want Access-Reject", replay.Code)
	}
}

func mustVLAN(t *testing.T, p *radius.Packet) VLAN {
	t.Helper()
	v, ok := ParseVLAN(p)
	if !ok {
		t.Fatal("reply carries no VLAN")
	}
	return v
}
