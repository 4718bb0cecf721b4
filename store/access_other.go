//go:build !unix

package store

import "io/fs"

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

// otherOwner reports false. Only unix systems check the owner of the store
// file in advance.
func otherOwner(fi fs.FileInfo) (owner, self int, other bool) {
	return 0, 0, false
}
