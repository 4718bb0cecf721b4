package eapserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/internal/chaincache"
	"github.com/brski-eap/brski/policies"
	"github.com/brski-eap/brski/store"
)

// Store is the part of the registrar's store that EAP-TLS reads.
// *store.Store implements it.
type Store interface {
	// CertificateWithDevice returns an issued LDevID with the
	// expected-devices entry of its device, or an error wrapping
	// store.ErrNotFound.
	CertificateWithDevice(ctx context.Context, serial *big.Int) (store.IssuedCertificate,
		error)
	// Enrollments returns the enrollment records of a device, oldest first.
	Enrollments(ctx context.Context, deviceSerial string) ([]store.Enrollment, error)
}

// storeTimeout bounds the store lookups of one TLS handshake, which run
// inside a RADIUS round trip.
const storeTimeout = time.Second

// Limits of the EAP-TLS server's cache of verified LDevID chains. A
// device that authenticates again presents the same chain, whose
// signatures need no second check while the domain CAs stay the same. The
// store is still asked about revocation in every handshake.
const (
	ldevidChainCacheSize = 4096
	ldevidChainCacheTTL  = 24 * time.Hour
)

// ldevidTLSConfig is the EAP-TLS server configuration: the client
// certificate must chain to the domain CA, and the store must know it as
// issued and not revoked. Both checks run in the handshake, so a rejected
// device gets a TLS alert before the EAP-Failure (RFC 5216, Section 2.1.3).
// crypto/tls still checks the CertificateVerify signature, the proof that
// the client holds the LDevID's key, in every handshake.
func (s *Server) ldevidTLSConfig() *tls.Config {
	c := s.cfg.RegistrarTLS.Clone()
	if !s.cfg.FullChain {
		c.Certificates = withoutAnchors(c.Certificates, s.cfg.DomainCAs)
	}
	c.ClientCAs = s.domain
	c.ClientAuth = tls.RequireAnyClientCert
	chains := chaincache.New(ldevidChainCacheSize, ldevidChainCacheTTL)
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("eapserver: no client certificate")
		}
		leaf := cs.PeerCertificates[0]
		if err := s.verifyLDevIDChain(chains, cs.PeerCertificates); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		rec, err := s.issued(ctx, leaf)
		if err == nil {
			s.verified.put(leaf, rec)
		}
		return err
	}
	return c
}

// MaxClientCertificates is the maximum number of certificates, the
// LDevID or IDevID and its intermediates, that a client may send when the
// server verifies the chain. Go's x509 stops chain building after 100
// signature checks. Still, a client that sent 100 CA certificates named
// like the domain CA made x509 Verify take about 10 ms per handshake. A
// real chain takes 0.1 ms (measured with Go 1.26 on a busy 2-core amd64
// host). The client can do this before anything proves who it is.
const MaxClientCertificates = 8

