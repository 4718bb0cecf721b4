package integration

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// benchRoundTrips matches the round-trip line of "brski bench".
var benchRoundTrips = regexp.MustCompile(
	`round trips per authentication: mean ([0-9.]+), min (\d+), max (\d+)`)

// runBench runs "brski bench" and returns its output; it fails the test
// when any authentication fails.
func runBench(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runTool(t, 5*time.Minute, brskiBin, append([]string{"bench"}, args...)...)
	if err != nil {
		t.Fatalf("brski bench %v: %v\n%s", args, err, out)
	}
	if benchRoundTrips.FindString(out) == "" {
		t.Fatalf("brski bench printed no round trips:\n%s", out)
	}
	return out
}

func benchMaxRoundTrips(t *testing.T, out string) int {
	t.Helper()
	m := benchRoundTrips.FindStringSubmatch(out)
	n, err := strconv.Atoi(m[3])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBenchRegistrar(t *testing.T) {
	lab := newBrskiLab(t, 3)
	// The bench bootstraps the factory's devices in name order from
	// LAB-0001. The LDevID comes from LAB-0003, which the bench does not
	// reach, because the MASA delays a second voucher within rate_interval.
	ldevid := lab.bootstrapHTTPS(t, "LAB-0003")
	secretFile := filepath.Join(lab.dir, labSecretFile)
	pid := fmt.Sprint(lab.registrar.cmd.Process.Pid)
	t.Run("eap-est", func(t *testing.T) {
		out := runBench(t, "--server", lab.radiusAddr, "--secret-file", secretFile,
			"--method", "eap-est", "--factory", filepath.Join(lab.dir, "factory"),
			"--count", "2", "--concurrency", "2", "--server-pid", pid)
		t.Logf("eap-est:\n%s", out)
	})
	t.Run("eap-tls", func(t *testing.T) {
		out := runBench(t, "--server", lab.radiusAddr, "--secret-file", secretFile,
			"--method", "eap-tls", "--ldevid", ldevid, "--count", "20", "--concurrency", "4",
			"--server-pid", pid)
		// Identity, ClientHello, the server's flight in at most two
		// fragments, the client's flight and the final ACK.
		if n := benchMaxRoundTrips(t, out); n > 6 {
			t.Errorf("EAP-TLS took up to %d round trips at Framed-MTU 1400, want at most 6",
				n)
		}
		t.Logf("eap-tls:\n%s", out)
	})
}
