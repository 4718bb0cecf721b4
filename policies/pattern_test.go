package policies

import "testing"

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"", "", true},
		{"", "a", false},
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"*", "", true},
		{"*", "Gi1/0/1", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxcyyb", false},
		{"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"?", "é", true},
		{"??", "é", false},
		{"a\\*", "a*", true},
		{"a\\*", "ab", false},
		{"a\\?", "a?", true},
		{"a\\\\b", "a\\b", true},
		{"**", "x", true},
		{"x*", "x", true},
		{"Gi1/0/?", "Gi1/0/12", false},
	}
	for _, tt := range tests {
		p, err := compilePattern(tt.pattern)
		if err != nil {
			t.Fatalf("compilePattern(%q): %v", tt.pattern, err)
		}
		if got := p.match(tt.value); got != tt.want {
			t.Errorf("%q matches %q = %v; want %v", tt.pattern, tt.value, got, tt.want)
		}
	}
	if _, err := compilePattern("ab\\"); err == nil {
		t.Error("compilePattern accepted a trailing backslash")
	}
}

func TestNormalizeHex(t *testing.T) {
	tests := map[string]string{
		"AB:cd:01":  "abcd01",
		"ab cd-01":  "abcd01",
		"acme":      "",
		"":          "",
		"4A6F1C9E":  "4a6f1c9e",
		"0x4a6f1c9": "",
	}
	for in, want := range tests {
		if got := normalizeHex(in); got != want {
			t.Errorf("normalizeHex(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestVLANIsZero(t *testing.T) {
	if !(VLAN{}).IsZero() {
		t.Error("VLAN{}.IsZero() = false")
	}
	if (VLAN{ID: 1}).IsZero() || (VLAN{Name: "a"}).IsZero() {
		t.Error("a set VLAN reports IsZero")
	}
}
