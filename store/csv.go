package store

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxImportRows bounds one CSV import, so a wrong file cannot fill memory.
const maxImportRows = 1_000_000

// ImportError is the error for one line of a CSV import.
type ImportError struct {
	Line int
	Err  error
}

// Error returns the line and the problem.
func (e *ImportError) Error() string {
	return fmt.Sprintf("store: line %d: %v", e.Line, e.Err)
}

// Unwrap returns the problem.
func (e *ImportError) Unwrap() error { return e.Err }

// ParseExpectedDevicesCSV reads devices from CSV rows of
// "serial,manufacturer,tags", where tags are separated by ';' and the last
// two fields may be left out. A first row that starts with "serial" is a
// header and is skipped, and so are empty lines and lines starting with
// '#'. A bad row gives an *ImportError with its line number.
func ParseExpectedDevicesCSV(r io.Reader) ([]ExpectedDevice, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	var devices []ExpectedDevice
	seen := map[string]int{}
	for first := true; ; first = false {
		record, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return devices, nil
		}
		if err != nil {
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				return nil, &ImportError{Line: perr.Line, Err: perr.Err}
			}
			return nil, fmt.Errorf("store: read CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if first && strings.EqualFold(strings.TrimSpace(record[0]), "serial") {
			continue
		}
		d, err := parseDeviceRecord(record)
		if err != nil {
			return nil, &ImportError{Line: line, Err: err}
		}
		if prev, dup := seen[d.Serial]; dup {
			return nil, &ImportError{Line: line, Err: fmt.Errorf("serial %q is also on line %d",
				d.Serial, prev)}
		}
		if len(devices) == maxImportRows {
			return nil, &ImportError{Line: line, Err: fmt.Errorf("more than %d devices; "+
				"split the file", maxImportRows)}
		}
		seen[d.Serial] = line
		devices = append(devices, d)
	}
}

func parseDeviceRecord(record []string) (ExpectedDevice, error) {
	if len(record) > 3 {
		return ExpectedDevice{}, fmt.Errorf("%d fields; want serial,manufacturer,tags "+
			"with tags separated by ';'", len(record))
	}
	d := ExpectedDevice{Serial: strings.TrimSpace(record[0])}
	if len(record) > 1 {
		d.Manufacturer = strings.TrimSpace(record[1])
	}
	if len(record) > 2 {
		for _, tag := range strings.Split(record[2], ";") {
			if tag = strings.TrimSpace(tag); tag != "" {
				d.Tags = append(d.Tags, tag)
			}
		}
	}
	if err := d.validate(); err != nil {
		return ExpectedDevice{}, err
	}
	return d, nil
}

// ImportExpectedDevices parses CSV as ParseExpectedDevicesCSV does and
// stores every device in one transaction. A serial that is registered
// already gets the manufacturer and tags of the file. Nothing is stored
// when any row is bad. It returns the number of devices stored.
func (s *Store) ImportExpectedDevices(ctx context.Context, r io.Reader) (int, error) {
	devices, err := ParseExpectedDevicesCSV(r)
	if err != nil {
		return 0, err
	}
	if err := s.putExpectedDevices(ctx, devices); err != nil {
		return 0, err
	}
	return len(devices), nil
}
