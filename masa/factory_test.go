package masa

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/brski-eap/brski/devid"
	"github.com/google/go-cmp/cmp"
)

func newTestFactory(t *testing.T) *Factory {
	t.Helper()
	f, err := InitFactory(t.TempDir(), "Example Devices", "masa.example.com:9443")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestInitFactoryFiles(t *testing.T) {
	f := newTestFactory(t)
	for _, name := range []string{factoryCAKeyFile, signingKeyFile} {
		fi, err := os.Stat(filepath.Join(f.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode = %04o, want 0600", name, got)
		}
	}
	opts := x509.VerifyOptions{Roots: x509.NewCertPool(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	opts.Roots.AddCert(f.CA)
	if _, err := f.SigningCert.Verify(opts); err != nil {
		t.Errorf("signing certificate does not chain to the factory CA: %v", err)
	}
	for _, c := range []*x509.Certificate{f.CA, f.SigningCert} {
		if pub, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
			t.Errorf("%s key is not ECDSA P-256", c.Subject)
		}
	}
	if diff := cmp.Diff("https://masa.example.com:9443", f.MASAURL); diff != "" {
		t.Errorf("MASA URL (-want +got):\n%s", diff)
	}
}

func TestInitFactoryRefusesOverwrite(t *testing.T) {
	f := newTestFactory(t)
	_, err := InitFactory(f.Dir, "Other", "https://masa.example.com")
	if !errors.Is(err, ErrFactoryExists) {
		t.Fatalf("error = %v, want ErrFactoryExists", err)
	}
}

func TestOpenFactory(t *testing.T) {
	f := newTestFactory(t)
	g, err := OpenFactory(f.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if !g.CA.Equal(f.CA) || !g.SigningCert.Equal(f.SigningCert) {
		t.Error("opened factory has other certificates")
	}
	if diff := cmp.Diff([]string{f.Name, f.MASAURL}, []string{g.Name, g.MASAURL}); diff != "" {
		t.Errorf("name and URL (-want +got):\n%s", diff)
	}
}

func TestOpenFactoryRejectsReadableKey(t *testing.T) {
	f := newTestFactory(t)
	if err := os.Chmod(filepath.Join(f.Dir, factoryCAKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFactory(f.Dir); err == nil {
		t.Fatal("OpenFactory accepted a key with mode 0644")
	}
}

func TestMint(t *testing.T) {
	f := newTestFactory(t)
	d, err := f.Mint("SN-0001", "Switch 24P")
	if err != nil {
		t.Fatal(err)
	}
	cert := d.Certificate
	serial, err := devid.SerialNumber(cert)
	if err != nil {
		t.Fatal(err)
	}
	url, err := devid.MASAURL(cert)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{serial, devid.Model(cert), url}
	want := []string{"SN-0001", "Switch 24P", "https://masa.example.com:9443"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("serial, model, URL (-want +got):\n%s", diff)
	}
	if !cert.NotAfter.Equal(notAfterForever) {
		t.Errorf("notAfter = %v, want %v", cert.NotAfter, notAfterForever)
	}
	wantEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if diff := cmp.Diff(wantEKU, cert.ExtKeyUsage); diff != "" {
		t.Errorf("EKU (-want +got):\n%s", diff)
	}
	opts := x509.VerifyOptions{Roots: x509.NewCertPool(), CurrentTime: time.Now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	opts.Roots.AddCert(f.CA)
	if _, err := cert.Verify(opts); err != nil {
		t.Errorf("IDevID does not chain to the factory CA: %v", err)
	}
	fi, err := os.Stat(d.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode = %04o, want 0600", fi.Mode().Perm())
	}
	stored, err := f.DeviceCertificate("SN-0001")
	if err != nil {
		t.Fatal(err)
	}
	if !stored.Equal(cert) {
		t.Error("DeviceCertificate returned another certificate")
	}
	if _, err := f.Mint("SN-0001", ""); err == nil {
		t.Error("minting a serial twice succeeded")
	}
}

func TestMintInvalidSerial(t *testing.T) {
	f := newTestFactory(t)
	for _, serial := range []string{"", "../x", "a/b", `a\b`, ".hidden", "-x", "a b",
		"é", string(make([]byte, 65))} {
		t.Run(serial, func(t *testing.T) {
			_, err := f.Mint(serial, "")
			if !errors.Is(err, ErrInvalidSerialNumber) {
				t.Fatalf("error = %v, want ErrInvalidSerialNumber", err)
			}
		})
	}
}

func TestDeviceCertificateUnknown(t *testing.T) {
	f := newTestFactory(t)
	for _, serial := range []string{"never-minted", "../ca"} {
		if _, err := f.DeviceCertificate(serial); !errors.Is(err, ErrUnknownDevice) {
			t.Errorf("%q: error = %v, want ErrUnknownDevice", serial, err)
		}
	}
}
