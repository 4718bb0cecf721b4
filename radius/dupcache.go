package radius

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// dupKey identifies a request for duplicate detection: source address and
// port, Identifier and Request Authenticator (RFC 5080, Section 2.2.2).
type dupKey struct {
	src  netip.AddrPort
	id   byte
	auth [16]byte
}

// dupEntry is a request in progress (reply == nil) or one with a reply.
type dupEntry struct {
	key     dupKey
	reply   []byte
	expires time.Time
	elem    *list.Element // position in done, nil while in progress
}

// dupState is the cache's record of a request.
type dupState int

const (
	dupNew        dupState = iota // not seen: the caller must process it
	dupInProgress                 // a worker is processing it: drop
	dupAnswered                   // the caller sends the cached reply again
)

// dupCache stores markers for requests in progress and the replies sent
// to the others. Replies expire after ttl, and the oldest are evicted
// beyond max entries. Entries in progress never expire, and there
// are at most as many of them as workers.
type dupCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[dupKey]*dupEntry
	done    *list.List // entries with a reply, oldest first
}

func newDupCache(ttl time.Duration, maxEntries int, now func() time.Time) *dupCache {
	return &dupCache{ttl: ttl, max: maxEntries, now: now,
		entries: make(map[dupKey]*dupEntry), done: list.New()}
}

// begin looks k up. For a new request it records an in-progress marker,
// which the caller must settle with finish or forget.
func (c *dupCache) begin(k dupKey) (dupState, []byte) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if e, ok := c.entries[k]; ok {
		if e.reply == nil {
			return dupInProgress, nil
		}
		return dupAnswered, e.reply
	}
	for len(c.entries) >= c.max && c.done.Len() > 0 {
		c.remove(c.done.Front().Value.(*dupEntry))
	}
	c.entries[k] = &dupEntry{key: k}
	return dupNew, nil
}

// finish stores the reply sent for k.
func (c *dupCache) finish(k dupKey, reply []byte) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return
	}
	e.reply = reply
	e.expires = now.Add(c.ttl)
	e.elem = c.done.PushBack(e)
}

// forget removes the marker of a request that got no reply, so that a
// retransmission is processed again.
func (c *dupCache) forget(k dupKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok && e.reply == nil {
		delete(c.entries, k)
	}
}

// expire removes answered entries whose time is up. Entries are in done in
// the order they were answered, which is the order of their expiry.
func (c *dupCache) expire(now time.Time) {
	for f := c.done.Front(); f != nil; f = c.done.Front() {
		e := f.Value.(*dupEntry)
		if now.Before(e.expires) {
			return
		}
		c.remove(e)
	}
}

func (c *dupCache) remove(e *dupEntry) {
	if e.elem != nil {
		c.done.Remove(e.elem)
	}
	delete(c.entries, e.key)
}

func (c *dupCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
