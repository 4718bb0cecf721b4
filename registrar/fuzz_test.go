package registrar

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/brski-eap/brski/voucher"
)

func FuzzParseStatusTelemetry(f *testing.F) {
	f.Add([]byte(`{"version":1,"status":true}`))
	f.Add([]byte(`{"version":1,"status":false,"reason":"Informative human readable message",` +
		`"reason-context":{"additional":"JSON"}}`))
	f.Add([]byte(`{"version":"1","status":true}`))
	f.Add([]byte(`{"version":1e3,"status":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseStatusTelemetry(data)
		if err != nil {
			return
		}
		// A parsed report marshals and parses to the same values.
		out := map[string]any{"version": st.Version, "status": st.Status, "reason": st.Reason}
		if st.ReasonContext != nil {
			out["reason-context"] = st.ReasonContext
		}
		again, err := json.Marshal(out)
		if err != nil {
			t.Fatalf("marshal %+v: %v", st, err)
		}
		st2, err := ParseStatusTelemetry(again)
		if err != nil {
			t.Fatalf("reparse %s: %v", again, err)
		}
		if st2.Version != st.Version || st2.Status != st.Status || st2.Reason != st.Reason {
			t.Fatalf("round trip changed %+v to %+v", st, st2)
		}
	})
}

func FuzzESTBody(f *testing.F) {
	csr := newCSR(f, newKey(f), pkix.Name{CommonName: "pledge", SerialNumber: "SN-1"})
	f.Add(b64(csr), false)
	f.Add(csr, true)
	f.Add([]byte("MIIB\r\nAAAA\r\n"), false)
	f.Add([]byte{0x30, 0x80, 0x00, 0x00}, false)
	f.Fuzz(func(t *testing.T, body []byte, binary bool) {
		req := httptest.NewRequest(http.MethodPost, PathSimpleEnroll, bytes.NewReader(body))
		if binary {
			req.Header.Set("Content-Transfer-Encoding", "binary")
		}
		der, err := decodeESTBody(req, body)
		if err != nil {
			return
		}
		csr, err := parseCSR(der)
		if err != nil {
			return
		}
		if csr.CheckSignature() != nil {
			t.Fatal("parseCSR returned a CSR whose signature does not verify")
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(minimalPolicy))
	f.Add([]byte(defaultConfig))
	f.Add([]byte("listen = \"127.0.0.1:1\"\nmanufacturer \"a\" {\n ca = \"x\"\n masa_trust = " +
		"\"y\"\n}\nradius {\n x = 1\n}\n" + minimalPolicy))
	f.Add([]byte("voucher_wait = 5\n" + minimalPolicy))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, err := ParseConfig("fuzz.hcl", src)
		if err != nil {
			return
		}
		if cfg.Policy == nil {
			t.Fatal("ParseConfig returned a config without policy")
		}
		if diags := cfg.Validate(); diags.HasErrors() {
			t.Fatalf("ParseConfig returned a config that fails Validate: %v", diags)
		}
	})
}

// FuzzRequestVoucher sends arbitrary bodies to the voucher request route of
// a registrar without MASA, as a pledge without client certificate would.
func FuzzRequestVoucher(f *testing.F) {
	d := newTestDomain(f)
	r, err := New(Options{DomainCA: d.ca, Cert: d.cert, Store: newMemStore(),
		Policy: parsePolicy(f, testPolicy)})
	if err != nil {
		f.Fatal(err)
	}
	factory := newTestCA(f, "fuzz factory")
	key := newKey(f)
	idevid := factory.issue(f, key, "SN-1", x509.ExtKeyUsageClientAuth)
	vr := &voucher.Voucher{CreatedOn: time.Now(), Assertion: voucher.AssertionProximity,
		SerialNumber: "SN-1", Nonce: []byte("nonce"), ProximityRegistrarCert: d.cert.Leaf().Raw}
	content, err := vr.MarshalRequest()
	if err != nil {
		f.Fatal(err)
	}
	signed, err := voucher.Sign(content, idevid, key, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte("MIAGCSqGSIb3DQEHAqCAMIACAQExADCABgkqhkiG9w0BBwEAAKCAAAAxAAAAAA=="))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Add([]byte("-----BEGIN CMS-----\nMA==\n-----END CMS-----\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		ctx := NewSessionContext(context.Background())
		req := estRequest(ctx, http.MethodPost, PathRequestVoucher, body, nil)
		req.Header.Set("Content-Type", "application/voucher-cms+json")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for hostile input: %q", rec.Code, rec.Body)
		}
	})
}
