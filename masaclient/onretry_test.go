package masaclient

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryObserverReportsEachRetry(t *testing.T) {
	var attempts atomic.Int32
	var retries []Retry
	ctx := WithRetryObserver(context.Background(), func(r Retry) {
		retries = append(retries, r)
	})
	c, url := testServer(t, Config{MaxAttempts: 3}, voucherHandler(t, &attempts,
		func(n int32, w http.ResponseWriter) bool {
			w.Header().Set("Retry-After", "45")
			http.Error(w, "device claimed in the last minute", http.StatusServiceUnavailable)
			return true
		}))
	_, err := c.RequestVoucher(ctx, url, nil)
	if !errors.Is(err, ErrServiceUnavailable) {
		t.Fatalf("error = %v, want ErrServiceUnavailable", err)
	}
	// Three attempts have two waits between them, and none after the last.
	if len(retries) != 2 {
		t.Fatalf("observer calls = %d, want 2: %+v", len(retries), retries)
	}
	for i, r := range retries {
		if r.Attempt != i+1 || r.MaxAttempts != 3 {
			t.Errorf("retry %d: attempt %d of %d, want %d of 3", i, r.Attempt, r.MaxAttempts,
				i+1)
		}
		if r.URL != url+PathRequestVoucher {
			t.Errorf("retry %d: URL %q, want %q", i, r.URL, url+PathRequestVoucher)
		}
		// testServer caps every delay at 2 ms, Retry-After included.
		if r.Delay != 2*time.Millisecond {
			t.Errorf("retry %d: delay %v, want the 2ms cap", i, r.Delay)
		}
		var se *StatusError
		if !errors.As(r.Err, &se) || se.RetryAfter != 45*time.Second {
			t.Errorf("retry %d: error %v, want a 503 StatusError with Retry-After 45s", i, r.Err)
		}
	}
}
