package registrar

import (
	"net/http"
	"strings"
	"testing"

	"github.com/brski-eap/brski/voucher"
)

// The embedded default configures no manufacturer, so it rejects even a
// device in the expected-devices list. The reason must not claim that the
// device is missing from the list.
func TestDefaultConfigRejectNamesManufacturer(t *testing.T) {
	def, err := DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	m := newTestMASA(t)
	dev := mintDevice(t, m, "SN-0101")
	st := openTestStore(t, "SN-0101")
	r, _ := testRegistrarFor(t, m, st, Options{Policy: def.Policy,
		Manufacturers: []Manufacturer{}})
	p := dialPledge(t, serveRegistrar(t, r), dev)
	resp, body := p.do(t, http.MethodPost, PathRequestVoucher, voucher.MediaType,
		p.voucherRequest(t))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status = %d, want 403; body %q", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "not in the expected-devices list") {
		t.Errorf("rejection %q blames the expected-devices list", body)
	}
	if !strings.Contains(string(body), "IDevID of a configured manufacturer") {
		t.Errorf("rejection %q does not name the missing manufacturer", body)
	}
}
