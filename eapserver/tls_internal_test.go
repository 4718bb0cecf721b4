package eapserver

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWithoutAnchors(t *testing.T) {
	leaf, inter, root := []byte("leaf"), []byte("intermediate"), []byte("root")
	anchors := []*x509.Certificate{{Raw: root}}
	tests := []struct {
		name  string
		chain [][]byte
		want  [][]byte
	}{
		{"leaf and root", [][]byte{leaf, root}, [][]byte{leaf}},
		{"intermediate kept", [][]byte{leaf, inter, root}, [][]byte{leaf, inter}},
		{"leaf only", [][]byte{leaf}, [][]byte{leaf}},
		{"pinned leaf kept", [][]byte{root}, [][]byte{root}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []tls.Certificate{{Certificate: tt.chain}}
			got := withoutAnchors(in, anchors)
			if diff := cmp.Diff(tt.want, got[0].Certificate); diff != "" {
				t.Errorf("chain (-want +got):\n%s", diff)
			}
			if len(in[0].Certificate) != len(tt.chain) {
				t.Error("withoutAnchors modified its input")
			}
		})
	}
}
