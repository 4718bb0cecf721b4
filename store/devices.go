package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// maxSerialLength is the upper bound of the X.520 serialNumber attribute
// (RFC 5280, Appendix A.1), where IDevID serial numbers come from.
const maxSerialLength = 64

// maxTagLength bounds one tag of an expected device.
const maxTagLength = 64

// ExpectedDevice is a device that an orchestrator registered in advance,
// which policies match with expected = true and tags.
type ExpectedDevice struct {
	// Serial is the serialNumber of the device's IDevID subject. It is the
	// key: each serial appears once.
	Serial string

	// Manufacturer is the colloquial manufacturer name, or empty for any.
	Manufacturer string

	// Tags are free labels for policies, without ',', ';' or spaces.
	Tags []string

	// Added is when the device was registered. Zero means now.
	Added time.Time
}

// Validate reports the first invalid field of d.
func (d ExpectedDevice) Validate() error {
	if err := d.validate(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

func (d ExpectedDevice) validate() error {
	if err := checkSerial(d.Serial); err != nil {
		return err
	}
	if strings.ContainsFunc(d.Manufacturer, unicode.IsControl) {
		return fmt.Errorf("manufacturer %q contains a control character", d.Manufacturer)
	}
	for _, tag := range d.Tags {
		if tag == "" || len(tag) > maxTagLength || strings.ContainsFunc(tag, isTagSeparator) {
			return fmt.Errorf("tag %q is invalid; use 1 to %d characters without ',', ';' "+
				"or spaces", tag, maxTagLength)
		}
	}
	return nil
}

func isTagSeparator(c rune) bool {
	return c == ',' || c == ';' || unicode.IsSpace(c) || unicode.IsControl(c)
}

func checkSerial(serial string) error {
	if serial == "" {
		return errors.New("serial is empty; give the serialNumber of the IDevID subject")
	}
	if len(serial) > maxSerialLength {
		return fmt.Errorf("serial %q is longer than %d bytes", serial, maxSerialLength)
	}
	if strings.ContainsFunc(serial, unicode.IsControl) {
		return fmt.Errorf("serial %q contains a control character", serial)
	}
	return nil
}

// AddExpectedDevice registers d. It returns an error wrapping ErrExists
// when the serial is registered already.
func (s *Store) AddExpectedDevice(ctx context.Context, d ExpectedDevice) error {
	if err := s.checkWritable("add expected device"); err != nil {
		return err
	}
	if err := d.Validate(); err != nil {
		return err
	}
	res, err := s.st.addExpectedDevice.ExecContext(ctx, d.Serial, d.Manufacturer, strings.Join(d.Tags, ","), formatTime(s.orNow(d.Added)))
	if err != nil {
		return fmt.Errorf("store: add expected device %q: %w", d.Serial, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: add expected device %q: %w", d.Serial, err)
	}
	if n == 0 {
		return fmt.Errorf("store: expected device %q: %w; remove it first to change it",
			d.Serial, ErrExists)
	}
	return nil
}

// putExpectedDevices inserts or replaces devices in one transaction, so
// either all of them are stored or none.
func (s *Store) putExpectedDevices(ctx context.Context, devices []ExpectedDevice) error {
	if err := s.checkWritable("import expected devices"); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: import expected devices: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO expected_devices
		(serial, manufacturer, tags, added_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (serial) DO UPDATE SET manufacturer = excluded.manufacturer,
		tags = excluded.tags, added_at = excluded.added_at`)
	if err != nil {
		return fmt.Errorf("store: import expected devices: %w", err)
	}
	defer stmt.Close()
	for _, d := range devices {
		_, err := stmt.ExecContext(ctx, d.Serial, d.Manufacturer, strings.Join(d.Tags, ","),
			formatTime(s.orNow(d.Added)))
		if err != nil {
			return fmt.Errorf("store: import expected device %q: %w", d.Serial, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: import expected devices: %w", err)
	}
	return nil
}

// ExpectedDevice returns the device registered with serial, or an error
// wrapping ErrNotFound.
func (s *Store) ExpectedDevice(ctx context.Context, serial string) (ExpectedDevice, error) {
	row := s.st.expectedDevice.QueryRowContext(ctx, serial)
	d, err := scanExpectedDevice(row)
	if errors.Is(err, sql.ErrNoRows) {
		return ExpectedDevice{}, fmt.Errorf("store: expected device %q: %w", serial,
			ErrNotFound)
	}
	if err != nil {
		return ExpectedDevice{}, fmt.Errorf("store: expected device %q: %w", serial, err)
	}
	return d, nil
}

// ExpectedDevices returns all registered devices, ordered by serial.
func (s *Store) ExpectedDevices(ctx context.Context) ([]ExpectedDevice, error) {
	list, err := queryAll(ctx, s.st.expectedDevices, scanExpectedDevice)
	if err != nil {
		return nil, fmt.Errorf("store: list expected devices: %w", err)
	}
	return list, nil
}

// RemoveExpectedDevice deletes the device registered with serial. It
// returns an error wrapping ErrNotFound when there is none.
func (s *Store) RemoveExpectedDevice(ctx context.Context, serial string) error {
	if err := s.checkWritable("remove expected device"); err != nil {
		return err
	}
	res, err := s.st.removeExpectedDevice.ExecContext(ctx, serial)
	if err != nil {
		return fmt.Errorf("store: remove expected device %q: %w", serial, err)
	}
	return checkAffected(res, fmt.Sprintf("expected device %q", serial))
}

// scanner is the Scan method that *sql.Row and *sql.Rows share.
type scanner interface {
	Scan(dest ...any) error
}

func scanExpectedDevice(row scanner) (ExpectedDevice, error) {
	var serial, manufacturer, tags, added string
	if err := row.Scan(&serial, &manufacturer, &tags, &added); err != nil {
		return ExpectedDevice{}, err
	}
	return expectedDeviceOf(serial, manufacturer, tags, added)
}

// expectedDeviceOf builds an expected-devices entry from its columns.
func expectedDeviceOf(serial, manufacturer, tags, added string) (ExpectedDevice, error) {
	d := ExpectedDevice{Serial: serial, Manufacturer: manufacturer}
	if tags != "" {
		d.Tags = strings.Split(tags, ",")
	}
	t, err := parseTime(added)
	if err != nil {
		return ExpectedDevice{}, err
	}
	d.Added = t
	return d, nil
}
