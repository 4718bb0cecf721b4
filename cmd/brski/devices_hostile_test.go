package main

import (
	"context"
	"encoding/csv"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/brski-eap/brski/store"
)

// hostileReason is a policy reason far longer than one terminal line.
var hostileReason = strings.Repeat("r", 100_000)

// seedHostileStore creates a registrar store whose device serial,
// manufacturer, subject and reason carry terminal escapes, bidi controls,
// CSV quoting and spreadsheet formulas, as a pledge's IDevID may. It
// returns the store path.
func seedHostileStore(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	s, path := newRecordsStore(t)
	defer s.Close()
	c := store.Certificate{SerialNumber: big.NewInt(0xe1), DeviceSerial: "=1+2\x1b]0;x\a",
		Subject: "CN=\"a,b\"\u202eexe.", Fingerprint: "ee",
		NotAfter: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), Issued: recordsT0}
	if err := s.AddCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	e := store.Enrollment{Time: recordsT0, DeviceSerial: "=1+2\x1b]0;x\a",
		Manufacturer: "@acme\u009b31m", Voucher: []byte("VOUCHER-BYTES"),
		AuditLog: "AUDIT-SUMMARY", Rule: "lab", Outcome: "reject", Reason: hostileReason}
	if _, err := s.RecordEnrollment(ctx, e); err != nil {
		t.Fatal(err)
	}
	return path
}

// newRecordsStore creates an empty registrar store in a temporary
// directory and returns it with its path.
func newRecordsStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registrar.db")
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

// checkPrintable reports characters of out that a terminal acts on or
// that reorder the text displayed after them.
func checkPrintable(t *testing.T, out string) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\a", "\u009b", "\u202e"} {
		if strings.Contains(out, bad) {
			t.Errorf("output contains %q:\n%q", bad, out)
		}
	}
}

func TestDevicesRecordsHostileTable(t *testing.T) {
	path := seedHostileStore(t)
	for _, args := range [][]string{
		{"devices", "enrollments", "--store", path},
		{"devices", "certificates", "--store", path},
	} {
		t.Run(args[1], func(t *testing.T) {
			code, stdout, stderr := runBrski(args...)
			if code != 0 {
				t.Fatalf("exit %d; stderr %q", code, stderr)
			}
			checkPrintable(t, stdout)
			lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
			if len(lines) != 2 {
				t.Errorf("%d lines, want a header and one record:\n%s", len(lines), stdout)
			}
			for i, line := range lines {
				if n := utf8.RuneCountInString(line); n > 1000 {
					t.Errorf("line %d has %d characters, want at most 1000", i, n)
				}
			}
			for _, secret := range []string{"VOUCHER-BYTES", "AUDIT-SUMMARY"} {
				if strings.Contains(stdout, secret) {
					t.Errorf("table prints %q:\n%s", secret, stdout)
				}
			}
		})
	}
}

