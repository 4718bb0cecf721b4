// Package masaclient is the registrar's client for a MASA (RFC 8995,
// Sections 5.5 to 5.8): it posts registrar voucher requests for vouchers and
// audit logs over HTTPS, retries 5xx responses with backoff that honours
// Retry-After, and returns each 4xx response as a typed error.
package masaclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/brski-eap/brski/devid"
)

// Defaults of the Config fields.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxAttempts      = 3
	DefaultBackoff          = time.Second
	DefaultMaxBackoff       = 30 * time.Second
	DefaultMaxResponseBytes = 1 << 20
)

// Config configures a Client. Zero fields take the defaults above.
type Config struct {
	// RootCAs verifies the MASA's TLS server certificate. Nil means the
	// host's root CAs.
	RootCAs *x509.CertPool
	// Certificates are the TLS client certificates the client offers, such
	// as the registrar's certificate.
	Certificates []tls.Certificate
	// MASAURLs overrides the MASA URL of a manufacturer. A key is either
	// the factory CA key identifier in hex, which an IDevID carries as its
	// authority key identifier, or a manufacturer name, matched against the
	// IDevID issuer's organization and then its common name. Values are
	// MASA base URLs, with https:// added when the scheme is missing.
	MASAURLs map[string]string
	// Timeout bounds one HTTP attempt, default 30 s.
	Timeout time.Duration
	// MaxAttempts is the number of attempts per request including the
	// first, default 3. One means no retries.
	MaxAttempts int
	// Backoff is the delay before the first retry, default 1 s. It doubles
	// for every further retry.
	Backoff time.Duration
	// MaxBackoff caps every delay, including one that Retry-After
	// requests, default 30 s.
	MaxBackoff time.Duration
	// MaxResponseBytes caps the size of a response body, default 1 MiB.
	MaxResponseBytes int64
}

type retryObserverKey struct{}

// WithRetryObserver returns a context whose requests report each retried
// attempt to fn before they wait, so that a caller can log or show why a
// request is not done yet. fn must not block.
func WithRetryObserver(ctx context.Context, fn func(Retry)) context.Context {
	return context.WithValue(ctx, retryObserverKey{}, fn)
}

// Retry describes a failed attempt that the client retries after Delay.
type Retry struct {
	// URL is the request URL.
	URL string
	// Attempt is the number of the failed attempt, starting at 1, and
	// MaxAttempts the number of attempts allowed.
	Attempt, MaxAttempts int
	// Delay is the wait before the next attempt.
	Delay time.Duration
	// Err is the failure: a *StatusError for a 5xx response, which
	// carries the Retry-After delay, or a transport error.
	Err error
}

// Client talks to MASAs. It is safe for concurrent use.
type Client struct {
	cfg       Config
	overrides map[string]string // normalized keys to normalized URLs
	http      *http.Client
}

// New returns a client for cfg. It rejects negative values and invalid
// override URLs.
func New(cfg Config) (*Client, error) {
	if cfg.Timeout < 0 || cfg.MaxAttempts < 0 || cfg.Backoff < 0 || cfg.MaxBackoff < 0 ||
		cfg.MaxResponseBytes < 0 {
		return nil, errors.New("masaclient: negative timeout, attempts, backoff or size " +
			"limit in config; use zero for the default")
	}
	setDefault(&cfg.Timeout, DefaultTimeout)
	setDefault(&cfg.MaxAttempts, DefaultMaxAttempts)
	setDefault(&cfg.Backoff, DefaultBackoff)
	setDefault(&cfg.MaxBackoff, DefaultMaxBackoff)
	setDefault(&cfg.MaxResponseBytes, DefaultMaxResponseBytes)
	c := &Client{cfg: cfg, overrides: make(map[string]string, len(cfg.MASAURLs))}
	for key, raw := range cfg.MASAURLs {
		u, err := devid.NormalizeMASAURL(raw)
		if err != nil {
			return nil, fmt.Errorf("masaclient: MASA URL override for %q: %w", key, err)
		}
		c.overrides[normalizeKey(key)] = u
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs,
		Certificates: cfg.Certificates, MinVersion: tls.VersionTLS12}
	c.http = &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		// A redirected POST would resend the voucher request elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return c, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// normalizeKey lower-cases a key identifier and removes the colons and
// spaces of the usual hex spellings. Names compare without case.
func normalizeKey(key string) string {
	k := strings.ToLower(strings.TrimSpace(key))
	hexKey := strings.NewReplacer(":", "", " ", "").Replace(k)
	if _, err := hex.DecodeString(hexKey); err == nil && hexKey != "" {
		return hexKey
	}
	return k
}

// MASAURL returns the MASA base URL for a device: an override from
// Config.MASAURLs when one matches the IDevID's issuer, and otherwise the
// URL of the IDevID's MASA URL extension (RFC 8995, Section 2.3.2).
func (c *Client) MASAURL(idevid *x509.Certificate) (string, error) {
	if idevid == nil {
		return "", errors.New("masaclient: nil IDevID")
	}
	keys := []string{}
	if len(idevid.AuthorityKeyId) > 0 {
		keys = append(keys, hex.EncodeToString(idevid.AuthorityKeyId))
	}
	keys = append(keys, idevid.Issuer.Organization...)
	if idevid.Issuer.CommonName != "" {
		keys = append(keys, idevid.Issuer.CommonName)
	}
	for _, k := range keys {
		if u, ok := c.overrides[normalizeKey(k)]; ok {
			return u, nil
		}
	}
	u, err := devid.MASAURL(idevid)
	if err != nil {
		return "", fmt.Errorf("masaclient: no MASA URL override matches issuer %q: %w",
			idevid.Issuer.String(), err)
	}
	return u, nil
}
