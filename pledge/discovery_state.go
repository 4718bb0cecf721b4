package pledge

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// EnrolledFile is the file in the output directory that records that the
// device is enrolled. While it exists the device does not bootstrap again
// (draft-pritikin-bootstrapping-keyinfrastructures-01, Section 4.1, step
// 5) and authenticates with EAP-TLS and its LDevID instead.
const EnrolledFile = "enrolled.json"

// ErrNotEnrolled means the output directory has no EnrolledFile.
var ErrNotEnrolled = errors.New("pledge: device is not enrolled")

// maxEnrolledFile caps the size of EnrolledFile that ReadEnrollment reads.
const maxEnrolledFile = 64 << 10

// Enrollment is the content of EnrolledFile.
type Enrollment struct {
	// EnrolledAt is when the LDevID was written, in RFC 3339.
	EnrolledAt time.Time `json:"enrolled-at"`
	// Via describes the attempt that succeeded, such as
	// "802.1X on eth0 through 02:00:00:00:00:20".
	Via string `json:"via"`
	// Serial is the LDevID's certificate serial number in hex.
	Serial string `json:"ldevid-serial"`
}

// WriteEnrollment writes the identity of r with WriteFiles and then
// EnrolledFile, so the record exists only when the identity does.
func WriteEnrollment(dir string, r *Result, via Attempt, now time.Time) error {
	if err := r.WriteFiles(dir); err != nil {
		return err
	}
	b, err := json.MarshalIndent(Enrollment{EnrolledAt: now.UTC(), Via: via.String(),
		Serial: r.LDevID.SerialNumber.Text(16)}, "", "  ")
	if err != nil {
		return fmt.Errorf("pledge: encode %s: %w", EnrolledFile, err)
	}
	return writeFileAtomic(filepath.Join(dir, EnrolledFile), append(b, '\n'), 0o644)
}

// ReadEnrollment reads EnrolledFile from dir. It returns an error wrapping
// ErrNotEnrolled when the file does not exist.
func ReadEnrollment(dir string) (*Enrollment, error) {
	path := filepath.Join(dir, EnrolledFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNotEnrolled, path)
	}
	if err != nil {
		return nil, fmt.Errorf("pledge: read %s: %w", path, err)
	}
	return parseEnrollment(b, path)
}

func parseEnrollment(b []byte, path string) (*Enrollment, error) {
	if len(b) > maxEnrolledFile {
		return nil, fmt.Errorf("pledge: %s is larger than %d octets; remove it with "+
			"brski pledge --reset", path, maxEnrolledFile)
	}
	var e Enrollment
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("pledge: %s is invalid; remove it with brski pledge --reset: %w",
			path, err)
	}
	return &e, nil
}

// ResetEnrollment removes EnrolledFile from dir, so that the device
// bootstraps again. The LDevID files stay until the next enrollment
// replaces them. A missing file is not an error.
func ResetEnrollment(dir string) error {
	err := os.Remove(filepath.Join(dir, EnrolledFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pledge: reset enrollment: %w", err)
	}
	return nil
}

// LoadLDevID reads the LDevID, its key and the domain CAs that WriteFiles
// wrote to dir, for EAP-TLS.
func LoadLDevID(dir string) (tls.Certificate, *x509.CertPool, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, LDevIDFile),
		filepath.Join(dir, LDevIDKeyFile))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("pledge: load LDevID from %s: %w", dir, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, DomainCAFile))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("pledge: load domain CAs: %w", err)
	}
	pool := x509.NewCertPool()
	for block, rest := pem.Decode(b); block != nil; block, rest = pem.Decode(rest) {
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return tls.Certificate{}, nil, fmt.Errorf("pledge: parse %s: %w", DomainCAFile, err)
		}
		pool.AddCert(c)
	}
	return cert, pool, nil
}
