package eapserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/eapest"
	"github.com/brski-eap/brski/policies"
	"github.com/brski-eap/brski/radius"
)

// DefaultMaxRounds caps the EAP Requests of one conversation. EAP-TLS
// needs fewer than ten. An EAP-EST tunnel polls about once a second while
// the registrar waits for a MASA, so 400 rounds allow a wait of several
// minutes.
const DefaultMaxRounds = 400

// Config configures a Server. Zero optional fields take the defaults named
// on them.
type Config struct {
	// Registrar is the handler served inside EAP-EST tunnels, normally a
	// *registrar.Registrar. Required.
	Registrar http.Handler
	// RegistrarTLS is the registrar's server TLS configuration, as
	// registrar.(*Registrar).TLSConfig returns it. Its certificate is the
	// server certificate of both methods. Required.
	RegistrarTLS *tls.Config
	// PledgeCAs are the manufacturer CAs whose IDevIDs may open an EAP-EST
	// tunnel; the domain CAs are added for LDevID re-enrollment. A
	// certificate that chains to none of them gets a TLS alert. Empty
	// lets every client certificate in and leaves the check to the
	// registrar handler.
	PledgeCAs []*x509.Certificate
	// VerifyPledge, when set, checks the client chain of an EAP-EST
	// handshake in place of PledgeCAs: a certificate it rejects gets a TLS
	// alert. registrar.(*Registrar).VerifyPeerChain fits, and shares the
	// registrar's cache of verified chains with the handler.
	VerifyPledge func(certs []*x509.Certificate) error
	// DomainCAs are the trust anchors of LDevIDs for EAP-TLS. Required.
	DomainCAs []*x509.Certificate
	// Store holds the issued certificates and enrollment records that
	// EAP-TLS checks. Required; *store.Store implements it.
	Store Store
	// Policy maps an enrolled device to its reply attributes for EAP-TLS.
	// Required.
	Policy *policies.Policy
	// Dictionary resolves vendor attributes of policy replies by name.
	// Nil means the built-in dictionary of package radius.
	Dictionary *radius.VendorDictionary

	// ESTType is the EAP-EST method type. Default eapest.TypeEST (255).
	ESTType eap.MethodType
	// FullChain sends the whole RegistrarTLS certificate chain in EAP-TLS
	// and EAP-EST. By default both leave out the self-signed certificates
	// of DomainCAs, because RFC 8446, Section 4.4.2 and RFC 5246, Section
	// 7.4.2 let a server omit a trust anchor that the peer has. An EAP-TLS
	// supplicant verifies the server against the domain CA that came with
	// its LDevID. A pledge gets the domain CA as the voucher's
	// pinned-domain-cert (RFC 8995, Section 5.6.2). Without the root, the
	// server flight fits one fragment at Framed-MTU 1400 with the lab's
	// domain CA. Issuing CAs below an external root stay in the flight, so
	// that a pledge that pinned the root can build the chain.
	FullChain bool
	// ESTRealms lists NAI realms (RFC 7542) whose identities are offered
	// EAP-EST before EAP-TLS. A pledge whose Identity Response carries
	// such a realm, as "SN-1234@pledges.example", then needs no Nak, which
	// saves a round trip. A supplicant of such a realm that wants EAP-TLS
	// pays that round trip instead, with a Nak to EAP-EST. Realms match
	// without regard to case, as DNS names do. Empty (the default) offers
	// EAP-TLS first to every identity, so stock supplicants work unchanged.
	ESTRealms []string
	// TLSProfile selects the TLS rules of both methods. Default
	// eapest.ProfileDefault. Under eapest.ProfileLegacy, each Result names
	// the legacy features that its handshake used.
	TLSProfile eapest.TLSProfile
	// FragmentSize is the TLS data per EAP Request of both methods.
	// Default eapest.DefaultFragmentSize; Framed-MTU lowers it.
	FragmentSize int
	// RoundBudget caps the wait for the registrar handler per RADIUS
	// round trip. Default eapest.DefaultRoundBudget.
	RoundBudget time.Duration
	// MaxRounds caps the Requests of a conversation. Default
	// DefaultMaxRounds.
	MaxRounds int
	// Sessions is the State table. Nil means a table with the defaults
	// of radius.Sessions.
	Sessions *radius.Sessions

	// OnResult, when set, receives one summary per finished
	// conversation, for the log. It runs on the RADIUS worker and must
	// not block.
	OnResult func(Result)
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// Server is a radius.Handler that runs EAP-TLS and EAP-EST conversations.
// It is safe for concurrent use. Create it with New. A conversation that
// the NAS abandons keeps its TLS goroutine until its session expires and
// is swept: on the next request, or by SweepSessions on an idle server.
type Server struct {
	cfg      Config
	sessions *radius.Sessions
	tls      *eapest.TLSServer
	est      *eapest.ESTServer
	dict     *radius.VendorDictionary
	domain   *x509.CertPool
	verified verified
	vouchers voucherCache
	devices  boundedMap[string, enrolledDevice]
}

var _ radius.Handler = (*Server)(nil)

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if err := checkConfig(cfg); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, sessions: cfg.Sessions, dict: cfg.Dictionary,
		domain: certPool(cfg.DomainCAs)}
	if s.sessions == nil {
		s.sessions = &radius.Sessions{}
	}
	if s.sessions.OnExpire == nil {
		s.sessions.OnExpire = func(v any) {
			if c, ok := v.(*conversation); ok {
				c.close()
			}
		}
	}
	if s.dict == nil {
		d, err := radius.NewVendorDictionary()
		if err != nil {
			return nil, fmt.Errorf("eapserver: %w", err)
		}
		s.dict = d
	}
	if s.cfg.MaxRounds <= 0 {
		s.cfg.MaxRounds = DefaultMaxRounds
	}
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	var err error
	s.tls, err = eapest.NewTLSServer(eapest.TLSServerConfig{TLS: s.ldevidTLSConfig(),
		FragmentSize: cfg.FragmentSize, Profile: cfg.TLSProfile})
	if err != nil {
		return nil, fmt.Errorf("eapserver: EAP-TLS: %w", err)
	}
	s.est, err = eapest.NewESTServer(eapest.ESTServerConfig{Type: cfg.ESTType,
		TLS: s.pledgeTLSConfig(), Handler: cfg.Registrar, FragmentSize: cfg.FragmentSize,
		RoundBudget: cfg.RoundBudget, Profile: cfg.TLSProfile})
	if err != nil {
		return nil, fmt.Errorf("eapserver: EAP-EST: %w", err)
	}
	return s, nil
}

