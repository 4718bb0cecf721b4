package masa

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/brski-eap/brski/voucher"
)

// Paths of the MASA operations. The RFC 8995 paths (Sections 5.5 and 5.8)
// are the primary ones. The paths of the original BRSKI draft
// (draft-pritikin-bootstrapping-keyinfrastructures-01), which lived in the
// EST tree, are served as aliases under both /.well-known/est and
// /.well-known/brski.
const (
	PathRequestVoucher  = "/.well-known/brski/requestvoucher"
	PathRequestAuditLog = "/.well-known/brski/requestauditlog"
)

var voucherPaths = []string{PathRequestVoucher,
	"/.well-known/brski/requestMASAauthorization", "/.well-known/est/requestMASAauthorization"}

var auditLogPaths = []string{PathRequestAuditLog,
	"/.well-known/brski/requestMASAlog", "/.well-known/est/requestMASAlog"}

// maxRequestBytes caps a registrar voucher request. One with a pledge
// request and a few certificates inside is a few kilobytes.
const maxRequestBytes = 256 << 10

// maxAuditEvents caps the events of one audit log response.
const maxAuditEvents = 1024

// Outcomes of RequestLog.
const (
	OutcomeVoucherIssued = "voucher issued"
	// OutcomeVoucherRepeated is a repeated request that got the voucher
	// already issued for its serial number and nonce.
	OutcomeVoucherRepeated = "voucher repeated"
	OutcomeAuditLogSent    = "audit log sent"
	OutcomeRejected        = "rejected"
)

// httpError is a rejection: the status and the message for the client, and
// the internal cause, which only OnRequest receives.
type httpError struct {
	status     int
	message    string
	retryAfter time.Duration
	cause      error
}

func (e *httpError) Error() string { return e.message }

func reject(status int, format string, args ...any) *httpError {
	return &httpError{status: status, message: fmt.Sprintf(format, args...)}
}

func internalError(cause error) *httpError {
	return &httpError{status: http.StatusInternalServerError,
		message: "internal error in the MASA; the operator can find the cause in its log",
		cause:   cause}
}

// Handler returns the MASA's HTTP handler, for use with a server other than
// Serve, such as one in a test.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, p := range voucherPaths {
		mux.Handle(p, s.wrap(s.requestVoucher, voucher.MediaType))
	}
	for _, p := range auditLogPaths {
		mux.Handle(p, s.wrap(s.requestAuditLog, "application/json"))
	}
	mux.Handle("/", s.wrap(unknownRoute, ""))
	return mux
}

// unknownRoute answers 404 with the routes that the MASA serves.
func unknownRoute(r *http.Request, _ []byte, _ *RequestLog) ([]byte, *httpError) {
	return nil, reject(http.StatusNotFound, "unknown route %q; this MASA serves POST %s "+
		"and POST %s (RFC 8995, Sections 5.5 and 5.8)", r.URL.Path, PathRequestVoucher,
		PathRequestAuditLog)
}

// operation handles an authenticated request. It returns the response body
// and the serial number, or a rejection.
type operation func(r *http.Request, body []byte, log *RequestLog) ([]byte, *httpError)

// wrap checks the method, media types and size that every operation shares,
// writes the response and reports it to OnRequest.
func (s *Server) wrap(op operation, respType string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.cfg.Now()
		log := RequestLog{Method: r.Method, Path: r.URL.Path, RemoteAddr: r.RemoteAddr}
		var (
			body []byte
			herr *httpError
		)
		if respType != "" { // unknownRoute reads no body
			body, herr = s.readRequest(w, r, respType)
		}
		var resp []byte
		if herr == nil {
			resp, herr = op(r, body, &log)
		}
		if herr != nil {
			writeError(w, herr)
			log.Status, log.Outcome, log.Reason, log.Err = herr.status, OutcomeRejected,
				herr.message, herr.cause
		} else {
			w.Header().Set("Content-Type", respType)
			w.Header().Set("Content-Length", strconv.Itoa(len(resp)))
			w.WriteHeader(http.StatusOK)
			w.Write(resp)
			log.Status = http.StatusOK
		}
		if s.cfg.OnRequest != nil {
			log.Duration = s.cfg.Now().Sub(start)
			s.cfg.OnRequest(log)
		}
	})
}

func (s *Server) readRequest(w http.ResponseWriter, r *http.Request,
	respType string) ([]byte, *httpError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, reject(http.StatusMethodNotAllowed, "%s is not allowed on %s; use POST",
			r.Method, r.URL.Path)
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != voucher.MediaType {
		return nil, reject(http.StatusUnsupportedMediaType,
			"Content-Type %q is not supported; send a registrar voucher request as %s",
			ct, voucher.MediaType)
	}
	if !accepts(r.Header.Values("Accept"), respType) {
		return nil, reject(http.StatusNotAcceptable,
			"the Accept header %q does not allow %s, the only type this operation returns",
			strings.Join(r.Header.Values("Accept"), ", "), respType)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, reject(http.StatusRequestEntityTooLarge,
				"the voucher request is larger than %d bytes", maxRequestBytes)
		}
		return nil, &httpError{status: http.StatusBadRequest, cause: err,
			message: "reading the request body failed or timed out; send the whole body " +
				"at once"}
	}
	return body, nil
}

// accepts reports whether Accept header values allow mediaType. An absent
// or empty header allows every type (RFC 9110, Section 12.5.1).
func accepts(values []string, mediaType string) bool {
	if strings.TrimSpace(strings.Join(values, "")) == "" {
		return true
	}
	major, _, _ := strings.Cut(mediaType, "/")
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(item))
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
					continue
				}
			}
			if mt == mediaType || mt == "*/*" || mt == major+"/*" {
				return true
			}
		}
	}
	return false
}

func writeError(w http.ResponseWriter, e *httpError) {
	if e.retryAfter > 0 {
		secs := int64((e.retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	}
	http.Error(w, e.message, e.status)
}
