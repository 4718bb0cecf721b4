// Package store keeps the project's durable state in embedded SQLite
// (modernc.org/sqlite, pure Go). Open applies versioned schema migrations and
// sets WAL mode with full synchronous commits, so a row is on disk before the
// statement that wrote it returns.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Migration is one step of a schema. Migrations run in slice order, and
// their index plus one is the schema version that PRAGMA user_version stores.
// A released migration must never change, only new ones appended.
type Migration struct {
	Name string
	SQL  string
}

// maxIdleConns is how many pooled connections stay open between uses.
// database/sql keeps two by default, so that concurrent handshakes closed
// and reopened connections, and each new connection opened the file, set
// its pragmas and prepared its statements again.
const maxIdleConns = 8

// Synchronous is the SQLite synchronous setting of a database in WAL mode
// (https://sqlite.org/pragma.html#pragma_synchronous).
type Synchronous string

const (
	// SyncFull syncs the write-ahead log in every commit, so a committed
	// row survives a power loss or an operating system crash.
	SyncFull Synchronous = "FULL"
	// SyncNormal writes every commit to the write-ahead log before the
	// commit returns, so a committed row survives a crash or kill of the
	// process. The log is synced only at checkpoints, so a power loss or an
	// operating system crash can roll back the latest commits.
	SyncNormal Synchronous = "NORMAL"
)

// OpenDB opens or creates the SQLite database at path, enables WAL mode,
// foreign keys and synchronous=FULL, and applies the migrations that the
// database has not seen yet. It refuses a database whose schema is newer than
// migrations, which means an older binary opened a newer store.
func OpenDB(ctx context.Context, path string, migrations []Migration) (*sql.DB, error) {
	return OpenDBSync(ctx, path, migrations, SyncFull)
}

// OpenDBSync is OpenDB with the synchronous setting sync in place of
// SyncFull. Use SyncNormal only for data whose loss in a power failure is
// acceptable, such as telemetry, and never for enrollment decisions.
func OpenDBSync(ctx context.Context, path string, migrations []Migration,
	sync Synchronous) (*sql.DB, error) {
	if sync != SyncFull && sync != SyncNormal {
		return nil, fmt.Errorf("store: %s: invalid synchronous setting %q; use %q or %q",
			path, sync, SyncFull, SyncNormal)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: create directory for %s: %w", path, err)
	}
	dsn := fileURI(path) + "?_pragma=journal_mode(WAL)&_pragma=synchronous(" +
		string(sync) + ")&_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxIdleConns(maxIdleConns)
	if err := migrate(ctx, db, migrations); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	return db, nil
}

// fileURI returns the SQLite "file:" URI of path
// (https://sqlite.org/uri.html). It escapes '%', '?' and '#', so a
// directory such as "lab?x" does not end the path early, and it cleans
// path, so a leading "//" does not make a URI authority.
func fileURI(path string) string {
	escaper := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + escaper.Replace(filepath.Clean(path))
}

// ErrForeignSchema is wrapped by the error of OpenDB and OpenReadOnly for
// a database that has tables but no schema version, such as another
// program's database. OpenDB then applies no migration, so the file stays
// unchanged.
var ErrForeignSchema = errors.New("the database has tables but no schema version, " +
	"so another program created it")

func migrate(ctx context.Context, db *sql.DB, migrations []Migration) error {
	version, err := readSchemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this program knows (%d); "+
			"run a newer brski, or check that the path names the right database",
			version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		m := migrations[i]
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", i+1, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d (%s): %w", i+1, m.Name, err)
		}
		// PRAGMA does not take bound parameters; i+1 is our own integer.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d (%s): %w", i+1, m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d (%s): %w", i+1, m.Name, err)
		}
	}
	return nil
}

// readSchemaVersion returns the schema version of db. Its error wraps
// ErrForeignSchema for version 0 when db has tables of its own.
func readSchemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if version == 0 {
		if err := checkNoTables(ctx, db); err != nil {
			return 0, err
		}
	}
	return version, nil
}

// checkNoTables returns an error wrapping ErrForeignSchema when db has
// any table of its own.
func checkNoTables(ctx context.Context, db *sql.DB) error {
	var name string
	err := db.QueryRowContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' "+
		"AND name NOT LIKE 'sqlite_%' LIMIT 1").Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	return fmt.Errorf("%w: it has table %q; pass the path of a database of this program",
		ErrForeignSchema, name)
}
