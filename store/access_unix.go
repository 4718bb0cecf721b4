//go:build unix

package store

import (
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// File access modes for canAccess.
const (
	accessRead  = unix.R_OK
	accessWrite = unix.W_OK | unix.X_OK // create files in a directory
)

// canAccess returns nil when this process may access path with mode by
// its effective user and group IDs, and the errno otherwise, such as
// EACCES, or EROFS for write access on a read-only mount. Root passes
// every check but EROFS.
func canAccess(path string, mode uint32) error {
	return unix.Faccessat(unix.AT_FDCWD, path, mode, unix.AT_EACCESS)
}

// otherOwner returns the owner of the file fi and this process's effective
// user ID. It reports whether a file that this process creates would
// belong to another user than fi, which is true unless the process runs
// as that user or as root.
func otherOwner(fi fs.FileInfo) (owner, self int, other bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	owner, self = int(st.Uid), os.Geteuid()
	return owner, self, self != 0 && self != owner
}
