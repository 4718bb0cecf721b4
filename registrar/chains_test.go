package registrar

import (
	"context"
	"net/http"
	"testing"

	"github.com/brski-eap/brski/store"
	"github.com/brski-eap/brski/voucher"
)

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
	if got := r.chains.Len(); got != 3 {
		t.Errorf("cached chains = %d, want 3 (two IDevIDs and the MASA signer)", got)
	}
}
