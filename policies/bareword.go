package policies

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/brski-eap/brski/internal/hclcheck"
)

// explainBareWords rewrites HCL's "Variables not allowed" diagnostics
// for a single unquoted word, such as `vlan = guest` or `expected = ture`.
// A policy has no variables, so the word is a value that lacks its quotes
// or a misspelled true or false, and the new detail names both. A traversal
// such as var.x keeps HCL's diagnostic.
func explainBareWords(diags hcl.Diagnostics) hcl.Diagnostics {
	for _, d := range diags {
		if d.Summary != "Variables not allowed" || d.Expression == nil {
			continue
		}
		traversal, tdiags := hcl.AbsTraversalForExpr(d.Expression)
		if tdiags.HasErrors() || len(traversal) != 1 {
			continue
		}
		word := traversal.RootName()
		d.Summary = "Unquoted word"
		switch b := hclcheck.ClosestName(word, []string{"true", "false"}); {
		case b != "":
			d.Detail = fmt.Sprintf("%q is not a value. Did you mean %s?", word, b)
		default:
			d.Detail = fmt.Sprintf("%q is not a value; write a string in quotes (\"%s\"), a "+
				"number, true or false", word, word)
		}
	}
	return diags
}
