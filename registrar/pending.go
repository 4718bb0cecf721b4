package registrar

import (
	"sync"
	"time"
)

// maxPending bounds the voucher exchanges that run or wait for their
// pledge at once, so that pledges with many nonces cannot exhaust memory.
const maxPending = 1024

// pendingTable runs voucher exchanges in the background, one per key, and
// keeps each result until a request fetches it or it expires. It lets the
// registrar answer 202 to a pledge while the MASA is slow and hand the
// result to the pledge's retry of the same request (RFC 8995, Section 5.6).
type pendingTable struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*pendingEntry
}

// pendingEntry is one voucher exchange. done is closed when res is set.
type pendingEntry struct {
	// nonce is the nonce of the voucher request that started the exchange.
	nonce   []byte
	done    chan struct{}
	res     *exchangeResult
	err     error
	started time.Time
	ended   time.Time
	// status describes what a running exchange waits for, such as a MASA
	// retry, or is empty.
	status string
}

func newPendingTable(ttl time.Duration, now func() time.Time) *pendingTable {
	return &pendingTable{ttl: ttl, now: now, entries: make(map[string]*pendingEntry)}
}

// start returns the entry for key, and starts run in a new goroutine for a
// request with nonce when there is none. run may report what it waits for
// through setStatus, which status returns. start returns nil when
// maxPending entries exist already. The entry's nonce may differ from
// nonce when another request for the same key started it.
func (t *pendingTable) start(key string, nonce []byte,
	run func(setStatus func(string)) (*exchangeResult, error)) *pendingEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked()
	if e, ok := t.entries[key]; ok {
		return e
	}
	if len(t.entries) >= maxPending {
		return nil
	}
	e := &pendingEntry{nonce: nonce, done: make(chan struct{}), started: t.now()}
	t.entries[key] = e
	setStatus := func(status string) {
		t.mu.Lock()
		e.status = status
		t.mu.Unlock()
	}
	go func() {
		res, err := run(setStatus)
		t.mu.Lock()
		e.res, e.err, e.ended = res, err, t.now()
		t.mu.Unlock()
		close(e.done)
	}()
	return e
}

// status returns what the running exchange of e last reported.
func (t *pendingTable) status(e *pendingEntry) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return e.status
}

// wait returns true when e finishes within d.
func (t *pendingTable) wait(e *pendingEntry, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-e.done:
		return true
	case <-timer.C:
		return false
	}
}

// remove drops the finished entry of key once its result is delivered, so
// that a new voucher request with the same nonce starts a new exchange.
func (t *pendingTable) remove(key string, e *pendingEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.entries[key] == e {
		delete(t.entries, key)
	}
}

// dropAbandoned removes the finished entry e of key when its result has
// waited longer than grace, which means that the request that started it
// gave up. It reports whether it removed e.
func (t *pendingTable) dropAbandoned(key string, e *pendingEntry, grace time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.entries[key] != e || e.ended.IsZero() || t.now().Sub(e.ended) <= grace {
		return false
	}
	delete(t.entries, key)
	return true
}

// expireLocked drops results that no request fetched within ttl. Running
// exchanges stay: they end by the MASA client's own timeout.
func (t *pendingTable) expireLocked() {
	now := t.now()
	for k, e := range t.entries {
		if !e.ended.IsZero() && now.Sub(e.ended) > t.ttl {
			delete(t.entries, k)
		}
	}
}

// len returns the number of entries, for tests.
func (t *pendingTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}
