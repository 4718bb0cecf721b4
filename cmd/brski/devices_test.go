package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

func writeDevicesTestFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDevicesCommands(t *testing.T) {
	data := t.TempDir()
	steps := []struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string // a part of stderr, or "" for none
	}{
		{[]string{"devices", "list", "--data", data}, 1, "",
			"no registrar store at " + filepath.Join(data, "registrar.db")},
		{[]string{"devices", "add", "--data", data, "--serial", "A-1", "--manufacturer", "acme",
			"--tags", "core, lab"}, 0, "added A-1\n", ""},
		{[]string{"devices", "add", "--serial", "B-2", "--data", data}, 0, "added B-2\n", ""},
		{[]string{"devices", "add", "--data", data, "--serial", "A-1"}, 1, "",
			`brski devices add: store: expected device "A-1": already exists`},
		{[]string{"devices", "add", "--data", data}, 2, "", "--serial is required"},
		{[]string{"devices", "add", "--data", data, "--serial", "C 3", "--tags", "a b"}, 1, "",
			`tag "a b" is invalid`},
		{[]string{"devices", "list", "--data", data, "--csv"}, 0,
			"serial,manufacturer,tags\nA-1,acme,core;lab\nB-2,,\n", ""},
		{[]string{"devices", "remove", "--data", data, "--serial", "A-1"}, 0,
			"removed A-1\n", ""},
		{[]string{"devices", "remove", "--data", data, "--serial", "A-1"}, 1, "",
			`store: expected device "A-1": not found`},
		{[]string{"devices", "list", "--data", data, "--csv"}, 0,
			"serial,manufacturer,tags\nB-2,,\n", ""},
	}
	for _, st := range steps {
		code, stdout, stderr := runBrski(st.args...)
		name := strings.Join(st.args, " ")
		if code != st.wantCode {
			t.Errorf("%s: exit code %d; want %d (stderr %q)", name, code, st.wantCode, stderr)
		}
		if stdout != st.wantStdout {
			t.Errorf("%s: stdout %q; want %q", name, stdout, st.wantStdout)
		}
		if st.wantStderr == "" && stderr != "" {
			t.Errorf("%s: stderr %q; want none", name, stderr)
		}
		if !strings.Contains(stderr, st.wantStderr) {
			t.Errorf("%s: stderr %q; want it to contain %q", name, stderr, st.wantStderr)
		}
	}
}

