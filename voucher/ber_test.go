package voucher

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"testing"
)

// toIndefinite re-encodes a DER element the way streaming BER encoders do:
// every constructed element gets an indefinite length, and every OCTET
// STRING longer than chunk bytes becomes a constructed string of chunks.
func toIndefinite(t testing.TB, der []byte, chunk int) []byte {
	t.Helper()
	var rv asn1.RawValue
	rest, err := asn1.Unmarshal(der, &rv)
	if err != nil || len(rest) != 0 {
		t.Fatalf("toIndefinite: %v, %d trailing bytes", err, len(rest))
	}
	tag := rv.FullBytes[0]
	if !rv.IsCompound {
		if rv.Class != asn1.ClassUniversal || rv.Tag != asn1.TagOctetString ||
			len(rv.Bytes) <= chunk {
			return rv.FullBytes
		}
		out := []byte{0x24, 0x80}
		for b := rv.Bytes; len(b) > 0; {
			n := min(chunk, len(b))
			out = append(out, encodeElement([]byte{0x04}, b[:n])...)
			b = b[n:]
		}
		return append(out, 0, 0)
	}
	out := []byte{tag, 0x80}
	for inner := rv.Bytes; len(inner) > 0; {
		var child asn1.RawValue
		next, err := asn1.Unmarshal(inner, &child)
		if err != nil {
			t.Fatalf("toIndefinite: %v", err)
		}
		out = append(out, toIndefinite(t, child.FullBytes, chunk)...)
		inner = next
	}
	return append(out, 0, 0)
}

func TestRFC8995AppendixC2IndefiniteLength(t *testing.T) {
	for _, vec := range allVectors {
		t.Run(vec.name, func(t *testing.T) {
			der := readCMS(t, vec.name)
			ber := toIndefinite(t, der, 100)
			if bytes.Equal(ber, der) {
				t.Fatal("re-encoding changed nothing")
			}
			back, err := berToDER(ber)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, der) {
				t.Error("berToDER(indefinite form) differs from the original DER")
			}
			obj, err := ParseSigned(ber)
			if err != nil {
				t.Fatalf("ParseSigned: %v", err)
			}
			opts := VerifyOptions{Roots: poolOf(readCert(t, vec.root)), CurrentTime: vectorTime}
			if _, err := obj.Verify(opts); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func TestBERToDERKeepsDER(t *testing.T) {
	for _, vec := range allVectors {
		der := readCMS(t, vec.name)
		got, err := berToDER(der)
		if err != nil {
			t.Fatalf("%s: %v", vec.name, err)
		}
		if !bytes.Equal(got, der) {
			t.Errorf("%s: berToDER changed DER input", vec.name)
		}
	}
}

func TestBERToDER(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want []byte
	}{
		{"long form short length", []byte{0x04, 0x81, 0x01, 0xaa}, []byte{0x04, 0x01, 0xaa}},
		{"indefinite sequence", []byte{0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00},
			[]byte{0x30, 0x03, 0x02, 0x01, 0x05}},
		{"nested constructed octets",
			[]byte{0x24, 0x80, 0x24, 0x04, 0x04, 0x02, 0x01, 0x02, 0x04, 0x01, 0x03, 0x00, 0x00},
			[]byte{0x04, 0x03, 0x01, 0x02, 0x03}},
		{"high tag number", []byte{0xbf, 0x81, 0x01, 0x80, 0x05, 0x00, 0x00, 0x00},
			[]byte{0xbf, 0x81, 0x01, 0x02, 0x05, 0x00}},
		{"long content", append([]byte{0x04, 0x84, 0, 0, 1, 0}, make([]byte, 256)...),
			append([]byte{0x04, 0x82, 1, 0}, make([]byte, 256)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := berToDER(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("berToDER = %x, want %x", got, tt.want)
			}
		})
	}
}

func TestBERToDERInvalid(t *testing.T) {
	deep := bytes.Repeat([]byte{0x30, 0x80}, maxBERDepth+2)
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"tag only", []byte{0x30}},
		{"length beyond input", []byte{0x04, 0x05, 0x01}},
		{"length octets missing", []byte{0x04, 0x82, 0x01}},
		{"five length octets", []byte{0x04, 0x85, 0, 0, 0, 0, 1, 0}},
		{"indefinite primitive", []byte{0x04, 0x80, 0x00, 0x00}},
		{"missing end-of-contents", []byte{0x30, 0x80, 0x02, 0x01, 0x05}},
		{"end-of-contents in definite", []byte{0x30, 0x02, 0x00, 0x00}},
		{"string of another type", []byte{0x24, 0x80, 0x0c, 0x01, 0x41, 0x00, 0x00}},
		{"unterminated high tag", []byte{0x1f, 0x81}},
		{"trailing byte", []byte{0x05, 0x00, 0x00}},
		{"too deep", deep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := berToDER(tt.in); !errors.Is(err, ErrMalformed) {
				t.Errorf("berToDER = %x, %v; want ErrMalformed", got, err)
			}
		})
	}
}

