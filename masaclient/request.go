package masaclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/voucher"
)

// Paths of the MASA operations (RFC 8995, Sections 5.5 and 5.8).
const (
	PathRequestVoucher  = "/.well-known/brski/requestvoucher"
	PathRequestAuditLog = "/.well-known/brski/requestauditlog"
)

// maxMessageBytes caps the error message kept from a MASA's body.
const maxMessageBytes = 512

// RequestVoucher posts a registrar voucher request (a CMS signed
// application/voucher-cms+json object) to the MASA at masaURL and returns the
// voucher CMS (RFC 8995, Section 5.5). It retries 5xx responses and returns a
// *StatusError for an error response.
func (c *Client) RequestVoucher(ctx context.Context, masaURL string,
	registrarRequestCMS []byte) ([]byte, error) {
	resp, body, err := c.post(ctx, masaURL, PathRequestVoucher, voucher.MediaType,
		registrarRequestCMS)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: unexpected status %d for a voucher request",
			ErrBadResponse, resp.Request.URL, resp.StatusCode)
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != voucher.MediaType {
		return nil, fmt.Errorf("%w: %s: voucher has Content-Type %q, want %s",
			ErrBadResponse, resp.Request.URL, resp.Header.Get("Content-Type"),
			voucher.MediaType)
	}
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: %s: empty voucher", ErrBadResponse, resp.Request.URL)
	}
	return body, nil
}

// RequestAuditLog posts the registrar voucher request to the MASA's audit
// log operation and returns the parsed log (RFC 8995, Section 5.8). When the
// MASA responds with 201 and a Location, the client fetches the log from there.
func (c *Client) RequestAuditLog(ctx context.Context, masaURL string,
	registrarRequestCMS []byte) (*masa.AuditLog, error) {
	resp, body, err := c.post(ctx, masaURL, PathRequestAuditLog, "application/json",
		registrarRequestCMS)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusCreated:
		loc, err := resp.Location()
		if err != nil {
			return nil, fmt.Errorf("masaclient: %s: 201 without a valid Location: %w",
				resp.Request.URL, err)
		}
		if resp, body, err = c.do(ctx, http.MethodGet, loc.String(), "application/json",
			"", nil); err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%w: %s: unexpected status %d for an audit log",
				ErrBadResponse, loc, resp.StatusCode)
		}
	default:
		return nil, fmt.Errorf("%w: %s: unexpected status %d for an audit log",
			ErrBadResponse, resp.Request.URL, resp.StatusCode)
	}
	log, err := masa.ParseAuditLog(body)
	if err != nil {
		return nil, fmt.Errorf("masaclient: %s: %w", resp.Request.URL, err)
	}
	return log, nil
}

func (c *Client) post(ctx context.Context, masaURL, path, accept string,
	body []byte) (*http.Response, []byte, error) {
	u, err := url.Parse(masaURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, nil, fmt.Errorf("masaclient: invalid MASA URL %q; want https://host[:port]",
			masaURL)
	}
	target := strings.TrimRight(masaURL, "/") + path
	return c.do(ctx, http.MethodPost, target, accept, voucher.MediaType, body)
}

// do sends one request with retries. It returns the response with its body
// read, or an error: a *StatusError for a 4xx or for a 5xx that outlasted
// the retries.
func (c *Client) do(ctx context.Context, method, target, accept, contentType string,
	body []byte) (*http.Response, []byte, error) {
	var lastErr error
	for attempt := 1; ; attempt++ {
		resp, respBody, err := c.attempt(ctx, method, target, accept, contentType, body)
		var delay time.Duration
		switch {
		case err == nil && resp.StatusCode < 400:
			return resp, respBody, nil
		case err == nil:
			statusErr := newStatusError(target, resp, respBody)
			if resp.StatusCode < 500 {
				return nil, nil, statusErr
			}
			lastErr, delay = statusErr, statusErr.RetryAfter
		case ctx.Err() != nil || !retryable(err):
			return nil, nil, err
		default:
			lastErr = err
		}
		if attempt >= c.cfg.MaxAttempts {
			return nil, nil, lastErr
		}
		delay = min(max(delay, c.cfg.Backoff<<(attempt-1)), c.cfg.MaxBackoff)
		if fn, ok := ctx.Value(retryObserverKey{}).(func(Retry)); ok {
			fn(Retry{URL: target, Attempt: attempt, MaxAttempts: c.cfg.MaxAttempts,
				Delay: delay, Err: lastErr})
		}
		if err := sleep(ctx, delay); err != nil {
			return nil, nil, fmt.Errorf("masaclient: %s: gave up waiting to retry: %w (last: %w)",
				target, err, lastErr)
		}
	}
}

func (c *Client) attempt(ctx context.Context, method, target, accept, contentType string,
	body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("masaclient: %w", err)
	}
	req.Header.Set("Accept", accept)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("masaclient: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("masaclient: %s: read response: %w", target, err)
	}
	if int64(len(data)) > c.cfg.MaxResponseBytes {
		return nil, nil, fmt.Errorf("%w: %s: response is larger than %d bytes",
			ErrBadResponse, target, c.cfg.MaxResponseBytes)
	}
	return resp, data, nil
}

// retryable reports whether a transport error may pass on a retry. A
// certificate that failed verification will fail again.
func retryable(err error) bool {
	var certErr *tls.CertificateVerificationError
	return !errors.As(err, &certErr)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func newStatusError(target string, resp *http.Response, body []byte) *StatusError {
	return &StatusError{URL: target, Code: resp.StatusCode, Message: cleanMessage(body),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
}

// cleanMessage keeps the start of a body as one line of printable text.
func cleanMessage(body []byte) string {
	if len(body) > maxMessageBytes {
		body = body[:maxMessageBytes]
	}
	s := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(string(body), ""))
	return strings.TrimSpace(s)
}

// parseRetryAfter decodes a Retry-After value in seconds or as an HTTP date
// (RFC 9110, Section 10.2.3). Invalid values and dates in the past are zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
