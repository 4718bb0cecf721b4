package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// storeRows are the rows of every listing of a registrar store.
type storeRows struct {
	Devices      []ExpectedDevice
	Enrollments  []Enrollment
	Certificates []Certificate
}

// readRows lists every row of s.
func readRows(t *testing.T, s *Store) storeRows {
	t.Helper()
	ctx := context.Background()
	var rows storeRows
	var err error
	if rows.Devices, err = s.ExpectedDevices(ctx); err != nil {
		t.Fatalf("ExpectedDevices: %v", err)
	}
	if rows.Enrollments, err = s.LatestEnrollments(ctx, 0); err != nil {
		t.Fatalf("LatestEnrollments: %v", err)
	}
	if rows.Certificates, err = s.LatestCertificates(ctx, 0); err != nil {
		t.Fatalf("LatestCertificates: %v", err)
	}
	return rows
}

// compareRows compares big.Int serial numbers by value.
var compareRows = cmp.Comparer(func(a, b *big.Int) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Cmp(b) == 0)
})

// seedReadOnlyStore creates a registrar store at path with two devices, an
// enrollment and its certificate, closes it and returns its rows.
func seedReadOnlyStore(t *testing.T, path string) storeRows {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	addReadOnlyRows(t, s, "A")
	return readRows(t, s)
}

// addReadOnlyRows adds the device prefix-1 and prefix-2 and an enrollment
// of prefix-1 with its certificate to s.
func addReadOnlyRows(t *testing.T, s *Store, prefix string) {
	t.Helper()
	ctx := context.Background()
	for _, serial := range []string{prefix + "-1", prefix + "-2"} {
		d := ExpectedDevice{Serial: serial, Manufacturer: "acme", Tags: []string{"lab"},
			Added: t0}
		if err := s.AddExpectedDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	id, err := s.RecordEnrollment(ctx, Enrollment{Time: t0, DeviceSerial: prefix + "-1",
		Outcome: "accept", Rule: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	serial := new(big.Int).SetBytes([]byte(prefix))
	c := Certificate{SerialNumber: serial, Subject: "CN=" + prefix + "-1",
		DeviceSerial: prefix + "-1", Fingerprint: fmt.Sprintf("%064x", serial),
		NotAfter: t0.Add(time.Hour), Issued: t0}
	if err := s.AddEnrollmentCertificate(ctx, id, c); err != nil {
		t.Fatal(err)
	}
}

// fileState is what a reader must leave unchanged: the store file's bytes
// and modification time, and which of its -wal and -shm files exist.
type fileState struct {
	Content  []byte
	ModTime  time.Time
	Existing []string
}

func statFiles(t *testing.T, path string) fileState {
	t.Helper()
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fileState{Content: content, ModTime: fi.ModTime()}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err == nil {
			st.Existing = append(st.Existing, filepath.Base(path+suffix))
		}
	}
	return st
}

func checkFilesUnchanged(t *testing.T, when string, want, got fileState) {
	t.Helper()
	if !bytes.Equal(want.Content, got.Content) {
		t.Errorf("%s: the store file's bytes changed", when)
	}
	if !want.ModTime.Equal(got.ModTime) {
		t.Errorf("%s: the store file's mtime changed from %s to %s", when,
			want.ModTime.Format(time.RFC3339Nano), got.ModTime.Format(time.RFC3339Nano))
	}
	if diff := cmp.Diff(want.Existing, got.Existing); diff != "" {
		t.Errorf("%s: -wal and -shm files (-want +got):\n%s", when, diff)
	}
}

// TestOpenReadOnlyLeavesFilesUnchanged checks, as root too, that a
// read-only open of a closed store creates no -wal or -shm file and
// changes neither the bytes nor the mtime of the store file.
func TestOpenReadOnlyLeavesFilesUnchanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registrar.db")
	want := seedReadOnlyStore(t, path)
	before := statFiles(t, path)
	if len(before.Existing) != 0 {
		t.Fatalf("files %v left after the writer closed; want none", before.Existing)
	}
	s, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatalf("OpenReadOnly: %v", err)
	}
	if diff := cmp.Diff(want, readRows(t, s), compareRows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	checkFilesUnchanged(t, "while open", before, statFiles(t, path))
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	checkFilesUnchanged(t, "after Close", before, statFiles(t, path))
}

func TestOpenReadOnlyRejectsWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registrar.db")
	seedReadOnlyStore(t, path)
	before := statFiles(t, path)
	s, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("OpenReadOnly: %v", err)
	}
	defer s.Close()
	cert := Certificate{SerialNumber: big.NewInt(7), DeviceSerial: "B-1",
		Fingerprint: "07", NotAfter: t0.Add(time.Hour)}
	writes := []struct {
		name  string
		write func() error
	}{
		{"AddExpectedDevice", func() error {
			return s.AddExpectedDevice(ctx, ExpectedDevice{Serial: "B-1"})
		}},
		{"RemoveExpectedDevice", func() error { return s.RemoveExpectedDevice(ctx, "A-1") }},
		{"ImportExpectedDevices", func() error {
			_, err := s.ImportExpectedDevices(ctx, strings.NewReader("B-1,acme,lab\n"))
			return err
		}},
		{"RecordEnrollment", func() error {
			_, err := s.RecordEnrollment(ctx, Enrollment{DeviceSerial: "B-1", Outcome: "x"})
			return err
		}},
		{"SetEnrollmentCertificate", func() error {
			return s.SetEnrollmentCertificate(ctx, 1, big.NewInt(7))
		}},
		{"AddCertificate", func() error { return s.AddCertificate(ctx, cert) }},
		{"AddEnrollmentCertificate", func() error {
			return s.AddEnrollmentCertificate(ctx, 1, cert)
		}},
		{"RevokeCertificate", func() error {
			return s.RevokeCertificate(ctx, big.NewInt(0x41), t0)
		}},
		{"PutCachedVoucher", func() error {
			return s.PutCachedVoucher(ctx, CachedVoucher{DeviceSerial: "A-1",
				Voucher: []byte{1}})
		}},
		{"DeleteCachedVoucher", func() error { return s.DeleteCachedVoucher(ctx, "A-1") }},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			if err := w.write(); !errors.Is(err, ErrReadOnly) {
				t.Errorf("%s = %v, want an error wrapping ErrReadOnly", w.name, err)
			}
		})
	}
	checkFilesUnchanged(t, "after the writes", before, statFiles(t, path))
}

