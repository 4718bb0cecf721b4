package registrar

import (
	"context"
	"crypto/x509"
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

// TestVerifyPeerChain checks the handshake check that an EAP-EST server
// borrows: an IDevID of the configured manufacturer passes and puts its
// chain in the cache that the handler reads, and a certificate of another
// CA fails with a reason.
func TestVerifyPeerChain(t *testing.T) {
	m := newTestMASA(t)
	st := openTestStore(t, "SN-0601")
	r, _ := testRegistrarFor(t, m, st, Options{})
	dev := mintDevice(t, m, "SN-0601")
	if err := r.VerifyPeerChain([]*x509.Certificate{dev.Certificate}); err != nil {
		t.Fatalf("VerifyPeerChain of an IDevID: %v", err)
	}
	if got := r.chains.Len(); got != 1 {
		t.Errorf("cached chains after the check = %d, want 1", got)
	}
	other := newTestCA(t, "other manufacturer")
	foreign := other.issue(t, newKey(t), "SN-0602", x509.ExtKeyUsageClientAuth)
	if err := r.VerifyPeerChain([]*x509.Certificate{foreign}); err == nil {
		t.Error("VerifyPeerChain accepted a certificate of an unknown CA")
	}
	if err := r.VerifyPeerChain(nil); err == nil {
		t.Error("VerifyPeerChain accepted no certificate")
	}
}
