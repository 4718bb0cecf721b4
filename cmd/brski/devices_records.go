package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/brski-eap/brski/store"
)

// defaultEnrollmentLimit is how many enrollment records "brski devices
// enrollments" prints unless --limit sets another number.
const defaultEnrollmentLimit = 100

func init() {
	register(command{Name: "devices enrollments",
		Summary: "list enrollment records: decisions and the LDevIDs they issued",
		Run:     runDevicesEnrollments})
	register(command{Name: "devices certificates",
		Summary: "list the issued LDevIDs; valid ones unless --all",
		Run:     runDevicesCertificates})
}

func runDevicesEnrollments(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("devices enrollments", stderr)
	var sf storeFlags
	sf.register(fs)
	serial := fs.String("serial", "", "list only the device with this serialNumber")
	limit := fs.Int("limit", defaultEnrollmentLimit, "print the latest N records; 0 prints all")
	asCSV := fs.Bool("csv", false, "print CSV with a header row")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		return usageError(fs, "--limit %d is negative; pass 0 for all records", *limit)
	}

	ctx := context.Background()
	s, err := sf.openReadOnly(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	list, more, err := latestEnrollments(ctx, s, *serial, *limit)
	if err != nil {
		return err
	}
	if *asCSV {
		err = writeEnrollmentsCSV(stdout, list)
	} else {
		err = writeEnrollmentsTable(stdout, list)
	}
	if err == nil && more {
		fmt.Fprintf(stderr, "printed the latest %d enrollments; pass --limit 0 for all\n",
			*limit)
	}
	return err
}

// latestEnrollments returns the latest limit enrollments of the device
// with serial, or of all devices when serial is empty, oldest first. It
// reports whether older records were left out.
func latestEnrollments(ctx context.Context, s *store.Store, serial string, limit int) (
	[]store.Enrollment, bool, error) {
	var list []store.Enrollment
	var err error
	if serial == "" {
		// One record more than the limit shows whether older records exist.
		fetch := 0
		if limit > 0 {
			fetch = limit + 1
		}
		list, err = s.LatestEnrollments(ctx, fetch)
	} else {
		list, err = s.Enrollments(ctx, serial)
	}
	if err != nil {
		return nil, false, err
	}
	if limit > 0 && len(list) > limit {
		return list[len(list)-limit:], true, nil
	}
	return list, false, nil
}

func writeEnrollmentsTable(w io.Writer, list []store.Enrollment) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tDEVICE\tMANUFACTURER\tOUTCOME\tRULE\tMODES\tLDEVID\t"+
		"VOUCHER\tAUDIT LOG\tREASON")
	for _, e := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID,
			e.Time.Format(time.RFC3339), cell(e.DeviceSerial), cell(e.Manufacturer),
			cell(e.Outcome), cell(e.Rule), cell(strings.Join(e.Modes, ",")),
			cell(serialHex(e.CertificateSerial)), storedOrDash(len(e.Voucher) > 0),
			storedOrDash(e.AuditLog != ""), cell(e.Reason))
	}
	return tw.Flush()
}

func writeEnrollmentsCSV(w io.Writer, list []store.Enrollment) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "time", "device_serial", "manufacturer", "outcome",
		"policy_rule", "modes", "ldevid_serial", "voucher_stored", "audit_log_stored",
		"reason"})
	for _, e := range list {
		cw.Write([]string{strconv.FormatInt(e.ID, 10), e.Time.Format(time.RFC3339Nano),
			csvText(e.DeviceSerial), csvText(e.Manufacturer), csvText(e.Outcome),
			csvText(e.Rule), csvText(strings.Join(e.Modes, ";")),
			serialHex(e.CertificateSerial), strconv.FormatBool(len(e.Voucher) > 0),
			strconv.FormatBool(e.AuditLog != ""), csvText(e.Reason)})
	}
	cw.Flush()
	return cw.Error()
}

