package pledge

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLimitTLSVersion(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecCert := tls.Certificate{PrivateKey: newKey(t)}
	pkcs1 := tls.Certificate{PrivateKey: rsaKey,
		SupportedSignatureAlgorithms: []tls.SignatureScheme{tls.PKCS1WithSHA256}}
	type versions struct{ Min, Max uint16 }
	tests := []struct {
		name string
		cert tls.Certificate
		want uint16
		got  versions
	}{
		{"ECDSA", ecCert, 0, versions{tls.VersionTLS12, 0}},
		{"ECDSA limited to ECDSA schemes", tls.Certificate{PrivateKey: newKey(t),
			SupportedSignatureAlgorithms: []tls.SignatureScheme{
				tls.ECDSAWithP256AndSHA256}}, 0, versions{tls.VersionTLS12, 0}},
		{"RSA", tls.Certificate{PrivateKey: rsaKey}, 0, versions{tls.VersionTLS12, 0}},
		{"RSA with PSS", tls.Certificate{PrivateKey: rsaKey,
			SupportedSignatureAlgorithms: []tls.SignatureScheme{tls.PKCS1WithSHA256,
				tls.PSSWithSHA256}}, 0, versions{tls.VersionTLS12, 0}},
		{"RSA PKCS #1 v1.5 only", pkcs1, 0, versions{tls.VersionTLS12, tls.VersionTLS12}},
		{"RSA PKCS #1 v1.5 only, TLS 1.2", pkcs1, tls.VersionTLS12,
			versions{tls.VersionTLS12, tls.VersionTLS12}},
		{"ECDSA, TLS 1.3", ecCert, tls.VersionTLS13,
			versions{tls.VersionTLS13, tls.VersionTLS13}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := &tls.Config{MinVersion: tls.VersionTLS12}
			if err := limitTLSVersion(tc, tt.cert, tt.want); err != nil {
				t.Fatalf("limitTLSVersion: %v", err)
			}
			if diff := cmp.Diff(tt.got, versions{tc.MinVersion, tc.MaxVersion}); diff != "" {
				t.Errorf("versions (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLimitTLSVersionRejectsTLS13 pins the error for TLS 1.3 with an RSA
// key that signs only with PKCS #1 v1.5: it names the key's limit and the
// fix.
func TestLimitTLSVersionRejectsTLS13(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{PrivateKey: rsaKey,
		SupportedSignatureAlgorithms: []tls.SignatureScheme{tls.PKCS1WithSHA256}}
	err = limitTLSVersion(&tls.Config{}, cert, tls.VersionTLS13)
	if !errors.Is(err, ErrTLSVersion) {
		t.Fatalf("error = %v, want ErrTLSVersion", err)
	}
	for _, want := range []string{"signs only with PKCS #1 v1.5", "needs RSA-PSS",
		"use TLS 1.2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
