package registrar

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"time"

	"github.com/brski-eap/brski/store"
)

// Files of the SQL store in the data directory.
const (
	StoreFile     = "registrar.db"
	TelemetryFile = "telemetry.db"
)

// telemetryMigrations is the schema of the status telemetry database.
var telemetryMigrations = []store.Migration{
	{Name: "status reports", SQL: `
CREATE TABLE status_reports (
	id            INTEGER PRIMARY KEY,
	time          TEXT NOT NULL,
	kind          TEXT NOT NULL,
	device_serial TEXT NOT NULL,
	fingerprint   TEXT NOT NULL,
	authenticated INTEGER NOT NULL,
	version       INTEGER NOT NULL,
	status        INTEGER NOT NULL,
	reason        TEXT NOT NULL,
	body          BLOB NOT NULL
);
CREATE INDEX status_reports_device ON status_reports (device_serial, time);
`},
}

// SQLStore is the Store of a running registrar: the registrar tables of
// package store and a telemetry database for status reports, both SQLite
// files in the data directory. The telemetry database commits with
// store.SyncNormal, which saves an fsync per status report: a report
// survives a crash or kill of the process, but a power loss can drop the
// latest reports. Decisions and certificates commit with store.SyncFull.
type SQLStore struct {
	// DB is the store of expected devices, decisions, cached vouchers and
	// certificates, for other tools that manage it.
	DB        *store.Store
	telemetry *sql.DB
	addStatus *sql.Stmt // prepared once, because every bootstrap reports twice
}

const sqlAddStatus = `INSERT INTO status_reports (time, kind, device_serial, fingerprint,
	authenticated, version, status, reason, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

var _ Store = (*SQLStore)(nil)

// OpenStore opens or creates StoreFile and TelemetryFile in dir.
func OpenStore(ctx context.Context, dir string) (*SQLStore, error) {
	db, err := store.Open(ctx, filepath.Join(dir, StoreFile))
	if err != nil {
		return nil, fmt.Errorf("registrar: %w", err)
	}
	tdb, err := store.OpenDBSync(ctx, filepath.Join(dir, TelemetryFile), telemetryMigrations,
		store.SyncNormal)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("registrar: %w", err)
	}
	addStatus, err := tdb.PrepareContext(ctx, sqlAddStatus)
	if err != nil {
		tdb.Close()
		db.Close()
		return nil, fmt.Errorf("registrar: %s: prepare statement: %w", TelemetryFile, err)
	}
	return &SQLStore{DB: db, telemetry: tdb, addStatus: addStatus}, nil
}

// Close closes both databases.
func (s *SQLStore) Close() error {
	return errors.Join(s.addStatus.Close(), s.DB.Close(), s.telemetry.Close())
}

// detach returns ctx without its cancellation and deadline. For a context
// that can end, database/sql and modernc.org/sqlite v1.62 start a goroutine
// per statement, query or transaction to watch it, about 1 % of the
// registrar's CPU per bootstrap in perf (docs/benchmarks.md). SQLite's
// busy_timeout of 5 s (see store.OpenDB) still bounds a wait for a lock,
// and a write that began is not cut off when the pledge goes away.
func detach(ctx context.Context) context.Context {
	return context.WithoutCancel(ctx)
}

// ExpectedDevice implements Store.
func (s *SQLStore) ExpectedDevice(ctx context.Context, serial string) (ExpectedDevice, error) {
	d, err := s.DB.ExpectedDevice(detach(ctx), serial)
	if errors.Is(err, store.ErrNotFound) {
		return ExpectedDevice{}, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if err != nil {
		return ExpectedDevice{}, err
	}
	return ExpectedDevice{Serial: d.Serial, Tags: d.Tags}, nil
}

// CachedVoucher implements Store. An expired voucher counts as absent.
func (s *SQLStore) CachedVoucher(ctx context.Context, serial string) ([]byte, error) {
	v, err := s.DB.CachedVoucher(detach(ctx), serial, time.Now())
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExpired) {
		return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	return v.Voucher, nil
}

// RecordDecision implements Store.
func (s *SQLStore) RecordDecision(ctx context.Context, d DecisionRecord) (int64, error) {
	return s.DB.RecordEnrollment(detach(ctx), store.Enrollment{
		Time:              d.Time,
		DeviceSerial:      d.DeviceSerial,
		Manufacturer:      d.Manufacturer,
		IDevIDFingerprint: d.IDevIDFingerprint,
		Voucher:           d.Voucher,
		AuditLog:          d.AuditSummary,
		Rule:              d.Rule,
		Outcome:           d.Outcome,
		Reason:            d.Reason,
		Modes:             d.Modes,
	})
}

// RecordCertificate implements Store. The certificate row and the link to
// the decision are one commit, done before the reply.
func (s *SQLStore) RecordCertificate(ctx context.Context, c IssuedCertificate) error {
	serial, ok := new(big.Int).SetString(c.Serial, 16)
	if !ok {
		return fmt.Errorf("registrar: certificate serial %q is not hex", c.Serial)
	}
	cert := store.Certificate{SerialNumber: serial, Subject: c.Subject,
		DeviceSerial: c.DeviceSerial, Fingerprint: c.Fingerprint, NotAfter: c.NotAfter}
	if c.DecisionID == 0 {
		return s.DB.AddCertificate(detach(ctx), cert)
	}
	return s.DB.AddEnrollmentCertificate(detach(ctx), c.DecisionID, cert)
}

// IssuedCertificate implements Store. The IDevID fingerprint and the
// decision are not stored with the certificate, so they are empty.
func (s *SQLStore) IssuedCertificate(ctx context.Context, serial string) (IssuedCertificate,
	error) {
	n, ok := new(big.Int).SetString(serial, 16)
	if !ok {
		return IssuedCertificate{}, fmt.Errorf("%w: serial %q is not hex", ErrNotFound, serial)
	}
	c, err := s.DB.CertificateBySerial(detach(ctx), n)
	if errors.Is(err, store.ErrNotFound) {
		return IssuedCertificate{}, fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if err != nil {
		return IssuedCertificate{}, err
	}
	return IssuedCertificate{Serial: serial, Subject: c.Subject, DeviceSerial: c.DeviceSerial,
		Fingerprint: c.Fingerprint, NotAfter: c.NotAfter, Revoked: c.IsRevoked()}, nil
}

// RecordStatus implements Store.
func (s *SQLStore) RecordStatus(ctx context.Context, r StatusReport) error {
	_, err := s.addStatus.ExecContext(detach(ctx), r.Time.UTC().Format(time.RFC3339Nano),
		r.Kind, r.DeviceSerial, r.Fingerprint, r.Authenticated, r.Version, r.Status,
		r.Reason, r.Raw)
	if err != nil {
		return fmt.Errorf("registrar: record %s status of %q: %w", r.Kind, r.DeviceSerial, err)
	}
	return nil
}
