//go:build unix

package store

import "golang.org/x/sys/unix"

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