// verifyLDevIDChain checks that certs, the client's certificate and any
// intermediates it sent, chain to a domain CA for client authentication.
func (s *Server) verifyLDevIDChain(chains *chaincache.Cache, certs []*x509.Certificate,
) error {
	if len(certs) > MaxClientCertificates {
		return fmt.Errorf("eapserver: client certificate serial %x came with %d "+
			"certificates, more than %d; send the LDevID and its intermediates only",
			certs[0].SerialNumber, len(certs), MaxClientCertificates)
	}
	// x509 Verify accepts a CA certificate as the leaf. The registrar issues
	// LDevIDs without the CA flag, and a CA certificate could sign others.
	if certs[0].IsCA {
		return fmt.Errorf("eapserver: client certificate serial %x is a CA "+
			"certificate, not an LDevID", certs[0].SerialNumber)
	}
	opts := x509.VerifyOptions{Roots: s.domain, CurrentTime: s.cfg.Now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if len(certs) > 1 {
		opts.Intermediates = certPool(certs[1:])
	}
	if _, err := chains.Verify(certs[0], opts); err != nil {
		return fmt.Errorf("eapserver: client certificate serial %x does not chain to the "+
			"domain CA (enroll the device over EAP-EST first): %w",
			certs[0].SerialNumber, err)
	}
	return nil
}

// issued returns the store entry of an LDevID that is neither unknown nor
// revoked. The store finds it by serial number, which is unique per issuer
// only (RFC 5280, Section 4.1.2.2), so the SHA-256 fingerprint must match
// too. Another anchor in DomainCAs, such as the root above the issuing CA,
// may have issued a certificate with the same serial number.
func (s *Server) issued(ctx context.Context, leaf *x509.Certificate) (
	store.IssuedCertificate, error) {
	c, err := s.cfg.Store.CertificateWithDevice(ctx, leaf.SerialNumber)
	if errors.Is(err, store.ErrNotFound) {
		return c, fmt.Errorf("%w: serial %x was never issued", ErrNotEnrolled,
			leaf.SerialNumber)
	}
	if err != nil {
		return c, fmt.Errorf("eapserver: look up LDevID %x: %w", leaf.SerialNumber, err)
	}
	if fp := devid.Fingerprint(leaf); !strings.EqualFold(c.Fingerprint, fp) {
		return c, fmt.Errorf("%w: serial %x was issued with SHA-256 %s, not %s",
			ErrNotEnrolled, leaf.SerialNumber, c.Fingerprint, fp)
	}
	if c.IsRevoked() {
		return c, fmt.Errorf("%w: serial %x revoked at %s", ErrNotEnrolled,
			leaf.SerialNumber, c.Revoked.Format(time.RFC3339))
	}
	return c, nil
}

// pledgeTLSConfig is the EAP-EST server configuration. The registrar
// handler verifies the client certificate itself and replies with an HTTP
// reason. When PledgeCAs is set, this check also keeps certificates of
// unknown issuers out of the tunnel.
func (s *Server) pledgeTLSConfig() *tls.Config {
	c := s.cfg.RegistrarTLS.Clone()
	if !s.cfg.FullChain {
		c.Certificates = withoutAnchors(c.Certificates, s.cfg.DomainCAs)
	}
	verify := s.cfg.VerifyPledge
	if verify == nil && len(s.cfg.PledgeCAs) > 0 {
		verify = s.pledgeCAsCheck()
	}
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("eapserver: no client certificate")
		}
		if verify == nil {
			return nil
		}
		if n := len(cs.PeerCertificates); n > MaxClientCertificates {
			return fmt.Errorf("eapserver: client sent %d certificates, more than %d; send "+
				"the IDevID and its intermediates only", n, MaxClientCertificates)
		}
		if err := verify(cs.PeerCertificates); err != nil {
			return fmt.Errorf("eapserver: EAP-EST client certificate: %w", err)
		}
		return nil
	}
	return c
}

