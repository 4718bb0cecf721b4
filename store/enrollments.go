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

// Enrollment is the record of one bootstrapping attempt: who the pledge
// was, what the MASA returned and what the policy decided. The registrar
// records it before it replies, so no decision is lost in a crash.
type Enrollment struct {
	// ID is assigned by RecordEnrollment.
	ID int64

	// Time is when the decision was made. Zero means now.
	Time time.Time

	DeviceSerial      string
	Manufacturer      string
	IDevIDFingerprint string // SHA-256 of the IDevID, in hex

	// Voucher is the voucher as the pledge received it, or nil.
	Voucher []byte

	// AuditLog is a one-line summary of the MASA audit log.
	AuditLog string

	// Rule, Outcome and Reason are the policy decision. Modes lists the
	// reduced-security modes that it relied on.
	Rule    string
	Outcome string
	Reason  string
	Modes   []string

	// CertificateSerial is the serial number of the LDevID issued in this
	// enrollment, or nil before one is issued.
	CertificateSerial *big.Int
}

const enrollmentColumns = `id, time, device_serial, manufacturer, idevid_fingerprint, voucher,
	audit_log, policy_rule, outcome, reason, modes, certificate_serial`

// RecordEnrollment stores e and returns its ID. The row is on disk when
// RecordEnrollment returns.
func (s *Store) RecordEnrollment(ctx context.Context, e Enrollment) (int64, error) {
	if err := s.checkWritable("record enrollment"); err != nil {
		return 0, err
	}
	if e.Outcome == "" {
		return 0, fmt.Errorf("store: enrollment of %q has no outcome", e.DeviceSerial)
	}
	res, err := s.st.recordEnrollment.ExecContext(ctx, formatTime(s.orNow(e.Time)), e.DeviceSerial, e.Manufacturer,
		strings.ToLower(e.IDevIDFingerprint), e.Voucher, e.AuditLog, e.Rule, e.Outcome,
		e.Reason, strings.Join(e.Modes, ","), formatSerial(e.CertificateSerial))
	if err != nil {
		return 0, fmt.Errorf("store: record enrollment of %q: %w", e.DeviceSerial, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: record enrollment of %q: %w", e.DeviceSerial, err)
	}
	return id, nil
}

// SetEnrollmentCertificate records the serial number of the certificate
// that enrollment id issued. It returns an error wrapping ErrNotFound for
// an unknown id.
func (s *Store) SetEnrollmentCertificate(ctx context.Context, id int64,
	serial *big.Int) error {
	if err := s.checkWritable("set enrollment certificate"); err != nil {
		return err
	}
	if serial == nil {
		return fmt.Errorf("store: enrollment %d: certificate serial is nil", id)
	}
	res, err := s.st.setEnrollmentCertificate.ExecContext(ctx, formatSerial(serial), id)
	if err != nil {
		return fmt.Errorf("store: enrollment %d: set certificate: %w", id, err)
	}
	return checkAffected(res, fmt.Sprintf("enrollment %d", id))
}

// Enrollment returns the enrollment with id, or an error wrapping
// ErrNotFound.
func (s *Store) Enrollment(ctx context.Context, id int64) (Enrollment, error) {
	row := s.st.enrollment.QueryRowContext(ctx, id)
	e, err := scanEnrollment(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Enrollment{}, fmt.Errorf("store: enrollment %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Enrollment{}, fmt.Errorf("store: enrollment %d: %w", id, err)
	}
	return e, nil
}

// Enrollments returns the enrollments of the device with deviceSerial,
// oldest first.
func (s *Store) Enrollments(ctx context.Context, deviceSerial string) ([]Enrollment, error) {
	list, err := queryAll(ctx, s.st.enrollments, scanEnrollment, deviceSerial)
	if err != nil {
		return nil, fmt.Errorf("store: enrollments of %q: %w", deviceSerial, err)
	}
	return list, nil
}

func scanEnrollment(row scanner) (Enrollment, error) {
	var e Enrollment
	var when, modes, certSerial string
	err := row.Scan(&e.ID, &when, &e.DeviceSerial, &e.Manufacturer, &e.IDevIDFingerprint,
		&e.Voucher, &e.AuditLog, &e.Rule, &e.Outcome, &e.Reason, &modes, &certSerial)
	if err != nil {
		return Enrollment{}, err
	}
	if e.Time, err = parseTime(when); err != nil {
		return Enrollment{}, err
	}
	if modes != "" {
		e.Modes = strings.Split(modes, ",")
	}
	if e.CertificateSerial, err = parseSerial(certSerial); err != nil {
		return Enrollment{}, err
	}
	return e, nil
}

// formatSerial returns a certificate serial number as lower-case hex, or
// "" for nil.
func formatSerial(n *big.Int) string {
	if n == nil {
		return ""
	}
	return n.Text(16)
}

func parseSerial(s string) (*big.Int, error) {
	if s == "" {
		return nil, nil
	}
	n, ok := new(big.Int).SetString(s, 16)
	if !ok {
		return nil, fmt.Errorf("store: invalid stored certificate serial %q", s)
	}
	return n, nil
}
