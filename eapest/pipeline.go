package eapest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ErrPipelineMethod reports a batch that has a request with a
// non-idempotent method before its last request.
var ErrPipelineMethod = errors.New("eapest: only the last pipelined request may be " +
	"non-idempotent")

// RoundTripBatch sends reqs through the tunnel back to back, as HTTP/1.1
// pipelining (RFC 9112, Section 9.3.2), and reads their responses in
// order. The requests usually travel in one EAP Response and their
// responses in one Request, which saves a RADIUS round trip per request.
// Every request but the last must have an idempotent method, because
// RFC 9112, Section 9.3.2 advises against pipelining after a
// non-idempotent one. A canceled request context aborts the tunnel, as in
// RoundTrip. On an error the tunnel may hold unread responses, so the
// caller should close it.
func (t *Tunnel) RoundTripBatch(reqs []*http.Request) ([]*http.Response, error) {
	if len(reqs) == 0 {
		return nil, errors.New("eapest: RoundTripBatch needs at least one request")
	}
	for _, req := range reqs[:len(reqs)-1] {
		if !idempotent(req.Method) {
			return nil, fmt.Errorf("%w: %s %s comes before %s %s", ErrPipelineMethod,
				req.Method, req.URL.Path, reqs[len(reqs)-1].Method,
				reqs[len(reqs)-1].URL.Path)
		}
	}
	return t.roundTrips(reqs)
}

// idempotent reports whether method is idempotent (RFC 9110, Section 9.2.2).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace,
		http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// roundTrips writes reqs with one flush, so that they leave in one EAP
// message, and reads one whole response for each.
func (t *Tunnel) roundTrips(reqs []*http.Request) ([]*http.Response, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errors.New("eapest: tunnel closed")
	}
	select {
	case <-t.pumpDone:
		return nil, fmt.Errorf("eapest: tunnel ended: %w", t.pumpErr)
	default:
	}
	for _, req := range reqs {
		stop := context.AfterFunc(req.Context(), t.abort)
		defer stop()
	}
	bw := bufio.NewWriterSize(t.method.t.tc, 4096)
	for _, req := range reqs {
		if err := req.Write(bw); err != nil {
			return nil, fmt.Errorf("eapest: write request %s: %w", req.URL.Path, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("eapest: write request %s: %w", reqs[0].URL.Path, err)
	}
	resps := make([]*http.Response, 0, len(reqs))
	for _, req := range reqs {
		resp, err := t.readResponse(req)
		if err != nil {
			return nil, err
		}
		resps = append(resps, resp)
	}
	return resps, nil
}

// readResponse reads the response to req with its whole body, capped at
// the tunnel's maximum body size.
func (t *Tunnel) readResponse(req *http.Request) (*http.Response, error) {
	resp, err := http.ReadResponse(t.br, req)
	if err != nil {
		return nil, fmt.Errorf("eapest: read response to %s: %w", req.URL.Path, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, t.maxBody+1))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("eapest: read response body of %s: %w", req.URL.Path, err)
	}
	if int64(len(body)) > t.maxBody {
		t.abort()
		return nil, fmt.Errorf("%w: %s sent more than %d bytes", ErrBodyTooLarge,
			req.URL.Path, t.maxBody)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}
