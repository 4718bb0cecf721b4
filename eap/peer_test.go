package eap

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func TestPeerConversation(t *testing.T) {
	ctx := context.Background()
	peer := NewPeerConversation(PeerConfig{Identity: "dev",
		Methods: []PeerMethod{&fakePeerMethod{typ: typeB}}})
	marshal := func(p *Packet) []byte {
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		in   *Packet
		want *Packet
	}{
		{"identity", NewIdentityRequest(1), NewIdentityResponse(1, "dev")},
		{"notification", &Packet{Code: CodeRequest, Identifier: 2, Type: TypeNotification,
			Data: []byte("hello")},
			&Packet{Code: CodeResponse, Identifier: 2, Type: TypeNotification}},
		{"legacy Nak", &Packet{Code: CodeRequest, Identifier: 3, Type: TypeTLS},
			NewNak(3, []MethodType{typeB}, false)},
		{"expanded Nak", &Packet{Code: CodeRequest, Identifier: 4, Type: TypeExpanded,
			VendorID: 5, VendorType: 6}, NewNak(4, []MethodType{typeB}, true)},
		{"method", &Packet{Code: CodeRequest, Identifier: 5, Type: TypeExperimental},
			&Packet{Code: CodeResponse, Identifier: 5, Type: TypeExperimental, Data: []byte("ok")}},
		{"repeated Identifier", NewIdentityRequest(5),
			&Packet{Code: CodeResponse, Identifier: 5, Type: TypeExperimental, Data: []byte("ok")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, status, err := peer.Handle(ctx, marshal(tt.in))
			if err != nil || status != StatusContinue {
				t.Fatalf("status %v, err %v", status, err)
			}
			if want := marshal(tt.want); !bytes.Equal(got, want) {
				t.Errorf("response = %x, want %x", got, want)
			}
		})
	}
	_, status, err := peer.Handle(ctx, []byte{3, 5, 0, 4})
	if err != nil || status != StatusSuccess {
		t.Fatalf("Success: status %v, err %v", status, err)
	}
	if res := peer.Result(); res.Method != typeB || len(res.MSK) != 64 {
		t.Errorf("result method %v, MSK %d bytes", res.Method, len(res.MSK))
	}
	if _, _, err := peer.Handle(ctx, []byte{3, 5, 0, 4}); !errors.Is(err, ErrFinished) {
		t.Errorf("after Success: err %v, want ErrFinished", err)
	}
}

func TestPeerRejectsSuccessBeforeMethod(t *testing.T) {
	peer := NewPeerConversation(PeerConfig{Identity: "dev"})
	_, status, err := peer.Handle(context.Background(), []byte{3, 1, 0, 4})
	if !errors.Is(err, ErrDiscard) || status != StatusContinue {
		t.Errorf("status %v, err %v; want a discarded Success", status, err)
	}
	_, status, err = peer.Handle(context.Background(), []byte{4, 1, 0, 4})
	if err != nil || status != StatusFailure {
		t.Errorf("Failure: status %v, err %v", status, err)
	}
}
