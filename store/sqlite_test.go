package store

import (
	"context"
	"path/filepath"
	"testing"
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
