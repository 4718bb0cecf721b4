package registrar

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkBootstrapFloor measures the work that one EAP-EST bootstrap
// cannot avoid on the registrar, without RADIUS, TLS records, HTTP or
// parsing: the public-key operations on P-256 and the two commits that
// must be durable before the Access-Accept leaves. It reports the
// process's CPU time per operation as "cpu-ns/op", since ns/op is wall
// time and includes the wait for fsync.
//
// A bootstrap verifies six ECDSA signatures: the pledge's TLS
// CertificateVerify, its IDevID's signature by the manufacturer CA, the
// voucher request, the MASA's voucher, the CSR, and the new LDevID, which
// crypto/x509.CreateCertificate checks after signing. It makes three
// signatures (the server's CertificateVerify, the registrar voucher
// request and the LDevID) and one P-256 key exchange (a key share and the
// shared secret). The "bootstrap" case runs all of them once per
// iteration.
func BenchmarkBootstrapFloor(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("to be signed"))
	signature, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	peer, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}

	verify := func(b *testing.B) {
		if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], signature) {
			b.Fatal("ECDSA signature verification failed")
		}
	}
	sign := func(b *testing.B) {
		if _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
	exchange := func(b *testing.B) {
		share, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := share.ECDH(peer.PublicKey()); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("ecdsa-verify", func(b *testing.B) { loopCPU(b, func() { verify(b) }) })
	b.Run("ecdsa-sign", func(b *testing.B) { loopCPU(b, func() { sign(b) }) })
	b.Run("ecdh-p256", func(b *testing.B) { loopCPU(b, func() { exchange(b) }) })

	st := openFloorStore(b)
	commits := 0
	commit := func(b *testing.B) {
		commits++
		recordFloorBootstrap(b, st, commits)
	}
	b.Run("durable-commits", func(b *testing.B) { loopCPU(b, func() { commit(b) }) })
	b.Run("bootstrap", func(b *testing.B) {
		loopCPU(b, func() {
			for range 6 {
				verify(b)
			}
			for range 3 {
				sign(b)
			}
			exchange(b)
			commit(b)
		})
	})
}

// loopCPU runs op b.N times and reports the process CPU time per run.
func loopCPU(b *testing.B, op func()) {
	start := processCPU(b)
	for b.Loop() {
		op()
	}
	b.ReportMetric(float64((processCPU(b)-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// processCPU returns the user and system CPU time of the process so far.
func processCPU(b *testing.B) time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

func openFloorStore(b *testing.B) *SQLStore {
	st, err := OpenStore(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// recordFloorBootstrap writes what a bootstrap makes durable: the decision
// with a voucher of a typical size, then the LDevID linked to it.
func recordFloorBootstrap(b *testing.B, st *SQLStore, n int) {
	ctx := context.Background()
	serial := fmt.Sprintf("SN-%07d", n)
	id, err := st.RecordDecision(ctx, DecisionRecord{Time: time.Now(), Manufacturer: "lab",
		DeviceSerial: serial, IDevIDFingerprint: fmt.Sprintf("%064x", n),
		Voucher: make([]byte, 1600), AuditSummary: "no prior domains", Rule: "expected",
		Outcome: "accept", Reason: "expected device"})
	if err != nil {
		b.Fatal(err)
	}
	err = st.RecordCertificate(ctx, IssuedCertificate{Serial: fmt.Sprintf("%x", n+1),
		Subject: "CN=" + serial, DeviceSerial: serial, Fingerprint: fmt.Sprintf("%064x", n),
		NotAfter: time.Now().AddDate(1, 0, 0), DecisionID: id})
	if err != nil {
		b.Fatal(err)
	}
}