func runDevicesCertificates(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("devices certificates", stderr)
	var sf storeFlags
	sf.register(fs)
	serial := fs.String("serial", "", "list only the LDevIDs of the device with this serialNumber")
	all := fs.Bool("all", false, "also list revoked and expired LDevIDs")
	asCSV := fs.Bool("csv", false, "print CSV with a header row")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.openReadOnly(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	now := time.Now()
	list, err := listCertificates(ctx, s, *serial, *all, now)
	if err != nil {
		return err
	}
	if *asCSV {
		return writeCertificatesCSV(stdout, list, now)
	}
	return writeCertificatesTable(stdout, list, now)
}

// listCertificates returns the LDevIDs of the device with serial, or of
// all devices when serial is empty, oldest first. Unless all is set, it
// leaves out the revoked ones and those expired at now.
func listCertificates(ctx context.Context, s *store.Store, serial string, all bool,
	now time.Time) ([]store.Certificate, error) {
	switch {
	case serial == "" && all:
		return s.LatestCertificates(ctx, 0)
	case serial == "":
		return s.LatestValidCertificates(ctx, now, 0)
	}
	list, err := s.CertificatesOfDevice(ctx, serial)
	if err != nil || all {
		return list, err
	}
	var valid []store.Certificate
	for _, c := range list {
		if c.IsValidAt(now) {
			valid = append(valid, c)
		}
	}
	return valid, nil
}

func writeCertificatesTable(w io.Writer, list []store.Certificate, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIAL\tDEVICE\tSUBJECT\tNOT AFTER\tISSUED\tREVOKED\tSTATUS")
	for _, c := range list {
		revoked := "-"
		if c.IsRevoked() {
			revoked = c.Revoked.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", serialHex(c.SerialNumber),
			cell(c.DeviceSerial), cell(c.Subject), c.NotAfter.Format(time.RFC3339),
			c.Issued.Format(time.RFC3339), revoked, certificateStatus(c, now))
	}
	return tw.Flush()
}

func writeCertificatesCSV(w io.Writer, list []store.Certificate, now time.Time) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"serial", "device_serial", "subject", "not_after", "issued",
		"revoked", "status", "fingerprint_sha256"})
	for _, c := range list {
		revoked := ""
		if c.IsRevoked() {
			revoked = c.Revoked.Format(time.RFC3339Nano)
		}
		cw.Write([]string{serialHex(c.SerialNumber), csvText(c.DeviceSerial), csvText(c.Subject),
			c.NotAfter.Format(time.RFC3339), c.Issued.Format(time.RFC3339Nano), revoked,
			certificateStatus(c, now), c.Fingerprint})
	}
	cw.Flush()
	return cw.Error()
}

// certificateStatus returns "revoked", "expired" or "valid" for c at now.
func certificateStatus(c store.Certificate, now time.Time) string {
	switch {
	case c.IsRevoked():
		return "revoked"
	case !c.IsValidAt(now):
		return "expired"
	}
	return "valid"
}

// serialHex returns a certificate serial number in lower-case hex, as the
// registrar and the EAP-TLS server log it, or "" for nil.
func serialHex(n *big.Int) string {
	if n == nil {
		return ""
	}
	return n.Text(16)
}

// storedOrDash returns "stored" or "-", so that a table shows whether a
// voucher or an audit log exists without printing it.
func storedOrDash(stored bool) string {
	if stored {
		return "stored"
	}
	return "-"
}

// maxCellRunes caps a table cell, so that one long value, such as a
// policy reason, does not fill the terminal. --csv prints whole values.
const maxCellRunes = 200

// cell returns s for a table cell, or "-" when s is empty. It replaces
// control and bidi control characters, such as LF, ESC or U+202E from a
// peer's certificate, with U+FFFD, so one record stays one line and
// prints no terminal escape sequence or reordered text. It cuts s to
// maxCellRunes, ending with "…".
func cell(s string) string {
	if s == "" {
		return "-"
	}
	s = replaceUnsafe(s, false)
	if utf8.RuneCountInString(s) <= maxCellRunes {
		return s
	}
	return string([]rune(s)[:maxCellRunes-1]) + "…"
}

// csvText returns s for a CSV field of peer or policy text. It replaces
// control and bidi control characters other than LF with U+FFFD. It
// puts "'" before a value that starts with '=', '+', '-' or '@', so that a
// spreadsheet shows the value rather than evaluating it as a formula.
func csvText(s string) string {
	s = replaceUnsafe(s, true)
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

// replaceUnsafe replaces the control and bidi control characters of s
// with U+FFFD, except LF when keepLF is set.
func replaceUnsafe(s string, keepLF bool) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' && keepLF {
			return r
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return unicode.ReplacementChar
		}
		return r
	}, s)
}
