package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/radius"
)

// TestRevokeRejectsNextEAPTLS runs the lab's registrar with its RADIUS
// server in this process, on a loopback port chosen by the kernel, and
// bootstraps a device over EAP-EST. "brski devices revoke" then revokes
// the LDevID through its own handle on the store file that the running
// registrar holds open. The next EAP-TLS authentication must get
// Access-Reject.
func TestRevokeRejectsNextEAPTLS(t *testing.T) {
	dir := t.TempDir()
	logger := hclog.NewNullLogger()
	l, err := createLab(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	serial := l.Serials[0]
	data := filepath.Join(dir, "data")
	masaSrv, masaURL, err := startDemoMASA(dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer masaSrv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rad, st, err := startDemoRegistrar(ctx, dir, masaURL, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	defer rad.stop()
	secret, err := readSecret(filepath.Join(dir, "radius-secret"))
	if err != nil {
		t.Fatal(err)
	}
	client := &radius.Client{Servers: []radius.ServerAddr{{Addr: rad.addr.String(),
		Secret: secret}}}
	defer client.Close()

	ldevid, roots := bootstrapLabDevice(ctx, t, client, dir, serial)
	nas := newPledgeNAS(client, serial)
	if _, err := pledge.AuthenticateTLS(ctx, nas, ldevid, roots, pledge.EAPConfig{}); err != nil {
		t.Fatalf("EAP-TLS before revocation: %v", err)
	}
	if outcome, _, _ := finalOutcome(nas); outcome != "accept" {
		t.Fatalf("EAP-TLS before revocation: %s, want accept", outcome)
	}

	checkListed(t, []string{"devices", "enrollments", "--data", data, "--serial", serial},
		serial, "accept")
	checkListed(t, []string{"devices", "certificates", "--data", data}, serial, "valid")
	code, stdout, stderr := runBrski("devices", "revoke", "--data", data, "--device", serial)
	if code != 0 {
		t.Fatalf("devices revoke: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "revoked LDevID") || !strings.Contains(stdout, serial) {
		t.Errorf("devices revoke printed %q; want the revoked LDevID of %s", stdout, serial)
	}

	nas = newPledgeNAS(client, serial)
	_, err = pledge.AuthenticateTLS(ctx, nas, ldevid, roots, pledge.EAPConfig{})
	if !errors.Is(err, pledge.ErrEAPFailure) {
		t.Errorf("EAP-TLS after revocation: error %v, want EAP-Failure", err)
	}
	if outcome, _, _ := finalOutcome(nas); outcome != "reject" {
		t.Errorf("EAP-TLS after revocation: %s, want reject", outcome)
	}
	checkListed(t, []string{"devices", "certificates", "--data", data, "--all"}, serial,
		"revoked")
}

// bootstrapLabDevice bootstraps the lab device serial over EAP-EST and
// returns its new LDevID and the domain CAs.
func bootstrapLabDevice(ctx context.Context, t *testing.T, client *radius.Client, dir,
	serial string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	device := filepath.Join(dir, "factory", "devices", serial)
	idevid, err := tls.LoadX509KeyPair(filepath.Join(device, "idevid.pem"),
		filepath.Join(device, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	trust, err := masa.ReadCertificates(filepath.Join(dir, "masa-trust.pem"))
	if err != nil {
		t.Fatal(err)
	}
	p := &pledge.Pledge{IDevID: idevid, MASATrust: x509.NewCertPool()}
	for _, c := range trust {
		p.MASATrust.AddCert(c)
	}
	res, _, err := p.BootstrapEAP(ctx, newPledgeNAS(client, serial), pledge.EAPConfig{})
	if err != nil {
		t.Fatalf("EAP-EST bootstrap: %v", err)
	}
	roots := x509.NewCertPool()
	for _, c := range res.DomainCAs {
		roots.AddCert(c)
	}
	ldevid := tls.Certificate{Certificate: [][]byte{res.LDevID.Raw}, PrivateKey: res.Key,
		Leaf: res.LDevID}
	for _, c := range res.Chain {
		ldevid.Certificate = append(ldevid.Certificate, c.Raw)
	}
	return ldevid, roots
}

// checkListed runs brski with args and checks that its table has a row
// with both device and word.
func checkListed(t *testing.T, args []string, device, word string) {
	t.Helper()
	code, stdout, stderr := runBrski(args...)
	if code != 0 {
		t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	for _, line := range strings.Split(stdout, "\n")[1:] {
		fields := strings.Fields(line)
		if slices.Contains(fields, device) && slices.Contains(fields, word) {
			return
		}
	}
	t.Errorf("%s printed no row with %s and %s:\n%s", strings.Join(args, " "), device, word,
		stdout)
}
