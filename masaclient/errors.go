package masaclient

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Sentinels for the MASA's 4xx and 503 responses. A *StatusError matches the
// one for its code with errors.Is.
var (
	// ErrBadRequest is a 400: the MASA could not use the voucher request.
	ErrBadRequest = errors.New("masaclient: bad request")
	// ErrForbidden is a 403: the MASA rejected the registrar or the claim.
	ErrForbidden = errors.New("masaclient: forbidden")
	// ErrNotFound is a 404: the MASA does not know the device.
	ErrNotFound = errors.New("masaclient: not found")
	// ErrNotAcceptable is a 406: the MASA cannot return the accepted type.
	ErrNotAcceptable = errors.New("masaclient: not acceptable")
	// ErrUnsupportedMediaType is a 415: the MASA rejects the content type.
	ErrUnsupportedMediaType = errors.New("masaclient: unsupported media type")
	// ErrServiceUnavailable is a 503 that remained after every retry.
	ErrServiceUnavailable = errors.New("masaclient: service unavailable")
	// ErrBadResponse is wrapped by the errors for a response that arrived
	// but cannot be used: an unexpected status such as 202 or 302, a wrong
	// media type, an empty voucher or a body over MaxResponseBytes. A
	// *StatusError, which is a response too, does not match it; connection
	// failures match neither.
	ErrBadResponse = errors.New("masaclient: unusable response")
)

// StatusError is an HTTP error response from a MASA.
type StatusError struct {
	// URL is the request URL.
	URL string
	// Code is the HTTP status code.
	Code int
	// Message is the start of the MASA's text/plain body, with control
	// characters removed.
	Message string
	// RetryAfter is the delay of a Retry-After header, zero when absent.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("masaclient: %s: %d %s", e.URL, e.Code, http.StatusText(e.Code))
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %v)", e.RetryAfter)
	}
	return s
}

// Is matches the sentinel of the status code.
func (e *StatusError) Is(target error) bool {
	switch e.Code {
	case http.StatusBadRequest:
		return target == ErrBadRequest
	case http.StatusForbidden:
		return target == ErrForbidden
	case http.StatusNotFound:
		return target == ErrNotFound
	case http.StatusNotAcceptable:
		return target == ErrNotAcceptable
	case http.StatusUnsupportedMediaType:
		return target == ErrUnsupportedMediaType
	case http.StatusServiceUnavailable:
		return target == ErrServiceUnavailable
	}
	return false
}
