package pledge

import (
	"errors"
	"fmt"
	"time"
)

// Errors of voucher validation (RFC 8366, Section 5.6 and RFC 8995,
// Section 5.6.1). Each check that fails returns an error wrapping exactly one
// of these, so callers branch with errors.Is. Their text is also the reason
// that voucher_status reports, so it names the check without detail that
// would help an attacker.
var (
	// ErrVoucherMalformed means the response is not a CMS-signed voucher
	// that parses, or a mandatory leaf is missing.
	ErrVoucherMalformed = errors.New("pledge: voucher is malformed")
	// ErrVoucherSignature means the CMS signature does not verify or the
	// signer does not chain to the MASA trust anchors at the current time.
	ErrVoucherSignature = errors.New("pledge: voucher signature is not from a trusted MASA")
	// ErrAssertionMissing means the voucher has no assertion.
	ErrAssertionMissing = errors.New("pledge: voucher has no assertion")
	// ErrNonceMismatch means the voucher nonce differs from the nonce of
	// the voucher request, or the voucher is nonceless and the pledge does
	// not accept nonceless vouchers.
	ErrNonceMismatch = errors.New("pledge: voucher nonce does not match the request")
	// ErrSerialMismatch means the voucher names another device.
	ErrSerialMismatch = errors.New("pledge: voucher serial-number is not this device")
	// ErrIDevIDIssuerMismatch means idevid-issuer is present and differs
	// from the authority key identifier of this pledge's IDevID.
	ErrIDevIDIssuerMismatch = errors.New("pledge: voucher idevid-issuer is not this " +
		"device's issuer")
	// ErrVoucherExpired means expires-on has passed.
	ErrVoucherExpired = errors.New("pledge: voucher has expired")
	// ErrVoucherNotYetValid means created-on lies in the future by more
	// than the allowed clock skew.
	ErrVoucherNotYetValid = errors.New("pledge: voucher created-on is in the future")
	// ErrPinnedDomainCert means pinned-domain-cert is missing or does not
	// parse, or the registrar's TLS certificate does not chain to it
	// (RFC 8995, Section 5.6.2).
	ErrPinnedDomainCert = errors.New("pledge: registrar certificate does not match " +
		"pinned-domain-cert")
	// ErrRevocationCheck means the voucher sets domain-cert-revocation-checks
	// to true, which this pledge cannot honor because it has no revocation
	// source (RFC 8366, Section 5.3).
	ErrRevocationCheck = errors.New("pledge: voucher requires revocation checks " +
		"of the domain certificate")
)

// Errors of enrollment over EST (RFC 7030 and RFC 8995, Section 5.9).
var (
	// ErrDomainCA means the EST CA certificates do not relate to the
	// pinned-domain-cert of the voucher, or do not parse.
	ErrDomainCA = errors.New("pledge: EST CA certificates do not match pinned-domain-cert")
	// ErrCSRAttributes means the CSR attributes response does not parse.
	ErrCSRAttributes = errors.New("pledge: invalid CSR attributes")
	// ErrLDevID means the enrolled certificate is missing, does not carry
	// this pledge's new public key, or does not chain to the domain CA.
	ErrLDevID = errors.New("pledge: enrolled certificate is not valid")
	// ErrRetryLimit means the registrar responded 202 more often than
	// Pledge.RetryLimit allows.
	ErrRetryLimit = errors.New("pledge: registrar is still processing after the retry limit")
)

// StatusError is an HTTP response with a status code other than the one a
// step expects. Message holds the start of the registrar's response body,
// which RFC 8995, Section 5.6 requires to be a human-readable explanation.
type StatusError struct {
	Path       string // request path, such as /.well-known/brski/requestvoucher
	StatusCode int
	Message    string // registrar's message, cut to a few hundred bytes
}

// Error returns the path, the status and the registrar's message.
func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("pledge: %s: registrar returned HTTP %d", e.Path, e.StatusCode)
	}
	return fmt.Sprintf("pledge: %s: registrar returned HTTP %d: %q",
		e.Path, e.StatusCode, e.Message)
}

// UnreachableError is a registrar that could not be reached until the
// context ended: every connection was refused, or the registrar closed it
// without a response to a request that the pledge may resend.
type UnreachableError struct {
	URL      string        // registrar URL, such as https://registrar.example:8443
	Attempts int           // connection attempts, each of them failed
	Elapsed  time.Duration // from the first attempt until the pledge gave up
	Err      error         // error of the last attempt
	Cause    error         // cause of the stop, such as context.DeadlineExceeded
}

// Error returns the URL, the attempts and the last attempt's error.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("pledge: no registrar listens at %s after %s in %s: %v", e.URL,
		e.AttemptsText(), e.Elapsed.Round(100*time.Millisecond), e.Err)
}

// AttemptsText returns Attempts with its noun, such as "1 attempt".
func (e *UnreachableError) AttemptsText() string {
	if e.Attempts == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", e.Attempts)
}

// Unwrap returns the last attempt's error and the reason to stop.
func (e *UnreachableError) Unwrap() []error { return []error{e.Err, e.Cause} }

// validationErrors lists the sentinels whose text serves as a telemetry
// reason, in the order reason looks for them.
var validationErrors = []error{
	ErrVoucherMalformed, ErrVoucherSignature, ErrAssertionMissing, ErrNonceMismatch,
	ErrSerialMismatch, ErrIDevIDIssuerMismatch, ErrVoucherExpired, ErrVoucherNotYetValid,
	ErrPinnedDomainCert, ErrRevocationCheck, ErrDomainCA, ErrCSRAttributes, ErrLDevID,
	ErrRetryLimit,
}

// reason returns the text that voucher_status and enrollstatus report for
// err: the sentinel's text without the package prefix, so internal detail
// such as certificate contents never reaches an unauthenticated peer.
func reason(err error, fallback string) string {
	for _, s := range validationErrors {
		if errors.Is(err, s) {
			return s.Error()[len("pledge: "):]
		}
	}
	var se *StatusError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s returned HTTP %d", se.Path, se.StatusCode)
	}
	return fallback
}