func TestDevicesRecordsHostileCSV(t *testing.T) {
	path := seedHostileStore(t)
	tests := []struct {
		name string
		args []string
		// want maps a column name to its value in the one record.
		want map[string]string
	}{
		{"enrollments", []string{"devices", "enrollments", "--store", path, "--csv"},
			map[string]string{"device_serial": "'=1+2\uFFFD]0;x\uFFFD",
				"manufacturer": "'@acme\uFFFD31m", "reason": hostileReason,
				"voucher_stored": "true", "audit_log_stored": "true"}},
		{"certificates", []string{"devices", "certificates", "--store", path, "--csv"},
			map[string]string{"device_serial": "'=1+2\uFFFD]0;x\uFFFD",
				"subject": "CN=\"a,b\"\uFFFDexe."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runBrski(tt.args...)
			if code != 0 {
				t.Fatalf("exit %d; stderr %q", code, stderr)
			}
			checkPrintable(t, stdout)
			records, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
			if err != nil {
				t.Fatalf("read CSV: %v\n%s", err, stdout)
			}
			if len(records) != 2 {
				t.Fatalf("%d CSV records, want a header and one record", len(records))
			}
			got := map[string]string{}
			for i, name := range records[0] {
				if _, ok := tt.want[name]; ok {
					got[name] = records[1][i]
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CSV fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDevicesRevokeHostileSerial(t *testing.T) {
	path := seedHostileStore(t)
	code, stdout, stderr := runBrski("devices", "revoke", "--store", path, "--cert", "e1")
	if code != 0 {
		t.Fatalf("exit %d; stderr %q", code, stderr)
	}
	checkPrintable(t, stdout)
	if !strings.Contains(stdout, "revoked LDevID e1 of device =1+2\uFFFD]0;x\uFFFD") {
		t.Errorf("stdout %q lacks the revoked LDevID", stdout)
	}
}

func TestDevicesRevokeBeforeIssue(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantCode    int
		wantStderr  []string // parts of stderr: the value and the fix
		wantRevoked []string // serial numbers revoked afterwards
	}{
		{"zero time", []string{"--cert", "1f3a", "--at", "0001-01-01T00:00:00Z"}, 2,
			[]string{"--at 0001-01-01T00:00:00Z", "leave --at out"}, nil},
		{"year one", []string{"--cert", "1f3a", "--at", "0001-01-01T00:00:01Z"}, 1,
			[]string{"--at 0001-01-01T00:00:01Z", "issued at 2026-03-04T10:30:00Z"}, nil},
		{"one second early", []string{"--cert", "1f3a", "--at", "2026-03-04T10:29:59Z"}, 1,
			[]string{"LDevID 1f3a", "issued at 2026-03-04T10:30:00Z"}, nil},
		{"device with a later LDevID", []string{"--device", "A-1", "--at",
			"2026-03-04T10:31:00Z"}, 1,
			[]string{"LDevID 2b", "issued at 2026-03-04T10:32:00Z"}, nil},
		{"at the issue time", []string{"--cert", "1f3a", "--at", "2026-03-04T10:30:00Z"}, 0,
			nil, []string{"1f3a"}},
		{"offset time", []string{"--cert", "1f3a", "--at", "2026-03-04T12:30:00+02:00"}, 0,
			nil, []string{"1f3a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := seedRecordsStore(t)
			args := append([]string{"devices", "revoke", "--store", path}, tt.args...)
			code, _, stderr := runBrski(args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.wantCode, stderr)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q lacks %q", stderr, want)
				}
			}
			if diff := cmp.Diff(tt.wantRevoked, revokedSerials(t, path)); diff != "" {
				t.Errorf("revoked LDevIDs (-want +got):\n%s", diff)
			}
		})
	}
}

// revokedSerials returns the serial numbers of the revoked LDevIDs of the
// device A-1 in the store at path.
func revokedSerials(t *testing.T, path string) []string {
	t.Helper()
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	list, err := s.CertificatesOfDevice(context.Background(), "A-1")
	if err != nil {
		t.Fatal(err)
	}
	var revoked []string
	for _, c := range list {
		if c.IsRevoked() {
			revoked = append(revoked, serialHex(c.SerialNumber))
		}
	}
	return revoked
}

// FuzzCell checks that a table cell and a CSV field of any stored text
// contain no control or bidi control character, and that a cell has at
// most maxCellRunes characters.
func FuzzCell(f *testing.F) {
	for _, seed := range []string{"", "A-1", "=1+2\x1b]0;x\a", "a\u202eb", "\xff\xfe",
		strings.Repeat("ü", maxCellRunes+1), "not in the\nlist", "\u009b31m"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := cell(s)
		if n := utf8.RuneCountInString(c); n > maxCellRunes {
			t.Errorf("cell(%q) has %d characters, more than %d", s, n, maxCellRunes)
		}
		if i := strings.IndexFunc(c, unsafeCellRune); i >= 0 {
			t.Errorf("cell(%q) = %q contains %q", s, c, c[i:])
		}
		field := csvText(s)
		if i := strings.IndexFunc(field, func(r rune) bool {
			return r != '\n' && unsafeCellRune(r)
		}); i >= 0 {
			t.Errorf("csvText(%q) = %q contains %q", s, field, field[i:])
		}
		if field != "" && strings.ContainsRune("=+-@", rune(field[0])) {
			t.Errorf("csvText(%q) = %q starts a formula", s, field)
		}
	})
}

func unsafeCellRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}
