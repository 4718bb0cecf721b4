package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Certificate is an LDevID that the registrar issued.
type Certificate struct {
	SerialNumber *big.Int
	Subject      string // the subject as a distinguished name string
	DeviceSerial string

	// Fingerprint is the SHA-256 of the DER certificate, in hex. Lookups
	// ignore case.
	Fingerprint string

	NotAfter time.Time

	// Issued is when the certificate was stored. Zero means now.
	Issued time.Time

	// Revoked is the time of revocation, or zero while the certificate is
	// valid.
	Revoked time.Time
}

// IsRevoked reports whether c was revoked.
func (c Certificate) IsRevoked() bool { return !c.Revoked.IsZero() }

const certificateColumns = `serial_number, subject, device_serial, fingerprint, not_after,
	issued_at, revoked_at`

// AddCertificate stores c. It returns an error wrapping ErrExists when the
// serial number or the fingerprint is stored already.
func (s *Store) AddCertificate(ctx context.Context, c Certificate) error {
	return s.addCertificate(ctx, s.st.addCertificate, c)
}

// addCertificate runs the prepared insert stmt, which may belong to a
// transaction, for c.
func (s *Store) addCertificate(ctx context.Context, stmt *sql.Stmt, c Certificate) error {
	if err := s.checkWritable("add certificate"); err != nil {
		return err
	}
	if c.SerialNumber == nil || c.Fingerprint == "" {
		return fmt.Errorf("store: certificate for %q needs a serial number and a fingerprint",
			c.DeviceSerial)
	}
	res, err := stmt.ExecContext(ctx, formatSerial(c.SerialNumber), c.Subject, c.DeviceSerial, strings.ToLower(c.Fingerprint),
		formatTime(c.NotAfter), formatTime(s.orNow(c.Issued)), formatTime(c.Revoked))
	if err != nil {
		return fmt.Errorf("store: add certificate %s: %w", formatSerial(c.SerialNumber), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: add certificate %s: %w", formatSerial(c.SerialNumber), err)
	}
	if n == 0 {
		return fmt.Errorf("store: certificate %s or fingerprint %s: %w",
			formatSerial(c.SerialNumber), c.Fingerprint, ErrExists)
	}
	return nil
}

// AddEnrollmentCertificate stores c and records it as the certificate of
// enrollment id in one transaction, so that one commit makes both durable.
// It returns an error wrapping ErrExists as AddCertificate does, and one
// wrapping ErrNotFound for an unknown id, and then stores neither.
func (s *Store) AddEnrollmentCertificate(ctx context.Context, id int64, c Certificate) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: enrollment %d: add certificate: %w", id, err)
	}
	defer tx.Rollback()
	if err := s.addCertificate(ctx, tx.StmtContext(ctx, s.st.addCertificate), c); err != nil {
		return err
	}
	res, err := tx.StmtContext(ctx, s.st.setEnrollmentCertificate).ExecContext(ctx,
		formatSerial(c.SerialNumber), id)
	if err != nil {
		return fmt.Errorf("store: enrollment %d: set certificate: %w", id, err)
	}
	if err := checkAffected(res, fmt.Sprintf("enrollment %d", id)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: enrollment %d: add certificate: %w", id, err)
	}
	return nil
}

// CertificateBySerial returns the certificate with serial number serial,
// or an error wrapping ErrNotFound.
func (s *Store) CertificateBySerial(ctx context.Context, serial *big.Int) (Certificate,
	error) {
	return s.certificate(ctx, s.st.certificateBySerial, "serial_number",
		formatSerial(serial))
}

// CertificateByFingerprint returns the certificate whose SHA-256
// fingerprint is fingerprint in hex, or an error wrapping ErrNotFound.
func (s *Store) CertificateByFingerprint(ctx context.Context, fingerprint string) (Certificate,
	error) {
	return s.certificate(ctx, s.st.certificateByFingerprint, "fingerprint",
		strings.ToLower(fingerprint))
}

