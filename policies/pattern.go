package policies

import (
	"errors"
	"strings"
)

// pattern is a glob: '*' matches any run of characters, including '/',
// '?' matches one character and '\' makes the next character literal. A
// pattern without these is an exact, case-sensitive match. An empty
// pattern matches only an empty value, such as the NAS fields of a pledge
// that uses HTTPS.
type pattern struct {
	text  string
	runes []rune
}

var errTrailingEscape = errors.New(`ends with a lone '\'; write '\\' for a backslash`)

// compilePattern checks the escapes of s.
func compilePattern(s string) (pattern, error) {
	r := []rune(s)
	for i := 0; i < len(r); i++ {
		if r[i] != '\\' {
			continue
		}
		if i == len(r)-1 {
			return pattern{}, errTrailingEscape
		}
		i++
	}
	return pattern{text: s, runes: r}, nil
}

// match reports whether the whole of s matches p. It backtracks only to
// the last '*', so the cost is at most len(p) times len(s).
func (p pattern) match(s string) bool {
	pr, sr := p.runes, []rune(s)
	pi, si := 0, 0
	star, starS := -1, 0
	for si < len(sr) {
		if pi < len(pr) {
			switch c := pr[pi]; {
			case c == '*':
				star, starS = pi, si
				pi++
				continue
			case c == '?':
				pi++
				si++
				continue
			case c == '\\' && pr[pi+1] == sr[si]:
				pi += 2
				si++
				continue
			case c != '\\' && c == sr[si]:
				pi++
				si++
				continue
			}
		}
		if star < 0 {
			return false
		}
		starS++
		si = starS
		pi = star + 1
	}
	for pi < len(pr) && pr[pi] == '*' {
		pi++
	}
	return pi == len(pr)
}

// matchAny reports whether value matches one of patterns, or whether
// patterns is empty, which means the criterion is not given.
func matchAny(patterns []pattern, value string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if p.match(value) {
			return true
		}
	}
	return false
}

// normalizeHex lower-cases s and removes the colons, spaces and dashes that
// people put between hex octets. It returns "" when the rest is not hex.
func normalizeHex(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c == ':' || c == ' ' || c == '-':
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			b.WriteRune(c)
		default:
			return ""
		}
	}
	return b.String()
}
