package eap

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want *Packet
	}{
		{"success", []byte{3, 7, 0, 4}, &Packet{Code: CodeSuccess, Identifier: 7}},
		{"failure", []byte{4, 9, 0, 4}, &Packet{Code: CodeFailure, Identifier: 9}},
		{"identity request", []byte{1, 1, 0, 5, 1},
			&Packet{Code: CodeRequest, Identifier: 1, Type: TypeIdentity, Data: []byte{}}},
		{"identity response", []byte{2, 1, 0, 8, 1, 'b', 'o', 'b'},
			&Packet{Code: CodeResponse, Identifier: 1, Type: TypeIdentity, Data: []byte("bob")}},
		{"expanded", []byte{1, 2, 0, 14, 254, 0x12, 0x34, 0x56, 0, 0, 0, 9, 0xaa, 0xbb},
			&Packet{Code: CodeRequest, Identifier: 2, Type: TypeExpanded, VendorID: 0x123456,
				VendorType: 9, Data: []byte{0xaa, 0xbb}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
			out, err := got.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, tt.in) {
				t.Errorf("Marshal = %x, want %x", out, tt.in)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"short header", []byte{1, 1, 0}, ErrTruncated},
		{"length beyond buffer", []byte{1, 1, 0, 9, 1}, ErrTruncated},
		{"buffer beyond length", []byte{3, 1, 0, 4, 0}, ErrLength},
		{"length below header", []byte{3, 1, 0, 3}, ErrLength},
		{"unknown code", []byte{9, 1, 0, 4}, ErrInvalid},
		{"success with data", []byte{3, 1, 0, 5, 1}, ErrInvalid},
		{"request without type", []byte{1, 1, 0, 4}, ErrTruncated},
		{"expanded header cut", []byte{1, 1, 0, 8, 254, 0, 0, 1}, ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse(%x) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		p    Packet
	}{
		{"unknown code", Packet{Code: 0}},
		{"vendor over 24 bits", Packet{Code: CodeRequest, Type: TypeExpanded, VendorID: 1 << 24}},
		{"too long", Packet{Code: CodeRequest, Type: TypeTLS, Data: make([]byte, MaxPacketLen)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.p.Marshal(); !errors.Is(err, ErrInvalid) {
				t.Errorf("Marshal error = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestIdentity(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		want    string
		wantErr bool
	}{
		{"plain", []byte("pledge@example.com"), "pledge@example.com", false},
		{"empty", nil, "", false},
		{"NUL", []byte("a\x00b"), "", true},
		{"invalid UTF-8", []byte{0xff, 0xfe}, "", true},
		{"too long", bytes.Repeat([]byte("a"), MaxIdentityLen+1), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Identity(NewIdentityResponse(1, string(tt.data)))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Identity error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Identity = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNakRoundTrip(t *testing.T) {
	est := MethodType{Type: TypeExperimental}
	vendor := MethodType{Type: TypeExpanded, VendorID: 0xabcdef, VendorType: 7}
	tls := MethodType{Type: TypeTLS}
	tests := []struct {
		name     string
		desired  []MethodType
		expanded bool
		wire     []byte // type data
		want     []MethodType
	}{
		{"legacy", []MethodType{est, tls}, false, []byte{255, 13}, []MethodType{est, tls}},
		{"legacy none", nil, false, []byte{0}, nil},
		{"legacy expanded once", []MethodType{vendor, vendor, tls}, false, []byte{254, 13},
			[]MethodType{{Type: TypeExpanded}, tls}},
		{"expanded", []MethodType{vendor, tls}, true,
			[]byte{254, 0xab, 0xcd, 0xef, 0, 0, 0, 7, 254, 0, 0, 0, 0, 0, 0, 13},
			[]MethodType{vendor, tls}},
		{"expanded none", nil, true, []byte{254, 0, 0, 0, 0, 0, 0, 0}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewNak(5, tt.desired, tt.expanded)
			if !bytes.Equal(p.Data, tt.wire) {
				t.Errorf("Nak data = %x, want %x", p.Data, tt.wire)
			}
			b, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			q, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if !IsNak(q) {
				t.Fatalf("IsNak(%v) = false", q)
			}
			got, err := ParseNak(q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseNak (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseNakErrors(t *testing.T) {
	tests := []struct {
		name string
		p    *Packet
	}{
		{"not a Nak", &Packet{Code: CodeResponse, Type: TypeTLS, Data: []byte{1}}},
		{"empty legacy", &Packet{Code: CodeResponse, Type: TypeNak}},
		{"expanded odd length", &Packet{Code: CodeResponse, Type: TypeExpanded, VendorType: 3,
			Data: []byte{254, 0, 0}}},
		{"expanded bad entry", &Packet{Code: CodeResponse, Type: TypeExpanded, VendorType: 3,
			Data: []byte{13, 0, 0, 0, 0, 0, 0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseNak(tt.p); err == nil {
				t.Errorf("ParseNak(%v) succeeded", tt.p)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	seeds := [][]byte{
		{3, 7, 0, 4},
		{1, 1, 0, 5, 1},
		{2, 1, 0, 8, 1, 'b', 'o', 'b'},
		{2, 3, 0, 7, 3, 255, 13},
		{1, 2, 0, 14, 254, 0x12, 0x34, 0x56, 0, 0, 0, 9, 0xaa, 0xbb},
		{2, 4, 0, 20, 254, 0, 0, 0, 0, 0, 0, 3, 254, 0, 0, 0, 0, 0, 0, 13},
		{1, 5, 0, 10, 13, 0x80, 0, 0, 0, 9},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed packet failed: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("round trip changed %x to %x", b, out)
		}
		if IsNak(p) {
			ParseNak(p)
		}
		if p.Code == CodeResponse && p.Type == TypeIdentity {
			Identity(p)
		}
	})
}
