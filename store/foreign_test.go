package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOpenForeignDatabase opens files that are not registrar stores, as
// a mistyped --store names them. Open must fail and leave their tables as
// they were, because a listing command must not write registrar tables
// into another program's database.
func TestOpenForeignDatabase(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// setup is the SQL that creates the foreign database, or "" for
		// an empty file.
		setup      string
		wantErr    error // a sentinel that the error wraps, or nil
		wantTables []string
	}{
		{"empty file", "", nil, []string{"cached_vouchers", "certificates", "enrollments",
			"expected_devices"}},
		{"unversioned tables", "CREATE TABLE notes (body TEXT)", ErrForeignSchema,
			[]string{"notes"}},
		{"versioned other tables", "CREATE TABLE status_reports (x TEXT); " +
			"PRAGMA user_version = 1", ErrNotRegistrarStore, []string{"status_reports"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "other.db")
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.setup != "" {
				execSQL(t, path, tt.setup)
			}
			s, err := Open(ctx, path)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Open = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantTables, tableNames(t, path)); diff != "" {
				t.Errorf("tables after Open (-want +got):\n%s", diff)
			}
		})
	}
}

// execSQL runs statements on the SQLite file at path without migrations.
func execSQL(t *testing.T, path, statements string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(statements); err != nil {
		t.Fatal(err)
	}
}

// tableNames returns the names of the tables in the SQLite file at path,
// sorted.
func tableNames(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' " +
		"AND name NOT LIKE 'sqlite_%' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}
