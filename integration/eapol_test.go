package integration

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/brski-eap/brski/pledge"
)

// TLS 1.2 and TLS 1.3 profiles of eapol_test (wpa_supplicant phase1).
const (
	phase1TLS12 = "tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_3=1"
	phase1TLS13 = "tls_disable_tlsv1_3=0"
)

// eapolResult is what eapol_test printed about one authentication.
type eapolResult struct {
	// Success is true when the last line is SUCCESS.
	Success bool
	// MPPEKeysOK is true for "MPPE keys OK: 1  mismatch: 0": the MS-MPPE
	// keys of the Access-Accept match the MSK that the supplicant derived.
	MPPEKeysOK bool
	// TLSVersion is the negotiated version, such as "TLSv1.3".
	TLSVersion string
	// RoundTrips counts the Access-Requests sent, retransmissions included.
	RoundTrips int
	// Accept maps attribute names of the Access-Accept to their values as
	// eapol_test prints them.
	Accept map[string]string
}

var (
	attrLine  = regexp.MustCompile(`^\s+Attribute (\d+) \(([^)]+)\) length=\d+$`)
	valueLine = regexp.MustCompile(`^\s+Value: (.*)$`)
)

// parseEapolOutput reads the debug output of eapol_test (wpa_supplicant
// 2.10). Received attributes come as an "Attribute N (Name) length=L" line
// followed by a "Value: V" line.
func parseEapolOutput(out string) eapolResult {
	var r eapolResult
	inAccept := false
	attr := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	last := ""
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) != "" {
			last = strings.TrimSpace(line)
		}
		switch {
		case strings.HasPrefix(line, "RADIUS message: code="):
			inAccept = strings.Contains(line, "(Access-Accept)")
			if strings.Contains(line, "(Access-Request)") {
				r.RoundTrips++
			}
			if inAccept {
				r.Accept = map[string]string{}
			}
			attr = ""
		case strings.HasPrefix(line, "MPPE keys OK: "):
			r.MPPEKeysOK = strings.TrimSpace(line) == "MPPE keys OK: 1  mismatch: 0"
		case strings.HasPrefix(line, "SSL: Using TLS version "):
			r.TLSVersion = strings.TrimPrefix(line, "SSL: Using TLS version ")
		case inAccept && attrLine.MatchString(line):
			attr = attrLine.FindStringSubmatch(line)[2]
		case inAccept && attr != "" && valueLine.MatchString(line):
			r.Accept[attr] = valueLine.FindStringSubmatch(line)[1]
			attr = ""
		case !strings.HasPrefix(line, " "):
			inAccept = inAccept && strings.TrimSpace(line) == ""
		}
	}
	r.Success = last == "SUCCESS"
	return r
}

// vlanTriplet returns the RFC 3580 VLAN attributes of an Access-Accept
// that eapol_test printed, decoded: Tunnel-Type and Tunnel-Medium-Type as
// their integer value without the tag octet, Tunnel-Private-Group-Id as
// text without a leading tag (RFC 2868, Section 3.6).
func vlanTriplet(accept map[string]string) (tunnelType, medium, group string) {
	num := func(v string) string {
		b, err := hex.DecodeString(v)
		if err != nil || len(b) != 4 {
			return "invalid " + v
		}
		return fmt.Sprint(int(b[1])<<16 | int(b[2])<<8 | int(b[3]))
	}
	g, err := hex.DecodeString(accept["Tunnel-Private-Group-Id"])
	if err != nil {
		group = "invalid " + accept["Tunnel-Private-Group-Id"]
	} else {
		if len(g) > 0 && g[0] < 0x20 {
			g = g[1:]
		}
		group = string(g)
	}
	return num(accept["Tunnel-Type"]), num(accept["Tunnel-Medium-Type"]), group
}

// eapolConfig writes an eapol_test network block for EAP-TLS with the
// LDevID in dir, as "brski pledge" wrote it.
func eapolConfig(t *testing.T, ldevid, identity, phase1 string) string {
	t.Helper()
	return eapolConfigFiles(t, identity, filepath.Join(ldevid, pledge.DomainCAFile),
		filepath.Join(ldevid, pledge.LDevIDFile), filepath.Join(ldevid, pledge.LDevIDKeyFile),
		phase1)
}

// eapolConfigFiles writes an eapol_test network block for EAP-TLS with the
// client certificate and key, trusting the server certificate's CA ca.
func eapolConfigFiles(t *testing.T, identity, ca, cert, key, phase1 string) string {
	t.Helper()
	return eapolConfigExtra(t, identity, ca, cert, key, phase1, "")
}

