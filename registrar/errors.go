package registrar

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBody is the size limit of every request body. Voucher requests with a
// certificate chain, CSRs and status reports fit well below it.
const maxBody = 64 << 10

// httpError is a failure that the peer may see: an HTTP status and a
// message in plain text. Cause is logged only.
type httpError struct {
	Status  int
	Message string
	Cause   error
	// RetryAfter, when positive, is sent as the Retry-After header.
	RetryAfter time.Duration
	// Close makes the server close the connection after the response.
	Close bool
}

func (e *httpError) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("registrar: %d %s: %v", e.Status, e.Message, e.Cause)
	}
	return fmt.Sprintf("registrar: %d %s", e.Status, e.Message)
}

func (e *httpError) Unwrap() error { return e.Cause }

// peerError returns an error with an HTTP status and a message for the
// peer. The message should state what is wrong and what to change.
func peerError(status int, format string, args ...any) *httpError {
	return &httpError{Status: status, Message: fmt.Sprintf(format, args...)}
}

// peerFailure returns an error whose short message the peer sees, while
// cause, which may name packages, files or URLs, goes only to the log.
func peerFailure(status int, cause error, format string, args ...any) *httpError {
	return &httpError{Status: status, Message: fmt.Sprintf(format, args...), Cause: cause}
}

// peerText returns the text of err for a peer, without the package
// prefixes ("voucher: ", "x509: ") that start Go error messages.
func peerText(err error) string {
	text := err.Error()
	for {
		prefix, rest, ok := strings.Cut(text, ": ")
		if !ok || !isPackageName(prefix) {
			return text
		}
		text = rest
	}
}

// isPackageName reports whether s is the name of a package whose errors
// can reach peerText.
func isPackageName(s string) bool {
	switch s {
	case "voucher", "registrar", "devid", "masaclient", "x509", "asn1", "pkcs7", "json":
		return true
	}
	return false
}

// internalError hides cause from the peer, who gets "internal error".
func internalError(cause error) *httpError {
	return &httpError{Status: http.StatusInternalServerError, Message: "internal error",
		Cause: cause}
}

// writeError sends err as a text/plain response and returns its status.
// An error that is not an *httpError is an internal failure.
func writeError(w http.ResponseWriter, err error) *httpError {
	var he *httpError
	if !errors.As(err, &he) {
		he = internalError(err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if he.Close {
		w.Header().Set("Connection", "close")
	}
	if he.RetryAfter > 0 {
		secs := int((he.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	w.WriteHeader(he.Status)
	fmt.Fprintln(w, he.Message)
	return he
}

// RequestLog summarises one request for the OnRequest hook.
type RequestLog struct {
	// Route is the path of the request, such as
	// "/.well-known/brski/requestvoucher".
	Route string
	// Remote is the network address of the client.
	Remote string
	// PeerKind and PeerSerial describe the TLS client certificate. The
	// serial number comes from the subject, so it is peer-controlled
	// text until the certificate is verified.
	PeerKind   PeerKind
	PeerSerial string
	// Status is the HTTP status code sent.
	Status int
	// Outcome is the policy outcome of a voucher request ("accept",
	// "quarantine", "reject"), "status=true" or "status=false" for a
	// status report, and "" for other routes.
	Outcome string
	// Reason is the message sent to the peer on failure, or the policy
	// reason of a decision.
	Reason string
	// Modes lists the reduced-security modes that a decision relies on.
	Modes []string
	// Err is the internal cause of a failure, which is never sent to the
	// peer.
	Err error
	// Duration is the time from the start of the request to the reply.
	Duration time.Duration
}
