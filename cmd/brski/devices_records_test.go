package main

import (
	"context"
	"math/big"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/brski-eap/brski/store"
)

var recordsT0 = time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)

// seedRecordsStore creates a registrar store with three enrollments of
// two devices and four LDevIDs: two valid, one expired, one revoked. It
// returns the store path.
func seedRecordsStore(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	s, path := newRecordsStore(t)
	defer s.Close()
	far := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	certs := []store.Certificate{
		{SerialNumber: big.NewInt(0x1f3a), Subject: "SERIALNUMBER=A-1,CN=A-1",
			DeviceSerial: "A-1", Fingerprint: "aa", NotAfter: far, Issued: recordsT0},
		{SerialNumber: big.NewInt(0x2b), Subject: "SERIALNUMBER=A-1,CN=A-1",
			DeviceSerial: "A-1", Fingerprint: "bb", NotAfter: far,
			Issued: recordsT0.Add(2 * time.Minute)},
		{SerialNumber: big.NewInt(0xc0), Subject: "CN=B-2", DeviceSerial: "B-2",
			Fingerprint: "cc", NotAfter: recordsT0.Add(-time.Hour),
			Issued: recordsT0.Add(-48 * time.Hour)},
		{SerialNumber: big.NewInt(0xd0), Subject: "CN=C-3", DeviceSerial: "C-3",
			Fingerprint: "dd", NotAfter: far, Issued: recordsT0.Add(-24 * time.Hour),
			Revoked: recordsT0.Add(time.Hour)},
	}
	for _, c := range certs {
		if err := s.AddCertificate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	enrollments := []store.Enrollment{
		{Time: recordsT0, DeviceSerial: "A-1", Manufacturer: "acme", Voucher: []byte{1, 2},
			AuditLog: "no prior domains", Rule: "lab", Outcome: "accept",
			Reason: "expected device", CertificateSerial: big.NewInt(0x1f3a)},
		{Time: recordsT0.Add(time.Minute), DeviceSerial: "B-2", Rule: "default",
			Outcome: "reject", Reason: "not in the\nlist"},
		{Time: recordsT0.Add(2 * time.Minute), DeviceSerial: "A-1", Manufacturer: "acme",
			Rule: "air-gap", Outcome: "accept", Modes: []string{"nonceless-cached", "skip-masa"},
			CertificateSerial: big.NewInt(0x2b)},
	}
	for _, e := range enrollments {
		if _, err := s.RecordEnrollment(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// tableRows splits a tabwriter table into rows of cells, which are
// separated by two or more spaces.
func tableRows(out string) [][]string {
	sep := regexp.MustCompile(`\s{2,}`)
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		rows = append(rows, sep.Split(strings.TrimSpace(line), -1))
	}
	return rows
}

const enrollmentsCSVHeader = "id,time,device_serial,manufacturer,outcome,policy_rule,modes," +
	"ldevid_serial,voucher_stored,audit_log_stored,reason\n"

var enrollmentsCSVRows = []string{
	"1,2026-03-04T10:30:00Z,A-1,acme,accept,lab,,1f3a,true,true,expected device\n",
	"2,2026-03-04T10:31:00Z,B-2,,reject,default,,,false,false,\"not in the\nlist\"\n",
	"3,2026-03-04T10:32:00Z,A-1,acme,accept,air-gap,nonceless-cached;skip-masa,2b,false," +
		"false,\n",
}

func TestDevicesEnrollmentsCSV(t *testing.T) {
	path := seedRecordsStore(t)
	rows := enrollmentsCSVRows
	tests := []struct {
		name       string
		args       []string
		wantStdout string
		wantStderr string
	}{
		{"all", nil, enrollmentsCSVHeader + strings.Join(rows, ""), ""},
		{"one device", []string{"--serial", "A-1"}, enrollmentsCSVHeader + rows[0] + rows[2],
			""},
		{"unknown device", []string{"--serial", "Z-9"}, enrollmentsCSVHeader, ""},
		{"latest two", []string{"--limit", "2"}, enrollmentsCSVHeader + rows[1] + rows[2],
			"printed the latest 2 enrollments; pass --limit 0 for all\n"},
		{"latest of a device", []string{"--serial", "A-1", "--limit", "1"},
			enrollmentsCSVHeader + rows[2],
			"printed the latest 1 enrollments; pass --limit 0 for all\n"},
		{"limit equals count", []string{"--limit", "3"},
			enrollmentsCSVHeader + strings.Join(rows, ""), ""},
		{"no limit", []string{"--limit", "0"}, enrollmentsCSVHeader + strings.Join(rows, ""),
			""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"devices", "enrollments", "--store", path, "--csv"},
				tt.args...)
			code, stdout, stderr := runBrski(args...)
			if code != 0 {
				t.Fatalf("exit %d; stderr %q", code, stderr)
			}
			if diff := cmp.Diff(tt.wantStdout, stdout); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantStderr, stderr); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDevicesEnrollmentsTable(t *testing.T) {
	path := seedRecordsStore(t)
	code, stdout, stderr := runBrski("devices", "enrollments", "--store", path)
	if code != 0 {
		t.Fatalf("exit %d; stderr %q", code, stderr)
	}
	want := [][]string{
		{"ID", "TIME", "DEVICE", "MANUFACTURER", "OUTCOME", "RULE", "MODES", "LDEVID",
			"VOUCHER", "AUDIT LOG", "REASON"},
		{"1", "2026-03-04T10:30:00Z", "A-1", "acme", "accept", "lab", "-", "1f3a", "stored",
			"stored", "expected device"},
		// The LF of the reason is replaced, so the record stays one line.
		{"2", "2026-03-04T10:31:00Z", "B-2", "-", "reject", "default", "-", "-", "-", "-",
			"not in the\uFFFDlist"},
		{"3", "2026-03-04T10:32:00Z", "A-1", "acme", "accept", "air-gap",
			"nonceless-cached,skip-masa", "2b", "-", "-", "-"},
	}
	if diff := cmp.Diff(want, tableRows(stdout)); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	if strings.Contains(stdout, "no prior domains") {
		t.Errorf("the table prints the audit log:\n%s", stdout)
	}
}

func TestDevicesCertificatesTable(t *testing.T) {
	path := seedRecordsStore(t)
	header := []string{"SERIAL", "DEVICE", "SUBJECT", "NOT AFTER", "ISSUED", "REVOKED",
		"STATUS"}
	a1 := []string{"1f3a", "A-1", "SERIALNUMBER=A-1,CN=A-1", "2099-01-01T00:00:00Z",
		"2026-03-04T10:30:00Z", "-", "valid"}
	a2 := []string{"2b", "A-1", "SERIALNUMBER=A-1,CN=A-1", "2099-01-01T00:00:00Z",
		"2026-03-04T10:32:00Z", "-", "valid"}
	b := []string{"c0", "B-2", "CN=B-2", "2026-03-04T09:30:00Z", "2026-03-02T10:30:00Z",
		"-", "expired"}
	c := []string{"d0", "C-3", "CN=C-3", "2099-01-01T00:00:00Z", "2026-03-03T10:30:00Z",
		"2026-03-04T11:30:00Z", "revoked"}
	tests := []struct {
		name string
		args []string
		want [][]string
	}{
		{"valid", nil, [][]string{header, a1, a2}},
		{"all", []string{"--all"}, [][]string{header, b, c, a1, a2}},
		{"one device", []string{"--serial", "A-1"}, [][]string{header, a1, a2}},
		{"expired only", []string{"--serial", "B-2"}, [][]string{header}},
		{"all of a device", []string{"--serial", "C-3", "--all"}, [][]string{header, c}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"devices", "certificates", "--store", path}, tt.args...)
			code, stdout, stderr := runBrski(args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d; stderr %q", code, stderr)
			}
			if diff := cmp.Diff(tt.want, tableRows(stdout)); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDevicesCertificatesCSV(t *testing.T) {
	path := seedRecordsStore(t)
	code, stdout, stderr := runBrski("devices", "certificates", "--store", path, "--all",
		"--csv", "--serial", "C-3")
	if code != 0 {
		t.Fatalf("exit %d; stderr %q", code, stderr)
	}
	want := "serial,device_serial,subject,not_after,issued,revoked,status," +
		"fingerprint_sha256\n" +
		"d0,C-3,CN=C-3,2099-01-01T00:00:00Z,2026-03-03T10:30:00Z,2026-03-04T11:30:00Z," +
		"revoked,dd\n"
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

func TestDevicesRecordsErrors(t *testing.T) {
	path := seedRecordsStore(t)
	missing := filepath.Join(t.TempDir(), "none")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr []string // parts of stderr: the value and the fix
	}{
		{"enrollments without a store", []string{"devices", "enrollments", "--data", missing},
			1, []string{filepath.Join(missing, "registrar.db"), "--data DIR"}},
		{"certificates without a store",
			[]string{"devices", "certificates", "--data", missing},
			1, []string{filepath.Join(missing, "registrar.db"), "--store PATH"}},
		{"negative limit", []string{"devices", "enrollments", "--store", path, "--limit",
			"-1"}, 2, []string{"--limit -1", "pass 0 for all"}},
		{"limit not a number", []string{"devices", "enrollments", "--store", path,
			"--limit", "ten"}, 2, []string{"-limit"}},
		{"enrollments argument", []string{"devices", "enrollments", "--store", path, "A-1"},
			2, []string{`unexpected argument "A-1"`}},
		{"certificates argument", []string{"devices", "certificates", "--store", path,
			"A-1"}, 2, []string{`unexpected argument "A-1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runBrski(tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.wantCode, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q lacks %q", stderr, want)
				}
			}
		})
	}
}

func TestDevicesHelpListsRecordCommands(t *testing.T) {
	code, _, stderr := runBrski("devices", "-h")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{"devices enrollments", "devices certificates",
		"devices revoke"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
}
