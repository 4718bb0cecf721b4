package store

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// seedLDevIDs stores n certificates with one enrollment each, as the
// registrar leaves them after n bootstraps.
func seedLDevIDs(tb testing.TB, s *Store, n int) {
	tb.Helper()
	ctx := context.Background()
	for i := range n {
		serial := fmt.Sprintf("DEV-%04d", i)
		c := Certificate{SerialNumber: big.NewInt(int64(1000 + i)), DeviceSerial: serial,
			Subject: "CN=" + serial, Fingerprint: fmt.Sprintf("%064x", i),
			NotAfter: t0.Add(24 * time.Hour)}
		if err := s.AddCertificate(ctx, c); err != nil {
			tb.Fatalf("AddCertificate: %v", err)
		}
		e := Enrollment{DeviceSerial: serial, Outcome: "accept", Voucher: make([]byte, 600),
			CertificateSerial: c.SerialNumber}
		if _, err := s.RecordEnrollment(ctx, e); err != nil {
			tb.Fatalf("RecordEnrollment: %v", err)
		}
	}
}

// TestConcurrentLookups runs the prepared statements from several
// goroutines at once, so that database/sql spreads them over several
// pooled connections.
func TestConcurrentLookups(t *testing.T) {
	s, _ := openTemp(t)
	const devices = 20
	seedLDevIDs(t, s, devices)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8*devices)
	for g := range 8 {
		wg.Go(func() {
			for i := range devices {
				serial := big.NewInt(int64(1000 + (i+g)%devices))
				c, err := s.CertificateBySerial(ctx, serial)
				if err != nil {
					errs <- err
					continue
				}
				if _, err := s.Enrollments(ctx, c.DeviceSerial); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("lookup: %v", err)
	}
}

func TestUseAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registrar.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err = s.ExpectedDevice(context.Background(), "A-1")
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("ExpectedDevice after Close: error = %v, want a closed-statement error", err)
	}
}

// BenchmarkEAPTLSLookups runs the store reads of one EAP-TLS
// authentication: the issued certificate, the device's enrollments and
// its expected-devices entry.
func BenchmarkEAPTLSLookups(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "registrar.db"))
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer s.Close()
	seedLDevIDs(b, s, 300)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c, err := s.CertificateBySerial(ctx, big.NewInt(int64(1000+i%300)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Enrollments(ctx, c.DeviceSerial); err != nil {
			b.Fatal(err)
		}
		if _, err := s.ExpectedDevice(ctx, c.DeviceSerial); !errors.Is(err, ErrNotFound) {
			b.Fatalf("ExpectedDevice: %v", err)
		}
	}
}
