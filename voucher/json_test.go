package voucher

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// placeholder is the decoded "base64encodedvalue==" of the RFC examples.
var placeholder = mustBase64("base64encodedvalue==")

func mustBase64(s string) []byte {
	b, _, err := decodeBase64(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestRFC8366Section53Examples(t *testing.T) {
	tests := []struct {
		file string
		want *Voucher
	}{{
		file: "rfc8366/voucher-example1_nonce_logged.json",
		want: &Voucher{
			CreatedOn:        time.Date(2016, 10, 7, 19, 31, 42, 0, time.UTC),
			Assertion:        AssertionLogged,
			SerialNumber:     "JADA123456789",
			IDevIDIssuer:     placeholder,
			PinnedDomainCert: placeholder,
			Nonce:            placeholder,
		},
	}, {
		file: "rfc8366/voucher-example2_nonceless_verified.json",
		want: &Voucher{
			CreatedOn:                  time.Date(2016, 10, 7, 19, 31, 42, 0, time.UTC),
			ExpiresOn:                  time.Date(2016, 10, 21, 19, 31, 42, 0, time.UTC),
			Assertion:                  AssertionVerified,
			SerialNumber:               "JADA123456789",
			IDevIDIssuer:               placeholder,
			PinnedDomainCert:           placeholder,
			DomainCertRevocationChecks: boolPtr(true),
			LastRenewalDate:            time.Date(2017, 10, 7, 19, 31, 42, 0, time.UTC),
			Warnings: []string{
				`domain-cert-revocation-checks: boolean sent as the string "true"`,
			},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseVoucher(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseVoucher (-want +got):\n%s", diff)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestRFC8995Section33Examples(t *testing.T) {
	nonce := mustBase64("62a2e7693d82fcda2624de58fb6722e5")
	tests := []struct {
		name string
		json string
		want *Voucher
	}{{
		name: "example 1 pledge request",
		json: `{"ietf-voucher-request:voucher": {"assertion": "proximity",
			"nonce": "62a2e7693d82fcda2624de58fb6722e5", "serial-number" : "JADA123456789",
			"created-on": "2017-01-01T00:00:00.000Z",
			"proximity-registrar-cert": "base64encodedvalue=="}}`,
		want: &Voucher{
			CreatedOn:              time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC),
			Assertion:              AssertionProximity,
			SerialNumber:           "JADA123456789",
			Nonce:                  nonce,
			ProximityRegistrarCert: placeholder,
		},
	}, {
		name: "example 3 offline request",
		json: `{"ietf-voucher-request:voucher": {"created-on": "2017-01-01T00:00:02.000Z",
			"idevid-issuer": "base64encodedvalue==", "serial-number": "JADA123456789"}}`,
		want: &Voucher{
			CreatedOn:    time.Date(2017, 1, 1, 0, 0, 2, 0, time.UTC),
			SerialNumber: "JADA123456789",
			IDevIDIssuer: placeholder,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRequest([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseRequest (-want +got):\n%s", diff)
			}
			if err := got.ValidateRequest(); err != nil {
				t.Errorf("ValidateRequest: %v", err)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	const pre = `{"ietf-voucher:voucher":{`
	tests := []struct {
		name string
		json string
		want error
	}{
		{"request container", `{"ietf-voucher-request:voucher":{}}`, ErrContainer},
		{"no container", `{}`, ErrContainer},
		{"two members", `{"ietf-voucher:voucher":{},"x":1}`, ErrContainer},
		{"container not object", `{"ietf-voucher:voucher":[]}`, ErrContainer},
		{"duplicate leaf", pre + `"nonce":"AAAA","nonce":"BBBB"}}`, ErrContainer},
		{"bad assertion", pre + `"assertion":"trusted"}}`, ErrInvalidLeaf},
		{"empty assertion", pre + `"assertion":""}}`, ErrInvalidLeaf},
		{"assertion number", pre + `"assertion":1}}`, ErrInvalidLeaf},
		{"bool number", pre + `"domain-cert-revocation-checks":1}}`, ErrInvalidLeaf},
		{"bool yes", pre + `"domain-cert-revocation-checks":"yes"}}`, ErrInvalidLeaf},
		{"bool null", pre + `"domain-cert-revocation-checks":null}}`, ErrInvalidLeaf},
		{"empty nonce", pre + `"nonce":""}}`, ErrInvalidLeaf},
		{"nonce not base64", pre + `"nonce":"!!!"}}`, ErrInvalidLeaf},
		{"nonce mixed alphabets", pre + `"nonce":"ab+-_"}}`, ErrInvalidLeaf},
		{"serial null", pre + `"serial-number":null}}`, ErrInvalidLeaf},
		{"serial number type", pre + `"serial-number":12}}`, ErrInvalidLeaf},
		{"time without zone", pre + `"created-on":"2021-04-13T17:43:23"}}`, ErrInvalidLeaf},
		{"time date only", pre + `"created-on":"2021-04-13"}}`, ErrInvalidLeaf},
		{"expires before created", pre + `"created-on":"2021-04-13T17:43:23Z",` +
			`"expires-on":"2021-04-13T17:00:00Z"}}`, ErrInvalidLeaf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseVoucher([]byte(tt.json))
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseVoucher = %+v, %v; want error %v", v, err, tt.want)
			}
		})
	}
}

func TestParseNotJSON(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"ietf-voucher:voucher":{}} x`, `{`, `"s"`} {
		if v, err := ParseVoucher([]byte(in)); err == nil {
			t.Errorf("ParseVoucher(%q) = %+v, want an error", in, v)
		}
	}
}

func TestParseLenientEncodings(t *testing.T) {
	in := `{"ietf-voucher:voucher":{"created-on":"2021-04-13t17:43:24.589-04:00",` +
		`"nonce":"-_XE9zK9q8Ll1qylMtLKeg","idevid-issuer":"AAE",` +
		`"domain-cert-revocation-checks":"false"}}`
	got, err := ParseVoucher([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &Voucher{
		CreatedOn: time.Date(2021, 4, 13, 17, 43, 24, 589e6,
			time.FixedZone("", -4*3600)),
		Nonce: []byte{0xfb, 0xf5, 0xc4, 0xf7, 0x32, 0xbd, 0xab, 0xc2, 0xe5, 0xd6,
			0xac, 0xa5, 0x32, 0xd2, 0xca, 0x7a},
		IDevIDIssuer:               []byte{0, 1},
		DomainCertRevocationChecks: boolPtr(false),
		Warnings: []string{
			`created-on: lower-case 't' or 'z' in "2021-04-13t17:43:24.589-04:00"`,
			"nonce: not padded standard base64 (RFC 4648, Section 4)",
			"idevid-issuer: not padded standard base64 (RFC 4648, Section 4)",
			`domain-cert-revocation-checks: boolean sent as the string "false"`,
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseVoucher (-want +got):\n%s", diff)
	}
	if *got.DomainCertRevocationChecks {
		t.Error(`"false" became true`)
	}
}

func TestMarshalVoucher(t *testing.T) {
	v := &Voucher{
		CreatedOn:                  time.Date(2021, 4, 13, 17, 43, 24, 589e6, time.FixedZone("", -4*3600)),
		ExpiresOn:                  time.Date(2021, 4, 14, 0, 0, 0, 0, time.UTC),
		Assertion:                  AssertionVerified,
		SerialNumber:               "JADA<1>",
		PinnedDomainCert:           []byte{0xfb, 0xff},
		DomainCertRevocationChecks: boolPtr(false),
		Nonce:                      []byte{1, 2, 3},
		Unknown: map[string]json.RawMessage{
			"z-vendor:extra": json.RawMessage(`{ "a" : [1, 2] }`),
			"a-vendor:flag":  json.RawMessage(`true`),
		},
	}
	got, err := v.MarshalVoucher()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ietf-voucher:voucher":{"created-on":"2021-04-13T17:43:24.589-04:00",` +
		`"expires-on":"2021-04-14T00:00:00Z","assertion":"verified",` +
		`"serial-number":"JADA\u003c1\u003e","pinned-domain-cert":"+/8=",` +
		`"domain-cert-revocation-checks":false,"nonce":"AQID",` +
		`"a-vendor:flag":true,"z-vendor:extra":{"a":[1,2]}}}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("MarshalVoucher (-want +got):\n%s", diff)
	}
	back, err := ParseVoucher(got)
	if err != nil {
		t.Fatal(err)
	}
	v.Unknown["z-vendor:extra"] = json.RawMessage(`{"a":[1,2]}`)
	if diff := cmp.Diff(v, back); diff != "" {
		t.Errorf("ParseVoucher(MarshalVoucher) (-want +got):\n%s", diff)
	}
}

func TestMarshalInvalid(t *testing.T) {
	tests := []struct {
		name    string
		v       Voucher
		request bool
	}{
		{"bad assertion", Voucher{Assertion: "trusted"}, false},
		{"empty nonce", Voucher{Nonce: []byte{}}, true},
		{"request leaf in voucher", Voucher{ProximityRegistrarCert: []byte{1}}, false},
		{"known leaf in unknown",
			Voucher{Unknown: map[string]json.RawMessage{"nonce": []byte(`"AA=="`)}}, true},
		{"unknown not JSON", Voucher{Unknown: map[string]json.RawMessage{"x": []byte(`{`)}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marshal := tt.v.MarshalVoucher
			if tt.request {
				marshal = tt.v.MarshalRequest
			}
			if out, err := marshal(); !errors.Is(err, ErrInvalidLeaf) {
				t.Errorf("marshal = %s, %v; want ErrInvalidLeaf", out, err)
			}
		})
	}
}

func TestParseUnknownLeaves(t *testing.T) {
	in := `{"ietf-voucher:voucher":{"serial-number":"A",` +
		`"proximity-registrar-cert":"AAAA","x:y": [ 1 ]}}`
	got, err := ParseVoucher([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]json.RawMessage{
		"proximity-registrar-cert": json.RawMessage(`"AAAA"`),
		"x:y":                      json.RawMessage(`[1]`),
	}
	if diff := cmp.Diff(want, got.Unknown); diff != "" {
		t.Errorf("Unknown (-want +got):\n%s", diff)
	}
	if got.ProximityRegistrarCert != nil {
		t.Errorf("ProximityRegistrarCert = %x in a voucher, want nil", got.ProximityRegistrarCert)
	}
}

func TestValidate(t *testing.T) {
	valid := Voucher{
		CreatedOn:        time.Date(2021, 4, 13, 0, 0, 0, 0, time.UTC),
		Assertion:        AssertionLogged,
		SerialNumber:     "A",
		PinnedDomainCert: []byte{1},
	}
	tests := []struct {
		name   string
		modify func(*Voucher)
		want   error
	}{
		{"valid", func(*Voucher) {}, nil},
		{"no created-on", func(v *Voucher) { v.CreatedOn = time.Time{} }, ErrMissingLeaf},
		{"no assertion", func(v *Voucher) { v.Assertion = "" }, ErrMissingLeaf},
		{"no serial", func(v *Voucher) { v.SerialNumber = "" }, ErrMissingLeaf},
		{"no pinned cert", func(v *Voucher) { v.PinnedDomainCert = nil }, ErrMissingLeaf},
		{"request leaf", func(v *Voucher) { v.PriorSignedVoucherRequest = []byte{1} },
			ErrInvalidLeaf},
		{"bad assertion", func(v *Voucher) { v.Assertion = "x" }, ErrInvalidLeaf},
		{"expires at creation", func(v *Voucher) { v.ExpiresOn = v.CreatedOn }, ErrInvalidLeaf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := valid
			tt.modify(&v)
			if err := v.Validate(); !errors.Is(err, tt.want) {
				t.Errorf("Validate = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestValidateRequest(t *testing.T) {
	tests := []struct {
		name string
		v    Voucher
		want error
	}{
		{"serial only", Voucher{SerialNumber: "A"}, nil},
		{"no serial", Voucher{Nonce: []byte{1}}, ErrMissingLeaf},
		{"proximity without cert",
			Voucher{SerialNumber: "A", Assertion: AssertionProximity}, ErrMissingLeaf},
		{"proximity with cert", Voucher{SerialNumber: "A", Assertion: AssertionProximity,
			ProximityRegistrarCert: []byte{1}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.v.ValidateRequest(); !errors.Is(err, tt.want) {
				t.Errorf("ValidateRequest = %v, want %v", err, tt.want)
			}
		})
	}
}
