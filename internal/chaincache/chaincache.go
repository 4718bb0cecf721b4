// Package chaincache remembers certificate chains that verified, so that
// a server checks the signatures of a chain once and not in every
// handshake or message that presents the same certificate. The registrar
// uses it for the IDevID and MASA chains of a bootstrap, and the EAP-TLS
// server for the LDevIDs of devices that authenticate again.
package chaincache

import (
	"container/list"
	"crypto/sha256"
	"crypto/x509"
	"slices"
	"sync"
	"time"
)

// Cache remembers certificate chains that verified. Entries are keyed by
// the SHA-256 of the leaf, the trust anchor pool, the key usages and the
// DNS name, and hold the chains that Verify returned. A hit requires the
// verification time to lie inside the validity of every certificate of
// those chains and within the TTL of the original check. Failed
// verifications are not cached. The least recently used entry goes when
// the cache is full. A Cache is safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	max     int
	ttl     time.Duration
	entries map[chainKey]*list.Element // values are *chainEntry
	order   *list.List                 // most recently used first
}

type chainKey struct {
	leaf    [sha256.Size]byte
	roots   *x509.CertPool
	usages  string
	dnsName string
}

type chainEntry struct {
	key      chainKey
	chains   [][]*x509.Certificate
	verified time.Time // the CurrentTime of the check
	from     time.Time // the latest NotBefore in chains
	until    time.Time // the earliest NotAfter in chains
}

// New returns an empty Cache of at most max chains, each of which stays
// cached for ttl after it verified.
func New(max int, ttl time.Duration) *Cache {
	return &Cache{max: max, ttl: ttl, entries: make(map[chainKey]*list.Element),
		order: list.New()}
}

// Verify returns leaf.Verify(opts), from the cache when the same leaf
// verified against opts.Roots with the same key usages and DNS name
// before. The intermediates are not part of the key: a leaf that chained to a root
// once, through whichever intermediates, still does while all of those
// certificates are valid. Revocation is not checked, as x509 does not
// check it either. opts.Roots must not change after the first call, which
// holds for pools that are built once at start-up.
func (c *Cache) Verify(leaf *x509.Certificate, opts x509.VerifyOptions) (
	[][]*x509.Certificate, error) {
	now := opts.CurrentTime
	if now.IsZero() {
		now = time.Now()
	}
	key := chainKey{leaf: sha256.Sum256(leaf.Raw), roots: opts.Roots,
		usages: usagesKey(opts.KeyUsages), dnsName: opts.DNSName}
	if chains, ok := c.lookup(key, now); ok {
		return chains, nil
	}
	opts.CurrentTime = now
	chains, err := leaf.Verify(opts)
	if err != nil {
		return nil, err
	}
	c.add(newChainEntry(key, chains, now))
	return chains, nil
}

func (c *Cache) lookup(key chainKey, now time.Time) ([][]*x509.Certificate, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*chainEntry)
	if now.Before(e.verified) || !now.Before(e.verified.Add(c.ttl)) ||
		now.Before(e.from) || now.After(e.until) {
		c.order.Remove(el)
		delete(c.entries, key)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.chains, true
}

func (c *Cache) add(e *chainEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.key]; ok {
		el.Value = e
		c.order.MoveToFront(el)
		return
	}
	c.entries[e.key] = c.order.PushFront(e)
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*chainEntry).key)
	}
}

// Len returns the number of cached chains.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// newChainEntry records chains that verified at now, with the window in
// which all of their certificates are valid.
func newChainEntry(key chainKey, chains [][]*x509.Certificate, now time.Time) *chainEntry {
	e := &chainEntry{key: key, chains: chains, verified: now}
	first := true
	for _, chain := range chains {
		for _, cert := range chain {
			if first || cert.NotBefore.After(e.from) {
				e.from = cert.NotBefore
			}
			if first || cert.NotAfter.Before(e.until) {
				e.until = cert.NotAfter
			}
			first = false
		}
	}
	return e
}

// usagesKey encodes key usages as a map key, in a fixed order.
func usagesKey(usages []x509.ExtKeyUsage) string {
	sorted := slices.Sorted(slices.Values(usages))
	b := make([]byte, 0, len(sorted))
	for _, u := range sorted {
		b = append(b, byte(u))
	}
	return string(b)
}
