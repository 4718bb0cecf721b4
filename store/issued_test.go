package store

import (
	"context"
	"errors"
	"math/big"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCertificateWithDevice(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	expected := ExpectedDevice{Serial: "SN-1", Manufacturer: "acme", Tags: []string{"lab", "a"}}
	if err := s.AddExpectedDevice(ctx, expected); err != nil {
		t.Fatal(err)
	}
	certs := []Certificate{
		{SerialNumber: big.NewInt(0x11), Subject: "CN=SN-1", DeviceSerial: "SN-1",
			Fingerprint: "aa", NotAfter: t0.AddDate(1, 0, 0)},
		{SerialNumber: big.NewInt(0x22), Subject: "CN=SN-2", DeviceSerial: "SN-2",
			Fingerprint: "bb", NotAfter: t0.AddDate(1, 0, 0)},
	}
	for _, c := range certs {
		if err := s.AddCertificate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	expected.Added = t0
	tests := []struct {
		name string
		cert Certificate
		want IssuedCertificate
	}{
		{"expected device", certs[0], IssuedCertificate{Certificate: certs[0],
			Expected: expected, IsExpected: true}},
		{"device not in the list", certs[1], IssuedCertificate{Certificate: certs[1]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.Issued = t0
			got, err := s.CertificateWithDevice(ctx, tt.cert.SerialNumber)
			if err != nil {
				t.Fatalf("CertificateWithDevice: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(bigEqual)); diff != "" {
				t.Errorf("CertificateWithDevice (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := s.CertificateWithDevice(ctx, big.NewInt(0x33)); !errors.Is(err, ErrNotFound) {
		t.Errorf("CertificateWithDevice of an unknown serial = %v; want ErrNotFound", err)
	}
}