func checkConfig(cfg Config) error {
	var missing []string
	if cfg.Registrar == nil {
		missing = append(missing, "Registrar")
	}
	if cfg.RegistrarTLS == nil {
		missing = append(missing, "RegistrarTLS")
	}
	if len(cfg.DomainCAs) == 0 {
		missing = append(missing, "DomainCAs")
	}
	if cfg.Store == nil {
		missing = append(missing, "Store")
	}
	if cfg.Policy == nil {
		missing = append(missing, "Policy")
	}
	if len(missing) > 0 {
		return fmt.Errorf("eapserver: Config needs %v; set them from the registrar setup",
			missing)
	}
	return nil
}

// DefaultSweepInterval is the interval of SweepSessions when it is given
// none.
const DefaultSweepInterval = 10 * time.Second

// SweepSessions removes expired conversations every interval until ctx
// ends, so that a server without traffic releases the TLS goroutines of
// conversations that the NAS abandoned. When ctx ends it closes every
// conversation that remains and returns their number, for the log. Run
// it on its own goroutine and end ctx after the RADIUS server has shut
// down. An interval of zero or less means DefaultSweepInterval.
func (s *Server) SweepSessions(ctx context.Context, interval time.Duration) int {
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return s.sessions.Clear()
		case <-ticker.C:
			s.sessions.Sweep()
		}
	}
}

// Sessions returns the State table, for its statistics.
func (s *Server) Sessions() *radius.Sessions { return s.sessions }

// TLSProfile returns the TLS profile of both methods.
func (s *Server) TLSProfile() eapest.TLSProfile { return s.cfg.TLSProfile }

// ESTType returns the EAP-EST method type in use.
func (s *Server) ESTType() eap.MethodType { return s.est.Type() }

// methods is the eap.MethodSelector: EAP-TLS first, then EAP-EST, unless
// the identity's realm is one of Config.ESTRealms.
func (s *Server) methods(_ context.Context, identity string) ([]eap.Method, error) {
	if s.estFirst(identity) {
		return []eap.Method{s.est.NewMethod(), s.tls.NewMethod()}, nil
	}
	return []eap.Method{s.tls.NewMethod(), s.est.NewMethod()}, nil
}

// estFirst reports whether identity is an NAI whose realm, the part after
// the last "@" (RFC 7542), is one of Config.ESTRealms.
func (s *Server) estFirst(identity string) bool {
	at := strings.LastIndexByte(identity, '@')
	if at < 0 {
		return false
	}
	realm := identity[at+1:]
	return slices.ContainsFunc(s.cfg.ESTRealms, func(r string) bool {
		return r != "" && strings.EqualFold(r, realm)
	})
}

func certPool(certs []*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}

// ErrNotEnrolled reports an EAP-TLS client whose certificate the domain CA
// issued but the store does not know, or whose certificate is revoked.
var ErrNotEnrolled = errors.New("eapserver: LDevID not enrolled")
