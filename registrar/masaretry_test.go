package registrar

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/brski-eap/brski/masaclient"
)

// Options gives the MASA client the configuration's OnMASARetry hook, so
// that the registrar can log why a voucher stays pending.
func TestConfigOptionsPassesMASARetryHook(t *testing.T) {
	masa := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter,
		_ *http.Request) {
		http.Error(w, "device claimed in the last minute", http.StatusServiceUnavailable)
	}))
	defer masa.Close()
	dir := t.TempDir()
	trust := filepath.Join(dir, "masa.pem")
	block := &pem.Block{Type: "CERTIFICATE", Bytes: masa.Certificate().Raw}
	if err := os.WriteFile(trust, pem.EncodeToMemory(block), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "masa_client {\n  trust = \"masa.pem\"\n  max_attempts = 2\n}\n" + minimalPolicy
	cfg, err := ParseConfig(filepath.Join(dir, "registrar.hcl"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	retries := make(chan masaclient.Retry, 2)
	cfg.OnMASARetry = func(r masaclient.Retry) { retries <- r }
	opts, err := cfg.Options(newMemStore(), time.Now())
	if err != nil {
		t.Fatalf("Options: %v", err)
	}

	if _, err := opts.MASA.RequestVoucher(context.Background(), masa.URL, nil); err == nil {
		t.Fatal("RequestVoucher succeeded against a MASA that answers 503")
	}
	if n := len(retries); n != 1 {
		t.Fatalf("OnMASARetry calls = %d, want 1 for two attempts", n)
	}
	if r := <-retries; r.Attempt != 1 || r.MaxAttempts != 2 || r.Err == nil {
		t.Errorf("retry = %+v, want attempt 1 of 2 with the 503 error", r)
	}
}