func TestOpenReadOnlySchema(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// setup creates the file at path, or leaves it missing.
		setup      func(t *testing.T, path string)
		wantErr    error               // a sentinel that the error wraps
		wantSchema *SchemaVersionError // or the schema error, with Path set by the test
	}{
		{"missing file", func(*testing.T, string) {}, fs.ErrNotExist, nil},
		{"empty file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, nil, &SchemaVersionError{Found: 0, Expected: len(registrarMigrations)}},
		{"newer schema", func(t *testing.T, path string) {
			seedReadOnlyStore(t, path)
			execSQL(t, path, fmt.Sprintf("PRAGMA user_version = %d",
				len(registrarMigrations)+1))
		}, nil, &SchemaVersionError{Found: len(registrarMigrations) + 1,
			Expected: len(registrarMigrations)}},
		{"unversioned tables", func(t *testing.T, path string) {
			execSQL(t, path, "CREATE TABLE notes (body TEXT)")
		}, ErrForeignSchema, nil},
		{"versioned other tables", func(t *testing.T, path string) {
			execSQL(t, path, "CREATE TABLE status_reports (x TEXT); PRAGMA user_version = 1")
		}, ErrNotRegistrarStore, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "registrar.db")
			tt.setup(t, path)
			s, err := OpenReadOnly(ctx, path)
			if err == nil {
				s.Close()
				t.Fatal("OpenReadOnly succeeded, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("OpenReadOnly = %v, want an error wrapping %v", err, tt.wantErr)
			}
			if tt.wantSchema == nil {
				return
			}
			want := *tt.wantSchema
			want.Path = path
			var got *SchemaVersionError
			if !errors.As(err, &got) {
				t.Fatalf("OpenReadOnly = %v, want a *SchemaVersionError", err)
			}
			if diff := cmp.Diff(want, *got); diff != "" {
				t.Errorf("schema error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOpenReadOnlyNextToWriter lists the store while another Store has it
// open, as "brski devices list" does next to a running registrar. The
// reader must see rows committed after it opened, and closing it must not
// disturb the writer.
func TestOpenReadOnlyNextToWriter(t *testing.T) {
	ctx := context.Background()
	writer, path := openTemp(t)
	addReadOnlyRows(t, writer, "A")
	reader, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("OpenReadOnly next to a writer: %v", err)
	}
	if diff := cmp.Diff(readRows(t, writer), readRows(t, reader), compareRows); diff != "" {
		t.Errorf("rows before the second write (-writer +reader):\n%s", diff)
	}
	addReadOnlyRows(t, writer, "B")
	if diff := cmp.Diff(readRows(t, writer), readRows(t, reader), compareRows); diff != "" {
		t.Errorf("rows after the second write (-writer +reader):\n%s", diff)
	}
	if err := reader.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	addReadOnlyRows(t, writer, "C")
	if n := len(readRows(t, writer).Devices); n != 6 {
		t.Errorf("writer lists %d devices after the reader closed, want 6", n)
	}
}

// TestOpenReadOnlyWhileWriting lists the store while another Store records
// enrollments. Every listing must succeed and see at least the records
// committed before it started.
func TestOpenReadOnlyWhileWriting(t *testing.T) {
	ctx := context.Background()
	writer, path := openTemp(t)
	reader, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("OpenReadOnly: %v", err)
	}
	defer reader.Close()
	const n = 50
	committed := make(chan int, n)
	written := make(chan error, 1)
	go func() {
		defer close(committed)
		for i := range n {
			_, err := writer.RecordEnrollment(ctx, Enrollment{
				DeviceSerial: fmt.Sprintf("W-%d", i), Outcome: "accept"})
			if err != nil {
				written <- err
				return
			}
			committed <- i + 1
		}
		written <- nil
	}()
	for count := range committed {
		list, err := reader.LatestEnrollments(ctx, 0)
		if err != nil {
			t.Errorf("LatestEnrollments: %v", err)
			continue
		}
		if len(list) < count {
			t.Errorf("listed %d enrollments after %d were committed", len(list), count)
		}
	}
	if err := <-written; err != nil {
		t.Fatalf("writer: %v", err)
	}
	list, err := reader.LatestEnrollments(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != n {
		t.Errorf("listed %d enrollments at the end, want %d", len(list), n)
	}
}
