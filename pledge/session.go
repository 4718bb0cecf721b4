package pledge

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Session is the transport that one bootstrapping attempt runs over: an HTTP
// client that reaches the registrar, and the certificates the registrar
// presented when the provisional TLS connection was formed (RFC 8995,
// Section 5.1). Over HTTPS, Bootstrap builds it. Inside EAP-EST, the tunnel
// provides a client that carries HTTP/1.1 over the tunnel's TLS connection.
type Session struct {
	// HTTP sends the requests. It must reach the same registrar whose
	// certificate RegistrarCert is, over the TLS connection that the
	// registrar authenticated with it.
	HTTP *http.Client
	// BaseURL is the scheme and authority that request paths are appended
	// to, such as "https://registrar.example:8443".
	BaseURL string
	// RegistrarCert is the end-entity certificate of the registrar's TLS
	// certificate_list, which the voucher request pins
	// (proximity-registrar-cert, RFC 8995, Section 5.2).
	RegistrarCert *x509.Certificate
	// RegistrarChain holds the other certificates the registrar presented,
	// which may link RegistrarCert to pinned-domain-cert. It may be empty.
	RegistrarChain []*x509.Certificate
	// Reconnect, when not nil, opens a new session to the same registrar
	// that authenticates with cert and verifies the registrar against
	// roots. It returns the session and a function that releases it. Run
	// uses it to send a successful enrollstatus with the new LDevID, as
	// RFC 8995, Section 5.9.4 recommends. Nil means the report uses this
	// session, as inside an EAP-EST tunnel.
	Reconnect func(ctx context.Context, cert tls.Certificate, roots *x509.CertPool) (Session,
		func(), error)
	// Pipeline, when not nil, sends requests back to back over the
	// session's connection and returns their responses in order (HTTP/1.1
	// pipelining, RFC 9112, Section 9.3.2), as eapest.Tunnel.RoundTripBatch
	// does. Run then sends its independent requests after the voucher in
	// one batch. Nil means one request at a time.
	Pipeline func(reqs []*http.Request) ([]*http.Response, error)
	// Via, when not empty, names the transport in errors in place of the
	// request URL, such as "inside the EAP-EST tunnel via RADIUS server
	// 127.0.0.1:1812", because the URLs of a tunnel name no real host.
	Via string
}

// NewSession returns a Session over client for a transport that provides
// the registrar's TLS connection state, such as an EAP-EST tunnel. The
// first peer certificate becomes RegistrarCert and the rest RegistrarChain.
// baseURL is the scheme and authority that request URLs carry, which a
// tunnel client may ignore.
func NewSession(client *http.Client, baseURL string, cs tls.ConnectionState) (Session,
	error) {
	if client == nil || baseURL == "" {
		return Session{}, errors.New("pledge: NewSession needs an HTTP client and a base " +
			"URL, such as https://registrar")
	}
	if len(cs.PeerCertificates) == 0 {
		return Session{}, errNoServerCert
	}
	return Session{HTTP: client, BaseURL: baseURL, RegistrarCert: cs.PeerCertificates[0],
		RegistrarChain: cs.PeerCertificates[1:]}, nil
}

// url returns the absolute URL of path on the registrar.
func (s Session) url(path string) string {
	return strings.TrimSuffix(s.BaseURL, "/") + path
}

// Bootstrap runs one bootstrapping attempt over HTTPS with the registrar at
// registrarURL: it opens a provisional TLS connection with the IDevID as
// client certificate (RFC 8995, Section 5.1), then calls Run. Every later
// connection of the attempt must present the same registrar certificate.
// While the registrar's host refuses the connection, Bootstrap reports
// EventConnectRetry and dials again until ctx ends, and then returns an
// *UnreachableError.
func (p *Pledge) Bootstrap(ctx context.Context, registrarURL string) (*Result, error) {
	return p.bootstrap(ctx, registrarURL, true)
}

