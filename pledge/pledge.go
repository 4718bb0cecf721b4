// Package pledge implements the new entity of BRSKI (RFC 8995). It requests
// a voucher from the registrar over a provisional TLS connection and
// validates it against its MASA trust anchors (RFC 8366, Section 5.6 and
// RFC 8995, Section 5.6.1). Only then does it trust the domain and enroll an
// LDevID over EST (RFC 7030). The flow runs over any Session: Bootstrap
// builds one over HTTPS, and the EAP-EST peer provides one inside EAP.
package pledge

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/voucher"
)

const (
	// DefaultClockSkew is how far in the future a voucher's created-on may
	// lie when Pledge.ClockSkew is zero.
	DefaultClockSkew = 5 * time.Minute
	// DefaultRetryLimit is how many 202 responses the pledge retries per
	// request when Pledge.RetryLimit is zero.
	DefaultRetryLimit = 30
	// nonceSize is the length of the voucher request nonce in bytes. RFC 8995,
	// Section 5.2 requires a cryptographically strong random nonce, and 16
	// bytes are 128 bits.
	nonceSize = 16
)

// Pledge is a device's BRSKI identity and trust configuration. The zero
// values of the optional fields select the defaults named on them. A Pledge
// must not be modified while an attempt runs.
type Pledge struct {
	// IDevID is the manufacturer-installed identity (IEEE 802.1AR): the
	// certificate chain, starting with the IDevID, and its private key,
	// which must be a crypto.Signer.
	IDevID tls.Certificate
	// MASATrust holds the manufacturer's trust anchors for vouchers
	// (RFC 8995, Section 5.6.1).
	MASATrust *x509.CertPool
	// Now returns the current time for every validity check; nil means
	// time.Now.
	Now func() time.Time
	// ClockSkew is how far in the future a voucher's created-on may lie;
	// zero means DefaultClockSkew.
	ClockSkew time.Duration
	// AllowNonceless accepts vouchers without a nonce (RFC 8995,
	// Section 5.6.1 leaves this to local policy). The default rejects
	// them with ErrNonceMismatch.
	AllowNonceless bool
	// RetryLimit is how many 202 Accepted responses the pledge retries per
	// request; zero means DefaultRetryLimit.
	RetryLimit int
	// Trace, when not nil, receives the progress of an attempt. It runs on
	// the attempt's goroutine and must not block.
	Trace func(Event)
}

// EventKind names a step of a bootstrapping attempt.
type EventKind int

// Steps reported to Pledge.Trace.
const (
	// EventVoucherRequested: the voucher request is signed and about to
	// be sent. Path is set.
	EventVoucherRequested EventKind = iota + 1
	// EventRetry: the registrar responded 202 and the pledge waits Wait
	// before it repeats the request to Path.
	EventRetry
	// EventVoucherVerified: Voucher passed validation, and Cert is its
	// pinned-domain-cert.
	EventVoucherVerified
	// EventCACerts: the EST CA certificates matched the pinned domain
	// certificate. Certs holds them.
	EventCACerts
	// EventEnrolled: the registrar issued Cert, the LDevID.
	EventEnrolled
	// EventTelemetryFailed: the status report to Path failed with Err.
	// RFC 8995, Section 5.7 lets a pledge ignore this.
	EventTelemetryFailed
	// EventConnectRetry: the connection for the request to Path failed
	// with Err, and the pledge waits Wait before it sends the request
	// again.
	EventConnectRetry
)

// Event is one progress report of an attempt. Kind selects which fields are
// set.
type Event struct {
	Kind    EventKind
	Path    string
	Wait    time.Duration
	Voucher *voucher.Voucher
	Cert    *x509.Certificate
	Certs   []*x509.Certificate
	Err     error
	// Reason is the body text of the 202 response of an EventRetry, such
	// as the registrar's reason for the delay, or "" for an empty body.
	Reason string
}

// Result is the identity that a successful attempt enrolled.
type Result struct {
	// LDevID is the locally significant device identity that the domain
	// issued, and Key its private key, generated for this attempt.
	LDevID *x509.Certificate
	Key    crypto.Signer
	// Chain holds the other certificates of the enrollment response, such
	// as intermediate CAs.
	Chain []*x509.Certificate
	// DomainCAs are the EST CA certificates (RFC 7030, Section 4.1.3), the
	// trust anchors of the domain from now on.
	DomainCAs []*x509.Certificate
	// Voucher is the validated voucher, Signed its CMS form as received,
	// and PinnedDomainCert its parsed pinned-domain-cert.
	Voucher          *voucher.Voucher
	Signed           []byte
	PinnedDomainCert *x509.Certificate
}

