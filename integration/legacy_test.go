package integration

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/registrar"
)

// eapol_test phase1 settings that leave the supplicant only old TLS
// versions, and the OpenSSL cipher string that OpenSSL 3 needs for them:
// at its default security level 1 it rejects TLS 1.0 and 1.1.
const (
	phase1TLS10To11 = "tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=1"
	phase1TLS10     = "tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=1"
	legacyCiphers   = "\topenssl_ciphers=\"DEFAULT@SECLEVEL=0\"\n"
)

// noEMSOpenSSLConf is an OpenSSL 3 configuration whose system default
// turns the Extended Master Secret (RFC 7627) off. eapol_test has no
// setting for it, but its OpenSSL reads the file named by OPENSSL_CONF.
const noEMSOpenSSLConf = `openssl_conf = init
[init]
ssl_conf = ssl
[ssl]
system_default = system
[system]
Options = -ExtendedMasterSecret
`

// alertReceived is the wpa_supplicant 2.10 line for a TLS alert from the
// server.
const alertReceived = "SSL: SSL3 alert: read (remote end reported an error):fatal:"

// legacyCase is one eapol_test run with a restricted TLS client.
type legacyCase struct {
	name    string
	phase1  string
	noEMS   bool   // OpenSSL without the Extended Master Secret
	version string // negotiated version as OpenSSL names it
	logged  string // legacy_tls value of the registrar's log line
}

var legacyCases = []legacyCase{
	{"tls 1.1", phase1TLS10To11, false, "TLSv1.1", "tls1.1"},
	{"tls 1.0", phase1TLS10, false, "TLSv1", "tls1.0"},
	{"tls 1.2 without ems", phase1TLS12, true, "TLSv1.2", "no-ems"},
	{"tls 1.0 without ems", phase1TLS10, true, "TLSv1", "tls1.0,no-ems"},
}

// TestEapolTestLegacyProfile runs eapol_test limited to TLS 1.0 or 1.1, or
// without the Extended Master Secret. The default profile must reject each
// case. The legacy profile must accept it with the policy's VLAN and with
// MPPE keys that eapol_test accepts.
func TestEapolTestLegacyProfile(t *testing.T) {
	requireTool(t, "eapol_test")
	lab := newBrskiLab(t, 2)
	ldevid := lab.bootstrapRADIUS(t, "LAB-0001", lab.radiusAddr)
	noEMS := filepath.Join(t.TempDir(), "no-ems.cnf")
	if err := os.WriteFile(noEMS, []byte(noEMSOpenSSLConf), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, tc legacyCase, mac string) (eapolResult, string) {
		conf := eapolConfigExtra(t, "LAB-0001", filepath.Join(ldevid, pledge.DomainCAFile),
			filepath.Join(ldevid, pledge.LDevIDFile), filepath.Join(ldevid, pledge.LDevIDKeyFile),
			tc.phase1, legacyCiphers)
		var env []string
		if tc.noEMS {
			env = []string{"OPENSSL_CONF=" + noEMS}
		}
		return runEapolTestEnv(t, conf, udpPort(t, lab.radiusAddr), lab.secret, mac, env)
	}

	for i, tc := range legacyCases {
		t.Run("default "+tc.name, func(t *testing.T) {
			r, out := run(t, tc, fmt.Sprintf("02:00:00:00:03:%02x", i))
			if r.Success || r.Accept != nil {
				t.Fatalf("default profile accepted %s:\n%s", tc.name, tail(out, 40))
			}
			if !strings.Contains(out, "(Access-Reject)") {
				t.Errorf("no Access-Reject:\n%s", tail(out, 40))
			}
			// Without the Extended Master Secret the handshake completes,
			// and only the key export fails, so no alert is sent.
			if !tc.noEMS && !strings.Contains(out, alertReceived) {
				t.Errorf("no TLS alert before the Access-Reject:\n%s", tail(out, 60))
			}
		})
	}

	restartLegacyRegistrar(t, lab)
	for i, tc := range legacyCases {
		t.Run("legacy "+tc.name, func(t *testing.T) {
			r, out := run(t, tc, fmt.Sprintf("02:00:00:00:04:%02x", i))
			checkEAPTLSAccept(t, r, out, tc.version)
			waitLogged(t, lab, tc.logged)
		})
	}
	t.Run("legacy eap-est", func(t *testing.T) {
		// The pledge's tunnel runs TLS 1.3 under either profile.
		lab.bootstrapRADIUS(t, "LAB-0002", lab.radiusAddr)
	})
	t.Run("legacy tls 1.3", func(t *testing.T) {
		conf := eapolConfig(t, ldevid, "LAB-0001", phase1TLS13)
		r, out := runEapolTest(t, conf, udpPort(t, lab.radiusAddr), lab.secret,
			"02:00:00:00:04:99")
		checkEAPTLSAccept(t, r, out, "TLSv1.3")
	})
}

