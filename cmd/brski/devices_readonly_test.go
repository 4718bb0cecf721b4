package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brski-eap/brski/internal/testuser"
	"github.com/brski-eap/brski/store"
)

// listingCommands are the commands that need only read access to the
// store, with the text that each prints for the store of
// seedListingStore.
var listingCommands = []struct {
	args []string
	want string
}{
	{[]string{"devices", "list"}, "E-1"},
	{[]string{"devices", "list", "--csv"}, "E-1,acme,core"},
	{[]string{"devices", "enrollments"}, "air-gap"},
	{[]string{"devices", "enrollments", "--csv", "--serial", "B-2"}, "not in the\nlist"},
	{[]string{"devices", "certificates"}, "1f3a"},
	{[]string{"devices", "certificates", "--all", "--csv"}, "revoked"},
}

// seedListingStore creates a closed store with the records of
// seedRecordsStore and the expected device E-1, and returns its path.
func seedListingStore(t *testing.T) string {
	t.Helper()
	path := seedRecordsStore(t)
	if code, _, stderr := runBrski("devices", "add", "--store", path, "--serial", "E-1",
		"--manufacturer", "acme", "--tags", "core"); code != 0 {
		t.Fatalf("devices add: exit %d: %s", code, stderr)
	}
	return path
}

// runListings runs every listing command on the store at path and checks
// its output.
func runListings(t *testing.T, path string) {
	t.Helper()
	for _, c := range listingCommands {
		args := append(append([]string{}, c.args...), "--store", path)
		code, stdout, stderr := runBrski(args...)
		name := strings.Join(c.args, " ")
		if code != 0 {
			t.Errorf("%s: exit %d: %s", name, code, stderr)
			continue
		}
		if !strings.Contains(stdout, c.want) {
			t.Errorf("%s printed:\n%s\nwant it to contain %q", name, stdout, c.want)
		}
	}
}

// storeFiles returns the bytes and mtime of the store at path and the
// names of its -wal and -shm files that exist.
func storeFiles(t *testing.T, path string) ([]byte, time.Time, []string) {
	t.Helper()
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var extra []string
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err == nil {
			extra = append(extra, filepath.Base(path)+suffix)
		}
	}
	return content, fi.ModTime(), extra
}

// TestDevicesListingsWriteNothing runs the listing commands, as root too,
// and checks that they change neither the bytes nor the mtime of the
// store file and create no -wal or -shm file.
func TestDevicesListingsWriteNothing(t *testing.T) {
	path := seedListingStore(t)
	content, mtime, extra := storeFiles(t, path)
	if len(extra) != 0 {
		t.Fatalf("files %v left after devices add; want none", extra)
	}
	runListings(t, path)
	gotContent, gotMtime, gotExtra := storeFiles(t, path)
	if !bytes.Equal(content, gotContent) {
		t.Error("the listings changed the bytes of the store file")
	}
	if !mtime.Equal(gotMtime) {
		t.Errorf("the listings changed the mtime of the store file from %s to %s",
			mtime.Format(time.RFC3339Nano), gotMtime.Format(time.RFC3339Nano))
	}
	if len(gotExtra) != 0 {
		t.Errorf("the listings created %v; want no files", gotExtra)
	}
}

func TestDevicesListingsWithoutStore(t *testing.T) {
	data := t.TempDir()
	want := "no registrar store at " + filepath.Join(data, "registrar.db")
	for _, c := range listingCommands {
		args := append(append([]string{}, c.args...), "--data", data)
		code, _, stderr := runBrski(args...)
		name := strings.Join(c.args, " ")
		if code != 1 {
			t.Errorf("%s: exit %d, want 1", name, code)
		}
		if !strings.Contains(stderr, want) {
			t.Errorf("%s: stderr %q, want it to contain %q", name, stderr, want)
		}
	}
	if entries, err := os.ReadDir(data); err != nil || len(entries) != 0 {
		t.Errorf("data directory after the listings: %v, %v; want it empty", entries, err)
	}
}

// TestDevicesListingsSchemaVersion lists a store of a newer schema and an
// empty file, which a writer would migrate to the current schema. The
// listings must fail without changing either file.
func TestDevicesListingsSchemaVersion(t *testing.T) {
	newer := seedListingStore(t)
	db, err := sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "registrar.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	runs := map[string]func(args []string, stdout, stderr io.Writer) error{
		"devices list":         runDevicesList,
		"devices enrollments":  runDevicesEnrollments,
		"devices certificates": runDevicesCertificates,
	}
	for _, tt := range []struct {
		path    string
		version int
	}{{newer, 99}, {empty, 0}} {
		content, _, _ := storeFiles(t, tt.path)
		for name, run := range runs {
			err := run([]string{"--store", tt.path}, io.Discard, io.Discard)
			var schemaErr *store.SchemaVersionError
			if !errors.As(err, &schemaErr) {
				t.Errorf("%s of version %d = %v, want a *store.SchemaVersionError", name,
					tt.version, err)
				continue
			}
			if schemaErr.Found != tt.version || schemaErr.Path != tt.path {
				t.Errorf("%s: schema error for %s version %d, want %s version %d", name,
					schemaErr.Path, schemaErr.Found, tt.path, tt.version)
			}
		}
		if got, _, _ := storeFiles(t, tt.path); !bytes.Equal(content, got) {
			t.Errorf("the listings changed the store of version %d", tt.version)
		}
	}
}

// TestDevicesListNextToRegistrar lists a store that another Store has
// open and writes, as a running registrar does.
func TestDevicesListNextToRegistrar(t *testing.T) {
	ctx := context.Background()
	registrar, path := newRecordsStore(t)
	defer registrar.Close()
	for i := 1; i <= 2; i++ {
		serial := fmt.Sprintf("R-%d", i)
		if err := registrar.AddExpectedDevice(ctx, store.ExpectedDevice{Serial: serial}); err != nil {
			t.Fatal(err)
		}
		if _, err := registrar.RecordEnrollment(ctx, store.Enrollment{DeviceSerial: serial,
			Outcome: "accept", Rule: "lab"}); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"devices", "list"}, {"devices", "enrollments"}} {
			code, stdout, stderr := runBrski(append(args, "--store", path)...)
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, stderr)
			}
			for j := 1; j <= i; j++ {
				if want := fmt.Sprintf("R-%d", j); !strings.Contains(stdout, want) {
					t.Errorf("%s after %d writes printed:\n%s\nwant %s",
						strings.Join(args, " "), i, stdout, want)
				}
			}
		}
	}
}

// TestDevicesListingsReadOnlyDirectory lists a store in a directory that
// the user can only read. It needs a user other than root, because root
// ignores file permissions. The store package runs the same cases as the
// user nobody when started as root.
func TestDevicesListingsReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		// Root ignores file permissions.
		testuser.RunAsNobody(t)
		return
	}
	path := seedListingStore(t)
	dir := filepath.Dir(path)
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	runListings(t, path)
	code, _, stderr := runBrski("devices", "add", "--store", path, "--serial", "F-1")
	if code != 1 {
		t.Errorf("devices add in a read-only directory: exit %d, want 1 (stderr %q)",
			code, stderr)
	}
}
