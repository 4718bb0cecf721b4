package eapest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/brski-eap/brski/eap"
)

// testCA is a throwaway ECDSA P-256 certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

var serial int64

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue returns a leaf certificate for a TLS server or client.
func (ca *testCA) issue(t testing.TB, name string, server bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: leaf}
}

var errUntrustedClient = errors.New("client certificate from an unknown CA")

// verifyClientWith returns a VerifyConnection hook that accepts client
// chains from pool only, as the RADIUS layer would.
func verifyClientWith(pool *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errUntrustedClient
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
			Roots: pool, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		if err != nil {
			return fmt.Errorf("%w: %w", errUntrustedClient, err)
		}
		return nil
	}
}

// pki is the certificate set of one test.
type pki struct {
	ca     *testCA
	server tls.Certificate
	client tls.Certificate
}

func newPKI(t testing.TB) *pki {
	ca := newTestCA(t, "test CA")
	return &pki{
		ca:     ca,
		server: ca.issue(t, "radius.example", true),
		client: ca.issue(t, "device-1", false),
	}
}

func (p *pki) serverTLS(maxVersion uint16) *tls.Config {
	return &tls.Config{
		Certificates:     []tls.Certificate{p.server},
		VerifyConnection: verifyClientWith(p.ca.pool),
		MaxVersion:       maxVersion,
	}
}

func (p *pki) clientTLS(maxVersion uint16) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.client},
		RootCAs:      p.ca.pool,
		ServerName:   "radius.example",
		MaxVersion:   maxVersion,
	}
}

// exchangeLog records the packets of an in-process conversation.
type exchangeLog struct {
	requests  [][]byte // every packet the server sent, the final one included
	responses [][]byte
}

// runConversation drives server and peer against each other from an
// EAP-Start until the server's Success or Failure has reached the peer.
func runConversation(t testing.TB, conv *eap.Conversation,
	peer *eap.PeerConversation) (*exchangeLog, error) {
	t.Helper()
	ctx := context.Background()
	log := &exchangeLog{}
	reply, err := conv.Handle(ctx, nil)
	for range 1000 {
		if err != nil && errors.Is(err, eap.ErrDiscard) {
			return log, err
		}
		log.requests = append(log.requests, reply.Packet)
		resp, _, perr := peer.Handle(ctx, reply.Packet)
		if reply.Status != eap.StatusContinue {
			return log, err
		}
		if perr != nil {
			return log, fmt.Errorf("peer: %w", perr)
		}
		log.responses = append(log.responses, resp)
		reply, err = conv.Handle(ctx, resp)
	}
	return log, errors.New("conversation did not end after 1000 rounds")
}

// convTransport is a Transport that calls a server Conversation directly,
// as a NAS relaying over RADIUS would.
type convTransport struct {
	conv     *eap.Conversation
	requests int
	final    eap.Reply
	// onReply, when set, receives every reply before the peer does.
	onReply func(eap.Reply)
}

func (c *convTransport) Exchange(ctx context.Context, resp []byte) ([]byte, error) {
	reply, err := c.conv.Handle(ctx, resp)
	if err != nil && reply.Packet == nil {
		return nil, err
	}
	c.requests++
	if c.onReply != nil {
		c.onReply(reply)
	}
	if reply.Status != eap.StatusContinue {
		c.final = reply
	}
	return reply.Packet, nil
}
