package radius

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// dropEvent is one drop fed to a DropLog, after advancing its clock.
type dropEvent struct {
	advance time.Duration
	reason  DropReason
	from    string
}

// dropOutcome is what Record returned for one event.
type dropOutcome struct {
	Reported   bool
	Source     string
	Suppressed uint64
}

func TestDropLogRecord(t *testing.T) {
	const (
		maInvalid = DropMessageAuthenticatorInvalid
		unknown   = DropUnknownClient
	)
	tests := []struct {
		name   string
		max    int
		events []dropEvent
		want   []dropOutcome
	}{
		{
			name: "repeats within interval suppressed",
			events: []dropEvent{{0, maInvalid, "127.0.0.1:1000"},
				{time.Second, maInvalid, "127.0.0.1:1001"},
				{time.Second, maInvalid, "127.0.0.1:1002"}},
			want: []dropOutcome{{true, "127.0.0.1", 0}, {}, {}},
		},
		{
			name: "report after interval counts suppressed",
			events: []dropEvent{{0, maInvalid, "127.0.0.1:1000"},
				{time.Second, maInvalid, "127.0.0.1:1000"},
				{time.Second, maInvalid, "127.0.0.1:1000"},
				{time.Minute, maInvalid, "127.0.0.1:1000"},
				{time.Minute, maInvalid, "127.0.0.1:1000"}},
			want: []dropOutcome{{true, "127.0.0.1", 0}, {}, {},
				{true, "127.0.0.1", 2}, {true, "127.0.0.1", 0}},
		},
		{
			name: "sources and reasons apart",
			events: []dropEvent{{0, maInvalid, "127.0.0.1:1000"},
				{0, unknown, "127.0.0.1:1000"},
				{0, maInvalid, "127.0.0.2:1000"},
				{0, maInvalid, "[::ffff:127.0.0.2]:1000"}},
			want: []dropOutcome{{true, "127.0.0.1", 0}, {true, "127.0.0.1", 0},
				{true, "127.0.0.2", 0}, {}},
		},
		{
			name: "full table rejects new sources",
			max:  4, // two pairs for unknown clients
			events: []dropEvent{{0, unknown, "127.0.0.1:1"}, {0, unknown, "127.0.0.2:1"},
				{time.Second, unknown, "127.0.0.3:1"},
				{time.Minute, unknown, "127.0.0.3:1"}},
			want: []dropOutcome{{true, "127.0.0.1", 0}, {true, "127.0.0.2", 0}, {},
				{true, "127.0.0.3", 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := fixedClock()
			l := &DropLog{MaxSources: tt.max, now: clock.Now}
			var got []dropOutcome
			for _, ev := range tt.events {
				clock.Advance(ev.advance)
				addr := net.UDPAddrFromAddrPort(netip.MustParseAddrPort(ev.from))
				r, ok := l.Record(ev.reason, addr, nil)
				out := dropOutcome{Reported: ok, Suppressed: r.Suppressed}
				if ok {
					out.Source = r.Source.String()
				}
				got = append(got, out)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Record results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDropLogKeepsError(t *testing.T) {
	var l DropLog
	cause := errors.New("radius: invalid Message-Authenticator")
	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1812}
	r, ok := l.Record(DropMessageAuthenticatorInvalid, addr, cause)
	if !ok {
		t.Fatal("first drop not reported")
	}
	if !errors.Is(r.Err, cause) {
		t.Errorf("Err = %v, want %v", r.Err, cause)
	}
	if r.Addr != addr {
		t.Errorf("Addr = %v, want %v", r.Addr, addr)
	}
}

func TestDropReasonWords(t *testing.T) {
	source := netip.MustParseAddr("192.0.2.7")
	for _, r := range DropReasons() {
		t.Run(r.String(), func(t *testing.T) {
			if d := r.Description(); d == "" || strings.Contains(d, "_") {
				t.Errorf("Description() = %q, want words", d)
			}
			fix := r.Fix("sw1", source)
			if r.Routine() != (fix == "") {
				t.Errorf("Routine() = %t but Fix() = %q", r.Routine(), fix)
			}
		})
	}
	tests := []struct {
		reason DropReason
		want   string
	}{
		{DropUnknownClient, "add a client block whose address or CIDR covers 192.0.2.7"},
		{DropMessageAuthenticatorInvalid, "check the shared secret of client sw1; " +
			"a wrong secret makes every Message-Authenticator fail"},
	}
	for _, tt := range tests {
		if got := tt.reason.Fix("sw1", source); got != tt.want {
			t.Errorf("%v.Fix() = %q, want %q", tt.reason, got, tt.want)
		}
	}
}

func TestDropReasonRoutine(t *testing.T) {
	var got []DropReason
	for _, r := range DropReasons() {
		if r.Routine() {
			got = append(got, r)
		}
	}
	want := []DropReason{DropDuplicateInProgress, DropNoReply, DropShutdown}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("routine reasons (-want +got):\n%s", diff)
	}
}
