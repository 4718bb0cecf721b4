package eapest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/brski-eap/brski/eap"
)

// TypeEST is the default EAP-EST method type: 255, Experimental
// (RFC 3748, Section 5.8), because no type code is registered.
var TypeEST = eap.MethodType{Type: eap.TypeExperimental}

// Version is the EAP-EST method version in the low bits of the flags octet.
const Version = 0

// DefaultRoundBudget is the longest an EAP-EST round waits for the tunnel's
// HTTP handler before it sends an empty Request. It keeps each
// RADIUS round trip under about 2 s, below common NAS timeouts.
const DefaultRoundBudget = 1500 * time.Millisecond

// ESTServerConfig configures the EAP-EST server method.
type ESTServerConfig struct {
	// Type is the method type. Default TypeEST. An expanded type (254)
	// needs a non-zero VendorID.
	Type eap.MethodType
	// TLS is the base configuration with the registrar certificate and the
	// IDevID check, see ServerTLSConfig. Required.
	TLS *tls.Config
	// Handler serves the HTTP/1.1 requests inside the tunnel: the BRSKI
	// and EST routes of RFC 8995 and RFC 7030. Required.
	Handler http.Handler
	// FragmentSize is the maximum TLS data per Request. Default
	// DefaultFragmentSize. The conversation's Framed-MTU lowers it.
	FragmentSize int
	// RoundBudget caps the wait for the handler per round. Default
	// DefaultRoundBudget.
	RoundBudget time.Duration
	// MaxBodyBytes caps each request and response body. Default
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Profile selects the TLS rules. Default ProfileDefault.
	Profile TLSProfile
}

// ESTServer creates EAP-EST server methods. Each method runs a TLS 1.3 (or
// 1.2, and under ProfileLegacy also 1.0 or 1.1) tunnel in which the pledge
// sends HTTP/1.1 requests to Handler. The pledge ends with close_notify,
// after which the method succeeds with keys derived as for EAP-TLS with
// the method's type code.
//
// When Handler takes longer than RoundBudget, the method completes the
// round with an empty Request, and the peer polls again with an empty Response,
// so the NAS never times out. Every such poll is a round of the
// eap.Conversation, so EAP-EST conversations need an eap.Config.MaxRounds
// that covers the longest expected wait divided by the round time.
type ESTServer struct {
	typ     eap.MethodType
	tls     *tls.Config
	profile TLSProfile
	handler http.Handler
	size    int
	budget  time.Duration
	maxBody int64
}

// NewESTServer checks cfg and returns a method factory.
func NewESTServer(cfg ESTServerConfig) (*ESTServer, error) {
	if cfg.Handler == nil {
		return nil, errors.New("eapest: ESTServerConfig.Handler is nil; set the registrar handler")
	}
	typ, err := checkESTType(cfg.Type)
	if err != nil {
		return nil, err
	}
	c, err := cfg.Profile.ServerTLSConfig(cfg.TLS)
	if err != nil {
		return nil, err
	}
	s := &ESTServer{typ: typ, tls: c, profile: cfg.Profile, handler: cfg.Handler,
		size: cfg.FragmentSize, budget: cfg.RoundBudget, maxBody: cfg.MaxBodyBytes}
	if s.budget <= 0 {
		s.budget = DefaultRoundBudget
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	return s, nil
}

func checkESTType(t eap.MethodType) (eap.MethodType, error) {
	switch {
	case t == eap.MethodType{}:
		return TypeEST, nil
	case t.Type == eap.TypeExpanded && (t.VendorID == 0 || t.VendorID > eap.MaxVendorID):
		return t, fmt.Errorf("eapest: expanded type needs a 24-bit non-zero vendor ID, got %d",
			t.VendorID)
	case t.Type == eap.TypeExpanded:
		return t, nil
	case t.Type <= eap.TypeMD5Challenge || t.Type == eap.TypeTLS:
		return t, fmt.Errorf("eapest: method type %v is reserved for another method", t)
	}
	return eap.MethodType{Type: t.Type}, nil
}

// Type returns the configured method type.
func (s *ESTServer) Type() eap.MethodType { return s.typ }

// NewMethod returns the method for one conversation.
func (s *ESTServer) NewMethod() eap.Method {
	m := &estServerMethod{srv: s}
	m.t = serverTunnel{
		typ: s.typ, config: s.tls, profile: s.profile, version: Version, checkVersion: true,
		configSize: s.size, budget: s.budget, serve: m.serve,
	}
	return m
}

type estServerMethod struct {
	srv  *ESTServer
	t    serverTunnel
	info TunnelInfo
}

func (m *estServerMethod) Type() eap.MethodType { return m.srv.typ }

func (m *estServerMethod) Start(ctx context.Context, s eap.Session) ([]byte, error) {
	m.info = TunnelInfo{
		Identity: s.Identity, Type: m.srv.typ, FramedMTU: s.FramedMTU, Facts: s.Facts,
	}
	return m.t.start(ctx, s), nil
}

func (m *estServerMethod) Process(ctx context.Context, data []byte) (eap.Step, error) {
	return m.t.process(ctx, data)
}

func (m *estServerMethod) Close() error { return m.t.close() }

// serve sends the TLS 1.3 protected success indication, as EAP-TLS does
// (RFC 9190, Section 2.1.1), so the peer learns that its IDevID was
// accepted before it sends a request, and then serves HTTP.
func (m *estServerMethod) serve(ctx context.Context, c *tls.Conn) error {
	if err := serveTLSResult(ctx, c); err != nil {
		return err
	}
	ctx = WithTunnelInfo(ctx, &m.info)
	return serveHTTP(ctx, c, m.srv.handler, m.srv.maxBody)
}

// TunnelInfo describes the EAP conversation of an EAP-EST tunnel. The
// registrar handler finds it in the request context.
type TunnelInfo struct {
	// Identity is the peer's EAP Response/Identity.
	Identity string
	// Type is the EAP-EST method type in use.
	Type eap.MethodType
	// FramedMTU is the RADIUS Framed-MTU, or 0.
	FramedMTU int
	// Facts is the RADIUS layer's value from eap.Config.Facts, such as the
	// NAS and Calling-Station-Id facts. A pointer lets the handler record
	// its decision for the Access-Accept.
	Facts any
}

type tunnelInfoKey struct{}

// WithTunnelInfo returns ctx carrying info.
func WithTunnelInfo(ctx context.Context, info *TunnelInfo) context.Context {
	return context.WithValue(ctx, tunnelInfoKey{}, info)
}

// TunnelInfoFromContext returns the TunnelInfo of a request served inside
// an EAP-EST tunnel, and false for requests that arrived otherwise, such as
// over HTTPS.
func TunnelInfoFromContext(ctx context.Context) (*TunnelInfo, bool) {
	info, ok := ctx.Value(tunnelInfoKey{}).(*TunnelInfo)
	return info, ok
}