func TestIsDERElement(t *testing.T) {
	long := append([]byte{0x04, 0x81, 0x80}, make([]byte, 128)...)
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"null", []byte{0x05, 0x00}, true},
		{"sequence", []byte{0x30, 0x03, 0x02, 0x01, 0x05}, true},
		{"high tag number", []byte{0xbf, 0x81, 0x01, 0x02, 0x05, 0x00}, true},
		{"long form of 128", long, true},
		{"long form short length", []byte{0x04, 0x81, 0x01, 0xaa}, false},
		{"leading zero length octet", append([]byte{0x04, 0x82, 0x00, 0x80},
			make([]byte, 128)...), false},
		{"indefinite sequence", []byte{0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00}, false},
		{"indefinite inside definite", []byte{0x30, 0x04, 0x30, 0x80, 0x00, 0x00}, false},
		{"constructed octets", []byte{0x24, 0x03, 0x04, 0x01, 0x02}, false},
		{"empty", nil, false},
		{"length beyond input", []byte{0x04, 0x05, 0x01}, false},
		{"child beyond parent", []byte{0x30, 0x02, 0x04, 0x02, 0x01, 0x02}, false},
		{"trailing byte", []byte{0x05, 0x00, 0x00}, false},
		{"too deep", nestSequences([]byte{0x05, 0x00}, maxBERDepth+1), false},
		{"deepest allowed", nestSequences([]byte{0x05, 0x00}, maxBERDepth), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isDERElement(tt.in); got != tt.want {
				t.Errorf("isDERElement(%x) = %t, want %t", tt.in, got, tt.want)
			}
		})
	}
	for _, vec := range allVectors {
		if der := readCMS(t, vec.name); !isDERElement(der) {
			t.Errorf("%s: isDERElement = false for the DER vector", vec.name)
		}
	}
}

// nestSequences wraps inner in n DER SEQUENCEs.
func nestSequences(inner []byte, n int) []byte {
	for range n {
		inner = encodeElement([]byte{0x30}, inner)
	}
	return inner
}

// FuzzIsDERElement checks the allocation-free DER check against the full
// conversion: input is DER exactly when converting it changes nothing.
func FuzzIsDERElement(f *testing.F) {
	for _, vec := range allVectors {
		der := readCMS(f, vec.name)
		f.Add(der)
		f.Add(toIndefinite(f, der, 200))
	}
	f.Add([]byte{0x04, 0x81, 0x01, 0xaa})
	f.Add([]byte{0x24, 0x03, 0x04, 0x01, 0x02})
	f.Fuzz(func(t *testing.T, data []byte) {
		converted, err := convertBER(data)
		unchanged := err == nil && bytes.Equal(converted, data)
		if got := isDERElement(data); got != unchanged {
			t.Fatalf("isDERElement = %t, but conversion error %v, unchanged %t", got, err,
				unchanged)
		}
	})
}
