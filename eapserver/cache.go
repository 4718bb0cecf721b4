package eapserver

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"

	"github.com/brski-eap/brski/policies"
	"github.com/brski-eap/brski/store"
	"github.com/brski-eap/brski/voucher"
)

// cacheLimit is the maximum number of entries of each cache of a Server.
// A full cache drops all its entries and fills again, so an entry that is
// never taken costs memory only until then.
const cacheLimit = 1024

// boundedMap is a map, safe for concurrent use, of at most cacheLimit
// entries. The zero value is empty and ready.
type boundedMap[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

func (b *boundedMap[K, V]) put(k K, v V) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil || len(b.m) >= cacheLimit {
		b.m = make(map[K]V)
	}
	b.m[k] = v
}

func (b *boundedMap[K, V]) get(k K) (V, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[k]
	return v, ok
}

// take returns the entry of k and removes it.
func (b *boundedMap[K, V]) take(k K) (V, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[k]
	if ok {
		delete(b.m, k)
	}
	return v, ok
}

// verified maps the leaf certificate of an EAP-TLS handshake to the store
// entries (the certificate and its device's expected-devices entry) that
// its VerifyConnection looked up. crypto/tls hands the
// same *x509.Certificate to VerifyConnection and to the ConnectionState of
// the finished handshake, so the policy step finds the entry of its own
// conversation and does not ask the store again.
type verified = boundedMap[*x509.Certificate, store.IssuedCertificate]

// voucherFacts are the fields of a stored voucher that the policy reads.
type voucherFacts struct {
	parsed    bool
	assertion string
	nonceless bool
}

// voucherCache maps to the facts of stored vouchers from the SHA-256 of the
// signed voucher, so that the CMS is parsed once per enrollment and not on
// every EAP-TLS authentication.
type voucherCache = boundedMap[[sha256.Size]byte, voucherFacts]

// voucherFactsOf returns the facts of the signed voucher der, parsing it on the
// first call.
func voucherFactsOf(c *voucherCache, der []byte) voucherFacts {
	key := sha256.Sum256(der)
	if f, ok := c.get(key); ok {
		return f
	}
	var f voucherFacts
	if so, err := voucher.ParseSigned(der); err == nil {
		if v, err := voucher.ParseVoucher(so.Content); err == nil {
			f = voucherFacts{parsed: true, assertion: string(v.Assertion),
				nonceless: len(v.Nonce) == 0}
		}
	}
	c.put(key, f)
	return f
}

// applyTo sets the voucher part of m.
func (f voucherFacts) applyTo(m *policies.MASAFacts) {
	if f.parsed {
		m.Assertion = f.assertion
		m.Nonceless = f.nonceless
	}
}
