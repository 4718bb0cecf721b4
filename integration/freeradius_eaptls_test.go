package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// eapTLSModules is the eap module of a FreeRADIUS EAP-TLS home server with
// P-256 certificates, without a TLS session cache, so that every
// authentication is a full handshake.
const eapTLSModules = `modules {
	eap {
		default_eap_type = tls
		timer_expire = 60
		ignore_unknown_eap_types = no
		max_sessions = ${max_requests}
		tls-config tls-common {
			private_key_file = {{.Dir}}/server.key
			certificate_file = {{.Dir}}/server.pem
			ca_file = {{.Dir}}/ca.pem
			cipher_list = "DEFAULT"
			tls_min_version = "1.2"
			tls_max_version = "1.3"
			fragment_size = 1024
			cache {
				enable = no
			}
			verify {
			}
			ocsp {
				enable = no
			}
		}
		tls {
			tls = tls-common
		}
	}
}`

const eapTLSSite = `server eaptls {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = {{.Port}}
	}
	authorize {
		eap
	}
	authenticate {
		eap
	}
	post-auth {
		update reply {
			&Tunnel-Type := VLAN
			&Tunnel-Medium-Type := IEEE-802
			&Tunnel-Private-Group-Id := "100"
		}
		Post-Auth-Type REJECT {
			eap
		}
	}
}
`

// writeEAPTLSRaddb writes a FreeRADIUS EAP-TLS home server under dir with
// a new P-256 CA, server and client certificate, and returns the paths of
// the CA certificate and of the client certificate and key.
func writeEAPTLSRaddb(t *testing.T, dir string, port int, secret string) (ca, cert,
	key string) {
	t.Helper()
	conf := strings.Replace(radiusdConf, "modules {\n}", eapTLSModules, 1)
	conf = strings.Replace(conf, "$INCLUDE proxy.conf\n", "", 1)
	conf = strings.Replace(conf, "proxy_requests = yes", "proxy_requests = no", 1)
	vars := map[string]string{"Dir": dir, "Port": fmt.Sprint(port), "Secret": secret}
	writeRaddb(t, dir, vars, map[string]string{"radiusd.conf": conf, "sites/eaptls": eapTLSSite})
	caCert, caKey := issueCert(t, dir, "ca", nil, nil)
	issueCert(t, dir, "server", caCert, caKey)
	issueCert(t, dir, "client", caCert, caKey)
	return filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem"),
		filepath.Join(dir, "client.key")
}

// issueCert writes NAME.pem and NAME.key under dir: a CA when parent is
// nil, else a server or client certificate by name.
func issueCert(t *testing.T, dir, name string, parent *x509.Certificate,
	parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "integration " + name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	switch name {
	case "ca":
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		parent, parentKey = tmpl, key
	case "server":
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	default:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, name+".pem"), "CERTIFICATE", der)
	writePEM(t, filepath.Join(dir, name+".key"), "PRIVATE KEY", keyDER)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	b := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBenchFreeRADIUSEAPTLS runs "brski bench" against FreeRADIUS as an
// EAP-TLS server, the baseline that docs/benchmarks.md compares with.
func TestBenchFreeRADIUSEAPTLS(t *testing.T) {
	requireTool(t, freeradiusBin)
	dir := filepath.Join(t.TempDir(), "raddb")
	port := freePort(t, "udp")
	secret := "integration-secret"
	ca, cert, key := writeEAPTLSRaddb(t, dir, port, secret)
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fr := startFreeRADIUS(t, dir)
	for _, version := range []string{"1.2", "1.3"} {
		t.Run("tls "+version, func(t *testing.T) {
			out := runBench(t, "--server", fmt.Sprintf("127.0.0.1:%d", port),
				"--secret-file", secretFile, "--method", "eap-tls", "--cert", cert,
				"--key", key, "--ca", ca, "--tls-max", version, "--count", "10",
				"--concurrency", "2", "--server-pid", fmt.Sprint(fr.cmd.Process.Pid))
			t.Logf("FreeRADIUS, TLS %s:\n%s", version, out)
		})
	}
}
