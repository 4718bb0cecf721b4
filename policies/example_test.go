package policies

import (
	"path/filepath"
	"testing"
)

func TestLoadExamples(t *testing.T) {
	paths, err := filepath.Glob("../examples/policy*.hcl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no example policies found: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if _, err := LoadFiles(path); err != nil {
				t.Fatalf("LoadFiles: %v", err)
			}
		})
	}
}
