package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestInitArgumentOrder checks that flags may come before and after DIR,
// and that a second argument is a usage error that creates nothing.
func TestInitArgumentOrder(t *testing.T) {
	const listen = "127.0.0.1:19443"
	tests := []struct {
		name string
		// args returns the arguments of "brski init" for the lab dir and
		// an extra path that must stay missing.
		args     func(dir, extra string) []string
		wantCode int
	}{
		{"flags after DIR", func(dir, _ string) []string {
			return []string{dir, "--devices", "1", "--masa-listen", listen}
		}, 0},
		{"flags before DIR", func(dir, _ string) []string {
			return []string{"--devices", "1", "--masa-listen", listen, dir}
		}, 0},
		{"flags on both sides", func(dir, _ string) []string {
			return []string{"--devices", "1", dir, "--masa-listen", listen}
		}, 0},
		{"equals signs", func(dir, _ string) []string {
			return []string{dir, "--devices=1", "--masa-listen=" + listen}
		}, 0},
		{"second argument after DIR", func(dir, extra string) []string {
			return []string{dir, extra, "--devices", "1", "--masa-listen", listen}
		}, 2},
		{"second argument after flags", func(dir, extra string) []string {
			return []string{"--devices", "1", "--masa-listen", listen, dir, extra}
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			dir, extra := filepath.Join(tmp, "lab"), filepath.Join(tmp, "extra")
			code, stdout, stderr := runBrski(append([]string{"init"},
				tt.args(dir, extra)...)...)
			if code != tt.wantCode {
				t.Fatalf("init exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if _, err := os.Stat(extra); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("init created the second argument %s: %v", extra, err)
			}
			if tt.wantCode != 0 {
				if !strings.Contains(stderr, extra) {
					t.Errorf("stderr does not name the second argument %s:\n%s", extra,
						stderr)
				}
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("init created %s after a usage error: %v", dir, err)
				}
				return
			}
			firstLine, _, _ := strings.Cut(stdout, "\n")
			if want := "created lab in " + dir + " with 1 device"; firstLine != want {
				t.Errorf("first line = %q, want %q", firstLine, want)
			}
			entries, err := os.ReadDir(filepath.Join(dir, "factory", "devices"))
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Errorf("init minted %d devices, want 1", len(entries))
			}
			want := `listen        = "` + listen + `"`
			if masaHCL := readFile(t, filepath.Join(dir, "masa.hcl")); !strings.Contains(
				masaHCL, want) {
				t.Errorf("masa.hcl lacks %q:\n%s", want, masaHCL)
			}
		})
	}
}

// TestInitDirIsFile checks that a DIR that is a regular file is an error
// that names it and leaves it unchanged.
func TestInitDirIsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lab")
	if err := os.WriteFile(path, []byte("notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := runInit([]string{path, "--devices", "0"}, &stdout, &stderr)
	if err == nil {
		t.Fatal("init succeeded, want an error")
	}
	if !strings.Contains(err.Error(), path+" is not a directory") {
		t.Errorf("error %q does not say that %s is not a directory", err, path)
	}
	if got := readFile(t, path); got != "notes\n" {
		t.Errorf("file content = %q after init, want it unchanged", got)
	}
}

// TestParseListenSpellings checks the canonical form of odd spellings of a
// host: DNS names in lower case without a trailing dot, which the system
// resolver also looks up in /etc/hosts.
func TestParseListenSpellings(t *testing.T) {
	tests := []struct{ value, want string }{
		{"LOCALHOST:19443", "localhost:19443"},
		{"localhost.:19443", "localhost:19443"},
		{"LocalHost.:19443", "localhost:19443"},
		{"Lab.Example.:19443", "lab.example:19443"},
		{"[::FFFF:127.0.0.1]:19443", "127.0.0.1:19443"},
		{"[127.0.0.1]:019443", "127.0.0.1:19443"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := parseListen("masa-listen", tt.value, labMASAListen, checkMASAHost)
			if err != nil {
				t.Fatalf("parseListen: %v", err)
			}
			if got != tt.want {
				t.Errorf("parseListen(%q) = %q, want %q", tt.value, got, tt.want)
			}
		})
	}
}

