package radius

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// Defaults for the zero DropLog fields.
const (
	// DefaultDropLogInterval is the minimum time between two reports for
	// one source address and drop reason.
	DefaultDropLogInterval = time.Minute
	// DefaultDropLogSources is the number of source address and reason
	// pairs that a DropLog tracks at once.
	DefaultDropLogSources = 256
)

// DropReport is a dropped datagram that a DropLog lets through.
type DropReport struct {
	// Reason is the cause of the drop.
	Reason DropReason
	// Addr is the source of the datagram.
	Addr net.Addr
	// Source is the IP address of Addr, which the rate limit is keyed on.
	Source netip.Addr
	// Err is the detail that OnDrop passed, or nil.
	Err error
	// Suppressed counts the drops of the same source address and reason
	// that the DropLog held back since its previous report of them.
	Suppressed uint64
	// Unreported counts the drops of other pairs that the DropLog did not
	// report because its table was full, since its previous report.
	Unreported uint64
}

// DropLog limits the reports of dropped datagrams to one per source address
// and reason in each Interval, and counts the drops it holds back in
// between. One misconfigured NAS then gives one line a minute rather than
// one per request. The source port is not part of the key, because a
// NAS may send from any port. The drops held back after the last report of
// a pair are counted in the next report of that pair, so they are lost
// when none follows. Feed it from Server.OnDrop. The zero value is ready
// to use, and a DropLog is safe for concurrent use.
//
// It tracks at most MaxSources pairs, half of them for DropUnknownClient
// and half for the reasons of datagrams from a configured client's
// address. While one half is full of pairs reported within the last
// Interval, drops of further pairs of that half are not reported. So a
// flood of spoofed source addresses can neither control the log volume
// nor hide the warnings about configured clients. The next report
// counts those drops in Unreported. Server.Stats still counts every drop.
type DropLog struct {
	// Interval is the minimum time between two reports of one pair. Zero
	// means DefaultDropLogInterval.
	Interval time.Duration
	// MaxSources is the number of pairs tracked at once. Zero means
	// DefaultDropLogSources.
	MaxSources int

	now        func() time.Time
	mu         sync.Mutex
	entries    map[dropLogKey]*dropLogEntry
	unknown    int // entries of DropUnknownClient
	unreported uint64
}

type dropLogKey struct {
	source netip.Addr
	reason DropReason
}

type dropLogEntry struct {
	reported   time.Time
	suppressed uint64
}

// Record notes a drop and returns its report, or false when a report for
// the same source address and reason went out less than Interval ago.
func (l *DropLog) Record(reason DropReason, addr net.Addr, err error) (DropReport, bool) {
	now := time.Now
	if l.now != nil {
		now = l.now
	}
	t := now()
	key := dropLogKey{source: addrPort(addr).Addr(), reason: reason}
	interval := l.Interval
	if interval <= 0 {
		interval = DefaultDropLogInterval
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.entries == nil {
		l.entries = make(map[dropLogKey]*dropLogEntry)
	}
	e, ok := l.entries[key]
	switch {
	case ok && t.Sub(e.reported) < interval:
		e.suppressed++
		return DropReport{}, false
	case !ok && !l.makeRoom(key, t, interval):
		l.unreported++
		return DropReport{}, false
	case !ok:
		e = &dropLogEntry{}
		l.entries[key] = e
		if key.reason == DropUnknownClient {
			l.unknown++
		}
	}
	report := DropReport{Reason: reason, Addr: addr, Source: key.source, Err: err,
		Suppressed: e.suppressed, Unreported: l.unreported}
	e.reported, e.suppressed, l.unreported = t, 0, 0
	return report, true
}

// makeRoom removes the pairs last reported an interval or more ago when
// the half of the table that key belongs to is full, and reports whether
// key fits. The counts of drops held back for a removed pair are lost.
func (l *DropLog) makeRoom(key dropLogKey, t time.Time, interval time.Duration) bool {
	limit := max(orDefault(l.MaxSources, DefaultDropLogSources)/2, 1)
	if l.inHalf(key) < limit {
		return true
	}
	for k, e := range l.entries {
		if t.Sub(e.reported) >= interval {
			delete(l.entries, k)
			if k.reason == DropUnknownClient {
				l.unknown--
			}
		}
	}
	return l.inHalf(key) < limit
}

// inHalf returns the number of pairs in the half of the table of key.
func (l *DropLog) inHalf(key dropLogKey) int {
	if key.reason == DropUnknownClient {
		return l.unknown
	}
	return len(l.entries) - l.unknown
}
