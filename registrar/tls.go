package registrar

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/brski-eap/brski/devid"
)

// PeerKind is the kind of TLS client certificate of a request.
type PeerKind int

// Kinds of TLS client.
const (
	// PeerNone is a client without a certificate.
	PeerNone PeerKind = iota
	// PeerUntrusted is a client whose certificate chains to no
	// configured manufacturer CA and not to the domain CA.
	PeerUntrusted
	// PeerIDevID is a pledge with an IDevID from a configured
	// manufacturer.
	PeerIDevID
	// PeerLDevID is a device with an LDevID from the domain CA.
	PeerLDevID
)

// String returns the kind as logs name it.
func (k PeerKind) String() string {
	switch k {
	case PeerNone:
		return "none"
	case PeerUntrusted:
		return "untrusted"
	case PeerIDevID:
		return "idevid"
	case PeerLDevID:
		return "ldevid"
	}
	return fmt.Sprintf("PeerKind(%d)", int(k))
}

// peerIdentity is the verified TLS client of a session.
type peerIdentity struct {
	Kind PeerKind
	// Cert is the client's leaf certificate, nil for PeerNone.
	Cert *x509.Certificate
	// Manufacturer is set for PeerIDevID.
	Manufacturer *Manufacturer
	// Serial is the device serial number from the subject serialNumber
	// (or hardwareModuleName), "" when the certificate has none.
	Serial string
	// Fingerprint is the SHA-256 fingerprint of Cert.
	Fingerprint string
	// VerifyErr explains why a PeerUntrusted certificate failed.
	VerifyErr error
}

// TLSConfig returns the server TLS configuration of the registrar: its
// certificate chain, TLS 1.2 or newer, and a requested but not verified
// client certificate. The handler verifies the certificate itself against
// the manufacturer CAs (IDevID) and the domain CA (LDevID). A pledge with
// an unknown certificate therefore gets an HTTP reason instead of a TLS
// alert, and a reduced-security policy may accept a pledge without IDevID.
// The EAP-EST layer uses the same configuration inside its tunnel.
func (r *Registrar) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:             tls.VersionTLS12,
		Certificates:           []tls.Certificate{r.cert.TLSCertificate()},
		ClientAuth:             tls.RequestClientCert,
		SessionTicketsDisabled: true,
	}
}

// peer returns the verified identity of the TLS client of req, cached in
// the session.
func (r *Registrar) peer(req *http.Request) *peerIdentity {
	if req.TLS == nil || len(req.TLS.PeerCertificates) == 0 {
		return &peerIdentity{Kind: PeerNone}
	}
	leaf := req.TLS.PeerCertificates[0]
	s := sessionFrom(req.Context())
	if p := s.cachedPeer(leaf); p != nil {
		return p
	}
	p := r.verifyPeer(req.TLS.PeerCertificates, r.now())
	s.storePeer(p)
	return p
}

// VerifyPeerChain checks a TLS client chain as the handler checks it: an
// LDevID of the domain, or an IDevID of a configured manufacturer, valid
// at the registrar's clock. certs is the client's certificate followed by
// the intermediates it sent. An EAP-EST server calls it in the handshake
// to keep certificates of unknown issuers out of the tunnel. The handler's
// own check of the same chain then hits the registrar's chain cache, so
// the signatures are verified once per bootstrap.
func (r *Registrar) VerifyPeerChain(certs []*x509.Certificate) error {
	if len(certs) == 0 {
		return errors.New("registrar: no client certificate")
	}
	if p := r.verifyPeer(certs, r.now()); p.Kind == PeerUntrusted {
		return fmt.Errorf("%w: %q: %w", errUntrustedPeer, certs[0].Subject, p.VerifyErr)
	}
	return nil
}

// maxPeerCertificates is the maximum number of certificates, the client's
// own and its intermediates, that the registrar verifies. A chain of an
// IDevID or LDevID needs two or three, and eapserver.MaxClientCertificates
// caps EAP clients at the same number for the cost it states.
const maxPeerCertificates = 8

// errTooManyCertificates is the VerifyErr of a client that sent more than
// maxPeerCertificates certificates.
var errTooManyCertificates = errors.New("registrar: client sent more certificates than " +
	"a chain needs")

// errUntrustedPeer is wrapped by the errors of VerifyPeerChain for a
// PeerUntrusted chain.
var errUntrustedPeer = errors.New("registrar: client certificate is neither an IDevID " +
	"of a configured manufacturer nor an LDevID of this domain")

// verifyPeer checks a client chain against the domain CA and then against
// each manufacturer CA, at time now.
func (r *Registrar) verifyPeer(certs []*x509.Certificate, now time.Time) *peerIdentity {
	leaf := certs[0]
	p := &peerIdentity{Kind: PeerUntrusted, Cert: leaf, Fingerprint: devid.Fingerprint(leaf)}
	p.Serial, _ = devid.SerialNumber(leaf)
	if len(certs) > maxPeerCertificates {
		p.VerifyErr = fmt.Errorf("%w: %d certificates, more than %d; send the IDevID or "+
			"LDevID and its intermediates only", errTooManyCertificates, len(certs),
			maxPeerCertificates)
		return p
	}
	inter := chainPool(certs[1:])
	opts := x509.VerifyOptions{
		Roots:         r.domainPool,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if _, err := r.chains.Verify(leaf, opts); err == nil {
		p.Kind = PeerLDevID
		return p
	}
	var errs []error
	for i := range r.manufacturers {
		m := &r.manufacturers[i]
		// IEEE 802.1AR IDevIDs often carry no extended key usage or one
		// without clientAuth, so any usage is accepted here.
		opts.Roots = m.roots
		opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
		_, err := r.chains.Verify(leaf, opts)
		if err == nil {
			p.Kind = PeerIDevID
			p.Manufacturer = m
			return p
		}
		errs = append(errs, fmt.Errorf("manufacturer %q: %w", m.Name, err))
	}
	if len(errs) == 0 {
		errs = append(errs, errors.New("no manufacturer is configured"))
	}
	p.VerifyErr = errors.Join(errs...)
	return p
}

func chainPool(certs []*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}
