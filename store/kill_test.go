package store

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// killChildEnv makes the test binary act as the child of
// TestEnrollmentSurvivesKill. Its value is the store path.
const killChildEnv = "BRSKI_STORE_KILL_CHILD"

const recordedMarker = "recorded enrollment "

// TestEnrollmentSurvivesKill runs this test binary as a child that records
// an enrollment, prints a marker once RecordEnrollment returned and then
// blocks. The parent kills the child with SIGKILL after the marker and
// expects the row in the reopened store.
func TestEnrollmentSurvivesKill(t *testing.T) {
	if path := os.Getenv(killChildEnv); path != "" {
		runKillChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "registrar.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestEnrollmentSurvivesKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+path)
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
	id, err := readMarker(stdout)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %v", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("child exited cleanly; want it killed")
	}

	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open after kill: %v", err)
	}
	defer s.Close()
	e, err := s.Enrollment(context.Background(), id)
	if err != nil {
		t.Fatalf("Enrollment %d after kill: %v", id, err)
	}
	if e.DeviceSerial != "KILLED-1" || e.Outcome != "accept" {
		t.Errorf("Enrollment after kill = %+v; want device KILLED-1, accept", e)
	}
}

// readMarker reads the child's stdout up to the marker line and returns
// the enrollment ID that it carries.
func readMarker(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), recordedMarker); ok {
			return strconv.ParseInt(rest, 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, io.ErrUnexpectedEOF
}

// runKillChild records one enrollment, prints the marker and blocks on
// stdin, which the parent never closes before it kills the process.
func runKillChild(path string) {
	s, err := Open(context.Background(), path)
	if err != nil {
		os.Stderr.WriteString("child: " + err.Error() + "\n")
		os.Exit(3)
	}
	id, err := s.RecordEnrollment(context.Background(),
		Enrollment{DeviceSerial: "KILLED-1", Outcome: "accept", Rule: "r"})
	if err != nil {
		os.Stderr.WriteString("child: " + err.Error() + "\n")
		os.Exit(3)
	}
	os.Stdout.WriteString(recordedMarker + strconv.FormatInt(id, 10) + "\n")
	io.Copy(io.Discard, os.Stdin)
	os.Exit(4)
}
