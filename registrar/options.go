package registrar

import (
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/masaclient"
	"github.com/brski-eap/brski/policies"
)

// Options configures a Registrar. Zero durations mean the documented
// defaults.
type Options struct {
	// DomainCA issues LDevIDs and is the pinned-domain-cert expected in
	// vouchers. Required.
	DomainCA *DomainCA
	// Cert is the registrar's TLS server and voucher request signing
	// certificate, with id-kp-cmcRA. Required.
	Cert *RegistrarCert
	// Manufacturers are the trusted factories of IDevIDs.
	Manufacturers []Manufacturer
	// Store keeps decisions, certificates and status reports. Required.
	Store Store
	// Policy decides on each voucher request. Required.
	Policy *policies.Policy
	// MASA requests vouchers and audit logs. Required unless every rule
	// skips the MASA or uses cached vouchers.
	MASA MASAClient

	// VoucherWait is how long a voucher request waits for the MASA before
	// the registrar answers 202 with Retry-After (RFC 8995, Section 5.6).
	// The default of 2 s keeps an EAP round trip within RADIUS timeouts.
	VoucherWait time.Duration
	// RetryAfter is the Retry-After value of a 202 response. Default 5 s;
	// pledges cap it at 60 s.
	RetryAfter time.Duration
	// PendingTTL is how long the result of a voucher request that
	// answered 202 is kept for the pledge's retry. Default 10 minutes.
	PendingTTL time.Duration
	// LDevIDValidity is the lifetime of issued LDevIDs. Default one year,
	// capped at the domain CA's own expiry.
	LDevIDValidity time.Duration
	// ReadTimeout bounds reading one request, headers and body, for the
	// http.Server that ServerTimeouts configures. Default 30 s.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the request headers to
	// the end of the response. It must exceed ReadTimeout plus
	// VoucherWait, so that the 400 for a stalled body and a voucher that
	// arrives at the end of VoucherWait still reach the client. Default
	// ReadTimeout + VoucherWait + 30 s.
	WriteTimeout time.Duration

	// OnRequest, when set, receives one summary per request.
	OnRequest func(RequestLog)
	// OnDecision, when set, is called with each decision after the store
	// recorded it and before the reply is sent.
	OnDecision func(id int64, d DecisionRecord)
	// OnMASARetry, when set, is called with the device serial before each
	// wait for a retried MASA request, so that the log shows why a voucher
	// is still pending. It must not block.
	OnMASARetry func(serial string, retry masaclient.Retry)
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// Manufacturer is a factory whose IDevIDs the registrar trusts.
type Manufacturer struct {
	// Name is the colloquial name that policies and logs use, such as
	// "acme".
	Name string
	// CA contains the factory CA certificates that issue IDevIDs.
	// Required.
	CA []*x509.Certificate
	// MASATrust contains the trust anchors of the manufacturer's MASA
	// that vouchers must chain to. Required for voucher requests.
	MASATrust []*x509.Certificate
	// MASAURL, when set, overrides the MASA URL extension of the IDevIDs
	// (RFC 8995, Section 5.4).
	MASAURL string

	roots     *x509.CertPool
	masaRoots *x509.CertPool
	keyID     string
}

// KeyID returns the key identifier of the manufacturer's first CA in hex:
// its subject key identifier, or the RFC 5280 method 1 hash of its key.
func (m *Manufacturer) KeyID() string { return m.keyID }

func (m Manufacturer) prepare() (Manufacturer, error) {
	if m.Name == "" {
		return m, errors.New("registrar: a manufacturer has no name")
	}
	if len(m.CA) == 0 {
		return m, fmt.Errorf("registrar: manufacturer %q has no CA certificate", m.Name)
	}
	if m.MASAURL != "" {
		u, err := devid.NormalizeMASAURL(m.MASAURL)
		if err != nil {
			return m, fmt.Errorf("registrar: manufacturer %q: %w", m.Name, err)
		}
		m.MASAURL = u
	}
	m.roots = x509.NewCertPool()
	for _, c := range m.CA {
		m.roots.AddCert(c)
	}
	m.masaRoots = x509.NewCertPool()
	for _, c := range m.MASATrust {
		m.masaRoots.AddCert(c)
	}
	ski := m.CA[0].SubjectKeyId
	if len(ski) == 0 {
		var err error
		if ski, err = devid.KeyIdentifier(m.CA[0].PublicKey); err != nil {
			return m, fmt.Errorf("registrar: manufacturer %q: %w", m.Name, err)
		}
	}
	m.keyID = hex.EncodeToString(ski)
	return m, nil
}
