package eapserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/registrar"
)

// issueWithSerial issues a clientAuth certificate from ca with the serial
// number and subject of like, for a new key.
func issueWithSerial(t *testing.T, ca *registrar.DomainCA, like *x509.Certificate,
) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: new(big.Int).Set(like.SerialNumber),
		Subject: like.Subject, NotBefore: like.NotBefore, NotAfter: like.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Serial numbers are unique per issuer only (RFC 5280, Section 4.1.2.2),
// and DomainCAs can hold several anchors, such as the issuing CA and the
// root above it. A certificate that chains to any of them and carries the
// serial number of an issued LDevID is not that LDevID.
func TestEAPTLSRejectsReusedSerial(t *testing.T) {
	second, err := registrar.GenerateDomainCA(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvServer(t, nil, func(c *eapserver.Config) {
		c.DomainCAs = append(c.DomainCAs, second.Cert)
	})
	dev := e.bootstrap("SN-2101", "02-00-00-00-21-01")
	ctx := context.Background()
	roots := pool(dev.res.DomainCAs...)
	tests := []struct {
		name string
		ca   *registrar.DomainCA
	}{
		{"second trust anchor", second},
		{"domain CA, other key", e.ca},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forged := issueWithSerial(t, tt.ca, dev.res.LDevID)
			nas := e.nas("02-00-00-00-21-02")
			_, err := pledge.AuthenticateTLS(ctx, nas, forged, roots, pledge.EAPConfig{})
			if !errors.Is(err, pledge.ErrEAPFailure) {
				t.Errorf("AuthenticateTLS error = %v, want ErrEAPFailure", err)
			}
			reply, _ := nas.Final()
			checkReject(t, reply)
			if res := e.lastResult(); !errors.Is(res.Err, eapserver.ErrNotEnrolled) {
				t.Errorf("reject cause = %v, want ErrNotEnrolled", res.Err)
			}
		})
	}
	// The device's own LDevID still authenticates.
	nas := e.nas("02-00-00-00-21-03")
	if _, err := pledge.AuthenticateTLS(ctx, nas, dev.ldevid, roots,
		pledge.EAPConfig{}); err != nil {
		t.Errorf("AuthenticateTLS with the issued LDevID: %v (result %+v)", err,
			e.lastResult())
	}
}
