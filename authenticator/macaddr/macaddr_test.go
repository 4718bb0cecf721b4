package macaddr

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var example = net.HardwareAddr{0x00, 0x10, 0xA4, 0x23, 0x19, 0xC0}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"colons lower", "00:10:a4:23:19:c0"},
		{"colons upper", "00:10:A4:23:19:C0"},
		{"dashes RFC 3580", "00-10-A4-23-19-C0"},
		{"dots of four", "0010.a423.19c0"},
		{"dashes of four", "0010-a423-19c0"},
		{"dashes of six", "0010a4-2319c0"},
		{"no separator", "0010A42319C0"},
		{"surrounding spaces", " 00:10:a4:23:19:c0\t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			want := Address{HardwareAddr: example, Raw: tt.in}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"eleven digits", "0010a42319c"},
		{"mixed separators", "00:10-a4:23:19:c0"},
		{"uneven groups", "0010:a4:2319:c0"},
		{"group of three", "001:0a4:231:9c0"},
		{"eui-64", "00:10:a4:ff:fe:23:19:c0"},
		{"non-hex", "00:10:a4:23:19:cg"},
		{"separator inside group", "00:1-:a4:23:19:c0"},
		{"trailing separator", "00:10:a4:23:19:c0:"},
		{"too long", strings.Repeat("0", 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error = %v, want ErrInvalid", tt.in, err)
			}
			if len(got.Raw) > maxRawLen {
				t.Errorf("Raw is %d octets, want at most %d", len(got.Raw), maxRawLen)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	a, err := FromHardwareAddr(example)
	if err != nil {
		t.Fatalf("FromHardwareAddr: %v", err)
	}
	if got, want := a.CallingStationID(), "00-10-A4-23-19-C0"; got != want {
		t.Errorf("CallingStationID() = %q, want %q", got, want)
	}
	if got, want := a.String(), "00:10:a4:23:19:c0"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := a.Raw, "00:10:a4:23:19:c0"; got != want {
		t.Errorf("Raw = %q, want %q", got, want)
	}
	b, err := Parse("0010.A423.19C0")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !a.Equal(b) {
		t.Errorf("%v and %v are not Equal", a, b)
	}
}

func TestFromHardwareAddrCopies(t *testing.T) {
	hw := append(net.HardwareAddr(nil), example...)
	a, err := FromHardwareAddr(hw)
	if err != nil {
		t.Fatalf("FromHardwareAddr: %v", err)
	}
	hw[0] = 0xFF
	if a.HardwareAddr[0] != 0x00 {
		t.Error("Address shares its octets with the input slice")
	}
	if _, err := FromHardwareAddr(hw[:4]); !errors.Is(err, ErrInvalid) {
		t.Errorf("FromHardwareAddr of 4 octets error = %v, want ErrInvalid", err)
	}
}

// FuzzParse checks that Parse never panics, that an accepted address has 6
// octets, and that both output forms parse back to the same address.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"00:10:a4:23:19:c0", "0010.a423.19c0", "0010a4-2319c0",
		"0010A42319C0", "00-10-A4-23-19-C0", "::::::", "0-0-0-0-0-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		a, err := Parse(in)
		if err != nil {
			return
		}
		if len(a.HardwareAddr) != 6 {
			t.Fatalf("Parse(%q) returned %d octets", in, len(a.HardwareAddr))
		}
		for _, form := range []string{a.String(), a.CallingStationID()} {
			b, err := Parse(form)
			if err != nil {
				t.Fatalf("Parse(%q) of output form: %v", form, err)
			}
			if !a.Equal(b) {
				t.Fatalf("Parse(%q) = %v, want %v", form, b, a)
			}
		}
	})
}