// bootstrap is Bootstrap, which dials once unless waitRefused is set.
func (p *Pledge) bootstrap(ctx context.Context, registrarURL string, waitRefused bool) (
	*Result, error) {
	start := time.Now()
	s, closeIdle, err := p.DialHTTPS(ctx, registrarURL)
	for attempts := 1; waitRefused && errors.Is(err, syscall.ECONNREFUSED); attempts++ {
		wait := max(firstReconnectWait, minReconnectWait)
		p.trace(Event{Kind: EventConnectRetry, Path: pathRequestVoucher, Wait: wait,
			Err: err})
		if serr := sleep(ctx, wait); serr != nil {
			return nil, &UnreachableError{URL: registrarURL, Attempts: attempts,
				Elapsed: time.Since(start), Err: err, Cause: serr}
		}
		s, closeIdle, err = p.DialHTTPS(ctx, registrarURL)
	}
	if err != nil {
		return nil, err
	}
	defer closeIdle()
	return p.Run(ctx, s)
}

// DialHTTPS opens the provisional TLS connection to the registrar at
// registrarURL and returns a Session over it and a function that closes its
// idle connections. The registrar's certificate is accepted without
// verification and kept, because only the voucher can authenticate it
// (RFC 8995, Section 5.6.2). The returned client refuses redirects to
// another origin (RFC 8995, Section 5.6).
func (p *Pledge) DialHTTPS(ctx context.Context, registrarURL string) (Session, func(),
	error) {
	u, addr, err := parseRegistrarURL(registrarURL)
	if err != nil {
		return Session{}, nil, err
	}
	pin := &serverPin{}
	cfg := p.provisionalTLS(pin, u.Hostname())
	dialer := &tls.Dialer{Config: cfg}
	first, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return Session{}, nil, fmt.Errorf("pledge: provisional TLS connection to %s: %w",
			addr, err)
	}
	rd := &reuseDialer{first: first, dialer: dialer}
	tr := &http.Transport{
		DialTLSContext: rd.dial,
		// One connection carries the whole attempt, because the registrar
		// binds enrollment to the TLS connection of the voucher exchange.
		MaxConnsPerHost: 1,
	}
	client := &http.Client{Transport: tr, CheckRedirect: sameOrigin}
	leaf, chain := pin.certs()
	s := Session{HTTP: client, BaseURL: u.Scheme + "://" + u.Host,
		RegistrarCert: leaf, RegistrarChain: chain,
		Reconnect: func(ctx context.Context, cert tls.Certificate,
			roots *x509.CertPool) (Session, func(), error) {
			return p.dialVerified(u, cert, roots)
		}}
	closeIdle := func() {
		rd.closeUnused()
		tr.CloseIdleConnections()
	}
	return s, closeIdle, nil
}

// parseRegistrarURL checks that registrarURL is an https URL and returns it
// with the TCP address it names.
func parseRegistrarURL(registrarURL string) (*url.URL, string, error) {
	u, err := url.Parse(registrarURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, "", fmt.Errorf("pledge: registrar URL %q is not an https URL "+
			"with a host, such as https://registrar.example:8443", registrarURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "443")
	}
	return u, addr, nil
}

// dialVerified returns a Session to the registrar at u that presents cert
// and accepts only a registrar certificate that chains to roots. The
// registrar's name is not checked, because the domain's trust anchors
// rather than a name authenticate it (RFC 8995, Section 5.6.2). Requests
// dial lazily, so the first request reports a failed handshake.
func (p *Pledge) dialVerified(u *url.URL, cert tls.Certificate, roots *x509.CertPool) (
	Session, func(), error) {
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		MaxVersion:   maxTLSVersion(cert),
		ServerName:   u.Hostname(),
		NextProtos:   []string{"http/1.1"},
		// VerifyConnection verifies the chain without a name check.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errNoServerCert
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots,
				Intermediates: certPool(cs.PeerCertificates[1:]), CurrentTime: p.now(),
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
			return err
		},
	}
	tr := &http.Transport{TLSClientConfig: cfg, MaxConnsPerHost: 1}
	client := &http.Client{Transport: tr, CheckRedirect: sameOrigin}
	return Session{HTTP: client, BaseURL: u.Scheme + "://" + u.Host}, tr.CloseIdleConnections,
		nil
}

