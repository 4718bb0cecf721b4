package pledge

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/brski-eap/brski/internal/syncfile"
)

// Files that Result.WriteFiles writes.
const (
	LDevIDFile    = "ldevid.pem"     // the LDevID followed by the rest of its chain
	LDevIDKeyFile = "ldevid-key.pem" // the LDevID private key, PKCS #8, mode 0600
	DomainCAFile  = "domain-ca.pem"  // the EST CA certificates
)

// keyFileMode is the permission of the private key file.
const keyFileMode os.FileMode = 0o600

// WriteFiles writes the enrolled identity to dir as LDevIDFile,
// LDevIDKeyFile and DomainCAFile, creating dir if needed. Each file is
// written to a temporary file and renamed, so a reader never sees a partial
// file. The key file has mode 0600, which WriteFiles checks after writing.
func (r *Result) WriteFiles(dir string) error {
	if r.LDevID == nil || r.Key == nil {
		return errors.New("pledge: result has no LDevID or key to write")
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(r.Key)
	if err != nil {
		return fmt.Errorf("pledge: encode LDevID key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("pledge: create output directory: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	keyPath := filepath.Join(dir, LDevIDKeyFile)
	if err := writeFileAtomic(keyPath, keyPEM, keyFileMode); err != nil {
		return err
	}
	if err := checkMode(keyPath, keyFileMode); err != nil {
		return err
	}
	chain := append([]*x509.Certificate{r.LDevID}, r.Chain...)
	if err := writeFileAtomic(filepath.Join(dir, LDevIDFile), encodeCerts(chain),
		0o644); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, DomainCAFile), encodeCerts(r.DomainCAs), 0o644)
}

func encodeCerts(certs []*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		buf.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	return buf.Bytes()
}

// writeFileAtomic writes data to path with mode perm through a synced
// temporary file, so a crash leaves the old file or the new one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := syncfile.WriteAtomic(path, data, perm); err != nil {
		return fmt.Errorf("pledge: %w", err)
	}
	return nil
}

// checkMode verifies that the file at path has exactly the permission bits
// perm.
func checkMode(path string, perm os.FileMode) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("pledge: check %s: %w", path, err)
	}
	if got := fi.Mode().Perm(); got != perm {
		return fmt.Errorf("pledge: %s has mode %04o, expected %04o", path, got, perm)
	}
	return nil
}
