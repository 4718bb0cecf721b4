// Package testuser runs a test again as an unprivileged user, for tests of
// file permissions, which root ignores. CI runs the tests as root.
package testuser

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// NobodyID is the user and group ID of the user nobody on Debian.
const NobodyID = 65534

// RunAsNobody runs the current top-level test in a copy of the test binary
// as the user nobody, with env added to the environment, and fails with
// its output when it fails. The caller runs it when os.Geteuid() is 0 and
// returns afterwards. It skips, or fails when CI=true, if this process
// cannot change its user.
func RunAsNobody(t *testing.T, env ...string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The go test build directory is private to root, so the copy goes to
	// a directory that the user nobody can enter.
	dir := SharedDir(t)
	binary := filepath.Join(dir, filepath.Base(exe))
	if err := copyExecutable(exe, binary); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(binary, "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: NobodyID, Gid: NobodyID},
	}
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		SkipOrFail(t, "cannot run the test as the user nobody, and root ignores file "+
			"permissions: "+err.Error())
	}
	t.Logf("as the user nobody (uid %d):\n%s", NobodyID, out)
	if err != nil {
		t.Fatalf("the test failed as the user nobody: %v", err)
	}
}

// SharedDir creates a temporary directory that every user can enter and
// read, and removes it at the end of the test.
func SharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "brski-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// SkipOrFail skips the test with reason, or fails it when CI=true, where
// every prerequisite must be present.
func SkipOrFail(t *testing.T, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(reason)
	}
	t.Skip(reason)
}

func copyExecutable(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
