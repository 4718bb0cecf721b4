package pledge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Paths of the registrar (RFC 8995, Section 5 and RFC 7030, Section 3.2.2).
const (
	pathRequestVoucher = "/.well-known/brski/requestvoucher"
	pathVoucherStatus  = "/.well-known/brski/voucher_status"
	pathEnrollStatus   = "/.well-known/brski/enrollstatus"
	pathCACerts        = "/.well-known/est/cacerts"
	pathCSRAttrs       = "/.well-known/est/csrattrs"
	pathSimpleEnroll   = "/.well-known/est/simpleenroll"
)

// Media types of BRSKI and EST.
const (
	mediaVoucherCMS = "application/voucher-cms+json"
	mediaPKCS7      = "application/pkcs7-mime"
	mediaPKCS10     = "application/pkcs10"
	mediaCSRAttrs   = "application/csrattrs"
	mediaJSON       = "application/json"
)

const (
	// maxResponseBody caps every response body the pledge reads. Vouchers
	// and certs-only responses with a few certificates stay far below it.
	maxResponseBody = 256 << 10
	// maxErrorMessage caps the part of an error body quoted in StatusError.
	maxErrorMessage = 300
	// maxRetryAfter is the longest wait a registrar can impose with
	// Retry-After (RFC 8995, Section 5.6).
	maxRetryAfter = 60 * time.Second
	// defaultRetryAfter is the wait after a 202 without a usable
	// Retry-After, which RFC 7030, Section 4.2.3 requires the server to send.
	defaultRetryAfter = 5 * time.Second
)

// Waits before a request is sent again after a failed connection. The
// provisional TLS connection and the first request of an exchange wait
// firstReconnectWait, as after a 202 without Retry-After. Later ones wait
// the Retry-After of the last 202 but at least minReconnectWait, so a
// Retry-After of 0 cannot make the pledge dial in a busy loop. Tests set
// both to zero.
var (
	firstReconnectWait = defaultRetryAfter
	minReconnectWait   = time.Second
)

// exchange is one HTTP request to the registrar and what the pledge expects
// of the response.
type exchange struct {
	method      string
	path        string
	contentType string // request Content-Type; empty without a body
	accept      string
	body        []byte
	want        []int // acceptable status codes besides 202
	// telemetry marks a status report, whose response the pledge ignores
	// and never retries (RFC 8995, Section 5.7).
	telemetry bool
}

// response is a registrar response read in full.
type response struct {
	status      int
	contentType string // media type without parameters, lower case
	header      http.Header
	body        []byte
}

// send performs x on s and repeats the same request while the registrar
// responds 202 Accepted, waiting for Retry-After each time (RFC 8995,
// Section 5.6 and RFC 7030, Section 4.2.3). A status outside x.want returns
// a *StatusError. A failed connection is retried as reconnect describes.
func (p *Pledge) send(ctx context.Context, s Session, x exchange) (*response, error) {
	resp, err := p.reconnect(ctx, s, x, firstReconnectWait, false)
	if err != nil {
		return nil, err
	}
	return p.retryAccepted(ctx, s, x, resp)
}

// retryAccepted repeats x while resp, the latest response to it, is 202
// Accepted, and then checks the status as send does.
func (p *Pledge) retryAccepted(ctx context.Context, s Session, x exchange,
	resp *response) (*response, error) {
	for attempt := 0; resp.status == http.StatusAccepted; attempt++ {
		if attempt >= p.retryLimit() {
			return nil, fmt.Errorf("%w: %s responded 202 %d times", ErrRetryLimit, x.path,
				attempt+1)
		}
		wait := p.retryAfter(resp)
		p.trace(Event{Kind: EventRetry, Path: x.path, Wait: wait, Reason: errorMessage(resp.body)})
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("pledge: %s: waiting to retry: %w", x.path, err)
		}
		var err error
		if resp, err = p.reconnect(ctx, s, x, wait, true); err != nil {
			return nil, err
		}
	}
	return resp, checkStatus(x, resp)
}

// reconnect sends x and, while retryable accepts the error, sends it again
// after wait, at least minReconnectWait, until ctx ends. A registrar that
// restarts between 202 responses is thus waited for within the caller's
// deadline. resend is true when x follows a 202 response to the same
// request. Giving up returns an *UnreachableError.
func (p *Pledge) reconnect(ctx context.Context, s Session, x exchange,
	wait time.Duration, resend bool) (*response, error) {
	wait = max(wait, minReconnectWait)
	start := time.Now()
	for attempts := 1; ; attempts++ {
		resp, err := roundTrip(ctx, s, x)
		if err == nil || !retryable(s, x, resend, err) {
			return resp, err
		}
		p.trace(Event{Kind: EventConnectRetry, Path: x.path, Wait: wait, Err: err})
		if serr := sleep(ctx, wait); serr != nil {
			return nil, &UnreachableError{URL: s.BaseURL, Attempts: attempts,
				Elapsed: time.Since(start), Err: err, Cause: serr}
		}
	}
}

