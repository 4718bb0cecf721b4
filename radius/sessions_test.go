package radius

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

func TestSessionsBinding(t *testing.T) {
	var s Sessions
	state, err := s.New("nas", "02-00-00-00-00-01", "conversation")
	if err != nil {
		t.Fatal(err)
	}
	if len(state) < 16 {
		t.Fatalf("State of %d octets, want 16 or more", len(state))
	}
	tests := []struct {
		name     string
		state    []byte
		client   string
		stations string
		wantOK   bool
	}{
		{"same binding", state, "nas", "02-00-00-00-00-01", true},
		{"other client", state, "other", "02-00-00-00-00-01", false},
		{"other station", state, "nas", "02-00-00-00-00-02", false},
		{"unknown state", []byte("0123456789abcdef"), "nas", "02-00-00-00-00-01", false},
		{"empty state", nil, "nas", "02-00-00-00-00-01", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := s.Get(tt.state, tt.client, tt.stations)
			if ok != tt.wantOK {
				t.Fatalf("Get ok = %t, want %t", ok, tt.wantOK)
			}
			if ok && v != "conversation" {
				t.Errorf("Get value = %v, want conversation", v)
			}
		})
	}
	if got := s.Stats().Mismatched; got != 2 {
		t.Errorf("Mismatched = %d, want 2", got)
	}
}

func TestSessionsStateIsRandom(t *testing.T) {
	var s Sessions
	seen := make(map[string]bool)
	for range 100 {
		state, err := s.New("nas", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(state)] {
			t.Fatalf("State %x issued twice", state)
		}
		seen[string(state)] = true
	}
}

func TestSessionsTTL(t *testing.T) {
	clock := fixedClock()
	var expired []any
	s := Sessions{TTL: time.Minute, now: clock.Now,
		OnExpire: func(v any) { expired = append(expired, v) }}
	kept, _ := s.New("nas", "a", "kept")
	dropped, _ := s.New("nas", "b", "dropped")

	clock.Advance(50 * time.Second)
	if _, ok := s.Get(kept, "nas", "a"); !ok {
		t.Fatal("session expired before its TTL")
	}
	clock.Advance(20 * time.Second) // 70 s after New, 20 s after the Get
	if _, ok := s.Get(dropped, "nas", "b"); ok {
		t.Error("session without Get outlived its TTL")
	}
	if _, ok := s.Get(kept, "nas", "a"); !ok {
		t.Error("Get did not extend the session")
	}
	if diff := cmp.Diff([]any{"dropped"}, expired); diff != "" {
		t.Errorf("OnExpire values (-want +got):\n%s", diff)
	}
	st := s.Stats()
	if st.Expired != 1 || st.Live != 1 {
		t.Errorf("Expired = %d, Live = %d, want 1 and 1", st.Expired, st.Live)
	}
}

func TestSessionsCap(t *testing.T) {
	clock := fixedClock()
	s := Sessions{Max: 2, TTL: time.Minute, now: clock.Now}
	first, _ := s.New("nas", "a", 1)
	if _, err := s.New("nas", "b", 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.New("nas", "c", 3); !errors.Is(err, ErrSessionsFull) {
		t.Fatalf("New at the cap: error %v, want ErrSessionsFull", err)
	}
	if got := s.Stats().Rejected; got != 1 {
		t.Errorf("Rejected = %d, want 1", got)
	}
	s.Delete(first)
	if _, err := s.New("nas", "c", 3); err != nil {
		t.Errorf("New after Delete: %v", err)
	}
	clock.Advance(time.Minute)
	if _, err := s.New("nas", "d", 4); err != nil {
		t.Errorf("New after the others expired: %v", err)
	}
	if got := s.Len(); got != 1 {
		t.Errorf("Len = %d, want 1", got)
	}
}

func TestSessionsDelete(t *testing.T) {
	var s Sessions
	state, _ := s.New("nas", "a", 1)
	s.Delete(state)
	s.Delete(state)
	if _, ok := s.Get(state, "nas", "a"); ok {
		t.Error("session found after Delete")
	}
}

func TestSessionsLookup(t *testing.T) {
	var s Sessions
	state, _ := s.New("nas", "02-00-00-00-00-01", "v")
	request := func(state []byte, station string) *Request {
		p := radius.New(radius.CodeAccessRequest, testSecret)
		if state != nil {
			rfc2865.State_Set(p, state)
		}
		rfc2865.CallingStationID_SetString(p, station)
		return &Request{Packet: p, NAS: &NAS{Name: "nas"}}
	}
	tests := []struct {
		name    string
		req     *Request
		wantErr error
	}{
		{"found", request(state, "02-00-00-00-00-01"), nil},
		{"no State", request(nil, "02-00-00-00-00-01"), ErrUnknownState},
		{"other station", request(state, "02-00-00-00-00-09"), ErrUnknownState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Lookup(tt.req)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Lookup error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
