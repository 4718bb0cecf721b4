package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// OpenReadOnly opens the registrar store at path for reading only, as the
// listing commands do. It writes nothing: it sets no journal mode, runs no
// migration and opens the file with the SQLite URI parameter mode=ro. The
// store must exist and have the schema version of this build, or the
// error is a *SchemaVersionError. A file that is not a registrar store
// gets an error wrapping ErrForeignSchema or ErrNotRegistrarStore, as
// from Open. Every write method of the returned Store fails with an error
// wrapping ErrReadOnly.
//
// The registrar store uses WAL mode. A reader of a WAL database needs the
// -wal and -shm files that a writer created, or the permission to create
// them, unless it opens the database as immutable. The last connection to
// close deletes both files (https://sqlite.org/walformat.html).
// OpenReadOnly therefore chooses by the files next to path:
//
//	-wal file   -shm file                  directory  result
//	missing     any                        any        immutable=1, no locks
//	readable    readable and writable      any        shared read, locks in -shm
//	readable    read-only                  any        read without writing -shm
//	readable    missing                    writable   shared read, SQLite creates -shm
//	                                                      and leaves it behind
//	readable    missing                    read-only  ErrWALInaccessible
//	unreadable  any                        any        ErrWALInaccessible
//
// Without a -wal file no connection has the database open, so the main
// file contains every committed transaction, and immutable=1 reads it
// without creating files. A mode=ro connection without immutable=1 would
// create a -wal and a -shm file and, because it is read-only, leave them
// behind, owned by the reading user. With a read-only -shm file, SQLite
// reads the wal-index of a running writer, or reads the -wal into private
// memory when no writer has the store open
// (https://sqlite.org/rescode.html#readonly_cantinit). The tests cover
// both: a registrar of another user, and a copy of a running store.
// Without the checks, SQLite fails the ErrWALInaccessible rows with
// "unable to open database file".
//
// NOTE: an immutable read takes no lock. A writer that opens the store
// and checkpoints while a listing runs can therefore make that listing
// fail with a malformed-database error or miss rows. Running the listing
// again reads a consistent store, through the writer's -wal and -shm
// files if the writer is still open.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	immutable, err := checkReadAccess(path)
	if err != nil {
		return nil, err
	}
	dsn := fileURI(path) + "?mode=ro&_pragma=busy_timeout(5000)"
	if immutable {
		dsn += "&immutable=1"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	if err := checkSchemaVersion(ctx, db, path, len(registrarMigrations)); err != nil {
		db.Close()
		return nil, err
	}
	s, err := newStore(ctx, db, path)
	if err != nil {
		return nil, err
	}
	s.readOnly = true
	return s, nil
}

// ErrReadOnly is wrapped by the error of every write method of a Store
// that OpenReadOnly opened.
var ErrReadOnly = errors.New("the store is open read-only; open it with store.Open to write")

// ErrWALInaccessible is wrapped by the error of OpenReadOnly when the store
// has a -wal file that this user can neither read nor share, so the
// committed rows in it cannot be read.
var ErrWALInaccessible = errors.New("the store's write-ahead log cannot be read or shared")

// checkWritable returns an error wrapping ErrReadOnly for a read-only
// Store. op names the write in the message.
func (s *Store) checkWritable(op string) error {
	if s.readOnly {
		return fmt.Errorf("store: %s: %w", op, ErrReadOnly)
	}
	return nil
}

// checkReadAccess applies the table of OpenReadOnly to the files next to
// path and reports whether to open path with immutable=1. It tests the
// files with access(2) and never opens them, because closing a file that
// this process's SQLite connections have open drops their POSIX locks.
func checkReadAccess(path string) (immutable bool, err error) {
	if _, err := os.Stat(path); err != nil {
		return false, fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	if err := canAccess(path, accessRead); err != nil {
		return false, fmt.Errorf("store: cannot read %s: %w; run as the registrar's user "+
			"or give this user read access to the file", path, err)
	}

	wal, shm := path+"-wal", path+"-shm"
	if _, err := os.Stat(wal); errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err := canAccess(wal, accessRead); err != nil {
		return false, fmt.Errorf("store: %w: %s exists, so the registrar has the store "+
			"open or stopped without a checkpoint, but this user cannot read it: %w; "+
			"run as the registrar's user", ErrWALInaccessible, wal, err)
	}

	fix := "run as the registrar's user, or copy " + filepath.Base(path) + " with its " +
		"-wal file to a directory that this user can write"
	_, err = os.Stat(shm)
	if err == nil {
		if err := canAccess(shm, accessRead); err != nil {
			return false, fmt.Errorf("store: %w: this user cannot read %s: %w; %s",
				ErrWALInaccessible, shm, err, fix)
		}
		return false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("store: %w: %w; %s", ErrWALInaccessible, err, fix)
	}

	dir := filepath.Dir(path)
	if err := canAccess(dir, accessWrite); err != nil {
		return false, fmt.Errorf("store: %w: %s exists but %s does not, and this user "+
			"cannot create it in %s: %w; %s", ErrWALInaccessible, wal, shm, dir, err, fix)
	}
	return false, nil
}

// SchemaVersionError is the error of OpenReadOnly for a store whose schema
// version, PRAGMA user_version, differs from the one this build reads.
// OpenReadOnly cannot migrate. A write through Open migrates an older
// store, and a newer store needs a newer brski.
type SchemaVersionError struct {
	Path     string
	Found    int // the store's schema version
	Expected int // the schema version of this build
}

func (e *SchemaVersionError) Error() string {
	if e.Found > e.Expected {
		return fmt.Sprintf("store: %s has schema version %d, newer than version %d that "+
			"this brski reads; run a newer brski", e.Path, e.Found, e.Expected)
	}
	return fmt.Sprintf("store: %s has schema version %d, older than version %d that this "+
		"brski reads; run the registrar or a write command such as \"brski devices add\" "+
		"once with write access to migrate it", e.Path, e.Found, e.Expected)
}

// checkSchemaVersion returns an error when the database db at path does
// not have schema version expected: a *SchemaVersionError, or one
// wrapping ErrForeignSchema for an unversioned database with tables.
func checkSchemaVersion(ctx context.Context, db *sql.DB, path string, expected int) error {
	version, err := readSchemaVersion(ctx, db)
	if err != nil {
		return fmt.Errorf("store: %s: %w", path, err)
	}
	if version != expected {
		return &SchemaVersionError{Path: path, Found: version, Expected: expected}
	}
	return nil
}
