package eapserver_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/registrar"
	"github.com/brski-eap/brski/voucher"
)

// keyCase is one combination of key types: the factory CA with its
// IDevIDs, the MASA's voucher-signing key, the registrar certificate, and
// the domain CA with the LDevIDs that it issues.
type keyCase struct {
	factory, masa, registrar, domain keyType
}

func (kc keyCase) String() string {
	return fmt.Sprintf("factory=%s/masa=%s/registrar=%s/domain=%s", kc.factory, kc.masa,
		kc.registrar, kc.domain)
}

// keyCases varies each key alone with the rest at P-256 and adds one case
// with every key RSA and one with every key P-384.
func keyCases() []keyCase {
	base := keyCase{keyP256, keyP256, keyP256, keyP256}
	cases := []keyCase{base}
	for _, kt := range []keyType{keyP384, keyRSA2048} {
		for _, set := range []func(*keyCase){
			func(c *keyCase) { c.factory = kt },
			func(c *keyCase) { c.masa = kt },
			func(c *keyCase) { c.registrar = kt },
			func(c *keyCase) { c.domain = kt },
		} {
			c := base
			set(&c)
			cases = append(cases, c)
		}
	}
	return append(cases, keyCase{keyRSA2048, keyRSA2048, keyRSA2048, keyRSA2048},
		keyCase{keyP384, keyP384, keyP384, keyP384})
}

// keys returns the env keys of kc. Every key is set, P-256 ones included,
// so that each case runs the same code path.
func (kc keyCase) keys(t *testing.T) envKeys {
	return envKeys{
		factoryCA:   testKey(t, kc.factory, "factory CA"),
		idevid:      testKey(t, kc.factory, "IDevID"),
		masaSigning: testKey(t, kc.masa, "MASA signing"),
		registrar:   testKey(t, kc.registrar, "registrar"),
		domainCA:    testKey(t, kc.domain, "domain CA"),
	}
}

// maxKeyTypeRoundTrips bounds the RADIUS round trips of an EAP-EST
// bootstrap here. It is above maxESTRoundTrips, because RSA certificates
// and signatures are larger and add fragments: with every key RSA-2048 a
// bootstrap took 15 round trips at Framed-MTU 1400, and parallel cases can
// add idle polls. TestBootstrapThenEAPTLS pins the P-256 count.
const maxKeyTypeRoundTrips = 20

func TestBootstrapKeyTypes(t *testing.T) {
	for i, kc := range keyCases() {
		t.Run(kc.String(), func(t *testing.T) {
			t.Parallel()
			var reg *registrar.Registrar
			var regCert tls.Certificate
			e := newEnvKeys(t, kc.keys(t), nil, func(c *eapserver.Config) {
				reg = c.Registrar.(*registrar.Registrar)
				regCert = c.RegistrarTLS.Certificates[0]
			})
			checkCertKey(t, "registrar certificate", regCert.Leaf, kc.registrar)
			checkCertKey(t, "factory CA", e.factory.CA, kc.factory)
			checkCertKey(t, "MASA signing certificate", e.factory.SigningCert, kc.masa)
			checkCertKey(t, "domain CA", e.ca.Cert, kc.domain)

			url := serveHTTPS(t, reg)
			p := e.mint(fmt.Sprintf("SN-K%02d-HTTPS", i))
			checkCertKey(t, "IDevID", p.IDevID.Leaf, kc.factory)
			if kc.factory == keyRSA2048 {
				// A key without RSA-PSS, as in a TPM 1.2, needs TLS 1.2.
				p.IDevID.SupportedSignatureAlgorithms = []tls.SignatureScheme{
					tls.PKCS1WithSHA256}
			}
			res, err := p.Bootstrap(t.Context(), url)
			if err != nil {
				t.Fatalf("HTTPS Bootstrap: %v", err)
			}
			checkEnrolled(t, e, kc, res)

			dev := e.bootstrapWithin(fmt.Sprintf("SN-K%02d-EAP", i),
				fmt.Sprintf("02-00-00-00-30-%02x", i), maxKeyTypeRoundTrips)
			checkEnrolled(t, e, kc, dev.res)
			bootstrapEAPTLS12(t, e, kc, fmt.Sprintf("SN-K%02d-EAP12", i),
				fmt.Sprintf("02-00-00-00-31-%02x", i))
			for _, a := range eapTLSAttempts(dev.ldevid, kc.domain) {
				pr, err := pledge.AuthenticateTLS(t.Context(), dev.nas, a.cert,
					pool(dev.res.DomainCAs...), pledge.EAPConfig{TLSVersion: a.version})
				if err != nil {
					t.Fatalf("EAP-TLS %s: %v (result %+v)", a.name, err, e.lastResult())
				}
				e.checkAccept(dev.nas, pr.MSK)
				if got := e.lastResult(); got.MethodName() != "EAP-TLS" {
					t.Errorf("EAP-TLS %s: method = %s, want EAP-TLS", a.name,
						got.MethodName())
				}
			}
		})
	}
}

