package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cancelOnWrite is a stdout that cancels a context with a SIGINT cause
// when the output first contains trigger.
type cancelOnWrite struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	trigger string
	cancel  context.CancelCauseFunc
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.trigger) {
		w.cancel(&interruptError{signal: syscall.SIGINT})
	}
	return n, err
}

func (w *cancelOnWrite) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestDemoInterrupted interrupts the demo as the second of three devices
// starts, and expects the table of the first device and exit code 130.
func TestDemoInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	stdout := &cancelOnWrite{trigger: "[2/3]", cancel: cancel}
	var stderr bytes.Buffer
	err := runDemoContext(ctx, []string{"--devices", "3"}, stdout, &stderr)
	var ie *interruptError
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v, want an interruptError\nstdout:\n%s", err, stdout.String())
	}
	if !strings.Contains(err.Error(), "after 1 of 3 devices") {
		t.Errorf("error %q, want it to count 1 of 3 devices", err)
	}
	var msg bytes.Buffer
	if code := exitCode("demo", err, &msg); code != 130 {
		t.Errorf("exit code %d, want 130", code)
	}
	var rows []string
	for line := range strings.Lines(stdout.String()) {
		if strings.HasPrefix(line, "LAB-") {
			rows = append(rows, strings.Join(strings.Fields(line)[:3], " "))
		}
	}
	if diff := cmp.Diff([]string{"LAB-0001 EAP-EST accept"}, rows); diff != "" {
		t.Errorf("table rows (-want +got):\n%s\nstdout:\n%s", diff, stdout.String())
	}
}

func TestDemoKeepNotEmptyMessage(t *testing.T) {
	keep := t.TempDir()
	if err := os.WriteFile(filepath.Join(keep, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBrski("demo", "--keep", keep)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := "brski demo: --keep " + keep + " is not empty; choose a new directory\n"
	if stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
}
