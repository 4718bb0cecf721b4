package chaincache

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// TestChainCache verifies a leaf through an intermediate once, and then
// verifies it again without the intermediate, which only a cache hit
// passes.
func TestChainCache(t *testing.T) {
	root := newTestCA(t, "root")
	inter := newSubCA(t, "intermediate", root)
	leaf := inter.issue(t, newKey(t), "SN-1", x509.ExtKeyUsageClientAuth)
	roots := chainPool([]*x509.Certificate{root.cert})
	now := time.Now()
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	const ttl = time.Minute

	cases := []struct {
		name    string
		ttl     time.Duration
		roots   *x509.CertPool
		at      time.Time
		usages  []x509.ExtKeyUsage
		wantHit bool
	}{
		{"same leaf, roots and usages", ttl, roots, now.Add(ttl / 2), clientAuth, true},
		{"other usages", ttl, roots, now, []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, false},
		{"other root pool", ttl, chainPool([]*x509.Certificate{root.cert}), now, clientAuth,
			false},
		{"after the TTL", ttl, roots, now.Add(ttl), clientAuth, false},
		{"before the first check", ttl, roots, now.Add(-time.Second), clientAuth, false},
		{"after the leaf expired", 48 * time.Hour, roots, leaf.NotAfter.Add(time.Second),
			clientAuth, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := New(8, tc.ttl)
			_, err := c.Verify(leaf, x509.VerifyOptions{Roots: roots,
				Intermediates: chainPool([]*x509.Certificate{inter.cert}),
				CurrentTime:   now, KeyUsages: clientAuth})
			if err != nil {
				t.Fatalf("first verify: %v", err)
			}
			chains, err := c.Verify(leaf, x509.VerifyOptions{Roots: tc.roots,
				CurrentTime: tc.at, KeyUsages: tc.usages})
			if gotHit := err == nil; gotHit != tc.wantHit {
				t.Fatalf("hit = %v (error %v), want %v", gotHit, err, tc.wantHit)
			}
			if tc.wantHit && (len(chains) != 1 || len(chains[0]) != 3) {
				t.Errorf("chains = %v, want one chain of leaf, intermediate and root", chains)
			}
		})
	}
}

func TestChainCacheSkipsFailures(t *testing.T) {
	root := newTestCA(t, "root")
	other := newTestCA(t, "other")
	leaf := other.issue(t, newKey(t), "SN-1", x509.ExtKeyUsageClientAuth)
	c := New(8, time.Minute)
	opts := x509.VerifyOptions{Roots: chainPool([]*x509.Certificate{root.cert}),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	for range 2 {
		if _, err := c.Verify(leaf, opts); err == nil {
			t.Fatal("verify of a leaf of an untrusted CA succeeded")
		}
	}
	if got := c.Len(); got != 0 {
		t.Errorf("cached chains = %d, want 0", got)
	}
}

func TestChainCacheEvictsLeastRecent(t *testing.T) {
	root := newTestCA(t, "root")
	inter := newSubCA(t, "intermediate", root)
	roots := chainPool([]*x509.Certificate{root.cert})
	withInter := x509.VerifyOptions{Roots: roots,
		Intermediates: chainPool([]*x509.Certificate{inter.cert}),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	alone := x509.VerifyOptions{Roots: roots, KeyUsages: withInter.KeyUsages}

	var leaves []*x509.Certificate
	for _, sn := range []string{"A", "B", "C"} {
		leaves = append(leaves, inter.issue(t, newKey(t), sn, x509.ExtKeyUsageClientAuth))
	}

	c := New(2, time.Minute)
	for _, leaf := range leaves[:2] {
		if _, err := c.Verify(leaf, withInter); err != nil {
			t.Fatal(err)
		}
	}
	// A hit on A makes B the least recently used entry, which C evicts.
	if _, err := c.Verify(leaves[0], alone); err != nil {
		t.Fatalf("A: %v", err)
	}
	if _, err := c.Verify(leaves[2], withInter); err != nil {
		t.Fatal(err)
	}
	if got := c.Len(); got != 2 {
		t.Errorf("cached chains = %d, want 2", got)
	}

	for i, wantHit := range []bool{true, false, true} {
		_, err := c.Verify(leaves[i], alone)
		if gotHit := err == nil; gotHit != wantHit {
			t.Errorf("leaf %s: hit = %v (error %v), want %v", leaves[i].Subject, gotHit, err,
				wantHit)
		}
	}
}

// testCA is a minimal issuing CA.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	return newSubCA(t, name, nil)
}

// newSubCA returns a CA that parent issued, or a self-signed one when
// parent is nil.
func newSubCA(t *testing.T, name string, parent *testCA) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	issuer, issuerKey := tmpl, key
	if parent != nil {
		issuer, issuerKey = parent.cert, parent.key
	}
	return &testCA{cert: sign(t, tmpl, issuer, key, issuerKey), key: key}
}

// issue signs a leaf certificate with the given subject serial number and
// extended key usage.
func (ca *testCA) issue(t *testing.T, key *ecdsa.PrivateKey, serial string,
	eku x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	n, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: n, Subject: pkix.Name{CommonName: "device", SerialNumber: serial},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{eku},
	}
	return sign(t, tmpl, ca.cert, key, ca.key)
}

func sign(t *testing.T, tmpl, issuer *x509.Certificate, key, issuerKey *ecdsa.PrivateKey,
) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), issuerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func chainPool(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}
