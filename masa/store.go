package masa

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/brski-eap/brski/store"
)

// migrations is the schema of the MASA database. Each row of vouchers is
// one issued voucher, which is what the audit log reports (RFC 8995,
// Section 5.8.1). Times are Unix nanoseconds in UTC.
var migrations = []store.Migration{
	{Name: "vouchers", SQL: `
CREATE TABLE vouchers (
	id                    INTEGER PRIMARY KEY,
	serial_number         TEXT NOT NULL,
	issued_at             INTEGER NOT NULL,
	expires_at            INTEGER,
	domain_id             BLOB NOT NULL,
	nonce                 TEXT,
	assertion             TEXT NOT NULL,
	registrar_fingerprint TEXT NOT NULL
);
CREATE INDEX vouchers_by_serial ON vouchers (serial_number, issued_at);
`},
	// The signed voucher is kept so that a repeated request for the same
	// serial number and nonce gets the same voucher back.
	{Name: "signed vouchers", SQL: `
ALTER TABLE vouchers ADD COLUMN signed BLOB;
CREATE INDEX vouchers_by_nonce ON vouchers (serial_number, nonce);
`},
}

// voucherRecord is one row of the vouchers table.
type voucherRecord struct {
	SerialNumber         string
	IssuedAt             time.Time
	ExpiresAt            time.Time // zero for a voucher without expires-on
	DomainID             []byte
	Nonce                *string
	Assertion            string
	RegistrarFingerprint string
	Signed               []byte // the CMS signed voucher as sent
}

func openStore(ctx context.Context, path string) (*sql.DB, error) {
	db, err := store.OpenDB(ctx, path, migrations)
	if err != nil {
		return nil, fmt.Errorf("masa: %w", err)
	}
	return db, nil
}

func insertVoucher(ctx context.Context, db *sql.DB, r voucherRecord) error {
	var expires sql.NullInt64
	if !r.ExpiresAt.IsZero() {
		expires = sql.NullInt64{Int64: r.ExpiresAt.UnixNano(), Valid: true}
	}
	_, err := db.ExecContext(ctx, `INSERT INTO vouchers (serial_number, issued_at,
		expires_at, domain_id, nonce, assertion, registrar_fingerprint, signed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.SerialNumber, r.IssuedAt.UnixNano(), expires,
		r.DomainID, r.Nonce, r.Assertion, r.RegistrarFingerprint, r.Signed)
	if err != nil {
		return fmt.Errorf("masa: log voucher for %q: %w", r.SerialNumber, err)
	}
	return nil
}

// issuedForNonce returns the domain ID and the signed voucher of the first
// voucher issued for serial with nonce, or nil values when there is none. A
// voucher stored before signed vouchers were kept has a nil signed value.
func issuedForNonce(ctx context.Context, db *sql.DB, serial, nonce string) (domainID,
	signed []byte, found bool, err error) {
	err = db.QueryRowContext(ctx, `SELECT domain_id, signed FROM vouchers
		WHERE serial_number = ? AND nonce = ? ORDER BY id LIMIT 1`, serial, nonce).
		Scan(&domainID, &signed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("masa: read voucher of %q by nonce: %w", serial, err)
	}
	return domainID, signed, true, nil
}

// lastIssued returns when the newest voucher for serial was issued, or the
// zero time when there is none.
func lastIssued(ctx context.Context, db *sql.DB, serial string) (time.Time, error) {
	var ns sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT MAX(issued_at) FROM vouchers
		WHERE serial_number = ?`, serial).Scan(&ns)
	if err != nil {
		return time.Time{}, fmt.Errorf("masa: read last voucher of %q: %w", serial, err)
	}
	if !ns.Valid {
		return time.Time{}, nil
	}
	return time.Unix(0, ns.Int64).UTC(), nil
}

// auditEvents returns the vouchers issued for serial, oldest first, capped
// at limit newest events, and the number of events left out.
func auditEvents(ctx context.Context, db *sql.DB, serial string,
	limit int) ([]AuditEvent, uint64, error) {
	var total uint64
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM vouchers WHERE serial_number = ?`,
		serial).Scan(&total)
	if err != nil {
		return nil, 0, fmt.Errorf("masa: count vouchers of %q: %w", serial, err)
	}
	rows, err := db.QueryContext(ctx, `SELECT issued_at, domain_id, nonce, assertion
		FROM (SELECT * FROM vouchers WHERE serial_number = ?
		      ORDER BY issued_at DESC, id DESC LIMIT ?)
		ORDER BY issued_at, id`, serial, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("masa: read vouchers of %q: %w", serial, err)
	}
	defer rows.Close()
	var events []AuditEvent
	for rows.Next() {
		var (
			issued int64
			e      AuditEvent
			nonce  sql.NullString
		)
		if err := rows.Scan(&issued, &e.DomainID, &nonce, &e.Assertion); err != nil {
			return nil, 0, fmt.Errorf("masa: read vouchers of %q: %w", serial, err)
		}
		e.Date = time.Unix(0, issued).UTC()
		if nonce.Valid {
			e.Nonce = &nonce.String
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("masa: read vouchers of %q: %w", serial, err)
	}
	return events, total - uint64(len(events)), nil
}

func urlHost(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	return u.Hostname(), nil
}
