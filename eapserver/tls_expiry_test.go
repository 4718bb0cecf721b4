package eapserver_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/registrar"
)

// TestEAPTLSCachedChainExpires authenticates a device once, so that its
// chain is cached, and again on a server clock moved forward.
func TestEAPTLSCachedChainExpires(t *testing.T) {
	const validity = time.Hour
	var offset atomic.Int64 // of the server clock, in nanoseconds
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	e := newEnvServer(t, func(o *registrar.Options) { o.LDevIDValidity = validity },
		func(c *eapserver.Config) { c.Now = now })
	dev := e.bootstrap("SN-2401", "02-00-00-00-24-01")
	ctx := context.Background()
	roots := pool(dev.res.DomainCAs...)
	if _, err := pledge.AuthenticateTLS(ctx, dev.nas, dev.ldevid, roots,
		pledge.EAPConfig{}); err != nil {
		t.Fatalf("first AuthenticateTLS: %v (result %+v)", err, e.lastResult())
	}
	tests := []struct {
		name       string
		offset     time.Duration
		wantAccept bool
	}{
		{"inside the validity", validity / 2, true},
		{"after the LDevID expired", validity + time.Minute, false},
		{"back inside the validity", validity / 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offset.Store(int64(tt.offset))
			_, err := pledge.AuthenticateTLS(ctx, dev.nas, dev.ldevid, roots,
				pledge.EAPConfig{})
			if gotAccept := err == nil; gotAccept != tt.wantAccept {
				t.Fatalf("accepted = %v (error %v, result %+v), want %v", gotAccept, err,
					e.lastResult(), tt.wantAccept)
			}
			if !tt.wantAccept && !errors.Is(err, pledge.ErrEAPFailure) {
				t.Errorf("AuthenticateTLS error = %v, want ErrEAPFailure", err)
			}
		})
	}
}
