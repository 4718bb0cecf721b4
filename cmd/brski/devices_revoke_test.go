package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDevicesRevoke(t *testing.T) {
	path := seedRecordsStore(t)
	at := "2026-03-05T08:00:00Z"
	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // parts of stdout
		wantStderr []string // parts of stderr: the value and the fix
	}{
		{"one LDevID", []string{"--cert", "1F3A", "--at", at}, 0,
			[]string{"revoked LDevID 1f3a of device A-1 (SERIALNUMBER=A-1,CN=A-1) at " + at,
				"next EAP-TLS authentication and EST simplereenroll"}, nil},
		{"one LDevID again", []string{"--cert", "1f:3a"}, 0,
			[]string{"LDevID 1f3a of device A-1 was revoked already at " + at}, nil},
		{"the rest of a device", []string{"--device", "A-1"}, 0,
			[]string{"revoked LDevID 2b of device A-1"}, nil},
		{"device again", []string{"--device", "A-1"}, 0,
			[]string{"device A-1 has no valid LDevID to revoke; its 2 LDevIDs are revoked"},
			nil},
		{"device with an expired LDevID", []string{"--device", "B-2"}, 0,
			[]string{"its 1 LDevID is revoked or expired"}, nil},
		{"unknown serial", []string{"--cert", "0xff"}, 1, nil,
			[]string{"serial ff", "brski devices certificates --all"}},
		{"unknown device", []string{"--device", "Z-9"}, 1, nil,
			[]string{`device "Z-9"`, "brski devices certificates --all"}},
		{"neither flag", nil, 2, nil, []string{"--cert SERIAL_HEX", "--device SERIAL"}},
		{"both flags", []string{"--cert", "2b", "--device", "A-1"}, 2, nil,
			[]string{"one of --cert"}},
		{"invalid serial", []string{"--cert", "xyz"}, 2, nil, []string{`"xyz"`, "hex digits"}},
		{"invalid time", []string{"--cert", "2b", "--at", "yesterday"}, 2, nil,
			[]string{`--at "yesterday"`, "RFC 3339"}},
		{"future time", []string{"--cert", "2b", "--at",
			time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, 2, nil,
			[]string{"in the future", "leave --at out"}},
		{"argument", []string{"--cert", "2b", "extra"}, 2, nil,
			[]string{`unexpected argument "extra"`}},
	}
	for _, st := range steps {
		args := append([]string{"devices", "revoke", "--store", path}, st.args...)
		code, stdout, stderr := runBrski(args...)
		if code != st.wantCode {
			t.Errorf("%s: exit %d, want %d; stderr %q", st.name, code, st.wantCode, stderr)
		}
		for _, want := range st.wantStdout {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s: stdout %q lacks %q", st.name, stdout, want)
			}
		}
		for _, want := range st.wantStderr {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr %q lacks %q", st.name, stderr, want)
			}
		}
		if st.wantCode != 0 && stdout != "" {
			t.Errorf("%s: stdout %q, want nothing", st.name, stdout)
		}
	}
	code, stdout, _ := runBrski("devices", "certificates", "--store", path, "--csv")
	if want := "serial,device_serial,subject,not_after,issued,revoked,status," +
		"fingerprint_sha256\n"; code != 0 || stdout != want {
		t.Errorf("valid LDevIDs after the revocations: exit %d, %q; want none", code, stdout)
	}
}

func TestDevicesRevokeWithoutStore(t *testing.T) {
	data := filepath.Join(t.TempDir(), "none")
	code, _, stderr := runBrski("devices", "revoke", "--data", data, "--cert", "2b")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if want := filepath.Join(data, "registrar.db"); !strings.Contains(stderr, want) {
		t.Errorf("stderr %q lacks %q", stderr, want)
	}
}

func TestParseSerialHex(t *testing.T) {
	longest := strings.Repeat("ff", maxSerialOctets)
	tests := []struct {
		in      string
		want    string // hex of the result
		wantErr bool
	}{
		{"1f3a", "1f3a", false},
		{"1F3A", "1f3a", false},
		{"1F:3A", "1f3a", false},
		{"0x1f3a", "1f3a", false},
		{" 1f3a\n", "1f3a", false},
		{"00:" + longest, longest, false},
		{longest, longest, false},
		{"01" + longest, "", true},
		{"", "", true},
		{"0x", "", true},
		{":", "", true},
		{"0", "", true},
		{"00:00", "", true},
		{"-1", "", true},
		{"+1", "", true},
		{"1f 3a", "", true},
		{"g1", "", true},
		{"0x0x1", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, err := parseSerialHex(tt.in)
			if tt.wantErr {
				if !errors.Is(err, errInvalidSerial) {
					t.Errorf("parseSerialHex(%q) = %v, %v; want errInvalidSerial", tt.in, n, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseSerialHex(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, n.Text(16)); diff != "" {
				t.Errorf("parseSerialHex(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// FuzzParseSerialHex checks that a parsed serial number is positive and
// at most maxSerialOctets long, and that its lower-case hex, as the
// registrar logs it, parses back to the same value.
func FuzzParseSerialHex(f *testing.F) {
	for _, s := range []string{"1f3a", "1F:3A", "0x2b", "00:ff", "-1", "", ":::",
		strings.Repeat("ab", 21), "0x0x1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSerialHex(s)
		if err != nil {
			if !errors.Is(err, errInvalidSerial) {
				t.Fatalf("error %v does not wrap errInvalidSerial", err)
			}
			return
		}
		if n.Sign() <= 0 || len(n.Bytes()) > maxSerialOctets {
			t.Fatalf("parseSerialHex(%q) = %s, outside 1 to %d octets", s, n.Text(16),
				maxSerialOctets)
		}
		back, err := parseSerialHex(n.Text(16))
		if err != nil || back.Cmp(n) != 0 {
			t.Fatalf("hex %s of %q parses back as %v, %v", n.Text(16), s, back, err)
		}
	})
}
