//go:build unix

package store

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/brski-eap/brski/internal/testuser"
)

// TestOpenReadOnlyPermissions applies the case table of OpenReadOnly to
// stores whose files and directory the test user may only read. Started as
// root, it runs itself again as the user nobody.
func TestOpenReadOnlyPermissions(t *testing.T) {
	if os.Geteuid() == 0 {
		testuser.RunAsNobody(t)
		return
	}
	tests := []struct {
		name string
		// files are the files that the store directory gets: a closed
		// store when empty, or copies of these files of a store that a
		// writer has open.
		files   []string
		dirMode fs.FileMode
		modes   map[string]fs.FileMode // file modes other than 0444
		wantErr error                  // nil when every row must be listed
	}{
		{"closed store in read-only directory", nil, 0o555, nil, nil},
		{"running store in read-only directory", []string{"", "-wal", "-shm"}, 0o555, nil,
			nil},
		{"-wal without -shm in writable directory", []string{"", "-wal"}, 0o755, nil, nil},
		{"-wal without -shm in read-only directory", []string{"", "-wal"}, 0o555, nil,
			ErrWALInaccessible},
		{"unreadable -wal", []string{"", "-wal", "-shm"}, 0o555,
			map[string]fs.FileMode{"-wal": 0}, ErrWALInaccessible},
		{"unreadable -shm", []string{"", "-wal", "-shm"}, 0o555,
			map[string]fs.FileMode{"-shm": 0}, ErrWALInaccessible},
		{"unreadable store file", nil, 0o555, map[string]fs.FileMode{"": 0},
			fs.ErrPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "registrar.db")
			var want storeRows
			if tt.files == nil {
				want = seedReadOnlyStore(t, path)
			} else {
				want = copyRunningStore(t, path, tt.files)
			}
			for _, suffix := range []string{"", "-wal", "-shm"} {
				mode, ok := tt.modes[suffix]
				if !ok {
					mode = 0o444
				}
				if err := os.Chmod(path+suffix, mode); err != nil &&
					!errors.Is(err, fs.ErrNotExist) {
					t.Fatal(err)
				}
			}
			chmodDir(t, dir, tt.dirMode)
			s, err := OpenReadOnly(context.Background(), path)
			if tt.wantErr != nil {
				if err == nil {
					s.Close()
				}
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("OpenReadOnly = %v, want an error wrapping %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenReadOnly: %v", err)
			}
			defer s.Close()
			if diff := cmp.Diff(want, readRows(t, s), compareRows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

// copyRunningStore creates a store next to path, adds rows with a writer
// that stays open, and copies the files with the given suffixes to path,
// as a backup of a running registrar does. The rows are only in the -wal
// file. It returns the rows.
func copyRunningStore(t *testing.T, path string, suffixes []string) storeRows {
	t.Helper()
	src := filepath.Join(t.TempDir(), "registrar.db")
	writer, err := Open(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	addReadOnlyRows(t, writer, "A")
	for _, suffix := range suffixes {
		copyFile(t, src+suffix, path+suffix, 0o600)
	}
	return readRows(t, writer)
}

func copyFile(t *testing.T, from, to string, mode fs.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// chmodDir sets the mode of dir and restores 0755 at the end of the test,
// so that the test can remove it.
func chmodDir(t *testing.T, dir string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
}

// liveStoreEnv makes TestOpenReadOnlyNextToOtherUsersWriter list the
// store at the path that it names and expect the devices.
const liveStoreEnv = "BRSKI_STORE_LIVE_READER"

// TestOpenReadOnlyNextToOtherUsersWriter lists a store that a writer of
// another user has open, as an operator lists the store of a registrar
// that runs as a service user. The directory and the -shm file are
// read-only for the reader, so it cannot take part in the writer's locks.
func TestOpenReadOnlyNextToOtherUsersWriter(t *testing.T) {
	if path := os.Getenv(liveStoreEnv); path != "" {
		listLiveStore(t, path)
		return
	}
	if os.Geteuid() != 0 {
		testuser.SkipOrFail(t, "needs root to run the writer and the reader as different users")
	}
	dir := testuser.SharedDir(t)
	path := filepath.Join(dir, "registrar.db")
	writer, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	addReadOnlyRows(t, writer, "A")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Chmod(path+suffix, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testuser.RunAsNobody(t, liveStoreEnv+"="+path)
}

// listLiveStore is the reader of TestOpenReadOnlyNextToOtherUsersWriter.
func listLiveStore(t *testing.T, path string) {
	s, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatalf("OpenReadOnly next to another user's writer: %v", err)
	}
	defer s.Close()
	var serials []string
	for _, d := range readRows(t, s).Devices {
		serials = append(serials, d.Serial)
	}
	if diff := cmp.Diff([]string{"A-1", "A-2"}, serials); diff != "" {
		t.Errorf("devices (-want +got):\n%s", diff)
	}
}
