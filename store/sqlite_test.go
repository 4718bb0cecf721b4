package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOpenDBMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "test.db")
	v1 := []Migration{{Name: "create", SQL: "CREATE TABLE a (x INTEGER)"}}
	db, err := OpenDB(ctx, path, v1)
	if err != nil {
		t.Fatalf("OpenDB: %v", err)
	}
	if _, err := db.Exec("INSERT INTO a VALUES (1)"); err != nil {
		t.Fatalf("insert: %v", err)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	db.Close()

	v2 := append(v1, Migration{Name: "add b", SQL: "CREATE TABLE b (y TEXT)"})
	db, err = OpenDB(ctx, path, v2)
	if err != nil {
		t.Fatalf("OpenDB v2: %v", err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM a").Scan(&n); err != nil || n != 1 {
		t.Errorf("rows in a after migration = %d, %v; want 1", n, err)
	}
	var version int
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != 2 {
		t.Errorf("user_version = %d, %v; want 2", version, err)
	}
	db.Close()

	if _, err := OpenDB(ctx, path, v1); err == nil {
		t.Error("OpenDB with older migrations succeeded; want an error")
	}
}

func TestOpenDBSyncSetting(t *testing.T) {
	ctx := context.Background()
	migrations := []Migration{{Name: "create", SQL: "CREATE TABLE a (x INTEGER)"}}
	tests := []struct {
		name string
		sync Synchronous
		want int // PRAGMA synchronous: 1 is NORMAL, 2 is FULL
	}{
		{"full", SyncFull, 2},
		{"normal", SyncNormal, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := OpenDBSync(ctx, filepath.Join(t.TempDir(), "test.db"), migrations,
				tt.sync)
			if err != nil {
				t.Fatalf("OpenDBSync: %v", err)
			}
			defer db.Close()
			// Two connections at once: the setting must hold for every
			// connection of the pool, not only the first.
			for i := range 2 {
				conn, err := db.Conn(ctx)
				if err != nil {
					t.Fatalf("Conn: %v", err)
				}
				defer conn.Close()
				var got int
				if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&got); err != nil {
					t.Fatalf("PRAGMA synchronous: %v", err)
				}
				if got != tt.want {
					t.Errorf("connection %d: synchronous = %d, want %d", i, got, tt.want)
				}
			}
		})
	}
}

func TestOpenDBSyncRejectsUnknownSetting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := OpenDBSync(context.Background(), path, nil, "OFF")
	if err == nil {
		db.Close()
		t.Fatal("OpenDBSync with OFF succeeded; want an error")
	}
	if _, statErr := os.Stat(path); !errors.Is(statErr, fs.ErrNotExist) {
		t.Errorf("OpenDBSync with OFF created %s (stat: %v); want no file", path, statErr)
	}
}

func TestOpenDBPathCharacters(t *testing.T) {
	ctx := context.Background()
	migrations := []Migration{{Name: "create", SQL: "CREATE TABLE a (x INTEGER)"}}
	// Each directory name contains a character that a "file:" URI reads
	// as the start of the query, a fragment or an escape.
	for _, dir := range []string{"lab?x", "lab#x", "lab%3Fx", "lab%x", "lab x", "lab&mode=ro"} {
		t.Run(dir, func(t *testing.T) {
			base := t.TempDir()
			path := filepath.Join(base, dir, "test.db")
			db, err := OpenDB(ctx, path, migrations)
			if err != nil {
				t.Fatalf("OpenDB(%q): %v", path, err)
			}
			defer db.Close()
			if _, err := db.Exec("INSERT INTO a VALUES (1)"); err != nil {
				t.Fatalf("insert: %v", err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("database file: %v; want it at %s", err, path)
			}
			entries, err := os.ReadDir(base)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if diff := cmp.Diff([]string{dir}, names); diff != "" {
				t.Errorf("entries of the parent directory (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenDBDoubleSlashPath(t *testing.T) {
	ctx := context.Background()
	migrations := []Migration{{Name: "create", SQL: "CREATE TABLE a (x INTEGER)"}}
	// "file://x/y" names the host x, so a path of "//x/y" must not become one.
	path := "/" + filepath.Join(t.TempDir(), "test.db")
	db, err := OpenDB(ctx, path, migrations)
	if err != nil {
		t.Fatalf("OpenDB(%q): %v", path, err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file: %v; want it at %s", err, path)
	}
}
