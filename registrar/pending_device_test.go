package registrar

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/brski-eap/brski/voucher"
)

// waitPending blocks until every pending exchange of r has finished.
func waitPending(r *Registrar) {
	r.pending.mu.Lock()
	entries := make([]*pendingEntry, 0, len(r.pending.entries))
	for _, e := range r.pending.entries {
		entries = append(entries, e)
	}
	r.pending.mu.Unlock()
	for _, e := range entries {
		<-e.done
	}
}

// Two voucher requests of one device with different nonces run one
// exchange: the MASA sees one request and the store gets one decision.
// The request that did not start the exchange gets 409 while the result
// waits for the other, and a new exchange once it was delivered.
func TestOneExchangePerDevice(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "SN-0800")
	st := newMemStore()
	st.expected["SN-0800"] = ExpectedDevice{Serial: "SN-0800"}
	r, _ := testRegistrarFor(t, m, st, Options{VoucherWait: 10 * time.Millisecond})
	addr := serveRegistrar(t, r)
	first, second := dialPledge(t, addr, dev), dialPledge(t, addr, dev)
	arrived, release := m.holdVouchers()
	firstReq, secondReq := first.voucherRequest(t), second.voucherRequest(t)
	post := func(p *testPledge, req []byte) (int, string) {
		resp, body := p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType, req)
		return resp.StatusCode, string(body)
	}
	steps := []struct {
		name  string
		p     *testPledge
		req   []byte
		want  int
		after func()
	}{
		{"first while the MASA is busy", first, firstReq, http.StatusAccepted,
			func() { <-arrived }},
		{"second while the MASA is busy", second, secondReq, http.StatusAccepted,
			func() { release(); waitPending(r) }},
		{"second after the exchange ended", second, secondReq, http.StatusConflict, nil},
		{"first fetches its voucher", first, firstReq, http.StatusOK, nil},
	}
	for _, s := range steps {
		if got, body := post(s.p, s.req); got != s.want {
			t.Fatalf("%s: status %d, want %d; body %q", s.name, got, s.want, body)
		}
		if s.after != nil {
			s.after()
		}
	}
	st.mu.Lock()
	decisions := len(st.decisions)
	st.mu.Unlock()
	if n := m.voucherRequests(); n != 1 || decisions != 1 {
		t.Errorf("MASA saw %d voucher requests and the store has %d decisions, want 1 and 1",
			n, decisions)
	}
	// The new exchange may outlast VoucherWait; then the retry gets it.
	got, body := post(second, secondReq)
	if got == http.StatusAccepted {
		waitPending(r)
		got, body = post(second, secondReq)
	}
	if got != http.StatusOK {
		t.Errorf("second after delivery: status %d, want 200; body %q", got, body)
	}
}

// A result that its pledge did not fetch within twice Retry-After no
// longer holds the device: a request with a new nonce starts over.
func TestAbandonedExchangeReplaced(t *testing.T) {
	m := newTestMASA(t)
	dev := mintDevice(t, m, "SN-0801")
	st := newMemStore()
	st.expected["SN-0801"] = ExpectedDevice{Serial: "SN-0801"}
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	r, _ := testRegistrarFor(t, m, st, Options{VoucherWait: 10 * time.Millisecond,
		RetryAfter: time.Second, Now: clock})
	addr := serveRegistrar(t, r)
	gone, fresh := dialPledge(t, addr, dev), dialPledge(t, addr, dev)
	arrived, release := m.holdVouchers()
	resp, body := gone.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType,
		gone.voucherRequest(t))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("first request: status %d, want 202; body %q", resp.StatusCode, body)
	}
	<-arrived
	release()
	waitPending(r)
	mu.Lock()
	now = now.Add(3 * time.Second)
	mu.Unlock()
	req := fresh.voucherRequest(t)
	resp, body = fresh.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType, req)
	if resp.StatusCode == http.StatusAccepted {
		waitPending(r)
		resp, body = fresh.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType, req)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("new request: status %d, want 200; body %q", resp.StatusCode, body)
	}
	checkVoucher(t, m, fresh, body)
}