// Run performs one bootstrapping attempt over s: the voucher request, voucher
// validation, voucher status telemetry, EST enrollment and enrollment status
// telemetry (RFC 8995, Sections 5.2 to 5.9). Any failed check aborts the
// attempt with an error that wraps the check's sentinel, such as
// ErrNonceMismatch, and an unexpected HTTP status returns a *StatusError. A
// failure after the voucher arrived is reported to the registrar first.
func (p *Pledge) Run(ctx context.Context, s Session) (*Result, error) {
	id, err := p.identity()
	if err != nil {
		return nil, err
	}
	if s.HTTP == nil || s.RegistrarCert == nil {
		return nil, errors.New("pledge: session has no HTTP client or no registrar " +
			"certificate; build it with DialHTTPS or the EAP-EST peer")
	}
	vv, err := p.requestVoucher(ctx, s, id)
	if err != nil {
		return nil, err
	}
	p.trace(Event{Kind: EventVoucherVerified, Voucher: vv.Voucher, Cert: vv.PinnedDomainCert})
	res, err := p.enroll(ctx, s, id, vv)
	if err != nil {
		p.report(ctx, s, pathEnrollStatus, err, "enrollment failed")
		return nil, err
	}
	p.reportEnrolled(ctx, s, res)
	return res, nil
}

// reportEnrolled sends the successful enrollstatus. When the session can
// reconnect, the report goes over a new TLS connection that authenticates
// with the LDevID (RFC 8995, Section 5.9.4). If that connection fails, the
// report falls back to s.
func (p *Pledge) reportEnrolled(ctx context.Context, s Session, res *Result) {
	if s.Reconnect == nil {
		p.report(ctx, s, pathEnrollStatus, nil, "")
		return
	}
	cert := tls.Certificate{PrivateKey: res.Key, Leaf: res.LDevID,
		Certificate: [][]byte{res.LDevID.Raw}}
	for _, c := range res.Chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	roots := certPool(append([]*x509.Certificate{res.PinnedDomainCert}, res.DomainCAs...))
	ns, release, err := s.Reconnect(ctx, cert, roots)
	if err != nil {
		p.trace(Event{Kind: EventTelemetryFailed, Path: pathEnrollStatus, Err: err})
		p.report(ctx, s, pathEnrollStatus, nil, "")
		return
	}
	defer release()
	if p.report(ctx, ns, pathEnrollStatus, nil, "") != nil {
		p.report(ctx, s, pathEnrollStatus, nil, "")
	}
}

// identity is the IDevID part of a Pledge, checked and parsed.
type identity struct {
	cert   *x509.Certificate
	chain  []*x509.Certificate // cert followed by any intermediates
	key    crypto.Signer
	serial string
}

func (p *Pledge) identity() (*identity, error) {
	if len(p.IDevID.Certificate) == 0 {
		return nil, errors.New("pledge: IDevID has no certificate; load the IDevID PEM")
	}
	key, ok := p.IDevID.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pledge: IDevID private key of type %T cannot sign",
			p.IDevID.PrivateKey)
	}
	if p.MASATrust == nil {
		return nil, errors.New("pledge: no MASA trust anchors; load the manufacturer's " +
			"MASA certificate")
	}
	chain := make([]*x509.Certificate, 0, len(p.IDevID.Certificate))
	for i, der := range p.IDevID.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("pledge: parse IDevID certificate %d: %w", i, err)
		}
		chain = append(chain, c)
	}
	serial, err := devid.SerialNumber(chain[0])
	if err != nil {
		return nil, fmt.Errorf("pledge: IDevID: %w", err)
	}
	return &identity{cert: chain[0], chain: chain, key: key, serial: serial}, nil
}

// newNonce returns a fresh random nonce for one attempt (RFC 8995,
// Section 5.2).
func newNonce() ([]byte, error) {
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("pledge: generate nonce: %w", err)
	}
	return nonce, nil
}

func (p *Pledge) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pledge) clockSkew() time.Duration {
	if p.ClockSkew > 0 {
		return p.ClockSkew
	}
	return DefaultClockSkew
}

func (p *Pledge) retryLimit() int {
	if p.RetryLimit > 0 {
		return p.RetryLimit
	}
	return DefaultRetryLimit
}

func (p *Pledge) trace(e Event) {
	if p.Trace != nil {
		p.Trace(e)
	}
}
