package pledge

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
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

// srvServer answers every DNS query on a loopback UDP socket with one SRV
// record for target:port, and counts the queries.
func srvServer(t *testing.T, target string, port uint16) (string, *atomic.Int64) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	var queries atomic.Int64
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if reply, ok := srvReply(buf[:n], target, port); ok {
				queries.Add(1)
				pc.WriteTo(reply, from)
			}
		}
	}()
	return pc.LocalAddr().String(), &queries
}

// srvReply builds the response to a one-question query: the question and
// an SRV answer that points back to it (RFC 1035, Section 4.1.4).
func srvReply(q []byte, target string, port uint16) ([]byte, bool) {
	if len(q) < 12 {
		return nil, false
	}
	end := 12
	for end < len(q) && q[end] != 0 {
		end += int(q[end]) + 1
	}
	end += 5 // the root label, QTYPE and QCLASS
	if end > len(q) {
		return nil, false
	}
	r := append([]byte(nil), q[:2]...)                // ID
	r = append(r, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0) // response, 1 question, 1 answer
	r = append(r, q[12:end]...)
	var rdata []byte
	rdata = binary.BigEndian.AppendUint16(rdata, 10) // priority
	rdata = binary.BigEndian.AppendUint16(rdata, 5)  // weight
	rdata = binary.BigEndian.AppendUint16(rdata, port)
	for _, label := range strings.Split(target, ".") {
		rdata = append(append(rdata, byte(len(label))), label...)
	}
	rdata = append(rdata, 0)
	r = append(r, 0xc0, 12, 0, 33, 0, 1, 0, 0, 0, 60) // name pointer, SRV, IN, TTL
	r = binary.BigEndian.AppendUint16(r, uint16(len(rdata)))
	return append(r, rdata...), true
}

func TestDiscoverDNSSD(t *testing.T) {
	// A closed port on loopback refuses the HTTPS attempt at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	dnsAddr, queries := srvServer(t, "localhost", port)
	resolver := &net.Resolver{PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", dnsAddr)
		}}
	var got []string
	d := Discovery{
		DNSDomains:    []string{"lab.example"},
		Resolver:      resolver,
		RegistrarURLs: []string{"https://localhost:1"},
		Trace:         func(a Attempt) { got = append(got, a.String()) },
	}
	if _, _, err := newTestPKI(t).pledge().Discover(context.Background(), d); err == nil {
		t.Fatal("Discover succeeded")
	}
	want := []string{
		fmt.Sprintf("HTTPS to https://localhost:%d", port),
		"HTTPS to https://localhost:1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	if queries.Load() == 0 {
		t.Error("the resolver sent no query")
	}
}

func TestDiscoverDNSSDLookupFails(t *testing.T) {
	resolver := &net.Resolver{PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("no DNS server in this test")
		}}
	var got []string
	d := Discovery{DNSDomains: []string{"lab.example"}, Resolver: resolver,
		Trace: func(a Attempt) { got = append(got, a.String()) }}
	if _, _, err := newTestPKI(t).pledge().Discover(context.Background(), d); err == nil {
		t.Fatal("Discover succeeded")
	}
	if diff := cmp.Diff([]string{"DNS-SD in lab.example"}, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}
