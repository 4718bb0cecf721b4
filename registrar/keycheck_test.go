package registrar

import (
	"errors"
	"strings"
	"testing"

	"github.com/brski-eap/brski/internal/testkeys"
)

// TestLoadNamesKeyType checks that an unsupported key is rejected with the
// file and a readable key type, for the domain CA and the registrar
// certificate alike.
func TestLoadNamesKeyType(t *testing.T) {
	tests := []struct {
		name    string
		caKind  string
		leafKey string // "": only the CA is loaded
	}{
		{"Ed25519 CA", "Ed25519", ""},
		{"Ed25519 registrar", "P-384", "Ed25519"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			certFile, keyFile := writeExternalCA(t, dir, testkeys.New(t, tt.caKind))
			ca, err := LoadDomainCA(certFile, keyFile)
			if tt.leafKey != "" {
				if err != nil {
					t.Fatalf("LoadDomainCA: %v", err)
				}
				certFile, keyFile = writeRegistrarCert(t, dir, ca, testkeys.New(t, tt.leafKey))
				_, err = LoadRegistrarCert(certFile, keyFile)
			}
			if !errors.Is(err, ErrUnsupportedKey) {
				t.Fatalf("error = %v, want ErrUnsupportedKey", err)
			}
			for _, want := range []string{certFile, "an Ed25519 key", "ECDSA P-256"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}
