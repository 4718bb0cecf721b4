package radius

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSessionsSweep(t *testing.T) {
	clock := fixedClock()
	var expired []any
	s := Sessions{TTL: time.Minute, now: clock.Now,
		OnExpire: func(v any) { expired = append(expired, v) }}
	if n := s.Sweep(); n != 0 {
		t.Fatalf("Sweep of an empty table = %d, want 0", n)
	}
	s.New("nas", "a", "old")
	clock.Advance(40 * time.Second)
	s.New("nas", "b", "new")

	clock.Advance(30 * time.Second) // 70 s after "old", 30 s after "new"
	if n := s.Sweep(); n != 1 {
		t.Errorf("Sweep = %d, want 1", n)
	}
	if diff := cmp.Diff([]any{"old"}, expired); diff != "" {
		t.Errorf("OnExpire values (-want +got):\n%s", diff)
	}
	if got := s.Len(); got != 1 {
		t.Errorf("Len after Sweep = %d, want 1", got)
	}
	if st := s.Stats(); st.Expired != 1 {
		t.Errorf("Expired = %d, want 1", st.Expired)
	}
}

func TestSessionsClear(t *testing.T) {
	clock := fixedClock()
	var closed []any
	s := Sessions{TTL: time.Minute, now: clock.Now,
		OnExpire: func(v any) { closed = append(closed, v) }}
	if n := s.Clear(); n != 0 {
		t.Fatalf("Clear of an empty table = %d, want 0", n)
	}
	first, _ := s.New("nas", "a", "first")
	s.New("nas", "b", "second")
	clock.Advance(2 * time.Minute) // both expired, but not yet swept

	if n := s.Clear(); n != 2 {
		t.Errorf("Clear = %d, want 2", n)
	}
	if diff := cmp.Diff([]any{"first", "second"}, closed); diff != "" {
		t.Errorf("OnExpire values (-want +got):\n%s", diff)
	}
	if got := s.Len(); got != 0 {
		t.Errorf("Len after Clear = %d, want 0", got)
	}
	if _, ok := s.Get(first, "nas", "a"); ok {
		t.Error("Get found a session after Clear")
	}
	if _, err := s.New("nas", "c", "after"); err != nil {
		t.Errorf("New after Clear: %v", err)
	}
	if got := s.Len(); got != 1 {
		t.Errorf("Len after New = %d, want 1", got)
	}
}