// pledgeCAsCheck returns the EAP-EST client check of PledgeCAs: the chain
// must lead to a manufacturer CA, or to a domain CA for re-enrollment.
func (s *Server) pledgeCAsCheck() func([]*x509.Certificate) error {
	roots := certPool(append(slices.Clip(s.cfg.PledgeCAs), s.cfg.DomainCAs...))
	return func(certs []*x509.Certificate) error {
		_, err := certs[0].Verify(x509.VerifyOptions{
			Roots: roots, Intermediates: certPool(certs[1:]),
			CurrentTime: s.cfg.Now(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		if err != nil {
			return fmt.Errorf("no trusted manufacturer: %w", err)
		}
		return nil
	}
}

// enrolledFacts builds the policy facts of a device that authenticated
// with its LDevID: the device part from its latest accepting enrollment
// record, and the MASA part as that enrollment found it. The audit log is
// kept only as a summary, so an enrollment that passed the audit log
// criteria counts as having a fetched log without entries.
func (s *Server) enrolledFacts(ctx context.Context, leaf *x509.Certificate,
	nas policies.NASFacts) (policies.Facts, error) {
	cert, ok := s.verified.take(leaf)
	if !ok {
		var err error
		if cert, err = s.issued(ctx, leaf); err != nil {
			return policies.Facts{}, err
		}
	}
	f := policies.Facts{NAS: nas, Time: s.cfg.Now()}
	f.Device.Serial = cert.DeviceSerial
	d, err := s.enrolledDevice(ctx, cert.Certificate)
	if err != nil {
		return f, err
	}
	f.Device.Manufacturer = d.manufacturer
	f.Device.IDevIDFingerprint = d.idevid
	f.Device.IDevIDPresented = d.idevid != ""
	if cert.IsExpected {
		f.Device.Expected, f.Device.Tags = true, cert.Expected.Tags
	}
	f.MASA = d.masa
	return f, nil
}

// enrolledDevice contains the fields of an enrollment record that the
// policy reads.
type enrolledDevice struct {
	manufacturer string
	idevid       string // IDevID fingerprint, or empty
	masa         policies.MASAFacts
}

// enrolledDevice returns the facts of the enrollment that issued cert, or
// else of the latest one of the device that was not a reject. The record
// that issued a certificate does not change, so its facts are kept by the
// certificate serial; the latest record can, so it is read every time.
func (s *Server) enrolledDevice(ctx context.Context, cert store.Certificate) (enrolledDevice,
	error) {
	key := cert.SerialNumber.Text(16)
	if d, ok := s.devices.get(key); ok {
		return d, nil
	}
	e, issuing, err := s.enrollment(ctx, cert)
	if err != nil {
		return enrolledDevice{}, err
	}
	d := enrolledDevice{manufacturer: e.Manufacturer, idevid: e.IDevIDFingerprint,
		masa: s.masaFacts(e)}
	if issuing {
		s.devices.put(key, d)
	}
	return d, nil
}

// enrollment returns the enrollment that issued cert and true, or else
// the latest one of the device that was not a reject and false.
func (s *Server) enrollment(ctx context.Context, cert store.Certificate) (store.Enrollment,
	bool, error) {
	list, err := s.cfg.Store.Enrollments(ctx, cert.DeviceSerial)
	if err != nil {
		return store.Enrollment{}, false, fmt.Errorf("eapserver: enrollments of %q: %w",
			cert.DeviceSerial, err)
	}
	var found *store.Enrollment
	for i := range list {
		e := &list[i]
		if e.CertificateSerial != nil && e.CertificateSerial.Cmp(cert.SerialNumber) == 0 {
			return *e, true, nil
		}
		if e.Outcome != policies.OutcomeReject.String() {
			found = e
		}
	}
	if found == nil {
		return store.Enrollment{}, false, fmt.Errorf(
			"%w: no admitting enrollment for device %q", ErrNotEnrolled, cert.DeviceSerial)
	}
	return *found, false, nil
}

// masaFacts restores the MASA facts of an enrollment from its record.
func (s *Server) masaFacts(e store.Enrollment) policies.MASAFacts {
	m := policies.MASAFacts{Mode: policies.VoucherMASA}
	for _, mode := range e.Modes {
		switch policies.Mode(mode) {
		case policies.ModeNoncelessCached:
			m.Mode = policies.VoucherNoncelessCached
		case policies.ModeSkipMASA:
			m.Mode = policies.VoucherSkip
		}
	}
	m.AuditLogFetched = e.AuditLog != ""
	if len(e.Voucher) == 0 {
		return m
	}
	m.VoucherObtained = true
	voucherFactsOf(&s.vouchers, e.Voucher).applyTo(&m)
	return m
}

// withoutAnchors returns certs with every self-issued certificate of
// anchors after the leaf removed from each chain. The leaf stays even when
// it is an anchor itself, so that a registrar whose certificate is pinned
// still presents it. An issuing CA below a root stays although DomainCAs
// lists it, because a supplicant may trust only the root.
func withoutAnchors(certs []tls.Certificate, anchors []*x509.Certificate) []tls.Certificate {
	out := make([]tls.Certificate, len(certs))
	for i, c := range certs {
		out[i] = c
		if len(c.Certificate) < 2 {
			continue
		}
		chain := [][]byte{c.Certificate[0]}
		for _, der := range c.Certificate[1:] {
			if !slices.ContainsFunc(anchors, func(a *x509.Certificate) bool {
				return bytes.Equal(a.Raw, der) && bytes.Equal(a.RawSubject, a.RawIssuer)
			}) {
				chain = append(chain, der)
			}
		}
		out[i].Certificate = chain
	}
	return out
}
