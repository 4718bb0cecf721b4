package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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
//	zero bytes  missing                    any        immutable=1, no locks
//	readable    readable and writable      any        shared read, locks in -shm
//	readable    read-only                  any        read without writing -shm
//	readable    missing                    writable   shared read, SQLite creates -shm
//	                                                      and leaves it behind
//	readable    missing                    read-only  ErrWALInaccessible
//	unreadable  any                        any        ErrWALInaccessible
//
// The row "-shm missing, directory writable" is ErrWALInaccessible too
// when the store file belongs to another user and this process does not
// run as root. The -shm file that SQLite leaves behind would belong to
// this user, so the store's owner could no longer write the store. SQLite
// gives a -shm file that root creates the owner of the store file.
//
// Without a -wal file no connection has the database open, so the main
// file contains every committed transaction, and immutable=1 reads it
// without creating files. A -wal file of zero bytes contains no
// transaction, and without a -shm file no writer uses it, because every
// writer of a WAL database maps the -shm file. A mode=ro connection without immutable=1 would
// create a -wal and a -shm file and, because it is read-only, leave them
// behind, owned by the reading user. With a read-only -shm file, SQLite
// reads the wal-index of a running writer, or reads the -wal into private
// memory when no writer has the store open
// (https://sqlite.org/rescode.html#readonly_cantinit). The tests cover
// both: a registrar of another user, and a copy of a running store.
// Without the checks, SQLite fails the ErrWALInaccessible rows with
// "unable to open database file".
//
// OpenReadOnly resolves symbolic links in path first, because SQLite
// keeps the -wal and -shm files next to the file that a link names. A
// path that is not a regular file, or a file that SQLite cannot read as
// a database, gets an error wrapping ErrNotDatabase.
//
// NOTE: an immutable read takes no lock. A writer that opens the store
// and checkpoints while a listing runs can therefore make that listing
// fail with a malformed-database error or miss rows. Running the listing
// again reads a consistent store, through the writer's -wal and -shm
// files if the writer is still open.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	file, err := resolveStoreFile(path)
	if err != nil {
		return nil, err
	}
	immutable, err := checkReadAccess(file)
	if err != nil {
		return nil, err
	}
	dsn := fileURI(file) + "?mode=ro&_pragma=busy_timeout(5000)"
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

// ErrNotDatabase is wrapped by the error of OpenReadOnly when path is not
// a regular file, or is one that SQLite cannot read as a database, such as
// a truncated copy or a file of another format.
var ErrNotDatabase = errors.New("not an intact SQLite database")

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
	walInfo, err := os.Stat(wal)
	if errors.Is(err, fs.ErrNotExist) {
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
	if walInfo != nil && walInfo.Size() == 0 {
		return true, nil
	}

	dir := filepath.Dir(path)
	if err := canAccess(dir, accessWrite); err != nil {
		return false, fmt.Errorf("store: %w: %s exists but %s does not, and this user "+
			"cannot create it in %s: %w; %s", ErrWALInaccessible, wal, shm, dir, err, fix)
	}
	return false, checkShmOwner(path, shm, fix)
}

// checkShmOwner returns an error wrapping ErrWALInaccessible when the -shm
// file shm that SQLite is about to create would belong to another user
// than the store file at path.
func checkShmOwner(path, shm, fix string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	owner, self, other := otherOwner(fi)
	if !other {
		return nil
	}
	return fmt.Errorf("store: %w: SQLite would create %s owned by this user (uid %d) and "+
		"leave it behind, and the owner of %s (uid %d) could then no longer write the "+
		"store; %s", ErrWALInaccessible, shm, self, path, owner, fix)
}

// resolveStoreFile returns path with its symbolic links resolved, or an
// error wrapping ErrNotDatabase when path names no regular file. SQLite
// would fail a directory with "disk I/O error", and it would block on a
// named pipe until a writer opens the pipe.
func resolveStoreFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("store: open %s read-only: %w", path, err)
	}
	if fi.IsDir() {
		return "", fmt.Errorf("store: %s is a directory, %w; pass the path of the "+
			"store file in it, such as %s", path, ErrNotDatabase,
			filepath.Join(path, "registrar.db"))
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("store: %s is not a regular file (mode %s), %w; pass the "+
			"path of the registrar's registrar.db", path, fi.Mode(), ErrNotDatabase)
	}
	file, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("store: resolve %s: %w", path, err)
	}
	return file, nil
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
	if e.Found == 0 {
		return fmt.Sprintf("store: %s is an empty database without the registrar's "+
			"tables; pass the path of the registrar's registrar.db, or run the registrar "+
			"or a write command such as \"brski devices add\" once with write access to "+
			"create them", e.Path)
	}
	return fmt.Sprintf("store: %s has schema version %d, older than version %d that this "+
		"brski reads; run the registrar or a write command such as \"brski devices add\" "+
		"once with write access to migrate it", e.Path, e.Found, e.Expected)
}

// checkSchemaVersion returns an error when the database db at path does
// not have schema version expected. The error is a *SchemaVersionError,
// or it wraps ErrForeignSchema for an unversioned database with tables,
// ErrNotRegistrarStore for a versioned one without the registrar's
// tables, or ErrNotDatabase for a file that SQLite cannot read.
func checkSchemaVersion(ctx context.Context, db *sql.DB, path string, expected int) error {
	version, err := readSchemaVersion(ctx, db)
	if isNotDatabase(err) {
		return fmt.Errorf("store: %s: %w: %w; restore the registrar's store from a "+
			"backup, or pass the path of an intact registrar.db", path, ErrNotDatabase, err)
	}
	if err != nil {
		return fmt.Errorf("store: %s: %w", path, err)
	}
	if version == expected {
		return nil
	}
	if version > 0 {
		// Another program's versioned database, such as the MASA's, has a
		// schema version too, but none of the registrar's tables.
		var n int
		err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master "+
			"WHERE type = 'table' AND name = 'expected_devices'").Scan(&n)
		if err != nil {
			return fmt.Errorf("store: %s: list tables: %w", path, err)
		}
		if n == 0 {
			return fmt.Errorf("store: %s: %w: it has schema version %d but no table "+
				"expected_devices", path, ErrNotRegistrarStore, version)
		}
	}
	return &SchemaVersionError{Path: path, Found: version, Expected: expected}
}

// isNotDatabase reports whether err is SQLite's error for a file that is
// not a database (SQLITE_NOTADB) or a damaged one (SQLITE_CORRUPT).
func isNotDatabase(err error) bool {
	var sqliteErr *sqlite.Error
	if !errors.As(err, &sqliteErr) {
		return false
	}
	code := sqliteErr.Code() & 0xff // the primary result code
	return code == sqlite3.SQLITE_NOTADB || code == sqlite3.SQLITE_CORRUPT
}
