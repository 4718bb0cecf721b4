package chaincache

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// TestChainCacheIssuerExpiresFirst caches a leaf whose intermediate CA
// expires before the leaf does, and checks that the cache ends with the
// intermediate while the root and the leaf are still valid.
func TestChainCacheIssuerExpiresFirst(t *testing.T) {
	now := time.Now()
	root := newTestCA(t, "root")
	interKey := newKey(t)
	inter := &testCA{key: interKey, cert: sign(t, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "short intermediate"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * time.Minute),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}, root.cert, interKey, root.key)}
	leaf := inter.issue(t, newKey(t), "SN-1", x509.ExtKeyUsageClientAuth)
	roots := chainPool([]*x509.Certificate{root.cert})
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	c := New(8, 24*time.Hour)
	first := x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: clientAuth,
		Intermediates: chainPool([]*x509.Certificate{inter.cert})}
	if _, err := c.Verify(leaf, first); err != nil {
		t.Fatalf("first verify: %v", err)
	}
	tests := []struct {
		name    string
		at      time.Time
		wantHit bool
	}{
		{"intermediate valid", now.Add(5 * time.Minute), true},
		{"intermediate expired", now.Add(20 * time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Without intermediates only a cache hit verifies.
			_, err := c.Verify(leaf, x509.VerifyOptions{Roots: roots, CurrentTime: tt.at,
				KeyUsages: clientAuth})
			if gotHit := err == nil; gotHit != tt.wantHit {
				t.Errorf("hit = %v (error %v), want %v", gotHit, err, tt.wantHit)
			}
		})
	}
	// The expired entry is gone, so the intermediate is checked again.
	first.CurrentTime = now.Add(20 * time.Minute)
	if _, err := c.Verify(leaf, first); err == nil {
		t.Error("verify through the expired intermediate succeeded")
	}
}
