package radius

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// A flood of unknown sources fills only its half of the table, so a
// configured client's drop is still reported, and the next report counts
// the drops that found no room.
func TestDropLogFloodKeepsClientHalf(t *testing.T) {
	clock := fixedClock()
	l := &DropLog{MaxSources: 4, now: clock.Now}
	record := func(reason DropReason, from string) (DropReport, bool) {
		return l.Record(reason, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(from)), nil)
	}
	for i, from := range []string{"127.0.1.1:1", "127.0.1.2:1", "127.0.1.3:1", "127.0.1.4:1",
		"127.0.1.5:1"} {
		_, ok := record(DropUnknownClient, from)
		if want := i < 2; ok != want {
			t.Errorf("unknown source %d (%s): reported %t, want %t", i, from, ok, want)
		}
	}

	r, ok := record(DropMessageAuthenticatorInvalid, "127.0.0.1:1812")
	if !ok {
		t.Fatal("a configured client's drop was not reported during the flood")
	}
	if r.Unreported != 3 {
		t.Errorf("Unreported = %d, want the 3 flood drops that found no room", r.Unreported)
	}

	clock.Advance(time.Second)
	r, ok = record(DropMessageAuthenticatorInvalid, "127.0.0.2:1812")
	if !ok || r.Unreported != 0 {
		t.Errorf("second client drop: reported %t, Unreported %d, want true and 0", ok,
			r.Unreported)
	}
}
