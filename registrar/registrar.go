// Package registrar is the BRSKI registrar (RFC 8995) and EST server
// (RFC 7030) of a domain, served as one http.Handler over HTTPS and inside
// EAP-EST tunnels. It verifies pledge voucher requests and requests a
// voucher from the MASA. It applies the acceptance policy and records each
// decision in the store before it replies. It issues LDevIDs from the
// domain CA to pledges whose voucher exchange succeeded in the same
// session.
package registrar

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/brski-eap/brski/internal/chaincache"
)

// Routes that the registrar serves.
const (
	PathRequestVoucher        = "/.well-known/brski/requestvoucher"
	PathRequestBootstrapToken = "/requestbootstraptoken"
	PathVoucherStatus         = "/.well-known/brski/voucher_status"
	PathEnrollStatus          = "/.well-known/brski/enrollstatus"
	PathCACerts               = "/.well-known/est/cacerts"
	PathCSRAttrs              = "/.well-known/est/csrattrs"
	PathSimpleEnroll          = "/.well-known/est/simpleenroll"
	PathSimpleReenroll        = "/.well-known/est/simplereenroll"
)

// Defaults of Options.
const (
	DefaultVoucherWait    = 2 * time.Second
	DefaultRetryAfter     = 5 * time.Second
	DefaultLDevIDValidity = 365 * 24 * time.Hour
	DefaultPendingTTL     = 10 * time.Minute
	DefaultReadTimeout    = 30 * time.Second
	// DefaultWriteMargin is what the default WriteTimeout adds to
	// ReadTimeout and VoucherWait.
	DefaultWriteMargin = 30 * time.Second
)

// Limits of the registrar's cache of verified chains, which checks the
// signatures of a chain once and not in each of the TLS client check, the
// voucher request check and the voucher check of one bootstrap.
const (
	// chainCacheSize bounds the cached chains. One bootstrap adds the
	// IDevID chain, and the MASA's signing chain is shared by all
	// bootstraps of a manufacturer.
	chainCacheSize = 1024
	// chainCacheTTL bounds how long a chain stays cached after it
	// verified. It is longer than a normal EAP-EST conversation, so that
	// each chain of a bootstrap is verified once.
	chainCacheTTL = 5 * time.Minute
)

// Registrar serves the BRSKI and EST routes. Create it with New.
type Registrar struct {
	opts          Options
	ca            *DomainCA
	cert          *RegistrarCert
	manufacturers []Manufacturer
	domainPool    *x509.CertPool
	chains        *chaincache.Cache
	masaCerts     certMemo
	mux           *http.ServeMux
	pending       *pendingTable
	reports       reportLimiter
}

