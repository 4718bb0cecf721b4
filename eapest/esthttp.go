package eapest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// DefaultMaxBodyBytes caps request and response bodies in the tunnel. EST
// and voucher messages are a few kilobytes; a CA certificate bundle stays
// well below this.
const DefaultMaxBodyBytes = 256 << 10

// ErrBodyTooLarge is returned by the tunnel's ResponseWriter.Write when a
// handler writes more than the body cap.
var ErrBodyTooLarge = errors.New("eapest: response body too large")

// maxHeaderBytes caps the request line and headers of one request, as
// http.Server.MaxHeaderBytes does (its default is 1 MB; EST needs far less).
const maxHeaderBytes = 64 << 10

// errRequestTooLarge ends a tunnel whose peer sends more than a request may
// contain.
var errRequestTooLarge = errors.New("eapest: HTTP request exceeds the size limit")

// quotaReader returns errRequestTooLarge once n bytes have been read.
type quotaReader struct {
	r io.Reader
	n int64
}

func (q *quotaReader) Read(p []byte) (int, error) {
	if q.n <= 0 {
		return 0, errRequestTooLarge
	}
	if int64(len(p)) > q.n {
		p = p[:q.n]
	}
	n, err := q.r.Read(p)
	q.n -= int64(n)
	return n, err
}

// serveHTTP reads HTTP/1.1 requests from the tunnel and serves them one at
// a time until the peer's close_notify (io.EOF). Each request may use
// maxHeaderBytes plus maxBody bytes of input.
func serveHTTP(ctx context.Context, c *tls.Conn, h http.Handler, maxBody int64) error {
	state := c.ConnectionState()
	quota := &quotaReader{r: c}
	br := bufio.NewReaderSize(quota, 4096)
	// Buffering joins the status line, headers and body of a response into
	// few TLS records, which saves EAP fragments. One buffer serves every
	// response, since each is flushed before the next request is read.
	bw := bufio.NewWriterSize(c, 4096)
	for {
		quota.n = maxHeaderBytes + maxBody
		req, err := http.ReadRequest(br)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			writeError(c, http.StatusBadRequest)
			return fmt.Errorf("eapest: read HTTP request in the tunnel: %w", err)
		}
		req.TLS = &state
		req.RemoteAddr = c.RemoteAddr().String()
		req = req.WithContext(ctx)
		if err := serveOne(bw, req, h, maxBody); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// serveOne runs the handler and writes its response to bw, which it
// flushes. The body that the handler did not read is drained so that the
// next request starts at the right byte.
func serveOne(bw *bufio.Writer, req *http.Request, h http.Handler, maxBody int64) error {
	rw := &responseWriter{header: http.Header{}, max: maxBody}
	req.Body = http.MaxBytesReader(rw, req.Body, maxBody)
	if err := callHandler(h, rw, req); err != nil {
		writeError(bw, http.StatusInternalServerError)
		bw.Flush()
		return err
	}
	if _, err := io.Copy(io.Discard, req.Body); err != nil {
		return fmt.Errorf("eapest: drain body of %s %s: %w", req.Method, req.URL.Path, err)
	}
	resp := &http.Response{
		StatusCode: rw.statusCode(), ProtoMajor: 1, ProtoMinor: 1, Header: rw.header,
		Request: req, ContentLength: int64(rw.body.Len()), Body: io.NopCloser(&rw.body),
	}
	if err := resp.Write(bw); err != nil {
		return fmt.Errorf("eapest: write HTTP response in the tunnel: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("eapest: write HTTP response in the tunnel: %w", err)
	}
	return nil
}

// callHandler runs h and turns a panic into an error, as net/http does, so
// one broken request cannot take down the RADIUS server.
func callHandler(h http.Handler, rw http.ResponseWriter, req *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("eapest: handler panic on %s %s: %v", req.Method, req.URL.Path, v)
		}
	}()
	h.ServeHTTP(rw, req)
	return nil
}

func writeError(w io.Writer, code int) {
	resp := &http.Response{StatusCode: code, ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Connection": {"close"}}}
	resp.Write(w)
}

// responseWriter buffers a handler's response, which is written with a
// Content-Length once the handler returns.
type responseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
	max    int64
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 100 && code <= 999 {
		w.status = code
	}
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if int64(w.body.Len()+len(b)) > w.max {
		return 0, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, w.max)
	}
	return w.body.Write(b)
}

func (w *responseWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
