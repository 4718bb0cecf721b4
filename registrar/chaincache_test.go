package registrar

import (
	"context"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"github.com/brski-eap/brski/store"
	"github.com/brski-eap/brski/voucher"
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
			c := newChainCache(8, tc.ttl)
			_, err := c.verify(leaf, x509.VerifyOptions{Roots: roots,
				Intermediates: chainPool([]*x509.Certificate{inter.cert}),
				CurrentTime:   now, KeyUsages: clientAuth})
			if err != nil {
				t.Fatalf("first verify: %v", err)
			}
			chains, err := c.verify(leaf, x509.VerifyOptions{Roots: tc.roots,
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
	c := newChainCache(8, time.Minute)
	opts := x509.VerifyOptions{Roots: chainPool([]*x509.Certificate{root.cert}),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	for range 2 {
		if _, err := c.verify(leaf, opts); err == nil {
			t.Fatal("verify of a leaf of an untrusted CA succeeded")
		}
	}
	if got := c.len(); got != 0 {
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

	c := newChainCache(2, time.Minute)
	for _, leaf := range leaves[:2] {
		if _, err := c.verify(leaf, withInter); err != nil {
			t.Fatal(err)
		}
	}
	// A hit on A makes B the least recently used entry, which C evicts.
	if _, err := c.verify(leaves[0], alone); err != nil {
		t.Fatalf("A: %v", err)
	}
	if _, err := c.verify(leaves[2], withInter); err != nil {
		t.Fatal(err)
	}
	if got := c.len(); got != 2 {
		t.Errorf("cached chains = %d, want 2", got)
	}

	for i, wantHit := range []bool{true, false, true} {
		_, err := c.verify(leaves[i], alone)
		if gotHit := err == nil; gotHit != wantHit {
			t.Errorf("leaf %s: hit = %v (error %v), want %v", leaves[i].Subject, gotHit, err,
				wantHit)
		}
	}
}

// TestBootstrapsShareMASAChain runs the voucher exchange of two pledges.
// The registrar then holds one chain per IDevID and one for the MASA's
// signing certificate, which both vouchers share.
func TestBootstrapsShareMASAChain(t *testing.T) {
	m := newTestMASA(t)
	st := openTestStore(t, "SN-0501")
	err := st.DB.AddExpectedDevice(context.Background(), store.ExpectedDevice{Serial: "SN-0502"})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := testRegistrarFor(t, m, st, Options{})
	addr := serveRegistrar(t, r)
	for _, serial := range []string{"SN-0501", "SN-0502"} {
		p := dialPledge(t, addr, mintDevice(t, m, serial))
		resp, body := p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType,
			p.voucherRequest(t))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: requestvoucher status = %d; body %q", serial, resp.StatusCode, body)
		}
	}
	if got := r.chains.len(); got != 3 {
		t.Errorf("cached chains = %d, want 3 (two IDevIDs and the MASA signer)", got)
	}
}
