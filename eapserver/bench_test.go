package eapserver_test

import (
	"context"
	"fmt"
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

// BenchmarkEAPEST runs whole EAP-EST bootstraps of new devices through the
// RADIUS server: the handshake with the IDevID, the voucher exchange with
// the MASA, the status reports, the LDevID and the Access-Accept. The
// pledge and the MASA run in the same process, so a CPU profile needs
// focusing on the server side (eapserver, registrar, eapest and radius).
func BenchmarkEAPEST(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		b.StopTimer()
		p := e.mint(fmt.Sprintf("SN-B%05d", i))
		nas := e.nas(fmt.Sprintf("02-00-00-%02x-%02x-%02x", byte(i>>16), byte(i>>8), byte(i)))
		b.StartTimer()
		_, pr, err := p.BootstrapEAP(ctx, nas, pledge.EAPConfig{})
		if err != nil {
			b.Fatalf("BootstrapEAP: %v (result %+v)", err, e.lastResult())
		}
		e.checkAccept(nas, pr.MSK)
	}
}
