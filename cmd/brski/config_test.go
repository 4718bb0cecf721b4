package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConfigLoadersRejectDeepNesting(t *testing.T) {
	dir := t.TempDir()
	deep := writeDevicesTestFile(t, dir, "deep.hcl",
		"x = "+strings.Repeat("[", 60000)+strings.Repeat("]", 60000)+"\n")
	deepJSON := writeDevicesTestFile(t, dir, "deep.json",
		`{"x": `+strings.Repeat("[", 60000)+strings.Repeat("]", 60000)+"}\n")
	policyFiles := writeDevicesTestFile(t, dir, "registrar.hcl",
		"policy_files = [\"deep.hcl\"]\n")
	tests := []struct {
		name string
		args []string
		file string
	}{
		{"config check", []string{"config", "check", deep}, deep},
		{"config check JSON", []string{"config", "check", deepJSON}, deepJSON},
		{"registrar", []string{"registrar", "--config", deep}, deep},
		{"registrar policy file", []string{"registrar", "--config", policyFiles}, deep},
		{"masa", []string{"masa", "--config", deep}, deep},
		{"authenticator", []string{"authenticator", "--config", deep}, deep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runBrski(tt.args...)
			if code != 1 || !strings.Contains(stderr, tt.file+":1,") ||
				!strings.Contains(stderr, "nesting is deeper than") {
				t.Errorf("exit %d, stderr %q; want 1 and the nesting error at %s:1", code,
					stderr, tt.file)
			}
		})
	}
}

func TestConfigCheckDetectsRegistrar(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name       string
		src        string
		wantCode   int
		wantStderr string
	}{
		{"listen with policy", "listen = \"127.0.0.1:18444\"\ndata_dir = \"d\"\n" +
			"default {\n  outcome = \"reject\"\n}\n", 0, ""},
		{"listen only", "listen = \"127.0.0.1:18444\"\ndata_dir = \"d\"\n", 1,
			"no default block"},
		{"bad port", "listen = \"127.0.0.1:99999\"\ndefault {\n  outcome = \"reject\"\n}\n",
			1, `:1,1: listen "127.0.0.1:99999": port "99999" is not a number 1-65535`},
		{"masa missing factory", "listen = \"127.0.0.1:9443\"\nfactory_dir = \"none\"\n" +
			"data_dir = \"d\"\n", 1, `:2,1: factory_dir "`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeDevicesTestFile(t, dir, "c.hcl", tt.src)
			code, stdout, stderr := runBrski("config", "check", path)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stdout %q, stderr %q", code, tt.wantCode, stdout,
					stderr)
			}
			if tt.wantStderr != "" && !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.wantStderr)
			}
		})
	}
}

func TestRegistrarConfigErrorsOnePrefix(t *testing.T) {
	dir := t.TempDir()
	path := writeDevicesTestFile(t, dir, "r.hcl", "voucher_wait = \"-5s\"\n"+
		"retry_after = \"0s\"\ndefault {\n  outcome = \"reject\"\n}\n")
	code, _, stderr := runBrski("registrar", "--config", path)
	want := "brski registrar: " + path + ":1,1: voucher_wait: the duration must be positive\n" +
		path + ":2,1: retry_after: the duration must be positive\n"
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if diff := cmp.Diff(want, stderr); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
}
