package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/brski-eap/brski/radius"
)

func TestLogBadResponse(t *testing.T) {
	server := radius.ServerAddr{Addr: "127.0.0.1:1812", Secret: []byte(dropTestSecret)}
	tests := []struct {
		name    string
		err     error
		want    []string
		wantFix bool
	}{
		{"wrong secret", radius.ErrResponseAuthenticatorInvalid,
			[]string{"[WARN]", "RADIUS reply ignored", "server=127.0.0.1:1812",
				"Response Authenticator invalid"}, true},
		{"bad Message-Authenticator", radius.ErrMessageAuthenticatorInvalid,
			[]string{"[WARN]", "Message-Authenticator invalid"}, true},
		{"malformed", fmt.Errorf("%w: 3 octets", radius.ErrMalformedPacket),
			[]string{"[WARN]", "malformed packet"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, buf := newBufferLogger(hclog.Info)
			limit := &logLimiter{every: time.Minute, last: map[string]time.Time{}}
			for range 3 {
				logBadResponse(log, limit, server, tt.err)
			}
			lines := buf.lines()
			if len(lines) != 1 {
				t.Fatalf("logged %d lines for 3 replies, want 1:\n%s", len(lines), buf)
			}
			for _, part := range tt.want {
				if !strings.Contains(lines[0], part) {
					t.Errorf("line lacks %q:\n%s", part, lines[0])
				}
			}
			if got := strings.Contains(lines[0], "check that the secret"); got != tt.wantFix {
				t.Errorf("line names the secret fix: %t, want %t:\n%s", got, tt.wantFix,
					lines[0])
			}
			if strings.Contains(lines[0], dropTestSecret) {
				t.Errorf("line contains the secret:\n%s", lines[0])
			}
		})
	}
}
