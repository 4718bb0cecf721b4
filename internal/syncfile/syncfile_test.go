package syncfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteAtomicReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key.pem")
	for _, content := range []string{"old", "new"} {
		if err := WriteAtomic(path, []byte(content), 0o600); err != nil {
			t.Fatalf("WriteAtomic %q: %v", content, err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "new" {
		t.Errorf("content = %q, want %q", got, "new")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %04o, want 0600", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory has %d entries, want only the file (no temporary left)",
			len(entries))
	}
}

func TestWriteAtomicMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "f")
	if err := WriteAtomic(path, []byte("x"), 0o644); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteAtomic into a missing directory = %v, want ErrNotExist", err)
	}
}

func TestWriteExclusiveKeepsExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := WriteExclusive(path, []byte("first"), 0o644); err != nil {
		t.Fatalf("WriteExclusive: %v", err)
	}
	if err := WriteExclusive(path, []byte("second"), 0o644); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second WriteExclusive = %v, want ErrExist", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "first" {
		t.Errorf("content = %q, want %q", got, "first")
	}
}
