//go:build linux

package authenticator

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// lockPorts takes an exclusive lock per port of the network namespace ns,
// so that a second authenticator on the same port fails at start instead
// of relocking the ports that the first one serves. The locks are files
// in /run/lock, or in the temporary directory where that does not exist,
// held with flock(2), which the kernel releases when the process ends. The
// returned function releases them.
func lockPorts(ns netns.NsHandle, ports []PortSetup) (func(), error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(ns), &st); err != nil {
		return nil, fmt.Errorf("authenticator: identify network namespace: %w", err)
	}
	var files []*os.File
	release := func() {
		for _, f := range files {
			f.Close() // closing the last descriptor releases the flock
		}
	}
	dir := "/run/lock"
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		dir = os.TempDir()
	}
	for _, p := range ports {
		path := filepath.Join(dir, fmt.Sprintf("brski-authenticator-%d-%d-%s.lock",
			st.Dev, st.Ino, p.Name))
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			release()
			return nil, fmt.Errorf("authenticator: port %s: lock file: %w", p.Name, err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			release()
			return nil, fmt.Errorf("%w: port %s (lock %s); stop the other authenticator "+
				"first", ErrPortInUse, p.Name, path)
		}
		files = append(files, f)
	}
	return release, nil
}
