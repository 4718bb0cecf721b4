package voucher

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func FuzzParseSigned(f *testing.F) {
	for _, vec := range allVectors {
		der := readCMS(f, vec.name)
		f.Add(der)
		f.Add(toIndefinite(f, der, 200))
	}
	roots := poolOf(readCert(f, manufacturerCAName), readCert(f, ownerCAName))
	f.Fuzz(func(t *testing.T, data []byte) {
		der, err := berToDER(data)
		if err == nil {
			again, err := berToDER(der)
			if err != nil || !bytes.Equal(again, der) {
				t.Fatalf("berToDER is not idempotent: %v", err)
			}
		}
		obj, err := ParseSigned(data)
		if err != nil {
			return
		}
		again, err := ParseSignedWith(data, obj.Certificates)
		if err != nil {
			t.Fatalf("ParseSignedWith with the parsed certificates: %v", err)
		}
		if len(again.Certificates) != len(obj.Certificates) {
			t.Fatalf("ParseSignedWith returned %d certificates, ParseSigned %d",
				len(again.Certificates), len(obj.Certificates))
		}
		for i, c := range again.Certificates {
			if !c.Equal(obj.Certificates[i]) {
				t.Fatalf("certificate %d of ParseSignedWith differs", i)
			}
		}
		_, _ = obj.SignerCertificate() // must not panic on any sid
		_, _ = obj.Verify(VerifyOptions{Roots: roots, CurrentTime: vectorTime})
	})
}

func FuzzParseVoucher(f *testing.F) {
	for _, name := range []string{voucherName + ".payload.json",
		"rfc8366/voucher-example1_nonce_logged.json",
		"rfc8366/voucher-example2_nonceless_verified.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		roundTrip(t, data, ParseVoucher, (*Voucher).MarshalVoucher)
	})
}

func FuzzParseRequest(f *testing.F) {
	for _, name := range []string{pledgeRequestName, registrarRequestName} {
		f.Add(readTestdata(f, name+".payload.json"))
	}
	f.Add([]byte(`{"ietf-voucher-request:voucher":{"created-on":"2017-01-01T00:00:02.000Z",` +
		`"idevid-issuer":"base64encodedvalue==","serial-number":"JADA123456789",` +
		`"domain-cert-revocation-checks":"false","x:y":{"z":[null]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		roundTrip(t, data, ParseRequest, (*Voucher).MarshalRequest)
	})
}

// bytesEqual compares byte slices in one step, because cmp compares them
// element by element, which makes a 4 KB leaf cost milliseconds. A nil
// slice, which is an absent leaf, still differs from an empty one.
var bytesEqual = cmp.Comparer(func(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
})

// roundTrip checks that parse, marshal, parse agrees with the first parse
// (apart from Warnings, which describe the input) and that marshalling is
// stable.
func roundTrip(t *testing.T, data []byte, parse func([]byte) (*Voucher, error),
	marshal func(*Voucher) ([]byte, error)) {
	first, err := parse(data)
	if err != nil {
		return
	}
	out, err := marshal(first)
	if err != nil {
		t.Fatalf("marshal of a parsed value failed: %v", err)
	}
	second, err := parse(out)
	if err != nil {
		t.Fatalf("parse of marshalled %s failed: %v", out, err)
	}
	if len(second.Warnings) != 0 {
		t.Errorf("marshalled output has warnings: %q", second.Warnings)
	}
	ignore := cmpopts.IgnoreFields(Voucher{}, "Warnings")
	if diff := cmp.Diff(first, second, ignore, bytesEqual); diff != "" {
		t.Errorf("parse, marshal, parse differs (-first +second):\n%s", diff)
	}
	again, err := marshal(second)
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("marshal is not stable: %s then %s (%v)", out, again, err)
	}
}
