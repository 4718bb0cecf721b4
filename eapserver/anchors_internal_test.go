package eapserver

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWithoutAnchorsKeepsIssuingCA passes the chain of an external domain
// CA, whose DomainCAs are the issuing CA and the root above it. A
// supplicant that trusts only the root needs the issuing CA in the flight.
func TestWithoutAnchorsKeepsIssuingCA(t *testing.T) {
	leaf, issuing, root := []byte("leaf"), []byte("issuing CA"), []byte("root CA")
	anchors := []*x509.Certificate{
		{Raw: issuing, RawSubject: []byte("I"), RawIssuer: []byte("R")},
		{Raw: root, RawSubject: []byte("R"), RawIssuer: []byte("R")},
	}
	tests := []struct {
		name  string
		chain [][]byte
		want  [][]byte
	}{
		{"leaf, issuing CA and root", [][]byte{leaf, issuing, root}, [][]byte{leaf, issuing}},
		{"leaf and issuing CA", [][]byte{leaf, issuing}, [][]byte{leaf, issuing}},
		{"leaf and root", [][]byte{leaf, root}, [][]byte{leaf}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withoutAnchors([]tls.Certificate{{Certificate: tt.chain}}, anchors)
			if diff := cmp.Diff(tt.want, got[0].Certificate); diff != "" {
				t.Errorf("chain (-want +got):\n%s", diff)
			}
		})
	}
}
