package eapserver_test

import (
	"context"
	"testing"

	"github.com/brski-eap/brski/pledge"
)

// BenchmarkEAPTLS runs full EAP-TLS authentications of an enrolled device
// through the RADIUS server: the handshake with its store check, the
// policy facts from the enrollment record and the Access-Accept.
func BenchmarkEAPTLS(b *testing.B) {
	e := newEnv(b)
	dev := e.bootstrap("SN-2001", "02-00-00-00-20-01")
	roots := pool(dev.res.DomainCAs...)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		pr, err := pledge.AuthenticateTLS(ctx, dev.nas, dev.ldevid, roots, pledge.EAPConfig{})
		if err != nil {
			b.Fatalf("AuthenticateTLS: %v (result %+v)", err, e.lastResult())
		}
		e.checkAccept(dev.nas, pr.MSK)
	}
}