func TestDevicesListTable(t *testing.T) {
	data := t.TempDir()
	if code, _, stderr := runBrski("devices", "add", "--data", data, "--serial", "A-1",
		"--tags", "core"); code != 0 {
		t.Fatalf("devices add: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runBrski("devices", "list", "--data", data)
	if code != 0 {
		t.Fatalf("devices list: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("devices list printed %d lines; want a header and one device:\n%s",
			len(lines), stdout)
	}
	if got := strings.Fields(lines[0]); !cmp.Equal(got,
		[]string{"SERIAL", "MANUFACTURER", "TAGS", "ADDED"}) {
		t.Errorf("header = %q", lines[0])
	}
	got := strings.Fields(lines[1])
	if len(got) != 3 || got[0] != "A-1" || got[1] != "core" {
		t.Errorf("device line = %q; want A-1, core and the time added", lines[1])
	}
}

func TestDevicesImport(t *testing.T) {
	dir := t.TempDir()
	storePath := filepath.Join(dir, "other", "registrar.db")
	good := writeDevicesTestFile(t, dir, "good.csv", "serial,manufacturer,tags\nA-1,acme,core;lab\nB-2\n")
	bad := writeDevicesTestFile(t, dir, "bad.csv", "C-3\n,acme\n")

	code, stdout, stderr := runBrski("devices", "import", good, "--store", storePath)
	if code != 0 || stdout != "imported 2 devices from "+good+"\n" {
		t.Errorf("import good.csv: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = runBrski("devices", "import", "--store", storePath, bad)
	want := "brski devices import: " + bad + ":2: serial is empty"
	if code != 1 || !strings.HasPrefix(stderr, want) {
		t.Errorf("import bad.csv: exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}
	_, stdout, _ = runBrski("devices", "list", "--csv", "--store", storePath)
	if want := "serial,manufacturer,tags\nA-1,acme,core;lab\nB-2,,\n"; stdout != want {
		t.Errorf("list after imports = %q; want %q", stdout, want)
	}
	one := writeDevicesTestFile(t, dir, "one.csv", "\uFEFFserial\nE-5\n")
	code, stdout, stderr = runBrski("devices", "import", one, "--store", storePath)
	if code != 0 || stdout != "imported 1 device from "+one+"\n" {
		t.Errorf("import one.csv: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, _ := runBrski("devices", "import", "--store", storePath); code != 2 {
		t.Errorf("import without a file: exit %d; want 2", code)
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeDevicesTestFile(t, dir, "good.hcl", "rule \"r\" {\n  outcome = \"accept\"\n}\n"+
		"default {\n  outcome = \"reject\"\n}\n")
	bad := writeDevicesTestFile(t, dir, "bad.hcl", "rule \"lab\" {\n  outcome = \"accept\"\n"+
		"  vlan = 5000\n}\nrule \"x\" {\n  outcome = \"maybe\"\n}\n")
	syntax := writeDevicesTestFile(t, dir, "syntax.hcl", "rule \"r\" {\n")
	unknown := writeDevicesTestFile(t, dir, "unknown.hcl", "colour = \"blue\"\n")
	jsonPolicy := writeDevicesTestFile(t, dir, "policy.json",
		`{"rule": {"r": {"outcome": "accept"}}, "default": {"outcome": "reject"}}`)

	code, stdout, stderr := runBrski("config", "check", good, jsonPolicy)
	if code != 0 || stdout != good+": ok\n"+jsonPolicy+": ok\n" || stderr != "" {
		t.Errorf("check valid files: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	code, stdout, stderr = runBrski("config", "check", good, bad)
	wantStderr := bad + `:3,3: rule "lab": vlan 5000 is out of range 1-4094` + "\n" +
		bad + `:6,3: rule "x": outcome "maybe" is invalid; use "accept", "quarantine" or ` +
		`"reject"` + "\n" +
		bad + `:1,1: no default block; add default { outcome = "reject" } or another ` +
		`outcome for devices that no rule matches` + "\n" +
		"brski config check: 1 of 2 files are invalid\n"
	if code != 1 || stdout != good+": ok\n" {
		t.Errorf("check with a bad file: exit %d, stdout %q", code, stdout)
	}
	if diff := cmp.Diff(wantStderr, stderr); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}

	code, _, stderr = runBrski("config", "check", syntax)
	if code != 1 || !strings.HasPrefix(stderr, syntax+":1,") {
		t.Errorf("check a syntax error: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runBrski("config", "check", unknown)
	if code != 1 || !strings.Contains(stderr, "cannot tell the kind") {
		t.Errorf("check an unknown kind: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runBrski("config", "check", "--kind", "policy", unknown)
	if code != 1 || !strings.Contains(stderr, "Unsupported argument") {
		t.Errorf("check with --kind policy: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := runBrski("config", "check", "--kind", "nope", good); code != 2 {
		t.Errorf("check with an unknown --kind: exit %d; want 2", code)
	}
	if code, _, _ := runBrski("config", "check"); code != 2 {
		t.Errorf("check without files: exit %d; want 2", code)
	}
}

func TestConfigCheckExamples(t *testing.T) {
	paths, err := filepath.Glob("../../examples/policy*.hcl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no example policies: %v", err)
	}
	code, stdout, stderr := runBrski(append([]string{"config", "check"}, paths...)...)
	if code != 0 {
		t.Errorf("config check of the examples: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestResolveConfigKindEmbeds(t *testing.T) {
	registerConfigKind(configKind{Name: "test-outer", Markers: []string{"test_outer"},
		Embeds: []string{"policy"}})
	t.Cleanup(func() { delete(configKinds, "test-outer") })
	dir := t.TempDir()
	path := writeDevicesTestFile(t, dir, "outer.hcl", "test_outer {}\nrule \"r\" {}\n")
	file, diags := parseHCLForTest(path)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	kind, err := resolveConfigKind(file, false, "")
	if err != nil || kind.Name != "test-outer" {
		t.Errorf("resolveConfigKind = %q, %v; want test-outer", kind.Name, err)
	}
}

func parseHCLForTest(path string) (*hcl.File, hcl.Diagnostics) {
	return hclparse.NewParser().ParseHCLFile(path)
}