// retryable reports whether x may be sent again after err. A failed dial
// is retried, because the registrar never saw the request then. A
// connection that the registrar closed without a response is retried only
// for a request that the registrar may see twice. That is a GET, or the
// voucher request after a 202, which requests that same request again
// (RFC 8995, Section 5.6). simpleenroll never is, because it could issue a
// second LDevID. Only sessions that dial their own connections retry a closed one,
// because a closed EAP-EST tunnel ends the EAP conversation. Status
// reports are never retried.
func retryable(s Session, x exchange, resend bool, err error) bool {
	if x.telemetry {
		return false
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	idempotent := x.method == http.MethodGet || (resend && x.path == pathRequestVoucher)
	return idempotent && s.Via == "" && closedWithoutResponse(err)
}

// closedWithoutResponse reports whether err means that the peer closed or
// reset the connection before a whole response arrived.
func closedWithoutResponse(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET)
}

func checkStatus(x exchange, resp *response) error {
	for _, code := range x.want {
		if resp.status == code {
			return nil
		}
	}
	return &StatusError{Path: x.path, StatusCode: resp.status, Message: errorMessage(resp.body)}
}

// roundTrip sends one request and reads the whole response body, capped at
// maxResponseBody.
func roundTrip(ctx context.Context, s Session, x exchange) (*response, error) {
	req, err := newRequest(ctx, s, x)
	if err != nil {
		return nil, err
	}
	resp, err := s.HTTP.Do(req)
	var urlErr *url.Error
	if s.Via != "" && errors.As(err, &urlErr) {
		return nil, fmt.Errorf("pledge: %s %s %s: %w", x.method, x.path, s.Via, urlErr.Err)
	}
	if err != nil {
		return nil, fmt.Errorf("pledge: %s %s: %w", x.method, x.path, err)
	}
	return readResponse(x, resp)
}

// newRequest builds the HTTP request of x.
func newRequest(ctx context.Context, s Session, x exchange) (*http.Request, error) {
	var body io.Reader
	if x.body != nil {
		body = bytes.NewReader(x.body)
	}
	req, err := http.NewRequestWithContext(ctx, x.method, s.url(x.path), body)
	if err != nil {
		return nil, fmt.Errorf("pledge: build request for %s: %w", x.path, err)
	}
	if x.contentType != "" {
		req.Header.Set("Content-Type", x.contentType)
	}
	if x.accept != "" {
		req.Header.Set("Accept", x.accept)
	}
	return req, nil
}

// readResponse reads the whole body of resp, the response to x, capped at
// maxResponseBody, and closes it.
func readResponse(x exchange, resp *http.Response) (*response, error) {
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return nil, fmt.Errorf("pledge: read response of %s: %w", x.path, err)
	}
	if len(data) > maxResponseBody {
		return nil, fmt.Errorf("pledge: response of %s is larger than %d bytes",
			x.path, maxResponseBody)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return &response{status: resp.StatusCode, contentType: mt, header: resp.Header,
		body: data}, nil
}

// errorMessage returns the start of a registrar error body as printable
// text for StatusError.
func errorMessage(body []byte) string {
	if len(body) > maxErrorMessage {
		body = body[:maxErrorMessage]
	}
	s := strings.ToValidUTF8(string(body), "?")
	return strings.TrimSpace(s)
}

// retryAfter returns the wait that a 202 response requests, as
// delta-seconds or an HTTP-date (RFC 9110, Section 10.2.3), capped at
// maxRetryAfter.
func (p *Pledge) retryAfter(resp *response) time.Duration {
	v := strings.TrimSpace(resp.header.Get("Retry-After"))
	wait := defaultRetryAfter
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		wait = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		wait = max(t.Sub(p.now()), 0)
	}
	return min(wait, maxRetryAfter)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// expectMedia checks that resp carries the media type want.
func expectMedia(path string, resp *response, want string) error {
	if resp.contentType != want {
		return fmt.Errorf("pledge: %s: response Content-Type is %q, expected %q",
			path, resp.contentType, want)
	}
	return nil
}
