package store

import (
	"context"
	"fmt"
	"time"
)

// noLimit is the SQLite LIMIT value that selects every row.
const noLimit = -1

// sqlLimit returns limit, or noLimit when limit is zero or negative.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return noLimit
	}
	return limit
}

// LatestEnrollments returns the latest limit enrollments of all devices,
// oldest first, or all of them when limit is zero or negative. Records
// with the same time are ordered by ID.
func (s *Store) LatestEnrollments(ctx context.Context, limit int) ([]Enrollment, error) {
	list, err := queryAll(ctx, s.st.latestEnrollments, scanEnrollment, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: latest %d enrollments: %w", limit, err)
	}
	return list, nil
}

// LatestCertificates returns the latest limit certificates that the
// registrar issued, by issue time and oldest first, or all of them when
// limit is zero or negative. Certificates issued at the same time keep the
// order in which they were stored. Revoked and expired certificates are
// included.
func (s *Store) LatestCertificates(ctx context.Context, limit int) ([]Certificate, error) {
	list, err := queryAll(ctx, s.st.latestCertificates, scanCertificate, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: latest %d certificates: %w", limit, err)
	}
	return list, nil
}

// LatestValidCertificates is LatestCertificates for the certificates that
// are not revoked and whose NotAfter is after now, or after the store's
// clock when now is zero.
func (s *Store) LatestValidCertificates(ctx context.Context, now time.Time, limit int) (
	[]Certificate, error) {
	list, err := queryAll(ctx, s.st.latestValidCertificates, scanCertificate,
		formatTime(s.orNow(now)), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: latest %d valid certificates: %w", limit, err)
	}
	return list, nil
}

// IsValidAt reports whether c is neither revoked nor expired at t, the
// test that LatestValidCertificates applies.
func (c Certificate) IsValidAt(t time.Time) bool {
	return !c.IsRevoked() && c.NotAfter.After(t)
}
