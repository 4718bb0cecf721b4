//go:build !unix

package store

// File access modes for canAccess.
const (
	accessRead  = 4
	accessWrite = 2
)

// canAccess returns nil, so that SQLite reports a missing permission when
// it opens the files. Only unix systems check access in advance.
func canAccess(path string, mode uint32) error {
	return nil
}
