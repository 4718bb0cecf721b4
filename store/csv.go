package store

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
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
// header and is skipped, and so are empty lines and lines whose first
// field starts with '#' after leading spaces. A UTF-8 byte order mark at
// the start is skipped. A bad row gives an *ImportError with its line
// number.
func ParseExpectedDevicesCSV(r io.Reader) ([]ExpectedDevice, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(len(utf8BOM)); err == nil && string(bom) == utf8BOM {
		br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
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
		if strings.HasPrefix(strings.TrimSpace(record[0]), "#") {
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
	if err := checkRecordText(d); err != nil {
		return ExpectedDevice{}, err
	}
	if err := d.validate(); err != nil {
		return ExpectedDevice{}, err
	}
	return d, nil
}

// utf8BOM is the byte order mark that spreadsheet programs write at the
// start of a UTF-8 CSV export.
const utf8BOM = "\uFEFF"

// maxQuotedValue is the longest prefix of a bad value that an error quotes.
const maxQuotedValue = 64

// checkRecordText rejects fields that are not UTF-8 and values that are too
// long, and quotes at most maxQuotedValue bytes of the value.
func checkRecordText(d ExpectedDevice) error {
	fields := map[string][]string{"serial": {d.Serial}, "manufacturer": {d.Manufacturer},
		"tag": d.Tags}
	for _, name := range []string{"serial", "manufacturer", "tag"} {
		for _, f := range fields[name] {
			if !utf8.ValidString(f) {
				return fmt.Errorf("%s %s is not valid UTF-8", name, quoteValue(f))
			}
		}
	}
	if len(d.Serial) > maxSerialLength {
		return fmt.Errorf("serial %s is longer than %d bytes", quoteValue(d.Serial),
			maxSerialLength)
	}
	for _, tag := range d.Tags {
		if len(tag) > maxTagLength {
			return fmt.Errorf("tag %s is longer than %d bytes", quoteValue(tag), maxTagLength)
		}
	}
	return nil
}

// quoteValue quotes s, cut to maxQuotedValue bytes with "..." appended.
func quoteValue(s string) string {
	if len(s) <= maxQuotedValue {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxQuotedValue]) + "..."
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
