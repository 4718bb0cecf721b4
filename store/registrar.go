package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors that callers branch on. Errors of the Store wrap them
// together with the value that was not found or already exists.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrExpired  = errors.New("expired")
)

// registrarMigrations is the schema of the registrar store. Times are
// stored as text in timeLayout, so that they sort as they compare.
var registrarMigrations = []Migration{
	{Name: "registrar tables", SQL: `
CREATE TABLE expected_devices (
	serial       TEXT PRIMARY KEY,
	manufacturer TEXT NOT NULL,
	tags         TEXT NOT NULL,
	added_at     TEXT NOT NULL
);
CREATE TABLE enrollments (
	id                 INTEGER PRIMARY KEY,
	time               TEXT NOT NULL,
	device_serial      TEXT NOT NULL,
	manufacturer       TEXT NOT NULL,
	idevid_fingerprint TEXT NOT NULL,
	voucher            BLOB,
	audit_log          TEXT NOT NULL,
	policy_rule        TEXT NOT NULL,
	outcome            TEXT NOT NULL,
	reason             TEXT NOT NULL,
	modes              TEXT NOT NULL,
	certificate_serial TEXT NOT NULL
);
CREATE INDEX enrollments_device ON enrollments (device_serial, time);
CREATE TABLE cached_vouchers (
	device_serial TEXT PRIMARY KEY,
	voucher       BLOB NOT NULL,
	expires_at    TEXT NOT NULL,
	added_at      TEXT NOT NULL
);
CREATE TABLE certificates (
	serial_number TEXT PRIMARY KEY,
	subject       TEXT NOT NULL,
	device_serial TEXT NOT NULL,
	fingerprint   TEXT NOT NULL UNIQUE,
	not_after     TEXT NOT NULL,
	issued_at     TEXT NOT NULL,
	revoked_at    TEXT NOT NULL
);
CREATE INDEX certificates_device ON certificates (device_serial);
`},
}

// timeLayout is RFC 3339 in UTC with a fixed nine-digit fraction.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// Store is the registrar's durable state: expected devices, enrollment
// decisions, cached nonceless vouchers and issued certificates. Every
// write is committed with synchronous=FULL before its method returns, so
// it survives a crash of the process. A Store is safe for concurrent use.
type Store struct {
	db       *sql.DB
	st       *statements
	now      func() time.Time // fills times that a record leaves zero
	readOnly bool             // set by OpenReadOnly; see checkWritable
}

// Open opens or creates the registrar store at path, such as
// "data/registrar.db", and brings its schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := OpenDB(ctx, path, registrarMigrations)
	if err != nil {
		return nil, err
	}
	return newStore(ctx, db, path)
}

// newStore prepares the statements of the registrar store on db, the
// database at path. It closes db when that fails.
func newStore(ctx context.Context, db *sql.DB, path string) (*Store, error) {
	st, err := prepareStatements(ctx, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w: %w", path, ErrNotRegistrarStore, err)
	}
	return &Store{db: db, st: st, now: time.Now}, nil
}

// ErrNotRegistrarStore is wrapped by the error of Open and OpenReadOnly
// for a versioned database whose tables are not those of the registrar
// store, such as the MASA's or the telemetry database.
var ErrNotRegistrarStore = errors.New("not a registrar store; pass the registrar's data " +
	"directory or its registrar.db")

// Close closes the prepared statements and the database.
func (s *Store) Close() error {
	return errors.Join(s.st.close(), s.db.Close())
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: invalid stored time %q: %w", s, err)
	}
	return t, nil
}

// orNow returns t, or the store's current time when t is zero.
func (s *Store) orNow(t time.Time) time.Time {
	if t.IsZero() {
		return s.now().UTC()
	}
	return t.UTC()
}

// queryAll runs the prepared query stmt with args and scans every row with
// scan.
func queryAll[T any](ctx context.Context, stmt *sql.Stmt, scan func(scanner) (T, error),
	args ...any) ([]T, error) {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return list, rows.Err()
}
