package registrar

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brski-eap/brski/voucher"
)

// helperEnv names the configuration file of the child process that
// TestHelperRegistrarProcess runs.
const helperEnv = "BRSKI_REGISTRAR_HELPER_CONFIG"

// killConfig is the registrar configuration of the child process. The rule
// skips the MASA, so the child needs no MASA to reach a decision.
const killConfig = `
data_dir = "data"
manufacturer "acme" {
  ca         = "factory.pem"
  masa_trust = "factory.pem"
}
rule "lab" {
  serial  = "KILL-*"
  voucher = "skip"
  outcome = "accept"
  reason  = "lab device"
}
default {
  outcome = "reject"
}
`

// TestHelperRegistrarProcess is the child of TestDecisionSurvivesKill. It
// serves the registrar of the configuration in helperEnv, prints
// "listening ADDR", and after the first decision prints "decided ID" and
// blocks before the reply is sent.
func TestHelperRegistrarProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestDecisionSurvivesKill")
	}
	if err := runHelperRegistrar(path); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
}

func runHelperRegistrar(path string) error {
	cfg, err := LoadConfig(path)
	if err != nil {
		return err
	}
	st, err := OpenStore(context.Background(), cfg.DataDir)
	if err != nil {
		return err
	}
	opts, err := cfg.Options(st, time.Now())
	if err != nil {
		return err
	}
	opts.OnDecision = func(id int64, _ DecisionRecord) {
		fmt.Printf("decided %d\n", id)
		select {} // hold the reply until the parent kills this process
	}
	r, err := New(opts)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("listening %s\n", l.Addr())
	srv := &http.Server{Handler: r, ConnContext: r.ConnContext}
	return srv.Serve(tls.NewListener(l, r.TLSConfig()))
}

func TestDecisionSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	factory := newTestCA(t, "acme factory")
	pemCA := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: factory.cert.Raw})
	if err := os.WriteFile(filepath.Join(dir, "factory.pem"), pemCA, 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "registrar.hcl")
	if err := os.WriteFile(cfgPath, []byte(killConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRegistrarProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+cfgPath)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stdout)
	addr := strings.TrimPrefix(expectLine(t, lines, "listening "), "listening ")

	key := newKey(t)
	idevid := factory.issue(t, key, "KILL-1", x509.ExtKeyUsageClientAuth)
	errc := make(chan error, 1)
	go func() {
		if err := postPledgeRequest(addr, idevid, key); err != nil {
			errc <- err
			cmd.Process.Kill() // ends the wait for "decided" below
		}
	}()
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "decided ") {
		select {
		case err := <-errc:
			t.Fatalf("pledge request failed: %v", err)
		default:
			t.Fatalf("child printed %q, want \"decided ID\"; scan error %v", lines.Text(),
				lines.Err())
		}
	}
	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatalf("kill: %v", err)
	}
	cmd.Wait()

	st, err := OpenStore(context.Background(), filepath.Join(dir, "data"))
	if err != nil {
		t.Fatalf("reopen store: %v", err)
	}
	defer st.Close()
	got, err := st.DB.Enrollments(context.Background(), "KILL-1")
	if err != nil {
		t.Fatalf("Enrollments: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("store has %d decisions for KILL-1 after the kill, want 1", len(got))
	}
	if got[0].Outcome != "accept" || got[0].Rule != "lab" {
		t.Errorf("decision = %+v, want accept by rule lab", got[0])
	}
}

// expectLine returns the next line of the child's output, which must start
// with prefix.
func expectLine(t *testing.T, lines *bufio.Scanner, prefix string) string {
	t.Helper()
	if !lines.Scan() {
		t.Fatalf("child ended before printing %q: %v", prefix, lines.Err())
	}
	line := lines.Text()
	if !strings.HasPrefix(line, prefix) {
		t.Fatalf("child printed %q, want a line starting with %q", line, prefix)
	}
	return line
}

// postPledgeRequest sends a pledge voucher request signed with the IDevID.
// The child never replies to it, so only a failure to send it is an error.
func postPledgeRequest(addr string, idevid *x509.Certificate, key crypto.Signer) error {
	cert := tls.Certificate{Certificate: [][]byte{idevid.Raw}, PrivateKey: key}
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true,
		Certificates: []tls.Certificate{cert}})
	if err != nil {
		return err
	}
	defer conn.Close()
	nonce := make([]byte, 16)
	rand.Read(nonce)
	vr := &voucher.Voucher{CreatedOn: time.Now(), Assertion: voucher.AssertionProximity,
		SerialNumber: "KILL-1", Nonce: nonce,
		ProximityRegistrarCert: conn.ConnectionState().PeerCertificates[0].Raw}
	content, err := vr.MarshalRequest()
	if err != nil {
		return err
	}
	signed, err := voucher.Sign(content, idevid, key, nil)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, "https://registrar"+PathRequestVoucher,
		bytes.NewReader(signed))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", voucher.MediaType)
	if err := req.Write(conn); err != nil {
		return err
	}
	// The read ends with the 202 that the registrar sends while the
	// decision hook blocks, or with the kill.
	http.ReadResponse(bufio.NewReader(conn), req)
	return nil
}

// statusChildEnv makes the test binary act as the child of
// TestStatusReportSurvivesKill. Its value is the data directory.
const statusChildEnv = "BRSKI_REGISTRAR_STATUS_CHILD"

// TestStatusReportSurvivesKill checks that a status report in the
// telemetry database, which commits without an fsync, is still there after
// the process that recorded it is killed with SIGKILL.
func TestStatusReportSurvivesKill(t *testing.T) {
	if dir := os.Getenv(statusChildEnv); dir != "" {
		runStatusChild(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStatusReportSurvivesKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), statusChildEnv+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	defer cmd.Process.Kill()
	expectLine(t, bufio.NewScanner(stdout), "recorded status")
	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatalf("kill: %v", err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("child exited cleanly; want it killed")
	}

	st, err := OpenStore(context.Background(), dir)
	if err != nil {
		t.Fatalf("reopen store: %v", err)
	}
	defer st.Close()
	var n int
	err = st.telemetry.QueryRow(`SELECT count(*) FROM status_reports
		WHERE device_serial = 'KILL-2' AND kind = 'enroll'`).Scan(&n)
	if err != nil {
		t.Fatalf("count status reports: %v", err)
	}
	if n != 1 {
		t.Errorf("telemetry has %d enroll reports of KILL-2 after the kill, want 1", n)
	}
}

// runStatusChild records one status report, prints "recorded status" and
// blocks on stdin, which the parent never closes before it kills the
// process.
func runStatusChild(dir string) {
	st, err := OpenStore(context.Background(), dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	err = st.RecordStatus(context.Background(), StatusReport{Time: time.Now(),
		Kind: "enroll", DeviceSerial: "KILL-2", Fingerprint: "ab", Authenticated: true,
		Version: 1, Status: true, Raw: []byte(`{"version":1,"status":true}`)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	fmt.Println("recorded status")
	io.Copy(io.Discard, os.Stdin)
	os.Exit(4)
}
