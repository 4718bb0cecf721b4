package masa_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
	"time"

	"github.com/brski-eap/brski/internal/testkeys"
	"github.com/brski-eap/brski/masa"
)

// newKeyedEnv returns an env whose factory CA, voucher-signing key,
// IDevID, domain CA and registrar all have keys of kind, with the MASA
// serving HTTPS on a loopback port under a certificate of that factory CA.
func newKeyedEnv(t *testing.T, kind string) *env {
	t.Helper()
	keys := masa.FactoryKeys{CA: testkeys.New(t, kind),
		Signing: testkeys.New(t, kind)}
	f, err := masa.InitFactoryWithKeys(t.TempDir(), "Example Devices", "https://127.0.0.1:1",
		keys)
	if err != nil {
		t.Fatalf("InitFactoryWithKeys: %v", err)
	}
	d, err := f.MintWithKey("SN-0001", "Switch 24P", testkeys.New(t, kind))
	if err != nil {
		t.Fatalf("MintWithKey: %v", err)
	}

	caKey, regKey := testkeys.New(t, kind), testkeys.New(t, kind)
	ca := issueCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: kind + " domain CA"},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign},
		caKey.Public(), nil, caKey)
	reg := issueCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: kind + " registrar"},
		KeyUsage:           x509.KeyUsageDigitalSignature,
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{oidCmcRA}}, regKey.Public(), ca, caKey)
	e := &env{t: t, factory: f, device: d,
		domain: domain{ca: ca, caKey: caKey, registrar: reg, registrarKey: regKey},
		clock:  &clock{now: time.Now().UTC().Truncate(time.Millisecond)}}

	e.server, err = masa.New(masa.Config{FactoryDir: f.Dir, DataDir: t.TempDir(),
		Now: e.clock.Now})
	if err != nil {
		t.Fatalf("masa.New: %v", err)
	}
	e.serve()
	return e
}

func TestEndToEndKeyTypes(t *testing.T) {
	for _, kind := range []string{"P-384", "RSA-2048"} {
		t.Run(kind, func(t *testing.T) {
			e := newKeyedEnv(t, kind)
			nonce := []byte("keytype-nonce-01")
			signed, err := e.client.RequestVoucher(context.Background(), e.url,
				e.claim(nonce))
			if err != nil {
				t.Fatalf("RequestVoucher: %v", err)
			}
			v := verifyVoucher(t, e, signed)
			if !bytes.Equal(v.Nonce, nonce) || v.SerialNumber != "SN-0001" {
				t.Errorf("voucher nonce %q serial %q, want %q SN-0001", v.Nonce,
					v.SerialNumber, nonce)
			}
			if !bytes.Equal(v.PinnedDomainCert, e.domain.ca.Raw) {
				t.Error("voucher does not pin the domain CA")
			}
		})
	}
}
