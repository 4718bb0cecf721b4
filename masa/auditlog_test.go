package masa

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rfc8995Figure18 is the audit log example of RFC 8995, Section 5.8.1.
const rfc8995Figure18 = `{
  "version":"1",
  "events":[
    {
        "date":"2019-05-15T17:25:55.644-04:00",
        "domainID":"BduJhdHPpfhQLyponf48JzXSGZ8=",
        "nonce":"VOUFT-WwrEv0NuAQEHoV7Q",
        "assertion":"proximity",
        "truncated":"0"
    },
    {
        "date":"2017-05-15T17:25:55.644-04:00",
        "domainID":"BduJhdHPpfhQLyponf48JzXSGZ8=",
        "nonce":"f4G6Vi1t8nKo/FieCVgpBg==",
        "assertion":"proximity"
    }
  ],
    "truncation": {
        "nonced duplicates": "0",
        "nonceless duplicates": "1",
        "arbitrary": "2"
     }
}`

func strPtr(s string) *string { return &s }

func TestParseAuditLogRFC8995Figure18(t *testing.T) {
	got, err := ParseAuditLog([]byte(rfc8995Figure18))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := base64.StdEncoding.DecodeString("BduJhdHPpfhQLyponf48JzXSGZ8=")
	zone := time.FixedZone("", -4*3600)
	want := &AuditLog{
		Version: "1",
		Events: []AuditEvent{
			{Date: time.Date(2019, 5, 15, 17, 25, 55, 644e6, zone), DomainID: id,
				Nonce: strPtr("VOUFT-WwrEv0NuAQEHoV7Q"), Assertion: "proximity"},
			{Date: time.Date(2017, 5, 15, 17, 25, 55, 644e6, zone), DomainID: id,
				Nonce: strPtr("f4G6Vi1t8nKo/FieCVgpBg=="), Assertion: "proximity"},
		},
		Truncation: Truncation{NoncelessDuplicates: 1, Arbitrary: 2},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool {
		return a.Equal(b)
	})); diff != "" {
		t.Errorf("audit log (-want +got):\n%s", diff)
	}
}

func TestAuditLogRoundTrip(t *testing.T) {
	in := &AuditLog{Version: "1", Events: []AuditEvent{
		{Date: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), DomainID: []byte{1, 2, 3},
			Nonce: strPtr("abc"), Assertion: "logged", Truncated: 4},
		{Date: time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC), DomainID: []byte{0xff},
			Assertion: "verified"},
	}, Truncation: Truncation{Arbitrary: 7}}
	data, err := in.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseAuditLog(data)
	if err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestAuditLogMarshalNullNonce(t *testing.T) {
	l := &AuditLog{Events: []AuditEvent{{Date: time.Unix(0, 0).UTC(), DomainID: []byte{1},
		Assertion: "logged"}}}
	data, err := l.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":"1","events":[{"date":"1970-01-01T00:00:00Z","domainID":"AQ==",` +
		`"nonce":null,"assertion":"logged"}],"truncation":{"nonced duplicates":0,` +
		`"nonceless duplicates":0,"arbitrary":0}}`
	if diff := cmp.Diff(want, string(data)); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

func TestParseAuditLogInvalid(t *testing.T) {
	event := `{"date":"2026-01-01T00:00:00Z","domainID":"AQ==","nonce":null,"assertion":"logged"}`
	tests := []struct {
		name string
		data string
	}{
		{"not json", `{`},
		{"array", `[]`},
		{"missing version", `{"events":[]}`},
		{"zero version", `{"version":0,"events":[]}`},
		{"negative version", `{"version":-1,"events":[]}`},
		{"version word", `{"version":"one","events":[]}`},
		{"bad date", `{"version":1,"events":[{"date":"yesterday","domainID":"AQ==",` +
			`"assertion":"logged"}]}`},
		{"bad domainID", `{"version":1,"events":[{"date":"2026-01-01T00:00:00Z",` +
			`"domainID":"*","assertion":"logged"}]}`},
		{"no assertion", `{"version":1,"events":[{"date":"2026-01-01T00:00:00Z",` +
			`"domainID":"AQ=="}]}`},
		{"negative counter", `{"version":1,"events":[` + event + `],` +
			`"truncation":{"arbitrary":-2}}`},
		{"trailing data", `{"version":1,"events":[]} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseAuditLog([]byte(tt.data)); !errors.Is(err, ErrInvalidAuditLog) {
				t.Fatalf("error = %v, want ErrInvalidAuditLog", err)
			}
		})
	}
}

func FuzzParseAuditLog(f *testing.F) {
	f.Add([]byte(rfc8995Figure18))
	f.Add([]byte(`{"version":2,"events":[],"extra":{"a":[1,2]}}`))
	f.Add([]byte(`{"version":"1","events":[{"date":"2026-01-01T00:00:00.5+01:00",` +
		`"domainID":"_-8","nonce":null,"assertion":"logged","truncated":3}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseAuditLog(data)
		if err != nil {
			return
		}
		out, err := l.MarshalJSON()
		if err != nil {
			t.Fatalf("parsed log does not marshal: %v", err)
		}
		l2, err := ParseAuditLog(out)
		if err != nil {
			t.Fatalf("marshalled log does not parse: %v\n%s", err, out)
		}
		if diff := cmp.Diff(l, l2, cmp.Comparer(func(a, b time.Time) bool {
			return a.Equal(b)
		})); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	})
}
