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
