package store

import (
	"context"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLatestEnrollments(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	// Two records share a time, so the ID orders them. They are recorded
	// out of time order, so the ID alone would order them wrongly.
	times := []time.Time{t0.Add(2 * time.Minute), t0, t0.Add(time.Minute), t0}
	var ids []int64
	for i, at := range times {
		id, err := s.RecordEnrollment(ctx, Enrollment{Time: at,
			DeviceSerial: fmt.Sprintf("D-%d", i), Outcome: "accept"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	byTime := []int64{ids[1], ids[3], ids[2], ids[0]}
	tests := []struct {
		name  string
		limit int
		want  []int64
	}{
		{"all with zero", 0, byTime},
		{"all with negative", -1, byTime},
		{"latest two", 2, byTime[2:]},
		{"more than stored", 10, byTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := s.LatestEnrollments(ctx, tt.limit)
			if err != nil {
				t.Fatalf("LatestEnrollments: %v", err)
			}
			var got []int64
			for _, e := range list {
				got = append(got, e.ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("IDs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLatestCertificates(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	cert := func(serial int64, issued, notAfter time.Duration) Certificate {
		return Certificate{SerialNumber: big.NewInt(serial), Subject: "CN=x",
			DeviceSerial: "A-1", Fingerprint: fmt.Sprintf("%064x", serial),
			Issued: t0.Add(issued), NotAfter: t0.Add(notAfter)}
	}
	certs := []Certificate{
		cert(0x30, 3*time.Minute, time.Hour), // valid, latest
		cert(0x10, time.Minute, time.Hour),   // revoked below
		cert(0x20, 2*time.Minute, -time.Second),
		// 0x05 is issued at the time of 0x10 but stored after it.
		cert(0x05, time.Minute, time.Hour),
	}
	for _, c := range certs {
		if err := s.AddCertificate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeCertificate(ctx, big.NewInt(0x10), t0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		valid bool
		limit int
		want  []int64
	}{
		{"all", false, 0, []int64{0x10, 0x05, 0x20, 0x30}},
		{"latest two", false, 2, []int64{0x20, 0x30}},
		{"valid", true, 0, []int64{0x05, 0x30}},
		{"latest valid", true, 1, []int64{0x30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var list []Certificate
			var err error
			if tt.valid {
				list, err = s.LatestValidCertificates(ctx, t0, tt.limit)
			} else {
				list, err = s.LatestCertificates(ctx, tt.limit)
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, c := range list {
				got = append(got, c.SerialNumber.Int64())
				if tt.valid && !c.IsValidAt(t0) {
					t.Errorf("certificate %x listed as valid; IsValidAt = false",
						c.SerialNumber)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("serials (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCertificateIsValidAt(t *testing.T) {
	tests := []struct {
		name string
		cert Certificate
		want bool
	}{
		{"valid", Certificate{NotAfter: t0.Add(time.Second)}, true},
		{"expires at the time", Certificate{NotAfter: t0}, false},
		{"expired", Certificate{NotAfter: t0.Add(-time.Second)}, false},
		{"revoked", Certificate{NotAfter: t0.Add(time.Hour), Revoked: t0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cert.IsValidAt(t0); got != tt.want {
				t.Errorf("IsValidAt = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestListsWhileAnotherHandleWrites opens the store file twice, as "brski
// devices" does next to a running registrar. One handle records
// enrollments with their certificates while the other revokes each
// certificate and lists the records. In WAL mode neither handle may fail
// with a locked database.
func TestListsWhileAnotherHandleWrites(t *testing.T) {
	ctx := context.Background()
	registrar, path := openTemp(t)
	operator, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer operator.Close()
	const n = 50
	issued := make(chan *big.Int, n)
	written := make(chan error, 1)
	go func() {
		defer close(issued)
		for i := range n {
			id, err := registrar.RecordEnrollment(ctx, Enrollment{
				DeviceSerial: fmt.Sprintf("W-%d", i), Outcome: "accept"})
			if err == nil {
				c := Certificate{SerialNumber: big.NewInt(int64(i + 1)),
					DeviceSerial: fmt.Sprintf("W-%d", i), Fingerprint: fmt.Sprintf("%064x", i),
					NotAfter: t0.Add(time.Hour)}
				err = registrar.AddEnrollmentCertificate(ctx, id, c)
			}
			if err != nil {
				written <- err
				return
			}
			issued <- big.NewInt(int64(i + 1))
		}
		written <- nil
	}()
	for serial := range issued {
		if err := operator.RevokeCertificate(ctx, serial, t0); err != nil {
			t.Errorf("RevokeCertificate(%x): %v", serial, err)
		}
		if _, err := operator.LatestEnrollments(ctx, 10); err != nil {
			t.Errorf("LatestEnrollments: %v", err)
		}
	}
	if err := <-written; err != nil {
		t.Fatalf("registrar handle: %v", err)
	}
	valid, err := registrar.LatestValidCertificates(ctx, t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(valid) != 0 {
		t.Errorf("%d certificates valid after revoking all %d", len(valid), n)
	}
	all, err := operator.LatestCertificates(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Errorf("%d certificates stored, want %d", len(all), n)
	}
}