// bootstrapEAPTLS12 bootstraps a new device over EAP-EST with a TLS 1.2
// tunnel, in which the IDevID signs CertificateVerify and the registrar
// certificate signs ServerKeyExchange. An RSA IDevID is limited to
// PKCS #1 v1.5, as keys in a TPM 1.2 are, and the pledge then has to pick
// TLS 1.2 by itself, because TLS 1.3 needs RSA-PSS.
func bootstrapEAPTLS12(t *testing.T, e *env, kc keyCase, serial, mac string) {
	t.Helper()
	p := e.mint(serial)
	cfg := pledge.EAPConfig{TLSVersion: tls.VersionTLS12}
	if kc.factory == keyRSA2048 {
		p.IDevID.SupportedSignatureAlgorithms = []tls.SignatureScheme{tls.PKCS1WithSHA256}
		cfg.TLSVersion = 0
	}
	nas := e.nas(mac)
	res, pr, err := p.BootstrapEAP(t.Context(), nas, cfg)
	if err != nil {
		t.Fatalf("EAP-EST over TLS 1.2: %v (result %+v)", err, e.lastResult())
	}
	e.checkAccept(nas, pr.MSK)
	checkEnrolled(t, e, kc, res)
}

// eapTLSAttempt is one EAP-TLS authentication with an LDevID.
type eapTLSAttempt struct {
	name    string
	version uint16
	cert    tls.Certificate
}

// eapTLSAttempts returns EAP-TLS with TLS 1.2 and with TLS 1.3. TLS 1.3
// allows only RSA-PSS in the CertificateVerify of an RSA key, but TLS 1.2
// also allows PKCS #1 v1.5, which supplicants whose key store lacks RSA-PSS
// use. So an RSA LDevID also runs limited to rsa_pkcs1_sha256 without a
// TLS version, and the pledge has to pick TLS 1.2.
func eapTLSAttempts(ldevid tls.Certificate, kt keyType) []eapTLSAttempt {
	attempts := []eapTLSAttempt{
		{"TLS 1.2", tls.VersionTLS12, ldevid},
		{"TLS 1.3", tls.VersionTLS13, ldevid},
	}
	if kt == keyRSA2048 {
		pkcs1 := ldevid
		pkcs1.SupportedSignatureAlgorithms = []tls.SignatureScheme{tls.PKCS1WithSHA256}
		attempts = append(attempts, eapTLSAttempt{"PKCS #1 v1.5 only", 0, pkcs1})
	}
	return attempts
}

// checkEnrolled checks the voucher and the LDevID of a bootstrap: the
// voucher is signed by the MASA's key and pins the domain CA, and the
// LDevID is issued by the domain CA and has a key of the domain's type.
func checkEnrolled(t *testing.T, e *env, kc keyCase, res *pledge.Result) {
	t.Helper()
	so, err := voucher.ParseSigned(res.Signed)
	if err != nil {
		t.Fatalf("voucher is not CMS: %v", err)
	}
	signer, err := so.SignerCertificate()
	if err != nil {
		t.Fatalf("voucher signer: %v", err)
	}
	checkCertKey(t, "voucher signer", signer, kc.masa)
	if !res.PinnedDomainCert.Equal(e.ca.Cert) {
		t.Errorf("pinned-domain-cert is %q, want the domain CA", res.PinnedDomainCert.Subject)
	}
	if err := res.LDevID.CheckSignatureFrom(e.ca.Cert); err != nil {
		t.Errorf("LDevID is not signed by the domain CA: %v", err)
	}
	if got, want := res.LDevID.Issuer.String(), e.ca.Cert.Subject.String(); got != want {
		t.Errorf("LDevID issuer = %q, want %q", got, want)
	}
	checkCertKey(t, "LDevID", res.LDevID, kc.domain)
}

func checkCertKey(t *testing.T, role string, c *x509.Certificate, want keyType) {
	t.Helper()
	if got := typeOf(c.PublicKey); got != want {
		t.Errorf("%s key type = %q, want %s", role, got, want)
	}
}

// serveHTTPS serves r over HTTPS on a loopback port and returns its URL.
func serveHTTPS(t *testing.T, r *registrar.Registrar) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: r, ConnContext: r.ConnContext,
		ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(tls.NewListener(ln, r.TLSConfig()))
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return "https://" + ln.Addr().String()
}
