package registrar

import (
	"container/list"
	"crypto/sha256"
	"crypto/x509"
	"slices"
	"sync"
	"time"
)

// Limits of the chain cache.
const (
	// chainCacheSize bounds the cached chains. One bootstrap adds the
	// IDevID chain, and the MASA's signing chain is shared by all
	// bootstraps of a manufacturer.
	chainCacheSize = 1024
	// chainCacheTTL bounds how long a chain stays cached after it
	// verified. It is longer than a normal EAP-EST conversation, so that
	// each chain of a bootstrap is verified once.
	chainCacheTTL = 5 * time.Minute
)

// chainCache remembers certificate chains that verified, so that the
// registrar checks the signatures of a chain once and not in each of the
// TLS client check, the voucher request check and the voucher check of one
// bootstrap. Entries are keyed by the SHA-256 of the leaf, the trust
// anchor pool and the key usages, and hold the chains that Verify
// returned. A hit requires the verification time to lie inside the
// validity of every certificate of those chains and within chainCacheTTL
// of the original check. Failed verifications are not cached. The least
// recently used entry goes when the cache is full. A chainCache is safe
// for concurrent use.
type chainCache struct {
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

func newChainCache(max int, ttl time.Duration) *chainCache {
	return &chainCache{max: max, ttl: ttl, entries: make(map[chainKey]*list.Element),
		order: list.New()}
}

// verify returns leaf.Verify(opts), from the cache when the same leaf
// verified against opts.Roots with the same key usages and DNS name
// before. The
// intermediates are not part of the key: a leaf that chained to a root
// once, through whichever intermediates, still does while all of those
// certificates are valid. Revocation is not checked, as x509 does not
// check it either. opts.Roots must not change after the first call, which
// holds for the registrar's pools.
func (c *chainCache) verify(leaf *x509.Certificate, opts x509.VerifyOptions) (
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

func (c *chainCache) lookup(key chainKey, now time.Time) ([][]*x509.Certificate, bool) {
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

func (c *chainCache) add(e *chainEntry) {
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

// len returns the number of cached chains.
func (c *chainCache) len() int {
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
