//go:build unix

package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/brski-eap/brski/internal/testuser"
)

// storeSnapshot is what OpenReadOnly must leave unchanged at a store path:
// the file type, the bytes of a regular file, the modification time and
// which -wal and -shm files exist.
type storeSnapshot struct {
	Type     fs.FileMode
	SHA256   string
	ModTime  time.Time
	Existing []string
}

func snapshotStore(t *testing.T, path string) storeSnapshot {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	snap := storeSnapshot{Type: fi.Mode().Type(), ModTime: fi.ModTime()}
	if fi.Mode().IsRegular() {
		content, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(content)
		snap.SHA256 = hex.EncodeToString(sum[:])
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Lstat(path + suffix); err == nil {
			snap.Existing = append(snap.Existing, filepath.Base(path+suffix))
		}
	}
	return snap
}

// TestOpenReadOnlyHostileFiles opens paths that are no intact registrar
// store. Each must fail with an error that wraps the sentinel and names
// the path, and leave the path unchanged.
func TestOpenReadOnlyHostileFiles(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string)
		wantErr error
	}{
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}, ErrNotDatabase},
		{"named pipe", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}, ErrNotDatabase},
		{"text file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("serial,manufacturer\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, ErrNotDatabase},
		{"truncated store", func(t *testing.T, path string) {
			seedReadOnlyStore(t, path)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, ErrNotDatabase},
		{"versioned database of another program", func(t *testing.T, path string) {
			execSQL(t, path, "CREATE TABLE vouchers (serial TEXT); PRAGMA user_version = 2")
		}, ErrNotRegistrarStore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "registrar.db")
			tt.setup(t, path)
			before := snapshotStore(t, path)
			s, err := OpenReadOnly(context.Background(), path)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("OpenReadOnly = %v, want an error wrapping %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if diff := cmp.Diff(before, snapshotStore(t, path)); diff != "" {
				t.Errorf("store path (-before +after):\n%s", diff)
			}
		})
	}
}

// TestOpenReadOnlyOddLayouts opens stores that are intact but laid out
// unusually. Every row must be listed and no file created.
func TestOpenReadOnlyOddLayouts(t *testing.T) {
	tests := []struct {
		name string
		// setup creates the store that path names and returns its rows.
		setup func(t *testing.T, path string) storeRows
	}{
		{"symbolic link to a running store", func(t *testing.T, path string) storeRows {
			writer, target := openTemp(t)
			addReadOnlyRows(t, writer, "A")
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			return readRows(t, writer)
		}},
		{"-wal of zero bytes without -shm", func(t *testing.T, path string) storeRows {
			rows := seedReadOnlyStore(t, path)
			if err := os.WriteFile(path+"-wal", nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return rows
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "registrar.db")
			want := tt.setup(t, path)
			before := snapshotStore(t, path)
			s, err := OpenReadOnly(context.Background(), path)
			if err != nil {
				t.Fatalf("OpenReadOnly: %v", err)
			}
			if diff := cmp.Diff(want, readRows(t, s), compareRows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if diff := cmp.Diff(before, snapshotStore(t, path)); diff != "" {
				t.Errorf("store path (-before +after):\n%s", diff)
			}
		})
	}
}

// foreignStoreEnv makes TestOpenReadOnlyForeignOwner open the store at the
// path that it names, as the user nobody.
const foreignStoreEnv = "BRSKI_STORE_FOREIGN_OWNER"

// foreignOwnerID is the owner of the store in TestOpenReadOnlyForeignOwner:
// a user ID other than root and nobody, as of a registrar's service user.
const foreignOwnerID = 65533

// TestOpenReadOnlyForeignOwner lists, as the user nobody, a copy of a
// running store with its -wal file but no -shm file, in a directory that
// everyone may write, such as a shared backup directory. The store belongs
// to another user. SQLite would create the -shm file owned by nobody and
// leave it behind, and the owner could then no longer write the store, so
// the listing must fail and create no file.
func TestOpenReadOnlyForeignOwner(t *testing.T) {
	if path := os.Getenv(foreignStoreEnv); path != "" {
		s, err := OpenReadOnly(context.Background(), path)
		if err == nil {
			s.Close()
		}
		if !errors.Is(err, ErrWALInaccessible) {
			t.Errorf("OpenReadOnly = %v, want an error wrapping ErrWALInaccessible", err)
		}
		return
	}
	if os.Geteuid() != 0 {
		testuser.SkipOrFail(t, "needs root to create a store of another user")
	}
	dir := testuser.SharedDir(t)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "registrar.db")
	copyRunningStore(t, path, []string{"", "-wal"})
	for _, suffix := range []string{"", "-wal"} {
		if err := os.Chmod(path+suffix, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(path+suffix, foreignOwnerID, foreignOwnerID); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshotStore(t, path)
	testuser.RunAsNobody(t, foreignStoreEnv+"="+path)
	if diff := cmp.Diff(before, snapshotStore(t, path)); diff != "" {
		t.Errorf("store path (-before +after):\n%s", diff)
	}
}

// FuzzOpenReadOnly opens files of arbitrary bytes as a store and lists
// them. Each must give rows or an error, never a panic, and keep its bytes.
func FuzzOpenReadOnly(f *testing.F) {
	dir := f.TempDir()
	seedPath := filepath.Join(dir, "seed.db")
	s, err := Open(context.Background(), seedPath)
	if err != nil {
		f.Fatal(err)
	}
	if err := s.AddExpectedDevice(context.Background(), ExpectedDevice{Serial: "A-1",
		Manufacturer: "acme"}); err != nil {
		f.Fatal(err)
	}
	if err := s.Close(); err != nil {
		f.Fatal(err)
	}
	store, err := os.ReadFile(seedPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(store)
	f.Add(store[:len(store)/2])
	f.Add(store[:100])
	f.Add([]byte("SQLite format 3\x00"))
	f.Add([]byte("serial,manufacturer\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(t.TempDir(), "registrar.db")
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := OpenReadOnly(context.Background(), path)
		if err == nil {
			ctx := context.Background()
			s.ExpectedDevices(ctx)
			s.LatestEnrollments(ctx, 0)
			s.LatestCertificates(ctx, 0)
			s.Close()
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(content, got) {
			t.Errorf("OpenReadOnly changed the file's bytes")
		}
	})
}
