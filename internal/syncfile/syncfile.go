// Package syncfile writes files whose content is on disk when the write
// returns: keys, certificates and state that a crash must not leave half
// written.
package syncfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteAtomic writes data to a new temporary file next to path with mode
// perm, syncs it and renames it to path. A crash leaves either the old
// file or the new one. The temporary file is removed when a step fails.
func WriteAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	tmp := f.Name()
	err = f.Chmod(perm)
	if err == nil {
		err = writeAndClose(f, data)
	} else {
		f.Close()
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteExclusive creates path with mode perm, writes data and syncs it. It
// fails when path exists, so that it never replaces a key or certificate.
func WriteExclusive(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := writeAndClose(f, data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeAndClose writes data to f, syncs and closes it.
func writeAndClose(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