// certificate looks a certificate up with stmt, which selects by column.
func (s *Store) certificate(ctx context.Context, stmt *sql.Stmt, column, value string) (
	Certificate, error) {
	row := stmt.QueryRowContext(ctx, value)
	c, err := scanCertificate(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Certificate{}, fmt.Errorf("store: certificate with %s %s: %w", column, value,
			ErrNotFound)
	}
	if err != nil {
		return Certificate{}, fmt.Errorf("store: certificate with %s %s: %w", column, value, err)
	}
	return c, nil
}

// IssuedCertificate is a certificate together with the expected-devices
// entry of its device, as CertificateWithDevice reads them.
type IssuedCertificate struct {
	Certificate
	// Expected is the entry of Certificate.DeviceSerial in the
	// expected-devices list, valid when IsExpected is true.
	Expected   ExpectedDevice
	IsExpected bool
}

// CertificateWithDevice returns the certificate with serial number serial
// and the expected-devices entry of its device, read in one query, as an
// EAP-TLS server needs both for every authentication. It returns an error
// wrapping ErrNotFound when no certificate has that serial.
func (s *Store) CertificateWithDevice(ctx context.Context, serial *big.Int) (
	IssuedCertificate, error) {
	value := formatSerial(serial)
	var ic IssuedCertificate
	var eSerial, eManufacturer, eTags, eAdded sql.NullString
	c, err := scanCertificate(rowWith(s.st.certificateWithDevice.QueryRowContext(ctx, value),
		&eSerial, &eManufacturer, &eTags, &eAdded))
	if errors.Is(err, sql.ErrNoRows) {
		return ic, fmt.Errorf("store: certificate with serial_number %s: %w", value,
			ErrNotFound)
	}
	if err == nil && eSerial.Valid {
		ic.Expected, err = expectedDeviceOf(eSerial.String, eManufacturer.String,
			eTags.String, eAdded.String)
		ic.IsExpected = err == nil
	}
	if err != nil {
		return ic, fmt.Errorf("store: certificate with serial_number %s: %w", value, err)
	}
	ic.Certificate = c
	return ic, nil
}

// rowWith is a scanner that scans row into the destinations of each Scan
// call followed by extra.
func rowWith(row scanner, extra ...any) scanner {
	return extraScanner{row: row, extra: extra}
}

type extraScanner struct {
	row   scanner
	extra []any
}

func (e extraScanner) Scan(dest ...any) error {
	return e.row.Scan(append(dest, e.extra...)...)
}

// CertificatesOfDevice returns the certificates issued to deviceSerial,
// oldest first.
func (s *Store) CertificatesOfDevice(ctx context.Context, deviceSerial string) ([]Certificate,
	error) {
	list, err := queryAll(ctx, s.st.certificatesOfDevice, scanCertificate, deviceSerial)
	if err != nil {
		return nil, fmt.Errorf("store: certificates of %q: %w", deviceSerial, err)
	}
	return list, nil
}

// RevokeCertificate marks the certificate with serial number serial as
// revoked at the time at, or now when at is zero. Revoking a revoked
// certificate keeps the first time. It returns an error wrapping
// ErrNotFound for an unknown serial number.
func (s *Store) RevokeCertificate(ctx context.Context, serial *big.Int, at time.Time) error {
	if err := s.checkWritable("revoke certificate"); err != nil {
		return err
	}
	res, err := s.st.revokeCertificate.ExecContext(ctx, formatTime(s.orNow(at)), formatSerial(serial))
	if err != nil {
		return fmt.Errorf("store: revoke certificate %s: %w", formatSerial(serial), err)
	}
	return checkAffected(res, "certificate "+formatSerial(serial))
}

func scanCertificate(row scanner) (Certificate, error) {
	var c Certificate
	var serial, notAfter, issued, revoked string
	err := row.Scan(&serial, &c.Subject, &c.DeviceSerial, &c.Fingerprint, &notAfter, &issued,
		&revoked)
	if err != nil {
		return Certificate{}, err
	}
	if c.SerialNumber, err = parseSerial(serial); err != nil {
		return Certificate{}, err
	}
	for _, f := range []struct {
		text string
		dst  *time.Time
	}{{notAfter, &c.NotAfter}, {issued, &c.Issued}, {revoked, &c.Revoked}} {
		if *f.dst, err = parseTime(f.text); err != nil {
			return Certificate{}, err
		}
	}
	return c, nil
}
