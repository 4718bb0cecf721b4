package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLabScript runs scripts/lab.sh as docs/lab.md describes: up, a
// second up that must refuse, pledge, and down, with a namespace prefix
// and a lab directory of its own.
func TestLabScript(t *testing.T) {
	requireLabRoot(t, "ss", "bash")
	name := fmt.Sprintf("bls%d", os.Getpid())
	dir := filepath.Join(t.TempDir(), "lab")
	env := append(os.Environ(), "LAB_NAME="+name, "LAB_DIR="+dir, "BRSKI="+brskiBin)
	run := func(action string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", "../scripts/lab.sh", action)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() {
		if out, err := run("down"); err != nil {
			t.Errorf("lab.sh down: %v\n%s", err, out)
		}
	})

	if out, err := run("up"); err != nil || !strings.Contains(out, "lab is up") {
		t.Fatalf("lab.sh up: %v\n%s", err, out)
	}
	if out, err := run("up"); err == nil || !strings.Contains(out, "exists") {
		t.Errorf("second lab.sh up: error %v, want an error naming LAB_DIR\n%s", err, out)
	}
	out, err := run("pledge")
	if err != nil {
		t.Fatalf("lab.sh pledge: %v\n%s", err, out)
	}
	for _, want := range []string{"enrolled over 802.1X", "master br-v100", "locked on"} {
		if !strings.Contains(out, want) {
			t.Errorf("lab.sh pledge output lacks %q:\n%s", want, out)
		}
	}

	if out, err := run("down"); err != nil {
		t.Fatalf("lab.sh down: %v\n%s", err, out)
	}
	list, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v\n%s", err, list)
	}
	if strings.Contains(string(list), name+"-") {
		t.Errorf("namespaces of %s remain after down:\n%s", name, list)
	}
}

// TestLabScriptFailures checks that an up whose authenticator fails at
// start reports the failure and leaves no namespace, and that down
// removes no namespace that up did not record.
func TestLabScriptFailures(t *testing.T) {
	requireLabRoot(t, "ss", "bash")
	dir := t.TempDir()
	failing := filepath.Join(dir, "brski-failing-authenticator")
	wrapper := "#!/bin/sh\n[ \"$1\" = authenticator ] && { echo 'no such bridge' >&2; exit 1; }\n" +
		"exec " + brskiBin + " \"$@\"\n"
	if err := os.WriteFile(failing, []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("blf%d", os.Getpid())
	run := func(lab, bin, action string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", "../scripts/lab.sh", action)
		cmd.Env = append(os.Environ(), "LAB_NAME="+name, "LAB_DIR="+lab, "BRSKI="+bin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	namespaces := func() string {
		out, err := exec.Command("ip", "netns", "list").CombinedOutput()
		if err != nil {
			t.Fatalf("ip netns list: %v\n%s", err, out)
		}
		return string(out)
	}

	out, err := run(filepath.Join(dir, "lab"), failing, "up")
	if err == nil || !strings.Contains(out, "authenticator exited at start") {
		t.Errorf("lab.sh up with a failing authenticator: error %v, want a failure that "+
			"names the authenticator\n%s", err, out)
	}
	if list := namespaces(); strings.Contains(list, name+"-") {
		t.Errorf("namespaces of %s remain after the failed up:\n%s", name, list)
	}

	// A namespace of the lab's name that this LAB_DIR did not create.
	labIP(t, "netns", "add", name+"-sw")
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name+"-sw").Run() })
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := run(empty, brskiBin, "down"); err != nil {
		t.Fatalf("lab.sh down: %v\n%s", err, out)
	}
	if list := namespaces(); !strings.Contains(list, name+"-sw") {
		t.Errorf("lab.sh down removed %s-sw, which its LAB_DIR did not record", name)
	}
}
