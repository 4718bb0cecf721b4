package store

import (
	"context"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 3, 4, 10, 30, 0, 123456789, time.UTC)

// openTemp opens a store in a temporary directory whose clock is t0.
func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "registrar.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s.now = func() time.Time { return t0 }
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestExpectedDevices(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	a := ExpectedDevice{Serial: "A-1", Manufacturer: "acme", Tags: []string{"core", "lab"},
		Added: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))}
	b := ExpectedDevice{Serial: "B-2"}
	for _, d := range []ExpectedDevice{b, a} {
		if err := s.AddExpectedDevice(ctx, d); err != nil {
			t.Fatalf("AddExpectedDevice(%s): %v", d.Serial, err)
		}
	}
	if err := s.AddExpectedDevice(ctx, b); !errors.Is(err, ErrExists) {
		t.Errorf("AddExpectedDevice of a known serial = %v; want ErrExists", err)
	}

	got, err := s.ExpectedDevice(ctx, "A-1")
	if err != nil {
		t.Fatalf("ExpectedDevice: %v", err)
	}
	wantA := a
	wantA.Added = a.Added.UTC()
	if diff := cmp.Diff(wantA, got); diff != "" {
		t.Errorf("ExpectedDevice (-want +got):\n%s", diff)
	}

	list, err := s.ExpectedDevices(ctx)
	if err != nil {
		t.Fatalf("ExpectedDevices: %v", err)
	}
	wantB := b
	wantB.Added = t0
	if diff := cmp.Diff([]ExpectedDevice{wantA, wantB}, list); diff != "" {
		t.Errorf("ExpectedDevices (-want +got):\n%s", diff)
	}

	if err := s.RemoveExpectedDevice(ctx, "A-1"); err != nil {
		t.Fatalf("RemoveExpectedDevice: %v", err)
	}
	if err := s.RemoveExpectedDevice(ctx, "A-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RemoveExpectedDevice twice = %v; want ErrNotFound", err)
	}
	if _, err := s.ExpectedDevice(ctx, "A-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ExpectedDevice after remove = %v; want ErrNotFound", err)
	}
}

func TestExpectedDeviceValidate(t *testing.T) {
	tests := []struct {
		name string
		d    ExpectedDevice
		ok   bool
	}{
		{"minimal", ExpectedDevice{Serial: "x"}, true},
		{"empty serial", ExpectedDevice{}, false},
		{"long serial", ExpectedDevice{Serial: strings.Repeat("9", 65)}, false},
		{"control in serial", ExpectedDevice{Serial: "a\nb"}, false},
		{"control in manufacturer", ExpectedDevice{Serial: "a", Manufacturer: "x\x00"}, false},
		{"comma in tag", ExpectedDevice{Serial: "a", Tags: []string{"a,b"}}, false},
		{"space in tag", ExpectedDevice{Serial: "a", Tags: []string{"a b"}}, false},
		{"empty tag", ExpectedDevice{Serial: "a", Tags: []string{""}}, false},
	}
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.d.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate = %v; want ok %v", err, tt.ok)
			}
			if tt.ok {
				return
			}
			if err := s.AddExpectedDevice(ctx, tt.d); err == nil {
				t.Errorf("AddExpectedDevice of an invalid device succeeded")
			}
		})
	}
}