// provisionalTLS returns the client configuration of the provisional TLS
// connection. TLS 1.2 is the minimum that RFC 8995, Section 5.1 requires of
// a pledge. HTTP/1.1 is the protocol, as inside the EAP-EST tunnel.
func (p *Pledge) provisionalTLS(pin *serverPin, serverName string) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.IDevID},
		MinVersion:   tls.VersionTLS12,
		MaxVersion:   maxTLSVersion(p.IDevID),
		ServerName:   serverName,
		NextProtos:   []string{"http/1.1"},
		// The registrar is authenticated later by the voucher's
		// pinned-domain-cert, so the handshake must not reject an unknown
		// issuer. VerifyConnection still requires a certificate and keeps it.
		InsecureSkipVerify: true,
		VerifyConnection:   pin.verify,
	}
}

// serverPin records the registrar certificate of the first connection and
// requires every later connection to present the same end-entity
// certificate, so a reconnect cannot switch registrars after the voucher
// request pinned one.
type serverPin struct {
	mu    sync.Mutex
	leaf  *x509.Certificate
	chain []*x509.Certificate
}

var errNoServerCert = errors.New("pledge: registrar presented no TLS certificate")

func (sp *serverPin) verify(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errNoServerCert
	}
	if err := checkSignatures(cs.PeerCertificates); err != nil {
		return err
	}
	leaf := cs.PeerCertificates[0]
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.leaf == nil {
		sp.leaf = leaf
		sp.chain = cs.PeerCertificates[1:]
		return nil
	}
	if !bytes.Equal(sp.leaf.Raw, leaf.Raw) {
		return fmt.Errorf("pledge: registrar presented a different TLS certificate "+
			"(subject %q) than on the first connection (subject %q)",
			leaf.Subject.String(), sp.leaf.Subject.String())
	}
	return nil
}

// checkSignatures validates the signature of each presented certificate
// whose issuer follows it in the chain, and the self-signature of a
// self-issued last certificate. RFC 8995, Section 5.1 requires this even
// though no trust anchor can validate the chain yet.
func checkSignatures(certs []*x509.Certificate) error {
	for i, c := range certs {
		var err error
		switch {
		case i+1 < len(certs) && bytes.Equal(c.RawIssuer, certs[i+1].RawSubject):
			err = c.CheckSignatureFrom(certs[i+1])
		case i+1 == len(certs) && bytes.Equal(c.RawIssuer, c.RawSubject):
			err = c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)
		}
		if err != nil {
			return fmt.Errorf("pledge: registrar TLS certificate %d (subject %q) has an "+
				"invalid signature: %w", i, c.Subject.String(), err)
		}
	}
	return nil
}

func (sp *serverPin) certs() (*x509.Certificate, []*x509.Certificate) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.leaf, sp.chain
}

// reuseDialer is the DialTLSContext of the HTTPS transport. It hands out
// the provisional connection once and then dials new connections, which
// serverPin.verify checks.
type reuseDialer struct {
	mu     sync.Mutex
	first  net.Conn
	dialer *tls.Dialer
}

func (rd *reuseDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	rd.mu.Lock()
	c := rd.first
	rd.first = nil
	rd.mu.Unlock()
	if c != nil {
		return c, nil
	}
	return rd.dialer.DialContext(ctx, network, addr)
}

// closeUnused closes the provisional connection if the transport never
// took it.
func (rd *reuseDialer) closeUnused() {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.first != nil {
		rd.first.Close()
		rd.first = nil
	}
}

// sameOrigin is the redirect policy of the HTTPS client: at most one
// redirect, and only within the registrar's origin (RFC 8995, Section 5.6).
// A redirect to another origin would reach a registrar whose certificate the
// voucher request did not pin.
func sameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) > 1 {
		return errors.New("pledge: registrar redirected more than once")
	}
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return fmt.Errorf("pledge: registrar redirected to another origin %s://%s",
			req.URL.Scheme, req.URL.Host)
	}
	return nil
}