// waitLogged waits until a conversation line of the registrar carries
// legacy_tls=features.
func waitLogged(t *testing.T, lab *brskiLab, features string) {
	t.Helper()
	// hclog quotes a value with a comma.
	plain, quoted := "legacy_tls="+features+" ", fmt.Sprintf("legacy_tls=%q", features)
	waitFor(t, plain+"in the registrar log", 10*time.Second, func() bool {
		out := strings.ReplaceAll(lab.registrar.out.String()+"\n", "\n", " \n")
		return strings.Contains(out, plain) || strings.Contains(out, quoted)
	}, lab.registrar)
}

// restartLegacyRegistrar stops the lab's registrar and starts it again
// with tls_profile = "legacy" on new free ports. The old ports are not
// reused, because another program may take them once the registrar stops,
// and fixed ports would collide between test processes.
func restartLegacyRegistrar(t *testing.T, lab *brskiLab) {
	t.Helper()
	lab.registrar.stop()
	httpsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	radiusAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "udp"))
	lab.rewrite(t, "registrar.hcl", map[string]string{
		fmt.Sprintf("%q", lab.registrarAddr): fmt.Sprintf("%q", httpsAddr),
		fmt.Sprintf("%q", lab.radiusAddr):    fmt.Sprintf("%q", radiusAddr),
		"radius {\n":                         "radius {\n  tls_profile = \"legacy\"\n",
	})
	lab.registrarAddr, lab.radiusAddr = httpsAddr, radiusAddr
	lab.registrar = startProcess(t, brskiBin, "registrar", "--config",
		filepath.Join(lab.dir, "registrar.hcl"), "--log-level", "debug")
	waitFor(t, "registrar listening on "+lab.registrarAddr, 30*time.Second,
		func() bool { return tcpListening(lab.registrarAddr) }, lab.registrar)
	waitFor(t, "registrar RADIUS answering on "+lab.radiusAddr, 30*time.Second,
		func() bool { return statusServerAnswered(lab.radiusAddr, lab.secret) }, lab.registrar)
	if out := lab.registrar.out.String(); !strings.Contains(out, "tls_profile=legacy") {
		t.Errorf("registrar start does not log tls_profile=legacy:\n%s", tail(out, 20))
	}
}

// writeRSARegistrarCert issues an RSA 2048 registrar certificate from the
// lab's domain CA, with the extended key usages of the generated one, and
// returns the paths of its chain and key relative to the lab directory.
func writeRSARegistrarCert(t *testing.T, lab *brskiLab) (certFile, keyFile string) {
	t.Helper()
	ca, err := registrar.LoadDomainCA(filepath.Join(lab.dir, "domain", "domain-ca.crt.pem"),
		filepath.Join(lab.dir, "domain", "domain-ca.key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	// id-kp-cmcRA, which the registrar requires (RFC 8995, Section 5.5).
	cmcRA := asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 28}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "registrar (RSA)"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth,
			x509.ExtKeyUsageClientAuth},
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{cmcRA},
		DNSNames:           []string{"localhost"},
		IPAddresses:        []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}

	chain := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE",
		Bytes: ca.Cert.Raw})...)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY",
		Bytes: x509.MarshalPKCS1PrivateKey(key)})
	certFile, keyFile = "registrar-rsa.crt.pem", "registrar-rsa.key.pem"
	if err := os.WriteFile(filepath.Join(lab.dir, certFile), chain, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lab.dir, keyFile), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestEapolTestLegacyRSAKeyExchange gives the registrar an RSA certificate
// and checks that the legacy profile accepts an eapol_test that offers
// only TLS_RSA cipher suites.
func TestEapolTestLegacyRSAKeyExchange(t *testing.T) {
	requireTool(t, "eapol_test")
	lab := newBrskiLab(t, 1)
	ldevid := lab.bootstrapRADIUS(t, "LAB-0001", lab.radiusAddr)
	cert, key := writeRSARegistrarCert(t, lab)
	lab.rewrite(t, "registrar.hcl", map[string]string{
		"\nradius {\n": fmt.Sprintf("\nregistrar_cert {\n  cert = %q\n  key  = %q\n}\n\n"+
			"radius {\n", cert, key),
	})
	restartLegacyRegistrar(t, lab)
	tests := []struct {
		name    string
		phase1  string
		ciphers string
		version string
		logged  string
	}{
		{"tls 1.2 aes-gcm", phase1TLS12, "AES256-GCM-SHA384", "TLSv1.2", "rsa-kex"},
		{"tls 1.0 aes-cbc", phase1TLS10, "AES128-SHA", "TLSv1", "tls1.0,rsa-kex"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := eapolConfigExtra(t, "LAB-0001", filepath.Join(ldevid, pledge.DomainCAFile),
				filepath.Join(ldevid, pledge.LDevIDFile),
				filepath.Join(ldevid, pledge.LDevIDKeyFile), tt.phase1,
				fmt.Sprintf("\topenssl_ciphers=%q\n", tt.ciphers+"@SECLEVEL=0"))
			r, out := runEapolTest(t, conf, udpPort(t, lab.radiusAddr), lab.secret,
				fmt.Sprintf("02:00:00:00:05:%02x", i))
			checkEAPTLSAccept(t, r, out, tt.version)
			waitLogged(t, lab, tt.logged)
		})
	}
}