// eapolConfigExtra is eapolConfigFiles with extra lines, such as
// openssl_ciphers, at the end of the network block.
func eapolConfigExtra(t *testing.T, identity, ca, cert, key, phase1, extra string) string {
	t.Helper()
	conf := fmt.Sprintf(`network={
	key_mgmt=IEEE8021X
	eap=TLS
	identity=%q
	ca_cert=%q
	client_cert=%q
	private_key=%q
	eapol_flags=0
	phase1=%q
%s}
`, identity, ca, cert, key, phase1, extra)
	path := filepath.Join(t.TempDir(), "eapol.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runEapolTest authenticates once against the RADIUS server at port on
// 127.0.0.1 and returns the parsed and raw output.
func runEapolTest(t *testing.T, conf string, port int, secret, mac string) (eapolResult,
	string) {
	t.Helper()
	return runEapolTestEnv(t, conf, port, secret, mac, nil)
}

// runEapolTestEnv is runEapolTest with env added to the environment of
// eapol_test, such as an OPENSSL_CONF for its OpenSSL library.
func runEapolTestEnv(t *testing.T, conf string, port int, secret, mac string,
	env []string) (eapolResult, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "eapol_test", "-c", conf, "-a", "127.0.0.1",
		"-p", fmt.Sprint(port), "-s", secret, "-t", "20", "-M", mac)
	cmd.Env = append(os.Environ(), env...)
	b, err := cmd.CombinedOutput()
	out := string(b)
	r := parseEapolOutput(out)
	if err != nil && r.Success {
		t.Errorf("eapol_test printed SUCCESS but exited with %v", err)
	}
	return r, out
}

// checkEAPTLSAccept checks an eapol_test result for SUCCESS, matching MPPE
// keys, the TLS version and the lab policy's VLAN.
func checkEAPTLSAccept(t *testing.T, r eapolResult, out, tlsVersion string) {
	t.Helper()
	if !r.Success {
		t.Fatalf("eapol_test did not reach SUCCESS:\n%s", tail(out, 60))
	}
	if !r.MPPEKeysOK {
		t.Errorf("eapol_test did not accept the MPPE keys")
	}
	if r.TLSVersion != tlsVersion {
		t.Errorf("TLS version %q, want %q", r.TLSVersion, tlsVersion)
	}
	typ, medium, group := vlanTriplet(r.Accept)
	want := []string{"13", "6", labVLAN} // VLAN, IEEE-802, the lab rule's VLAN
	if diff := cmp.Diff(want, []string{typ, medium, group}); diff != "" {
		t.Errorf("VLAN attributes of the Access-Accept (-want +got):\n%s\nall: %v", diff,
			r.Accept)
	}
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	return strings.Join(l[max(0, len(l)-lines):], "\n")
}

func TestEapolTestLDevID(t *testing.T) {
	requireTool(t, "eapol_test")
	lab := newBrskiLab(t, 1)
	// The LDevID comes from an EAP-EST bootstrap through the same server.
	ldevid := lab.bootstrapRADIUS(t, "LAB-0001", lab.radiusAddr)
	port := udpPort(t, lab.radiusAddr)
	tests := []struct {
		name    string
		phase1  string
		version string
	}{
		{"tls 1.2", phase1TLS12, "TLSv1.2"},
		{"tls 1.3", phase1TLS13, "TLSv1.3"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := eapolConfig(t, ldevid, "LAB-0001", tt.phase1)
			r, out := runEapolTest(t, conf, port, lab.secret,
				fmt.Sprintf("02:00:00:00:01:%02x", i))
			checkEAPTLSAccept(t, r, out, tt.version)
			t.Logf("%s: %d RADIUS round trips", tt.name, r.RoundTrips)
		})
	}
	t.Run("idevid rejected", func(t *testing.T) {
		// The IDevID chains to the manufacturer CA, not to the domain CA,
		// so EAP-TLS must end in Access-Reject.
		cert, key := lab.device("LAB-0001")
		conf := eapolConfigFiles(t, "LAB-0001", filepath.Join(ldevid, pledge.DomainCAFile),
			cert, key, phase1TLS13)
		r, out := runEapolTest(t, conf, port, lab.secret, "02:00:00:00:01:99")
		if r.Success || r.Accept != nil {
			t.Errorf("EAP-TLS with an IDevID was accepted:\n%s", tail(out, 40))
		}
		if !strings.Contains(out, "(Access-Reject)") {
			t.Errorf("no Access-Reject for EAP-TLS with an IDevID:\n%s", tail(out, 40))
		}
	})
}

func TestParseEapolOutput(t *testing.T) {
	out := `RADIUS message: code=1 (Access-Request) identifier=0 length=136
   Attribute 1 (User-Name) length=13
      Value: 'device-0001'
SSL: Using TLS version TLSv1.3
RADIUS message: code=11 (Access-Challenge) identifier=0 length=64
   Attribute 79 (EAP-Message) length=8
      Value: 019000060d20
RADIUS message: code=1 (Access-Request) identifier=1 length=136
RADIUS message: code=2 (Access-Accept) identifier=4 length=190
   Attribute 64 (Tunnel-Type) length=6
      Value: 0000000d
   Attribute 65 (Tunnel-Medium-Type) length=6
      Value: 00000006
   Attribute 81 (Tunnel-Private-Group-Id) length=5
      Value: 313030
STA 02:00:00:00:00:01: Received RADIUS packet matched with a pending request
   Attribute 99 (Other) length=3
      Value: 00
MPPE keys OK: 1  mismatch: 0
SUCCESS
`
	want := eapolResult{Success: true, MPPEKeysOK: true, TLSVersion: "TLSv1.3", RoundTrips: 2,
		Accept: map[string]string{"Tunnel-Type": "0000000d", "Tunnel-Medium-Type": "00000006",
			"Tunnel-Private-Group-Id": "313030"}}
	got := parseEapolOutput(out)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseEapolOutput (-want +got):\n%s", diff)
	}
	typ, medium, group := vlanTriplet(got.Accept)
	if diff := cmp.Diff([]string{"13", "6", "100"}, []string{typ, medium, group}); diff != "" {
		t.Errorf("vlanTriplet (-want +got):\n%s", diff)
	}
	if r := parseEapolOutput("MPPE keys OK: 0  mismatch: 1\nFAILURE\n"); r.Success ||
		r.MPPEKeysOK {
		t.Errorf("failure output parsed as %+v", r)
	}
}

func FuzzParseEapolOutput(f *testing.F) {
	f.Add("RADIUS message: code=2 (Access-Accept)\n   Attribute 81 (X) length=3\n" +
		"      Value: 31\nSUCCESS\n")
	f.Add("MPPE keys OK: 1  mismatch: 0\n")
	f.Fuzz(func(t *testing.T, out string) {
		r := parseEapolOutput(out)
		vlanTriplet(r.Accept)
	})
}
