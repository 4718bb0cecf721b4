package pledge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// DefaultMaxAuthenticators is how many authenticators Discover tries on
// one interface when Discovery.MaxAuthenticators is zero.
const DefaultMaxAuthenticators = 4

// ErrNoRegistrar means that every discovery attempt failed before a
// registrar responded. The error that Discover returns joins it with the
// error of each attempt.
var ErrNoRegistrar = errors.New("pledge: no registrar reached by any discovery method")

// Discovery is the search order of a pledge for its registrar, after
// draft-pritikin-bootstrapping-keyinfrastructures-01, Sections 4.1 and
// 4.1.1: 802.1X on each interface, and each authenticator that responds
// there, before the search widens to registrars found by DNS-SD and last
// to configured registrars, each reached over HTTPS.
//
// NOTE: DNS-SD here is the unicast SRV lookup of
// _brski-registrar._tcp.<domain> (RFC 2782). PTR browsing of service
// instances and multicast DNS (RFC 6762, RFC 6763) are not built.
type Discovery struct {
	// Interfaces are the network interfaces to try 802.1X on, in order.
	Interfaces []string
	// EAPOL sets the supplicant timers. Discover adds each authenticator
	// that failed to a copy of its Skip list.
	EAPOL EAPOLConfig
	// EAP sets the identity and method of the EAP-EST conversation.
	EAP EAPConfig
	// MaxAuthenticators caps the authenticators tried per interface.
	// Default DefaultMaxAuthenticators.
	MaxAuthenticators int
	// DNSDomains are searched for _brski-registrar._tcp SRV records after
	// 802.1X, and each registrar found is tried over HTTPS in the order of
	// RFC 2782.
	DNSDomains []string
	// Resolver looks up the SRV records. Nil means net.DefaultResolver.
	Resolver *net.Resolver
	// RegistrarURLs are configured registrars, such as a global registrar
	// of the manufacturer, tried over HTTPS last.
	RegistrarURLs []string
	// Trace, when set, receives each attempt as it ends.
	Trace func(Attempt)

	// dial opens the EAPOL transport. Nil means DialEAPOL.
	dial func(ifName string, cfg EAPOLConfig) (eapolLink, error)
}

// eapolLink is the EAPOL transport as Discover uses it.
type eapolLink interface {
	Exchange(ctx context.Context, eapResponse []byte) ([]byte, error)
	Authenticator() net.HardwareAddr
	Close() error
}

// Attempt is one try of Discover: 802.1X through one authenticator on
// Interface, HTTPS to RegistrarURL, or a DNS-SD lookup in DNSDomain.
type Attempt struct {
	Interface     string
	Authenticator net.HardwareAddr // nil when none responded
	RegistrarURL  string
	DNSDomain     string // of a failed DNS-SD lookup
	Err           error
}

// String describes the attempt for logs.
func (a Attempt) String() string {
	if a.DNSDomain != "" {
		return "DNS-SD in " + a.DNSDomain
	}
	if a.RegistrarURL != "" {
		return "HTTPS to " + a.RegistrarURL
	}
	if a.Authenticator == nil {
		return "802.1X on " + a.Interface
	}
	return fmt.Sprintf("802.1X on %s through %v", a.Interface, a.Authenticator)
}

// Discover runs bootstrapping attempts in the order of d until one
// succeeds, and returns its result and the attempt. Each attempt sends a
// voucher request with a fresh nonce. When all fail, the error wraps the
// error of every attempt. It starts with the first response of a registrar
// that returned an error status, a *StatusError, or else with
// ErrNoRegistrar.
func (p *Pledge) Discover(ctx context.Context, d Discovery) (*Result, Attempt, error) {
	var errs []error
	record := func(a Attempt) {
		errs = append(errs, fmt.Errorf("%v: %w", a, a.Err))
		if d.Trace != nil {
			d.Trace(a)
		}
	}
	for _, ifName := range d.Interfaces {
		res, a, ok := p.discoverOn(ctx, d, ifName, record)
		if ok {
			return res, a, nil
		}
		if ctx.Err() != nil {
			return nil, Attempt{}, joinAttempts(append(errs, ctx.Err()))
		}
	}
	urls := slices.Concat(d.lookupRegistrars(ctx, record), d.RegistrarURLs)
	for _, url := range urls {
		// A refused connection moves on to the next registrar at once.
		res, err := p.bootstrap(ctx, url, false)
		a := Attempt{RegistrarURL: url, Err: err}
		if err == nil {
			return res, a, nil
		}
		record(a)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, Attempt{}, joinAttempts(errs)
}

// joinAttempts returns the error of a failed Discover from the errors of
// its attempts. An attempt whose registrar returned an error status comes
// first, because that registrar was reached and its message names the
// cause, such as a policy that rejects the device.
func joinAttempts(errs []error) error {
	for i, err := range errs {
		var se *StatusError
		if errors.As(err, &se) {
			rest := slices.Delete(slices.Clone(errs), i, i+1)
			return errors.Join(append([]error{err}, rest...)...)
		}
	}
	return errors.Join(append([]error{ErrNoRegistrar}, errs...)...)
}

// discoverOn tries each authenticator on one interface until an attempt
// succeeds, none responds or MaxAuthenticators were tried.
func (p *Pledge) discoverOn(ctx context.Context, d Discovery, ifName string,
	record func(Attempt)) (*Result, Attempt, bool) {
	limit := d.MaxAuthenticators
	if limit == 0 {
		limit = DefaultMaxAuthenticators
	}
	dial := d.dial
	if dial == nil {
		dial = func(name string, cfg EAPOLConfig) (eapolLink, error) {
			return DialEAPOL(name, cfg)
		}
	}
	cfg := d.EAPOL
	cfg.Skip = slices.Clone(cfg.Skip)
	for range limit {
		tr, err := dial(ifName, cfg)
		if err != nil {
			record(Attempt{Interface: ifName, Err: err})
			return nil, Attempt{}, false
		}
		res, _, err := p.BootstrapEAP(ctx, tr, d.EAP)
		a := Attempt{Interface: ifName, Authenticator: tr.Authenticator(), Err: err}
		tr.Close()
		if err == nil {
			return res, a, true
		}
		record(a)
		if a.Authenticator == nil || ctx.Err() != nil {
			return nil, Attempt{}, false
		}
		cfg.Skip = append(cfg.Skip, a.Authenticator)
	}
	return nil, Attempt{}, false
}

// registrarService is the service name of BRSKI registrars, RFC 8995,
// Appendix B.
const registrarService = "brski-registrar"

// lookupRegistrars returns the HTTPS URLs of the registrars that SRV
// records name in d.DNSDomains. A failed lookup is recorded as an attempt.
func (d Discovery) lookupRegistrars(ctx context.Context, record func(Attempt)) []string {
	r := d.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	var urls []string
	for _, domain := range d.DNSDomains {
		_, srvs, err := r.LookupSRV(ctx, registrarService, "tcp", domain)
		if err != nil {
			record(Attempt{DNSDomain: domain, Err: fmt.Errorf("pledge: DNS-SD: %w", err)})
			continue
		}
		for _, srv := range srvs {
			host := strings.TrimSuffix(srv.Target, ".")
			urls = append(urls, "https://"+net.JoinHostPort(host, strconv.Itoa(int(srv.Port))))
		}
	}
	return urls
}
