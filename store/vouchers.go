package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CachedVoucher is a nonceless voucher that an orchestrator fetched from
// the MASA in advance, for a site that cannot reach the MASA during
// bootstrapping.
type CachedVoucher struct {
	DeviceSerial string

	// Voucher is the signed voucher as the MASA returned it.
	Voucher []byte

	// Expires is when the voucher stops being usable, normally its
	// expires-on leaf (RFC 8366). Zero means it does not expire.
	Expires time.Time

	// Added is when the voucher was stored. Zero means now.
	Added time.Time
}

// PutCachedVoucher stores v, replacing an earlier voucher for the same
// device.
func (s *Store) PutCachedVoucher(ctx context.Context, v CachedVoucher) error {
	if err := s.checkWritable("put cached voucher"); err != nil {
		return err
	}
	if err := checkSerial(v.DeviceSerial); err != nil {
		return fmt.Errorf("store: cached voucher: %w", err)
	}
	if len(v.Voucher) == 0 {
		return fmt.Errorf("store: cached voucher for %q is empty", v.DeviceSerial)
	}
	_, err := s.st.putCachedVoucher.ExecContext(ctx, v.DeviceSerial, v.Voucher, formatTime(v.Expires), formatTime(s.orNow(v.Added)))
	if err != nil {
		return fmt.Errorf("store: put cached voucher for %q: %w", v.DeviceSerial, err)
	}
	return nil
}

// CachedVoucher returns the voucher cached for deviceSerial if it is
// still valid at now. It returns an error wrapping ErrNotFound when there
// is none and ErrExpired when it expired at or before now, and then the
// expired voucher as well.
func (s *Store) CachedVoucher(ctx context.Context, deviceSerial string,
	now time.Time) (CachedVoucher, error) {
	v := CachedVoucher{DeviceSerial: deviceSerial}
	var expires, added string
	err := s.st.cachedVoucher.QueryRowContext(ctx, deviceSerial).Scan(&v.Voucher, &expires, &added)
	if errors.Is(err, sql.ErrNoRows) {
		return CachedVoucher{}, fmt.Errorf("store: cached voucher for %q: %w",
			deviceSerial, ErrNotFound)
	}
	if err != nil {
		return CachedVoucher{}, fmt.Errorf("store: cached voucher for %q: %w", deviceSerial, err)
	}
	if v.Expires, err = parseTime(expires); err != nil {
		return CachedVoucher{}, err
	}
	if v.Added, err = parseTime(added); err != nil {
		return CachedVoucher{}, err
	}
	if !v.Expires.IsZero() && !now.Before(v.Expires) {
		return v, fmt.Errorf("store: cached voucher for %q: %w at %s; fetch a new one",
			deviceSerial, ErrExpired, v.Expires.Format(time.RFC3339))
	}
	return v, nil
}

// DeleteCachedVoucher removes the voucher cached for deviceSerial. It
// returns an error wrapping ErrNotFound when there is none.
func (s *Store) DeleteCachedVoucher(ctx context.Context, deviceSerial string) error {
	if err := s.checkWritable("delete cached voucher"); err != nil {
		return err
	}
	res, err := s.st.deleteCachedVoucher.ExecContext(ctx, deviceSerial)
	if err != nil {
		return fmt.Errorf("store: delete cached voucher for %q: %w", deviceSerial, err)
	}
	return checkAffected(res, fmt.Sprintf("cached voucher for %q", deviceSerial))
}

// checkAffected returns an error wrapping ErrNotFound when res changed no
// row. what names the row in the message.
func checkAffected(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	return nil
}
