package masa_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/voucher"
)

// FuzzRequestVoucher posts arbitrary bodies to both MASA operations. A
// hostile body must get a 4xx or a voucher, never a 500 or a panic.
func FuzzRequestVoucher(f *testing.F) {
	e := newUnservedEnv(f, func(c *masa.Config) { c.RateInterval = time.Nanosecond })
	nonce := []byte("fuzz-nonce-01234")
	f.Add(e.claim(nonce))
	f.Add(e.registrarRequest(e.domain, "SN-0001", nil, nil))
	f.Add(e.pledgeRequest(e.device, nonce, nil))
	f.Add([]byte("MIAGCSqGSIb3DQEHAqCAMIACAQExADALBgkqhkiG9w0BBwGggCSABAAAAAAAAAAAAAAA"))
	h := e.server.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		e.clock.Advance(time.Second)
		for _, path := range []string{masa.PathRequestVoucher, masa.PathRequestAuditLog} {
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			req.Header.Set("Content-Type", voucher.MediaType)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
			}
		}
	})
}
