package masa

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/brski-eap/brski/internal/syncfile"
)

// writeFileExclusive creates path with mode perm and fails when it exists,
// so a factory never overwrites a key or certificate.
func writeFileExclusive(path string, data []byte, perm os.FileMode) error {
	if err := syncfile.WriteExclusive(path, data, perm); err != nil {
		return fmt.Errorf("masa: %w", err)
	}
	return nil
}

func writeCertPEM(path string, certs ...*x509.Certificate) error {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return writeFileExclusive(path, out, 0o644)
}

// writeKeyPEM writes key as a PKCS #8 PEM file with mode 0600 and checks the
// mode afterwards, because a file that other users can read leaks the key.
func writeKeyPEM(path string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("masa: marshal private key for %s: %w", path, err)
	}
	err = writeFileExclusive(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY",
		Bytes: der}), 0o600)
	if err != nil {
		return err
	}
	return checkKeyMode(path)
}

// checkKeyMode returns an error when a private key file is accessible to the
// group or to other users.
func checkKeyMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("masa: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("masa: private key %s has mode %04o; run chmod 600 %s",
			path, fi.Mode().Perm(), path)
	}
	return nil
}

// maxPEMFileBytes caps the PEM files that the factory and the MASA read.
const maxPEMFileBytes = 1 << 20

// readPEMFile reads a regular file of at most maxPEMFileBytes, so a
// configuration that names a device or a FIFO cannot block or exhaust memory.
func readPEMFile(path string) ([]byte, error) {
	// Stat before Open, because opening a FIFO blocks until it has a writer.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("masa: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("masa: %s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("masa: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPEMFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("masa: read %s: %w", path, err)
	}
	if len(data) > maxPEMFileBytes {
		return nil, fmt.Errorf("masa: %s is larger than %d bytes", path, maxPEMFileBytes)
	}
	return data, nil
}

// ReadCertificates reads every CERTIFICATE block of a PEM file.
func ReadCertificates(path string) ([]*x509.Certificate, error) {
	data, err := readPEMFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("masa: %s: invalid certificate: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("masa: %s contains no PEM CERTIFICATE block", path)
	}
	return certs, nil
}

// readKey reads a PKCS #8, SEC 1 EC or PKCS #1 private key PEM file after
// checking that only its owner can read it.
func readKey(path string) (crypto.Signer, error) {
	if err := checkKeyMode(path); err != nil {
		return nil, err
	}
	data, err := readPEMFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("masa: %s contains no PEM block", path)
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("masa: %s has PEM type %q, want a private key", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("masa: %s: invalid private key: %w", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("masa: " + path + ": private key cannot sign")
	}
	return signer, nil
}
