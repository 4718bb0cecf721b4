package hclcheck

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// SuggestTopLevel adds "Did you mean" to each diagnostic about a top-level
// block type or argument of f that no schema accepts, when one of names is
// close to it. HCL's decoder suggests only names of the schema it decodes
// with, so a file whose top level several decoders share, such as the
// registrar's file with its policy blocks, needs the suggestion added
// afterwards. names are all the top-level names of the file's format. A
// diagnostic that has a suggestion already, or that is not about a
// top-level item, is left as it is.
func SuggestTopLevel(f *hcl.File, diags hcl.Diagnostics, names []string) hcl.Diagnostics {
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return diags
	}
	top := make(map[hcl.Pos]string, len(body.Blocks)+len(body.Attributes))
	for _, b := range body.Blocks {
		top[b.TypeRange.Start] = b.Type
	}
	for name, a := range body.Attributes {
		top[a.NameRange.Start] = name
	}
	for _, d := range diags {
		if d.Subject == nil || strings.Contains(d.Detail, "Did you mean") {
			continue
		}
		name, ok := top[d.Subject.Start]
		if !ok {
			continue
		}
		if s := ClosestName(name, names); s != "" {
			d.Detail = strings.TrimSpace(d.Detail + fmt.Sprintf(" Did you mean %q?", s))
		}
	}
	return diags
}

// ClosestName returns the name in names with the smallest edit distance
// to name, when that distance is at most 2 and at most half of name's
// length, and "" otherwise. An exact match is no suggestion.
func ClosestName(name string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		d := editDistance(name, n)
		if d > 0 && d < bestDist && 2*d <= len(name) {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance returns the Levenshtein distance between a and b, counted
// in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
