package main

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestTuneRegistrarGC(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})

	t.Run("defaults", func(t *testing.T) {
		unsetEnv(t, "GOGC")
		unsetEnv(t, "GOMEMLIMIT")
		percent, limit := tuneRegistrarGC()
		if percent != registrarGCPercent || limit != registrarMemoryLimit {
			t.Errorf("settings = %d, %d; want %d, %d", percent, limit, registrarGCPercent,
				registrarMemoryLimit)
		}
	})
	t.Run("environment wins", func(t *testing.T) {
		// The runtime reads GOGC and GOMEMLIMIT at start. A set variable
		// only makes tuneRegistrarGC leave the current values alone.
		t.Setenv("GOGC", "150")
		t.Setenv("GOMEMLIMIT", "512MiB")
		debug.SetGCPercent(150)
		debug.SetMemoryLimit(512 << 20)
		percent, limit := tuneRegistrarGC()
		if percent != 150 || limit != 512<<20 {
			t.Errorf("settings = %d, %d; want 150, %d", percent, limit, 512<<20)
		}
	})
}

// unsetEnv removes key from the environment for the rest of the test.
func unsetEnv(t *testing.T, key string) {
	t.Helper()
	t.Setenv(key, "") // restores the old value at the end of the test
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
}
