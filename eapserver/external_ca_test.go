package eapserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/registrar"
)

// externalDomainCA returns an issuing CA below a self-signed root, with
// the chain that a domain_ca block with an external CA loads: the issuing
// CA first, then the root.
func externalDomainCA(t *testing.T) *registrar.DomainCA {
	t.Helper()
	now := time.Now()
	newCA := func(name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey,
	) (*x509.Certificate, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()),
			Subject:   pkix.Name{CommonName: name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
			IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey,
			parentKey)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return cert, key
	}
	root, rootKey := newCA("enterprise root", nil, nil)
	issuing, issuingKey := newCA("issuing CA", root, rootKey)
	return &registrar.DomainCA{Cert: issuing, Key: issuingKey,
		Chain: []*x509.Certificate{issuing, root}}
}

// TestExternalDomainCABootstrap bootstraps and authenticates a device
// under a domain CA that a root above it issued, as brski registrar runs
// with an external CA.
func TestExternalDomainCABootstrap(t *testing.T) {
	ca := externalDomainCA(t)
	e := newEnvServer(t, func(o *registrar.Options) {
		rc, err := registrar.GenerateRegistrarCert(t.TempDir(), ca, []string{"localhost"},
			time.Now())
		if err != nil {
			t.Fatal(err)
		}
		o.DomainCA, o.Cert = ca, rc
	}, func(c *eapserver.Config) {
		c.DomainCAs = ca.Chain
	})
	e.ca = ca
	// The issuing CA in the server flight adds a fragment to the handshake
	// and the chain in cacerts another one.
	dev := e.bootstrapWithin("SN-2501", "02-00-00-00-25-01", maxESTRoundTrips+2)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Chain[1])
	nas := e.nas("02-00-00-00-25-02")
	_, err := pledge.AuthenticateTLS(context.Background(), nas, tls.Certificate{
		Certificate: dev.ldevid.Certificate, PrivateKey: dev.ldevid.PrivateKey}, roots,
		pledge.EAPConfig{})
	if err != nil {
		t.Fatalf("AuthenticateTLS trusting only the root: %v (result %+v)", err,
			e.lastResult())
	}
	t.Logf("EAP-TLS: %d RADIUS round trips", nas.RoundTrips())
}
