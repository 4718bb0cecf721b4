package pledge

import (
	"bytes"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/brski-eap/brski/voucher"
)

// Expected contains the values a voucher must match: those of the voucher
// request that this pledge sent, and the registrar certificate of its
// provisional TLS connection.
type Expected struct {
	// Nonce is the nonce of the voucher request.
	Nonce []byte
	// SerialNumber is the pledge's serial number (devid.SerialNumber).
	SerialNumber string
	// IDevID is the pledge's IDevID, whose authority key identifier an
	// idevid-issuer leaf must equal. Nil skips that check.
	IDevID *x509.Certificate
	// RegistrarCert is the end-entity certificate the registrar presented.
	RegistrarCert *x509.Certificate
	// RegistrarChain holds the other certificates the registrar presented.
	RegistrarChain []*x509.Certificate
}

// VerifiedVoucher is a voucher that passed every check of VerifyVoucher.
type VerifiedVoucher struct {
	Voucher *voucher.Voucher
	// Signer is the MASA certificate that signed the voucher.
	Signer *x509.Certificate
	// PinnedDomainCert is the parsed pinned-domain-cert, the domain's
	// temporary trust anchor (RFC 8995, Section 5.6.2).
	PinnedDomainCert *x509.Certificate
	// DomainTrust is a pool that holds PinnedDomainCert alone.
	DomainTrust *x509.CertPool

	signed []byte // the CMS object as received, when Run validated it
}

// VerifyVoucher validates a CMS-signed voucher at p.Now (RFC 8366,
// Section 5.6 and RFC 8995, Sections 5.6.1 and 5.6.2). The signature must
// chain to p.MASATrust, an assertion must be present, and the nonce and
// serial-number must equal the request's. An idevid-issuer must name the
// IDevID's issuer, and expires-on must not have passed. Created-on may lie
// at most p.ClockSkew in the future. The registrar certificate must chain to
// pinned-domain-cert, which may be the domain CA or the registrar
// certificate itself. Each failed check returns an error wrapping its own
// sentinel, such as ErrNonceMismatch. Unknown leaves are ignored.
func (p *Pledge) VerifyVoucher(signed []byte, want Expected) (*VerifiedVoucher, error) {
	if p.MASATrust == nil {
		return nil, fmt.Errorf("%w: no MASA trust anchors configured", ErrVoucherSignature)
	}

	now := p.now()
	obj, err := voucher.ParseSigned(signed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVoucherMalformed, err)
	}
	verified, err := obj.Verify(voucher.VerifyOptions{
		Roots:       p.MASATrust,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVoucherSignature, err)
	}

	v, pinned, err := p.checkContent(obj.Content, want, now)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(pinned)
	return &VerifiedVoucher{Voucher: v, Signer: verified.Signer, PinnedDomainCert: pinned,
		DomainTrust: pool}, nil
}

// checkContent parses the JSON voucher whose signature has verified and
// applies every check on its leaves. It returns the voucher and its parsed
// pinned-domain-cert.
func (p *Pledge) checkContent(content []byte, want Expected, now time.Time) (
	*voucher.Voucher, *x509.Certificate, error) {
	v, err := voucher.ParseVoucher(content)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrVoucherMalformed, err)
	}
	if err := p.checkLeaves(v, want, now); err != nil {
		return nil, nil, err
	}
	pinned, err := checkPinned(v, want, now)
	if err != nil {
		return nil, nil, err
	}
	if err := v.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrVoucherMalformed, err)
	}
	return v, pinned, nil
}

// checkLeaves applies the checks of RFC 8366, Section 5.6 that compare
// leaves with the request and the clock.
func (p *Pledge) checkLeaves(v *voucher.Voucher, want Expected, now time.Time) error {
	if v.Assertion == "" {
		return ErrAssertionMissing
	}
	if v.SerialNumber != want.SerialNumber {
		return fmt.Errorf("%w: voucher names %q, this device is %q", ErrSerialMismatch,
			v.SerialNumber, want.SerialNumber)
	}
	switch {
	case v.Nonce == nil && !p.AllowNonceless:
		return fmt.Errorf("%w: voucher has no nonce and nonceless vouchers are not "+
			"accepted", ErrNonceMismatch)
	case v.Nonce != nil && subtle.ConstantTimeCompare(v.Nonce, want.Nonce) != 1:
		return fmt.Errorf("%w: voucher nonce %x, request nonce %x", ErrNonceMismatch,
			v.Nonce, want.Nonce)
	}
	if v.IDevIDIssuer != nil && want.IDevID != nil &&
		!bytes.Equal(v.IDevIDIssuer, want.IDevID.AuthorityKeyId) {
		return fmt.Errorf("%w: idevid-issuer %x, IDevID authority key identifier %x",
			ErrIDevIDIssuerMismatch, v.IDevIDIssuer, want.IDevID.AuthorityKeyId)
	}
	if !v.ExpiresOn.IsZero() && !now.Before(v.ExpiresOn) {
		return fmt.Errorf("%w: expires-on %s is not after the current time %s",
			ErrVoucherExpired, v.ExpiresOn.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	if v.CreatedOn.After(now.Add(p.clockSkew())) {
		return fmt.Errorf("%w: created-on %s is more than %s after the current time %s",
			ErrVoucherNotYetValid, v.CreatedOn.Format(time.RFC3339), p.clockSkew(),
			now.Format(time.RFC3339))
	}
	// NOTE: the pledge has no CRL or OCSP source, so a voucher that demands
	// revocation checks is rejected instead of being accepted unchecked.
	if v.DomainCertRevocationChecks != nil && *v.DomainCertRevocationChecks {
		return ErrRevocationCheck
	}
	return nil
}

// checkPinned parses pinned-domain-cert and checks that the registrar's TLS
// certificate is it or chains to it at now (RFC 8995, Section 5.6.2).
func checkPinned(v *voucher.Voucher, want Expected, now time.Time) (*x509.Certificate,
	error) {
	if len(v.PinnedDomainCert) == 0 {
		return nil, fmt.Errorf("%w: voucher has no pinned-domain-cert", ErrPinnedDomainCert)
	}
	pinned, err := x509.ParseCertificate(v.PinnedDomainCert)
	if err != nil {
		return nil, fmt.Errorf("%w: parse pinned-domain-cert: %w", ErrPinnedDomainCert, err)
	}
	reg := want.RegistrarCert
	if reg == nil {
		return nil, fmt.Errorf("%w: no registrar certificate to compare", ErrPinnedDomainCert)
	}
	if bytes.Equal(pinned.Raw, reg.Raw) {
		if now.Before(reg.NotBefore) || now.After(reg.NotAfter) {
			return nil, fmt.Errorf("%w: pinned registrar certificate is valid from %s "+
				"to %s, not at %s", ErrPinnedDomainCert, reg.NotBefore.Format(time.RFC3339),
				reg.NotAfter.Format(time.RFC3339), now.Format(time.RFC3339))
		}
		return pinned, nil
	}
	roots := x509.NewCertPool()
	roots.AddCert(pinned)
	inter := x509.NewCertPool()
	for _, c := range want.RegistrarChain {
		inter.AddCert(c)
	}
	_, err = reg.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
		CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, fmt.Errorf("%w: registrar certificate %q does not chain to %q: %w",
			ErrPinnedDomainCert, reg.Subject.String(), pinned.Subject.String(), err)
	}
	return pinned, nil
}
