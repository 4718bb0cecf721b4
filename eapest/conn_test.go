package eapest

import "testing"

// TestPipeConnKick checks that a kick settles the conn only while its
// output waits, so a kick whose output an earlier wait took cannot end the
// next wait with an empty message.
func TestPipeConnKick(t *testing.T) {
	tests := []struct {
		name  string
		write bool // the TLS side wrote before the kick
		take  bool // the method took the output after the kick
		want  bool
	}{
		{"output pending", true, false, true},
		{"output taken", true, true, false},
		{"no output", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newPipeConn()
			if tt.write {
				if _, err := c.Write([]byte("close_notify")); err != nil {
					t.Fatal(err)
				}
			}
			c.kick()
			if tt.take {
				c.take(MaxMessageLen)
			}
			if got := c.settled(); got != tt.want {
				t.Errorf("settled() = %v, want %v", got, tt.want)
			}
			if c.settled() {
				t.Error("settled() = true after the kick was consumed")
			}
		})
	}
}
