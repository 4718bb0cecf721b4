package eapserver

import (
	"crypto/sha256"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBoundedMapTakeAndLimit(t *testing.T) {
	var m boundedMap[int, string]
	if _, ok := m.get(1); ok {
		t.Fatal("get on the zero value found an entry")
	}
	m.put(1, "one")
	if got, ok := m.take(1); !ok || got != "one" {
		t.Errorf("take(1) = %q, %v, want one, true", got, ok)
	}
	if _, ok := m.take(1); ok {
		t.Error("second take(1) found the taken entry")
	}
	for i := range cacheLimit {
		m.put(i, "full")
	}
	if _, ok := m.get(0); !ok {
		t.Fatal("entry 0 missing before the limit was reached")
	}
	m.put(cacheLimit, "over")
	if _, ok := m.get(0); ok {
		t.Error("entry 0 kept after the map passed its limit")
	}
	if got, ok := m.get(cacheLimit); !ok || got != "over" {
		t.Errorf("get(cacheLimit) = %q, %v, want over, true", got, ok)
	}
}

func TestVoucherFactsOfInvalidVoucher(t *testing.T) {
	var c voucherCache
	der := []byte("not a CMS signed voucher")
	for range 2 {
		if diff := cmp.Diff(voucherFacts{}, voucherFactsOf(&c, der),
			cmp.AllowUnexported(voucherFacts{})); diff != "" {
			t.Errorf("facts (-want +got):\n%s", diff)
		}
	}
	if _, ok := c.get(sha256.Sum256(der)); !ok {
		t.Error("the result of the invalid voucher was not cached")
	}
}
