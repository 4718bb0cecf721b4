package pae

import "testing"

func TestSessionEndReasons(t *testing.T) {
	tests := []struct {
		name string
		end  func(*Port)
		want string
	}{
		{"link down", (*Port).LinkDown, ReasonLinkDown},
		{"close", (*Port).Close, ReasonShutdown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.authenticate(t, macA, BackendReply{})
			tt.end(h.port)
			if e := h.lastEvent(t, EventSessionEnded); e.Reason != tt.want {
				t.Errorf("end reason = %q, want %q", e.Reason, tt.want)
			}
		})
	}
}
