package devid

import (
	"encoding/asn1"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func FuzzParseMASAURL(f *testing.F) {
	for _, s := range []string{"highway-test.example.com:9443", "https://m.example.com/p/",
		"http://x", "https://[::1]:443", ""} {
		b, err := MarshalMASAURL(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x16, 0x81})
	f.Fuzz(func(t *testing.T, value []byte) {
		got, err := ParseMASAURL(value)
		if err != nil {
			return
		}
		again, err := MarshalMASAURL(got)
		if err != nil {
			t.Fatalf("parsed URL %q does not marshal: %v", got, err)
		}
		got2, err := ParseMASAURL(again)
		if err != nil {
			t.Fatalf("normalized URL %q does not parse: %v", got, err)
		}
		if diff := cmp.Diff(got, got2); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	})
}

func FuzzParseHardwareModuleName(f *testing.F) {
	seed, err := MarshalHardwareModuleName(HardwareModuleName{
		Type: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 1}, SerialNum: []byte("SN-1")})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{0x30, 0x0b, 0x82, 0x09, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't'})
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, value []byte) {
		hw, err := ParseHardwareModuleName(value)
		if err != nil || hw == nil {
			return
		}
		der, err := MarshalHardwareModuleName(*hw)
		if err != nil {
			return // a parsed type OID may be one that asn1.Marshal rejects
		}
		hw2, err := ParseHardwareModuleName(der)
		if err != nil {
			t.Fatalf("marshalled name does not parse: %v", err)
		}
		if diff := cmp.Diff(hw, hw2); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	})
}