func TestEnrollments(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	e := Enrollment{
		DeviceSerial:      "00-D0-E5-F2-00-02",
		Manufacturer:      "acme",
		IDevIDFingerprint: "ABCD",
		Voucher:           []byte{0x30, 0x80, 0x00},
		AuditLog:          "2 entries, 0 other domains",
		Rule:              "campus",
		Outcome:           "accept",
		Reason:            "registered switch",
		Modes:             []string{"any-device", "skip-masa"},
	}
	id, err := s.RecordEnrollment(ctx, e)
	if err != nil {
		t.Fatalf("RecordEnrollment: %v", err)
	}
	later := e
	later.Time = t0.Add(time.Hour)
	later.Outcome = "reject"
	later.Modes = nil
	later.Voucher = nil
	id2, err := s.RecordEnrollment(ctx, later)
	if err != nil {
		t.Fatalf("RecordEnrollment: %v", err)
	}
	if _, err := s.RecordEnrollment(ctx, Enrollment{DeviceSerial: "x"}); err == nil {
		t.Error("RecordEnrollment without an outcome succeeded")
	}

	serial := big.NewInt(0x1234abcd)
	if err := s.SetEnrollmentCertificate(ctx, id, serial); err != nil {
		t.Fatalf("SetEnrollmentCertificate: %v", err)
	}
	if err := s.SetEnrollmentCertificate(ctx, 999, serial); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetEnrollmentCertificate of an unknown id = %v; want ErrNotFound", err)
	}

	want := e
	want.ID, want.Time, want.IDevIDFingerprint, want.CertificateSerial = id, t0, "abcd", serial
	got, err := s.Enrollment(ctx, id)
	if err != nil {
		t.Fatalf("Enrollment: %v", err)
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(bigEqual)); diff != "" {
		t.Errorf("Enrollment (-want +got):\n%s", diff)
	}
	if _, err := s.Enrollment(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Enrollment(999) = %v; want ErrNotFound", err)
	}

	wantLater := later
	wantLater.ID, wantLater.IDevIDFingerprint = id2, "abcd"
	list, err := s.Enrollments(ctx, e.DeviceSerial)
	if err != nil {
		t.Fatalf("Enrollments: %v", err)
	}
	if diff := cmp.Diff([]Enrollment{want, wantLater}, list, cmp.Comparer(bigEqual)); diff != "" {
		t.Errorf("Enrollments (-want +got):\n%s", diff)
	}
}

func bigEqual(a, b *big.Int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Cmp(b) == 0
}

func TestCachedVouchers(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	expires := t0.Add(24 * time.Hour)
	v := CachedVoucher{DeviceSerial: "S1", Voucher: []byte("v1"), Expires: expires}
	if err := s.PutCachedVoucher(ctx, v); err != nil {
		t.Fatalf("PutCachedVoucher: %v", err)
	}
	got, err := s.CachedVoucher(ctx, "S1", t0)
	if err != nil {
		t.Fatalf("CachedVoucher: %v", err)
	}
	want := v
	want.Added = t0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CachedVoucher (-want +got):\n%s", diff)
	}
	if _, err := s.CachedVoucher(ctx, "S1", expires); !errors.Is(err, ErrExpired) {
		t.Errorf("CachedVoucher at expiry = %v; want ErrExpired", err)
	}

	forever := CachedVoucher{DeviceSerial: "S1", Voucher: []byte("v2")}
	if err := s.PutCachedVoucher(ctx, forever); err != nil {
		t.Fatalf("PutCachedVoucher replacing: %v", err)
	}
	got, err = s.CachedVoucher(ctx, "S1", t0.AddDate(100, 0, 0))
	if err != nil {
		t.Fatalf("CachedVoucher without expiry: %v", err)
	}
	if string(got.Voucher) != "v2" {
		t.Errorf("CachedVoucher = %q; want the replacement v2", got.Voucher)
	}
	if _, err := s.CachedVoucher(ctx, "S2", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("CachedVoucher of an unknown device = %v; want ErrNotFound", err)
	}
	if err := s.PutCachedVoucher(ctx, CachedVoucher{DeviceSerial: "S3"}); err == nil {
		t.Error("PutCachedVoucher of an empty voucher succeeded")
	}
	if err := s.DeleteCachedVoucher(ctx, "S1"); err != nil {
		t.Fatalf("DeleteCachedVoucher: %v", err)
	}
	if err := s.DeleteCachedVoucher(ctx, "S1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteCachedVoucher twice = %v; want ErrNotFound", err)
	}
}

