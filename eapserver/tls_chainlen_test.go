package eapserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"testing"

	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/pledge"
)

// impostorCAs returns n self-signed CA certificates with the subject and
// key identifier of like, so that chain building tries each as its issuer.
func impostorCAs(t *testing.T, like *x509.Certificate, n int) [][]byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var ders [][]byte
	for i := range n {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)),
			Subject: like.Subject, SubjectKeyId: like.SubjectKeyId,
			NotBefore: like.NotBefore, NotAfter: like.NotAfter,
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		ders = append(ders, der)
	}
	return ders
}

// TestEAPTLSClientChainLength sends an issued LDevID followed by CA
// certificates named like the domain CA. Each one costs a signature check
// when the chain is not cached, so the server caps their number.
func TestEAPTLSClientChainLength(t *testing.T) {
	e := newEnv(t)
	dev := e.bootstrap("SN-2301", "02-00-00-00-23-01")
	ctx := context.Background()
	roots := pool(dev.res.DomainCAs...)
	tests := []struct {
		name       string
		extra      int
		wantAccept bool
	}{
		{"at the limit", eapserver.MaxClientCertificates - 1, true},
		{"above the limit", eapserver.MaxClientCertificates, false},
		{"a hundred", 100, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := dev.ldevid
			cert.Certificate = append([][]byte{cert.Certificate[0]},
				impostorCAs(t, e.ca.Cert, tt.extra)...)
			cert.Leaf = nil
			nas := e.nas("02-00-00-00-23-02")
			_, err := pledge.AuthenticateTLS(ctx, nas, cert, roots, pledge.EAPConfig{})
			if gotAccept := err == nil; gotAccept != tt.wantAccept {
				t.Errorf("accepted = %v (error %v, result %+v), want %v", gotAccept, err,
					e.lastResult(), tt.wantAccept)
			}
		})
	}
}

// TestEAPESTClientChainLength is TestEAPTLSClientChainLength for the
// IDevID of a pledge, which PledgeCAs lets the server check.
func TestEAPESTClientChainLength(t *testing.T) {
	e := newEnv(t)
	p := e.mint("SN-2302")
	p.IDevID.Certificate = append(p.IDevID.Certificate, impostorCAs(t, e.factory.CA, 100)...)
	p.IDevID.Leaf = nil
	nas := e.nas("02-00-00-00-23-03")
	if _, _, err := p.BootstrapEAP(context.Background(), nas, pledge.EAPConfig{}); err == nil {
		t.Fatal("BootstrapEAP with 100 extra certificates succeeded")
	}
	reply, _ := nas.Final()
	checkReject(t, reply)
}
