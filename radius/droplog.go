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
	// Reason is why the server dropped the datagram.
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
}

// DropLog limits the reports of dropped datagrams to one per source address
// and reason in each Interval, and counts the drops it holds back in
// between, so that one misconfigured NAS gives one line a minute rather
// than one per request. The source port is not part of the key, because a
// NAS may send from any port. The drops held back after the last report of
// a pair are counted in the next report of that pair, so they are lost
// when none follows. Feed it from Server.OnDrop. The zero value is ready
// to use, and a DropLog is safe for concurrent use.
//
// It tracks at most MaxSources pairs. While that many were reported within
// the last Interval, drops from further pairs are not reported, so a flood
// of spoofed source addresses cannot control the log volume. Server.Stats
// still counts every drop.
type DropLog struct {
	// Interval is the minimum time between two reports of one pair. Zero
	// means DefaultDropLogInterval.
	Interval time.Duration
	// MaxSources is the number of pairs tracked at once. Zero means
	// DefaultDropLogSources.
	MaxSources int

	now     func() time.Time
	mu      sync.Mutex
	entries map[dropLogKey]*dropLogEntry
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
	case !ok && !l.makeRoom(t, interval):
		return DropReport{}, false
	case !ok:
		e = &dropLogEntry{}
		l.entries[key] = e
	}
	report := DropReport{Reason: reason, Addr: addr, Source: key.source, Err: err,
		Suppressed: e.suppressed}
	e.reported, e.suppressed = t, 0
	return report, true
}

// makeRoom forgets the pairs last reported an interval or more ago when
// the table is full, and reports whether a new pair fits. The counts of
// drops held back for a forgotten pair are lost.
func (l *DropLog) makeRoom(t time.Time, interval time.Duration) bool {
	limit := orDefault(l.MaxSources, DefaultDropLogSources)
	if len(l.entries) < limit {
		return true
	}
	for k, e := range l.entries {
		if t.Sub(e.reported) >= interval {
			delete(l.entries, k)
		}
	}
	return len(l.entries) < limit
}
