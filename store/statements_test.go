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
	if got := s.db.Stats().MaxIdleClosed; got != 0 {
		t.Errorf("connections closed for the idle limit = %d, want 0", got)
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

func TestAddEnrollmentCertificate(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	id, err := s.RecordEnrollment(ctx, Enrollment{DeviceSerial: "A-1", Outcome: "accept"})
	if err != nil {
		t.Fatal(err)
	}
	cert := func(serial int64) Certificate {
		return Certificate{SerialNumber: big.NewInt(serial), DeviceSerial: "A-1",
			Fingerprint: fmt.Sprintf("%064x", serial), NotAfter: t0.Add(time.Hour)}
	}
	cases := []struct {
		name     string
		id       int64
		cert     Certificate
		wantErr  error
		wantCert bool // whether the certificate is stored afterwards
	}{
		{"links a new certificate", id, cert(10), nil, true},
		{"unknown enrollment", id + 1, cert(11), ErrNotFound, false},
		{"certificate stored already", id, cert(10), ErrExists, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.AddEnrollmentCertificate(ctx, tc.id, tc.cert)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			_, err = s.CertificateBySerial(ctx, tc.cert.SerialNumber)
			if gotCert := err == nil; gotCert != tc.wantCert {
				t.Errorf("certificate stored = %v (%v), want %v", gotCert, err, tc.wantCert)
			}
		})
	}
	e, err := s.Enrollment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !bigEqual(e.CertificateSerial, big.NewInt(10)) {
		t.Errorf("enrollment certificate = %v, want 10", e.CertificateSerial)
	}
}
