package masaclient

import (
	"net/http"
	"testing"
	"time"
	"unicode"
)

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range []string{"120", "0", "", now.Add(time.Minute).Format(http.TimeFormat),
		"Sun, 06 Nov 1994 08:49:37 GMT", "4294967296", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		if d := parseRetryAfter(value, now); d < 0 {
			t.Errorf("parseRetryAfter(%q) = %v, want a non-negative delay", value, d)
		}
	})
}

func FuzzCleanMessage(f *testing.F) {
	f.Add([]byte("device claimed\r\nagain"))
	f.Add([]byte{0xff, 0x00, 'a', 0x1b, '[', '3', '1', 'm'})
	f.Fuzz(func(t *testing.T, body []byte) {
		msg := cleanMessage(body)
		if len(msg) > maxMessageBytes {
			t.Errorf("message has %d bytes, want at most %d", len(msg), maxMessageBytes)
		}
		for _, r := range msg {
			if !unicode.IsPrint(r) {
				t.Fatalf("message %q contains the non-printable %U", msg, r)
			}
		}
	})
}