// TestParseListenHints checks that a common mistake gets an error that
// shows how to write the address.
func TestParseListenHints(t *testing.T) {
	tests := []struct {
		value string
		want  error
	}{
		{"::1:19443", errIPv6Brackets},
		{"fe80::1%lo:19443", errIPv6Brackets},
		{"127.0.0.01:19443", errIPv4Form},
		{"127.1:19443", errIPv4Form},
		{"0x7f.0.0.1:19443", errIPv4Form},
		{"2130706433:19443", errIPv4Form},
		{"h\u00f4st.example:19443", errNonASCIIHost},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			_, err := parseListen("masa-listen", tt.value, labMASAListen, checkMASAHost)
			if !errors.Is(err, tt.want) {
				t.Errorf("parseListen(%q) = %v, want an error wrapping %v", tt.value, err,
					tt.want)
			}
		})
	}
}

// TestInitCommandsPasteIntoShell runs every command that init prints
// through /bin/sh and checks the arguments that the shell passes on. The
// lab directory has a space and brackets in its name, the servers listen
// on ::1, and the shell's directory has files that the bracketed
// addresses would match as glob patterns.
func TestInitCommandsPasteIntoShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no sh: %v", err)
		}
		t.Skipf("no sh: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "my lab [1]")
	code, stdout, stderr := runBrski("init", dir, "--devices", "2",
		"--masa-listen", "[::1]:19443", "--registrar-listen", "[::1]:18443",
		"--radius-listen", "[::1]:11812")
	if code != 0 {
		t.Fatalf("init exit %d, stderr:\n%s", code, stderr)
	}
	shellDir := t.TempDir()
	for _, name := range []string{"1:18443", "1:11812"} {
		if err := os.WriteFile(filepath.Join(shellDir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantValues := map[string]string{"--registrar": "https://[::1]:18443",
		"--radius": "[::1]:11812"}
	commands := printedCommands(stdout)
	if len(commands) != 6 {
		t.Fatalf("init printed %d commands, want 6:\n%s", len(commands), stdout)
	}
	for _, command := range commands {
		cmd := exec.Command(sh, "-c", `printf '%s\n' `+command)
		cmd.Dir = shellDir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sh -c %q: %v", command, err)
		}
		args := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if args[0] != "brski" {
			t.Errorf("%s: first word = %q, want brski", command, args[0])
		}
		for i := 1; i+1 < len(args); i++ {
			flag, value := args[i], args[i+1]
			if want, ok := wantValues[flag]; ok && value != want {
				t.Errorf("%s: %s %q, want %q", command, flag, value, want)
			}
			if strings.HasPrefix(value, "/") && !strings.HasPrefix(value, dir) {
				t.Errorf("%s: %s %q is not in the lab directory %s", command, flag, value,
					dir)
			}
		}
	}
	for _, flag := range []string{"--config", "--idevid", "--key", "--masa-trust",
		"--secret-file", "--data"} {
		if !strings.Contains(stdout, flag+" '"+dir) {
			t.Errorf("output does not quote the %s path:\n%s", flag, stdout)
		}
	}
}

// printedCommands returns each "brski" command in init's output as one
// line of shell text, with the continuation lines joined.
func printedCommands(stdout string) []string {
	var commands []string
	var current []string
	for _, line := range strings.Split(stdout, "\n") {
		line = strings.TrimSpace(line)
		if current == nil && !strings.HasPrefix(line, "brski ") {
			continue
		}
		current = append(current, strings.TrimSuffix(line, `\`))
		if !strings.HasSuffix(line, `\`) {
			commands = append(commands, strings.Join(current, " "))
			current = nil
		}
	}
	return commands
}

// TestShellQuote checks the quoting of the printed commands' words.
func TestShellQuote(t *testing.T) {
	tests := []struct{ word, want string }{
		{"/tmp/lab/masa.hcl", "/tmp/lab/masa.hcl"},
		{"https://127.0.0.1:8443", "https://127.0.0.1:8443"},
		{"https://[::1]:8443", "'https://[::1]:8443'"},
		{"/tmp/my lab", "'/tmp/my lab'"},
		{"/tmp/it's", `'/tmp/it'\''s'`},
		{"", "''"},
	}
	var got []string
	var want []string
	for _, tt := range tests {
		got = append(got, shellQuote(tt.word))
		want = append(want, tt.want)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("shellQuote (-want +got):\n%s", diff)
	}
}