func TestCertificates(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	c := Certificate{
		SerialNumber: big.NewInt(0x7f01),
		Subject:      "CN=00-D0-E5-F2-00-02",
		DeviceSerial: "00-D0-E5-F2-00-02",
		Fingerprint:  "AB01",
		NotAfter:     t0.AddDate(1, 0, 0),
	}
	if err := s.AddCertificate(ctx, c); err != nil {
		t.Fatalf("AddCertificate: %v", err)
	}
	if err := s.AddCertificate(ctx, c); !errors.Is(err, ErrExists) {
		t.Errorf("AddCertificate twice = %v; want ErrExists", err)
	}
	sameFingerprint := c
	sameFingerprint.SerialNumber = big.NewInt(1)
	if err := s.AddCertificate(ctx, sameFingerprint); !errors.Is(err, ErrExists) {
		t.Errorf("AddCertificate with a known fingerprint = %v; want ErrExists", err)
	}
	if err := s.AddCertificate(ctx, Certificate{Fingerprint: "x"}); err == nil {
		t.Error("AddCertificate without a serial number succeeded")
	}

	want := c
	want.Fingerprint, want.Issued = "ab01", t0
	byFingerprint, err := s.CertificateByFingerprint(ctx, "aB01")
	if err != nil {
		t.Fatalf("CertificateByFingerprint: %v", err)
	}
	if diff := cmp.Diff(want, byFingerprint, cmp.Comparer(bigEqual)); diff != "" {
		t.Errorf("CertificateByFingerprint (-want +got):\n%s", diff)
	}
	if byFingerprint.IsRevoked() {
		t.Error("new certificate is revoked")
	}

	revokedAt := t0.Add(time.Hour)
	if err := s.RevokeCertificate(ctx, c.SerialNumber, revokedAt); err != nil {
		t.Fatalf("RevokeCertificate: %v", err)
	}
	if err := s.RevokeCertificate(ctx, c.SerialNumber, revokedAt.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeCertificate again: %v", err)
	}
	if err := s.RevokeCertificate(ctx, big.NewInt(5), time.Time{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("RevokeCertificate of an unknown serial = %v; want ErrNotFound", err)
	}
	bySerial, err := s.CertificateBySerial(ctx, big.NewInt(0x7f01))
	if err != nil {
		t.Fatalf("CertificateBySerial: %v", err)
	}
	want.Revoked = revokedAt
	if diff := cmp.Diff(want, bySerial, cmp.Comparer(bigEqual)); diff != "" {
		t.Errorf("CertificateBySerial after revoke (-want +got):\n%s", diff)
	}
	if _, err := s.CertificateBySerial(ctx, big.NewInt(2)); !errors.Is(err, ErrNotFound) {
		t.Errorf("CertificateBySerial of an unknown serial = %v; want ErrNotFound", err)
	}

	list, err := s.CertificatesOfDevice(ctx, c.DeviceSerial)
	if err != nil {
		t.Fatalf("CertificatesOfDevice: %v", err)
	}
	if diff := cmp.Diff([]Certificate{want}, list, cmp.Comparer(bigEqual)); diff != "" {
		t.Errorf("CertificatesOfDevice (-want +got):\n%s", diff)
	}
}

func TestReopenKeepsRows(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	if err := s.AddExpectedDevice(ctx, ExpectedDevice{Serial: "D1"}); err != nil {
		t.Fatal(err)
	}
	id, err := s.RecordEnrollment(ctx, Enrollment{DeviceSerial: "D1", Outcome: "accept"})
	if err != nil {
		t.Fatal(err)
	}
	v := CachedVoucher{DeviceSerial: "D1", Voucher: []byte("v")}
	if err := s.PutCachedVoucher(ctx, v); err != nil {
		t.Fatal(err)
	}
	c := Certificate{SerialNumber: big.NewInt(9), Fingerprint: "f"}
	if err := s.AddCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	defer s.Close()
	if _, err := s.ExpectedDevice(ctx, "D1"); err != nil {
		t.Errorf("ExpectedDevice after reopen: %v", err)
	}
	if _, err := s.Enrollment(ctx, id); err != nil {
		t.Errorf("Enrollment after reopen: %v", err)
	}
	if _, err := s.CachedVoucher(ctx, "D1", t0); err != nil {
		t.Errorf("CachedVoucher after reopen: %v", err)
	}
	if _, err := s.CertificateByFingerprint(ctx, "f"); err != nil {
		t.Errorf("CertificateByFingerprint after reopen: %v", err)
	}
}
