package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A serial number given as an argument, as in "brski devices remove
// LAB-0002", gets a usage error that names the --serial flag.
func TestDevicesSerialArgumentHint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registrar.db")
	for _, cmd := range []string{"add", "remove"} {
		t.Run(cmd, func(t *testing.T) {
			code, _, stderr := runBrski("devices", cmd, "--store", path, "LAB-0002")
			if code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			if want := "name a device with --serial LAB-0002"; !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		})
	}
}
