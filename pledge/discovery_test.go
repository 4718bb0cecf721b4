package pledge

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var errFakeAuthenticator = errors.New("fake authenticator failed")

// fakeAuthenticators is an eapolLink whose authenticators all fail the
// first exchange, and which reports ErrNoAuthenticator when every one is
// skipped.
type fakeAuthenticators struct {
	macs []net.HardwareAddr
	skip []net.HardwareAddr
	peer net.HardwareAddr
}

func (f *fakeAuthenticators) Exchange(context.Context, []byte) ([]byte, error) {
	for _, m := range f.macs {
		if !slices.ContainsFunc(f.skip, func(s net.HardwareAddr) bool { return bytes.Equal(s, m) }) {
			f.peer = m
			return nil, errFakeAuthenticator
		}
	}
	return nil, ErrNoAuthenticator
}

func (f *fakeAuthenticators) Authenticator() net.HardwareAddr { return f.peer }
func (f *fakeAuthenticators) Close() error                    { return nil }

func TestDiscoverOrder(t *testing.T) {
	links := map[string][]net.HardwareAddr{
		"eth0": {authMAC, otherMAC},
		"eth1": nil,
	}
	// A closed port on loopback refuses the HTTPS attempt at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "https://" + l.Addr().String()
	l.Close()
	var got []string
	d := Discovery{
		Interfaces:    []string{"eth0", "eth1"},
		RegistrarURLs: []string{url},
		Trace:         func(a Attempt) { got = append(got, a.String()) },
		dial: func(name string, cfg EAPOLConfig) (eapolLink, error) {
			return &fakeAuthenticators{macs: links[name], skip: cfg.Skip}, nil
		},
	}
	p := newTestPKI(t).pledge()
	_, _, err = p.Discover(context.Background(), d)
	if !errors.Is(err, ErrNoRegistrar) {
		t.Fatalf("Discover error = %v, want ErrNoRegistrar", err)
	}
	if !errors.Is(err, errFakeAuthenticator) || !errors.Is(err, ErrNoAuthenticator) {
		t.Errorf("Discover error = %v, want it to wrap each attempt's error", err)
	}
	want := []string{
		"802.1X on eth0 through " + authMAC.String(),
		"802.1X on eth0 through " + otherMAC.String(),
		"802.1X on eth0",
		"802.1X on eth1",
		"HTTPS to " + url,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

func TestDiscoverAuthenticatorLimit(t *testing.T) {
	var macs []net.HardwareAddr
	for i := range 6 {
		macs = append(macs, net.HardwareAddr{2, 0, 0, 0, 1, byte(i)})
	}
	attempts := 0
	d := Discovery{
		Interfaces:        []string{"eth0"},
		MaxAuthenticators: 3,
		Trace:             func(Attempt) { attempts++ },
		dial: func(_ string, cfg EAPOLConfig) (eapolLink, error) {
			return &fakeAuthenticators{macs: macs, skip: cfg.Skip}, nil
		},
	}
	if _, _, err := newTestPKI(t).pledge().Discover(context.Background(), d); err == nil {
		t.Fatal("Discover succeeded")
	}
	if attempts != 3 {
		t.Errorf("attempts = %d, want 3", attempts)
	}
}

func TestEnrollmentRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadEnrollment(dir); !errors.Is(err, ErrNotEnrolled) {
		t.Fatalf("ReadEnrollment of an empty directory = %v, want ErrNotEnrolled", err)
	}
	res := testResult(t)
	now := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	via := Attempt{Interface: "eth0", Authenticator: authMAC}
	if err := WriteEnrollment(dir, res, via, now); err != nil {
		t.Fatal(err)
	}
	got, err := ReadEnrollment(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := &Enrollment{EnrolledAt: now, Via: via.String(),
		Serial: res.LDevID.SerialNumber.Text(16)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("enrollment (-want +got):\n%s", diff)
	}
	if _, _, err := LoadLDevID(dir); err != nil {
		t.Errorf("LoadLDevID: %v", err)
	}
	if err := ResetEnrollment(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadEnrollment(dir); !errors.Is(err, ErrNotEnrolled) {
		t.Errorf("ReadEnrollment after reset = %v, want ErrNotEnrolled", err)
	}
	if err := ResetEnrollment(dir); err != nil {
		t.Errorf("second ResetEnrollment: %v", err)
	}
}

func TestReadEnrollmentInvalid(t *testing.T) {
	for name, content := range map[string][]byte{
		"not JSON":  []byte("enrolled"),
		"too large": bytes.Repeat([]byte(" "), maxEnrolledFile+1),
		"bad time":  []byte(`{"enrolled-at": "yesterday"}`),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, EnrolledFile), content, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadEnrollment(dir); err == nil || errors.Is(err, ErrNotEnrolled) {
				t.Errorf("ReadEnrollment = %v, want an invalid-file error", err)
			}
		})
	}
}

func FuzzParseEnrollment(f *testing.F) {
	f.Add([]byte(`{"enrolled-at":"2026-12-04T15:00:00Z","via":"802.1X on eth0",` +
		`"ldevid-serial":"1f"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := parseEnrollment(b, "fuzz")
		if err != nil {
			return
		}
		if e == nil {
			t.Fatal("no enrollment and no error")
		}
	})
}

// testResult returns a Result with an LDevID from a test domain CA, enough
// for WriteFiles and LoadLDevID.
func testResult(t *testing.T) *Result {
	t.Helper()
	pki := newTestPKI(t)
	ldevid := pki.domainCA.issue(t, &x509.Certificate{
		Subject:  pkix.Name{CommonName: "widget", SerialNumber: testDeviceSerial},
		KeyUsage: x509.KeyUsageDigitalSignature,
	})
	return &Result{LDevID: ldevid.cert, Key: ldevid.key,
		DomainCAs: []*x509.Certificate{pki.domainCA.cert}}
}
