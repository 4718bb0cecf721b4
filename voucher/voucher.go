// Package voucher implements RFC 8366 vouchers and RFC 8995 voucher requests:
// their JSON encoding, and the CMS SignedData (RFC 5652) that carries them as
// application/voucher-cms+json.
//
// The JSON side parses what real peers send (fractional RFC 3339 times,
// base64url nonces, booleans as strings) and records every non-standard
// encoding in Voucher.Warnings, while it rejects values that security depends
// on. The CMS side is built on encoding/asn1. It accepts BER with indefinite
// lengths, finds the signer by issuer and serial number or by subject key
// identifier, and verifies the certificate chain at a time that the caller
// chooses, never at the signingTime attribute.
package voucher

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Assertion is the RFC 8366 assertion leaf: the method that the MASA used to
// verify the relationship between pledge and registrar (RFC 8366,
// Section 5.3).
type Assertion string

// The assertion values of RFC 8366, Section 5.3.
const (
	AssertionVerified  Assertion = "verified"
	AssertionLogged    Assertion = "logged"
	AssertionProximity Assertion = "proximity"
)

// Valid reports whether a is one of the three assertions of RFC 8366.
func (a Assertion) Valid() bool {
	switch a {
	case AssertionVerified, AssertionLogged, AssertionProximity:
		return true
	}
	return false
}

// ContainerVoucher is the top-level JSON member of a voucher (RFC 8366,
// Section 5.3).
const ContainerVoucher = "ietf-voucher:voucher"

// ContainerRequest is the top-level JSON member of a voucher request
// (RFC 8995, Section 3).
const ContainerRequest = "ietf-voucher-request:voucher"

// Errors that callers branch on. Every error returned by this package that
// belongs to one of these classes wraps the sentinel, so errors.Is works.
var (
	// ErrContainer means the JSON document is not a single object with the
	// expected container (ContainerVoucher or ContainerRequest).
	ErrContainer = errors.New("voucher: wrong container")
	// ErrInvalidLeaf means a leaf has the wrong JSON type or an invalid
	// value, such as an unknown assertion or an unparsable time.
	ErrInvalidLeaf = errors.New("voucher: invalid leaf")
	// ErrMissingLeaf means Validate or ValidateRequest found a mandatory
	// leaf absent.
	ErrMissingLeaf = errors.New("voucher: missing leaf")
)

// Voucher holds every leaf of both the voucher (RFC 8366, Section 5.3) and the
// voucher request (RFC 8995, Section 3.4). A nil slice, a nil pointer and a
// zero time mean the leaf is absent.
type Voucher struct {
	// CreatedOn is the time the voucher or request was created.
	CreatedOn time.Time
	// ExpiresOn is when the voucher expires; zero when absent.
	ExpiresOn time.Time
	// Assertion is the verification method (RFC 8366, Section 5.3).
	Assertion Assertion
	// SerialNumber is the pledge's serial number, the subject serialNumber
	// of its IDevID.
	SerialNumber string
	// IDevIDIssuer is the Authority Key Identifier of the IDevID's issuer.
	IDevIDIssuer []byte
	// PinnedDomainCert is the DER certificate that the pledge pins as the
	// domain's trust anchor.
	PinnedDomainCert []byte
	// DomainCertRevocationChecks is whether the pledge must check the
	// revocation of the domain certificate. It is nil when absent.
	DomainCertRevocationChecks *bool
	// Nonce binds the voucher to one pledge request.
	Nonce []byte
	// LastRenewalDate is the last time the voucher was renewed.
	LastRenewalDate time.Time
	// PriorSignedVoucherRequest is the pledge's CMS voucher request that
	// a registrar request forwards (voucher request only).
	PriorSignedVoucherRequest []byte
	// ProximityRegistrarCert is the registrar's DER TLS certificate in a
	// pledge request (voucher request only).
	ProximityRegistrarCert []byte
	// Unknown holds the leaves this package does not define, keyed by
	// their JSON member name. Marshal emits them again unchanged.
	Unknown map[string]json.RawMessage
	// Warnings lists the non-standard encodings that parsing accepted,
	// such as a base64url nonce or a boolean sent as a string.
	Warnings []string
}

// Validate checks that v is a usable voucher: the leaves that RFC 8366,
// Section 5.3 makes mandatory (created-on, assertion, serial-number and
// pinned-domain-cert) are present, and the voucher-request-only leaves are
// absent. It changes nothing.
func (v *Voucher) Validate() error {
	switch {
	case v.CreatedOn.IsZero():
		return fmt.Errorf("%w: created-on is absent", ErrMissingLeaf)
	case v.Assertion == "":
		return fmt.Errorf("%w: assertion is absent", ErrMissingLeaf)
	case v.SerialNumber == "":
		return fmt.Errorf("%w: serial-number is absent or empty", ErrMissingLeaf)
	case len(v.PinnedDomainCert) == 0:
		return fmt.Errorf("%w: pinned-domain-cert is absent or empty", ErrMissingLeaf)
	case v.PriorSignedVoucherRequest != nil:
		return fmt.Errorf("%w: prior-signed-voucher-request is only valid in a voucher request",
			ErrInvalidLeaf)
	case v.ProximityRegistrarCert != nil:
		return fmt.Errorf("%w: proximity-registrar-cert is only valid in a voucher request",
			ErrInvalidLeaf)
	}
	return v.checkValues()
}

// ValidateRequest checks that v is a usable voucher request: serial-number,
// the only mandatory leaf of RFC 8995, Section 3.4, is present, and a
// "proximity" assertion carries proximity-registrar-cert as RFC 8995,
// Section 5.2 requires of a pledge. It changes nothing.
func (v *Voucher) ValidateRequest() error {
	if v.SerialNumber == "" {
		return fmt.Errorf("%w: serial-number is absent or empty", ErrMissingLeaf)
	}
	if v.Assertion == AssertionProximity && v.ProximityRegistrarCert == nil &&
		v.PriorSignedVoucherRequest == nil {
		return fmt.Errorf("%w: a proximity assertion needs proximity-registrar-cert "+
			"(pledge) or prior-signed-voucher-request (registrar)", ErrMissingLeaf)
	}
	return v.checkValues()
}

// checkValues applies the value checks that parsing and marshalling share.
func (v *Voucher) checkValues() error {
	if v.Assertion != "" && !v.Assertion.Valid() {
		return fmt.Errorf("%w: assertion %q is not verified, logged or proximity",
			ErrInvalidLeaf, string(v.Assertion))
	}
	if v.Nonce != nil && len(v.Nonce) == 0 {
		return fmt.Errorf("%w: nonce is present but empty; omit it or send random bytes",
			ErrInvalidLeaf)
	}
	if !v.ExpiresOn.IsZero() && !v.CreatedOn.IsZero() && !v.ExpiresOn.After(v.CreatedOn) {
		return fmt.Errorf("%w: expires-on %s is not after created-on %s", ErrInvalidLeaf,
			v.ExpiresOn.Format(time.RFC3339Nano), v.CreatedOn.Format(time.RFC3339Nano))
	}
	return nil
}
