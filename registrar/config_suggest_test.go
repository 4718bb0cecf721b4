package registrar

import (
	"errors"
	"strings"
	"testing"
)

func TestParseConfigSuggestsTopLevelNames(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"block before the policy", "masa_clent {\n}\n" + minimalPolicy, `"masa_client"`},
		{"radius block", "radisu {\n}\n" + minimalPolicy, `"radius"`},
		{"argument", "voucher_wiat = \"2s\"\n" + minimalPolicy, `"voucher_wait"`},
		{"policy block", "data_dir = \"d\"\ndefualt {\n  outcome = \"reject\"\n}\n",
			`"default"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("registrar.hcl", []byte(tt.src))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v (%T), want a *ConfigError", err, err)
			}
			if want := "Did you mean " + tt.want; !strings.Contains(ce.Error(), want) {
				t.Errorf("error %q does not contain %q", ce.Error(), want)
			}
		})
	}
}