// New checks opts and returns a registrar.
func New(opts Options) (*Registrar, error) {
	if opts.DomainCA == nil || opts.Cert == nil {
		return nil, errors.New("registrar: Options.DomainCA and Options.Cert are required")
	}
	if opts.Store == nil || opts.Policy == nil {
		return nil, errors.New("registrar: Options.Store and Options.Policy are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.VoucherWait <= 0 {
		opts.VoucherWait = DefaultVoucherWait
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = DefaultRetryAfter
	}
	if opts.LDevIDValidity <= 0 {
		opts.LDevIDValidity = DefaultLDevIDValidity
	}
	if opts.PendingTTL <= 0 {
		opts.PendingTTL = DefaultPendingTTL
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = DefaultReadTimeout
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = opts.ReadTimeout + opts.VoucherWait + DefaultWriteMargin
	}
	if opts.WriteTimeout <= opts.ReadTimeout+opts.VoucherWait {
		return nil, fmt.Errorf("registrar: write timeout %v must exceed the read timeout "+
			"%v plus the voucher wait %v", opts.WriteTimeout, opts.ReadTimeout,
			opts.VoucherWait)
	}
	r := &Registrar{opts: opts, ca: opts.DomainCA, cert: opts.Cert, domainPool: x509.NewCertPool(),
		chains: chaincache.New(chainCacheSize, chainCacheTTL)}
	r.domainPool.AddCert(opts.DomainCA.Cert)
	for _, m := range opts.Manufacturers {
		m, err := m.prepare()
		if err != nil {
			return nil, err
		}
		r.manufacturers = append(r.manufacturers, m)
	}
	r.pending = newPendingTable(opts.PendingTTL, opts.Now)
	r.routes()
	return r, nil
}

func (r *Registrar) routes() {
	r.mux = http.NewServeMux()
	handle := func(pattern string, h handlerFunc) {
		r.mux.Handle(pattern, r.wrap(h))
	}
	routes := []struct {
		method, path string
		h            handlerFunc
	}{
		{http.MethodPost, PathRequestVoucher, r.requestVoucher},
		{http.MethodPost, PathRequestBootstrapToken, r.requestVoucher},
		{http.MethodPost, PathVoucherStatus, r.voucherStatus},
		{http.MethodPost, PathEnrollStatus, r.enrollStatus},
		{http.MethodGet, PathCACerts, r.caCerts},
		{http.MethodGet, PathCSRAttrs, r.csrAttrs},
		{http.MethodPost, PathSimpleEnroll, r.simpleEnroll},
		{http.MethodPost, PathSimpleReenroll, r.simpleReenroll},
	}
	for _, rt := range routes {
		handle(rt.method+" "+rt.path, rt.h)
		handle(rt.path, methodNotAllowed(rt.method))
	}
	// Unknown routes go through wrap too, so that OnRequest sees scans.
	handle("/", func(http.ResponseWriter, *http.Request, *RequestLog) error {
		return peerError(http.StatusNotFound, "unknown route; the registrar serves "+
			"/.well-known/brski/ and /.well-known/est/ routes of RFC 8995 and RFC 7030")
	})
}

// methodNotAllowed answers 405 with the one allowed method.
func methodNotAllowed(allowed string) handlerFunc {
	return func(w http.ResponseWriter, req *http.Request, _ *RequestLog) error {
		w.Header().Set("Allow", allowed)
		return peerError(http.StatusMethodNotAllowed, "method %s is not allowed; use %s",
			req.Method, allowed)
	}
}

func (r *Registrar) now() time.Time { return r.opts.Now() }

// ServerTimeouts returns Options.ReadTimeout and WriteTimeout with their
// defaults, for the http.Server that serves the registrar over HTTPS.
func (r *Registrar) ServerTimeouts() (read, write time.Duration) {
	return r.opts.ReadTimeout, r.opts.WriteTimeout
}

// ServeHTTP serves one request.
func (r *Registrar) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mux.ServeHTTP(w, req)
}

// handlerFunc serves one route. It fills in the log summary and returns an
// error for any failure, which wrap turns into a response.
type handlerFunc func(w http.ResponseWriter, req *http.Request, rl *RequestLog) error

// wrap limits the body, sends the error response of a failed handler, and
// reports the summary to Options.OnRequest.
func (r *Registrar) wrap(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := r.now()
		req.Body = http.MaxBytesReader(w, req.Body, maxBody)
		sw := &statusWriter{ResponseWriter: w}
		rl := &RequestLog{Route: req.URL.Path, Remote: req.RemoteAddr}
		p := r.peer(req)
		rl.PeerKind, rl.PeerSerial = p.Kind, p.Serial
		err := r.safeCall(h, sw, req, rl)
		if err != nil {
			he := writeError(sw, err)
			rl.Err, rl.Reason = he.Cause, he.Message
		}
		rl.Status = sw.status
		if rl.Status == 0 {
			rl.Status = http.StatusOK
		}
		rl.Duration = r.now().Sub(start)
		if r.opts.OnRequest != nil {
			r.opts.OnRequest(*rl)
		}
	})
}

// safeCall runs h and turns a panic into an internal error, so a bug in one
// request does not end the server or show its text to the peer.
func (r *Registrar) safeCall(h handlerFunc, w http.ResponseWriter, req *http.Request,
	rl *RequestLog) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			err = internalError(fmt.Errorf("registrar: panic in %s: %v", req.URL.Path, v))
		}
	}()
	return h(w, req, rl)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
