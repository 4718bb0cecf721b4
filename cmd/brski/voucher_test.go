package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const vectorDir = "../../voucher/testdata/rfc8995"

func vectorPath(name string) string { return filepath.Join(vectorDir, name) }

func runBrski(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// tamperedVoucher writes the RFC 8995 Appendix C.2.3 voucher with one byte
// of its JSON content changed, as DER.
func tamperedVoucher(t *testing.T) string {
	t.Helper()
	b64, err := os.ReadFile(vectorPath("voucher_00-D0-E5-F2-00-02.cms.b64"))
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(b64), "\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(der, []byte(`"logged"`))
	if i < 0 {
		t.Fatal("assertion not found in the voucher")
	}
	copy(der[i:], `"LOGGED"`)
	path := filepath.Join(t.TempDir(), "tampered.der")
	if err := os.WriteFile(path, der, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVoucherVerifyRFC8995AppendixC2(t *testing.T) {
	const at = "2021-05-01T00:00:00Z"
	tests := []struct {
		name, file, trust string
		args              []string
		wantCode          int
		wantOut           string
	}{
		{"voucher", "voucher_00-D0-E5-F2-00-02.cms.b64", "manufacturer-ca_vendor.crt.pem",
			[]string{"--at", at}, 0, `valid: voucher for serial-number "00-D0-E5-F2-00-02"`},
		{"pledge request", "pledge-voucher-request_00-D0-E5-F2-00-02.cms.b64",
			"manufacturer-ca_vendor.crt.pem", []string{"--at", at}, 0,
			"valid: voucher request for serial-number"},
		{"registrar request", "registrar-voucher-request_00-D0-E5-F2-00-02.cms.b64",
			"registrar-ca_ownerca_secp384r1.crt.pem", []string{"--at=" + at}, 0,
			"valid: voucher request for serial-number"},
		{"voucher now", "voucher_00-D0-E5-F2-00-02.cms.b64", "manufacturer-ca_vendor.crt.pem",
			nil, 1, ""},
		{"wrong trust anchor", "voucher_00-D0-E5-F2-00-02.cms.b64",
			"registrar-ca_ownerca_secp384r1.crt.pem", []string{"--at", at}, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"voucher", "verify", vectorPath(tt.file),
				"--trust", vectorPath(tt.trust)}, tt.args...)
			code, stdout, stderr := runBrski(args...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d; stdout %q, stderr %q", code, tt.wantCode,
					stdout, stderr)
			}
			if !strings.HasPrefix(stdout, tt.wantOut) {
				t.Errorf("stdout = %q, want prefix %q", stdout, tt.wantOut)
			}
			if tt.wantCode == 1 && (!strings.HasPrefix(stderr, "invalid: ") ||
				strings.Count(stderr, "\n") != 1) {
				t.Errorf("stderr = %q, want one line starting with \"invalid: \"", stderr)
			}
		})
	}
}

func TestVoucherVerifyTampered(t *testing.T) {
	code, stdout, stderr := runBrski("voucher", "verify", tamperedVoucher(t),
		"--trust", vectorPath("manufacturer-ca_vendor.crt.pem"), "--at", "2021-05-01T00:00:00Z")
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stdout %q", code, stdout)
	}
	if !strings.Contains(stderr, "invalid signature") {
		t.Errorf("stderr = %q, want the signature failure", stderr)
	}
}

func TestVoucherVerifyUsage(t *testing.T) {
	file := vectorPath("voucher_00-D0-E5-F2-00-02.cms.b64")
	trust := vectorPath("manufacturer-ca_vendor.crt.pem")
	tests := []struct {
		name string
		args []string
	}{
		{"no file", []string{"--trust", trust}},
		{"two files", []string{file, file, "--trust", trust}},
		{"no trust", []string{file}},
		{"bad time", []string{file, "--trust", trust, "--at", "yesterday"}},
		{"trust not PEM", []string{file, "--trust", file}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runBrski(append([]string{"voucher", "verify"}, tt.args...)...)
			if code != 2 {
				t.Errorf("exit code %d, want 2; stderr %q", code, stderr)
			}
		})
	}
}

func TestVoucherInspect(t *testing.T) {
	code, stdout, stderr := runBrski("voucher", "inspect",
		vectorPath("registrar-voucher-request_00-D0-E5-F2-00-02.cms.b64"))
	if code != 0 {
		t.Fatalf("exit code %d; stderr %q", code, stderr)
	}
	for _, want := range []string{
		"content type: id-data (1.2.840.113549.1.7.1)",
		`    "serial-number": "00-D0-E5-F2-00-02",`,
		"signer: CN=fountain-test.example.com,DC=sandelman,DC=ca\n",
		"certificates: 2\n",
		"issuer:   CN=fountain-test.example.com Unstrung Fountain Root CA,DC=sandelman,DC=ca",
		"validity: 2020-02-25T21:31:54Z to 2022-02-24T21:31:54Z",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
}

func TestVoucherInspectTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "short.b64")
	if err := os.WriteFile(path, []byte("MIIGIgYJKoZIhvcNAQcCoIIGEzCCBg8CAQEx"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runBrski("voucher", "inspect", path); code != 1 {
		t.Errorf("exit code %d, want 1; stderr %q", code, stderr)
	}
}

func TestVoucherInspectHostileFiles(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge")
	if err := os.WriteFile(huge, make([]byte, 2*maxVoucherFileSize), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"certificate PEM", vectorPath("masa_voucher-signing.crt.pem"),
			"holds a CERTIFICATE PEM block, not a CMS signed object"},
		{"huge file", huge, "is larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runBrski("voucher", "inspect", tt.path)
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr = %q, want one line with %q", stderr, tt.want)
			}
		})
	}
}

func TestVoucherVerifyNamesSignerDC(t *testing.T) {
	code, _, stderr := runBrski("voucher", "verify",
		vectorPath("registrar-voucher-request_00-D0-E5-F2-00-02.cms.b64"),
		"--trust", vectorPath("manufacturer-ca_vendor.crt.pem"))
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr %q", code, stderr)
	}
	if want := `"CN=fountain-test.example.com,DC=sandelman,DC=ca"`; !strings.Contains(stderr,
		want) {
		t.Errorf("stderr = %q, want the signer as %s", stderr, want)
	}
}
