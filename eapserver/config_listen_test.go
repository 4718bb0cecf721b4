package eapserver_test

import (
	"strings"
	"testing"
)

func TestListenErrorNamesProblem(t *testing.T) {
	client := "\n  client \"lab\" {\n    address = \"127.0.0.1\"\n    secret = \"x\"\n  }\n"
	tests := []struct{ name, listen, want string }{
		{"no port", "1812", `"1812" is not host:port`},
		{"port out of range", "127.0.0.1:99999",
			`port "99999" of "127.0.0.1:99999" is not a number from 0 to 65535`},
		{"port name", "127.0.0.1:radius", `port "radius" of "127.0.0.1:radius"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := decodeRadiusBlock("radius {\n  listen = \"" + tt.listen + "\"" +
				client + "}\n")
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			if d := diags[0].Detail; !strings.Contains(d, tt.want) {
				t.Errorf("detail = %q, want it to contain %q", d, tt.want)
			}
		})
	}
}
