package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A client block whose secret file is missing is reported once, at the
// client block, with the client and the field.
func TestConfigCheckClientErrorAtBlock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "registrar.hcl")
	src := "data_dir = \"d\"\nradius {\n  client \"sw\" {\n    address = \"127.0.0.1\"\n" +
		"    secret_file = \"nosuchfile\"\n  }\n}\ndefault {\n  outcome = \"reject\"\n}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBrski("config", "check", path)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	want := path + `:3,3: radius: invalid client "sw"; secret_file: open `
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if strings.Count(stderr, path+":") != 1 {
		t.Errorf("stderr names the file more than once:\n%s", stderr)
	}
}
