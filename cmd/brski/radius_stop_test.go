package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// A RADIUS server that stops during a bootstrap logs how many
// conversations it closed, since those devices get an unknown State
// after a restart and start over.
func TestRADIUSStopLogsClosedConversations(t *testing.T) {
	old := pledgeRADIUSTimeout
	pledgeRADIUSTimeout = time.Millisecond
	t.Cleanup(func() { pledgeRADIUSTimeout = old })
	dir := t.TempDir()
	l, err := createLab(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	masaSrv, masaURL, err := startDemoMASA(dir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer masaSrv.Close()
	logs := &logBuffer{}
	logger := hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info})
	rad, st, err := startDemoRegistrar(t.Context(), dir, masaURL, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stdout := &stopOnWrite{trigger: "voucher requested", stop: func() { rad.stop() }}
	defer stdout.once.Do(func() { rad.stop() })
	dev := filepath.Join(dir, "factory", "devices", l.Serials[0])
	err = runPledge([]string{"--radius", rad.addr.String(), "--secret-file",
		filepath.Join(dir, "radius-secret"), "--idevid", filepath.Join(dev, "idevid.pem"),
		"--key", filepath.Join(dev, "key.pem"), "--masa-trust",
		filepath.Join(dir, "masa-trust.pem"), "--out", filepath.Join(dir, "out")},
		stdout, io.Discard)
	if err == nil {
		t.Fatal("the pledge succeeded although the RADIUS server stopped")
	}
	got := logs.lines("stopped; closed conversations in progress", "conversations=1")
	if len(got) != 1 {
		t.Errorf("log has %d lines about the closed conversation, want 1:\n%s", len(got),
			strings.TrimSpace(logs.String()))
	}
}
