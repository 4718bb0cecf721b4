package pledge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/eapest"
)

// tunnelBaseURL is the base URL of requests inside an EAP-EST tunnel,
// which carries them to the one registrar at its end whatever they name.
const tunnelBaseURL = "https://registrar"

// EAPConfig configures the EAP side of BootstrapEAP and AuthenticateTLS.
type EAPConfig struct {
	// Identity is the EAP Response/Identity. Default: the serial number
	// of the certificate's subject, or "pledge" when it has none.
	Identity string
	// Type is the EAP-EST method type. Default eapest.TypeEST.
	Type eap.MethodType
	// FragmentSize is the TLS data per EAP Response. Default
	// eapest.DefaultFragmentSize.
	FragmentSize int
	// TLSVersion, when not zero, is the only TLS version that the peer
	// offers, such as tls.VersionTLS12 for a supplicant without TLS 1.3.
	// Zero offers TLS 1.2 and TLS 1.3, or only TLS 1.2 for an RSA key that
	// tls.Certificate.SupportedSignatureAlgorithms limits to PKCS #1 v1.5,
	// because TLS 1.3 accepts only RSA-PSS from an RSA key. TLS 1.3 with
	// such a key gets an error wrapping ErrTLSVersion.
	TLSVersion uint16
}

func (c EAPConfig) identity(cert tls.Certificate) string {
	if c.Identity != "" {
		return c.Identity
	}
	if len(cert.Certificate) > 0 {
		if leaf, err := x509.ParseCertificate(cert.Certificate[0]); err == nil {
			if s, err := devid.SerialNumber(leaf); err == nil && s != "" {
				return s
			}
		}
	}
	return "pledge"
}

// BootstrapEAP runs one bootstrapping attempt inside an EAP-EST tunnel
// over tr, such as a NAS. It opens the tunnel with the IDevID and accepts
// the registrar provisionally (RFC 8995, Section 5.1). Then it calls Run
// over the tunnel's HTTP client and closes the tunnel, which ends EAP.
// It returns the enrolled identity and the peer's EAP result with the MSK.
// A failure of Run still closes the tunnel, and the error is Run's.
func (p *Pledge) BootstrapEAP(ctx context.Context, tr eapest.Transport,
	cfg EAPConfig) (*Result, eap.PeerResult, error) {
	tc := eapest.ProvisionalTLSConfig(p.IDevID)
	if err := limitTLSVersion(tc, p.IDevID, cfg.TLSVersion); err != nil {
		return nil, eap.PeerResult{}, err
	}
	tun, err := eapest.Dial(ctx, tr, eapest.PeerConfig{
		Identity: cfg.identity(p.IDevID), Type: cfg.Type, TLS: tc,
		FragmentSize: cfg.FragmentSize,
	})
	if err != nil {
		return nil, eap.PeerResult{}, fmt.Errorf("pledge: open EAP-EST tunnel: %w", err)
	}
	sess, err := NewSession(tun.Client(), tunnelBaseURL, tun.ConnectionState())
	if err != nil {
		tun.Close(ctx)
		return nil, eap.PeerResult{}, err
	}
	sess.Pipeline = tun.RoundTripBatch
	sess.Via = "inside the EAP-EST tunnel"
	if name, ok := tr.(fmt.Stringer); ok {
		sess.Via += " via " + name.String()
	}
	res, runErr := p.Run(ctx, sess)
	pr, err := tun.Close(ctx)
	if runErr != nil && err != nil && !errors.Is(err, eapest.ErrEAPFailure) {
		// A request fails with a closed connection when the EAP
		// conversation ended first, and the conversation's error, such
		// as a RADIUS server that stopped replying, is the cause.
		return nil, pr, fmt.Errorf("%w; the EAP conversation ended: %w", runErr, err)
	}
	if runErr != nil {
		return nil, pr, runErr
	}
	if err != nil {
		return res, pr, fmt.Errorf("pledge: close EAP-EST tunnel: %w", err)
	}
	return res, pr, nil
}

// ErrEAPFailure reports an EAP conversation that ended with EAP-Failure.
var ErrEAPFailure = errors.New("pledge: authenticator sent EAP-Failure")

// AuthenticateTLS runs EAP-TLS (RFC 5216, RFC 9190) over tr with an
// enrolled LDevID, as a supplicant does after bootstrapping. The server
// certificate must chain to roots, the domain CAs; its name is not
// checked, as EAP-TLS supplicants by default do not. It returns the peer's
// result with the MSK, and an error wrapping ErrEAPFailure on a Failure.
func AuthenticateTLS(ctx context.Context, tr eapest.Transport, ldevid tls.Certificate,
	roots *x509.CertPool, cfg EAPConfig) (eap.PeerResult, error) {
	base := &tls.Config{
		// The LDevID is sent even when the server's CertificateRequest
		// lists other CAs, so that the server, not the supplicant, decides
		// and can name the reason of a reject.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &ldevid, nil
		},
		// The chain is verified below without a host name.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return VerifyServer(cs, roots)
		},
	}
	if err := limitTLSVersion(base, ldevid, cfg.TLSVersion); err != nil {
		return eap.PeerResult{}, err
	}
	peer, err := eapest.NewTLSPeer(ctx, eapest.TLSPeerConfig{TLS: base,
		FragmentSize: cfg.FragmentSize})
	if err != nil {
		return eap.PeerResult{}, fmt.Errorf("pledge: %w", err)
	}
	defer peer.Close()
	conv := eap.NewPeerConversation(eap.PeerConfig{Identity: cfg.identity(ldevid),
		Methods: []eap.PeerMethod{peer}})
	return runPeer(ctx, tr, conv)
}

// runPeer drives a peer conversation over tr until Success or Failure.
func runPeer(ctx context.Context, tr eapest.Transport,
	conv *eap.PeerConversation) (eap.PeerResult, error) {
	var resp []byte
	for {
		msg, err := tr.Exchange(ctx, resp)
		if err != nil {
			return conv.Result(), err
		}
		out, status, err := conv.Handle(ctx, msg)
		switch {
		case errors.Is(err, eap.ErrDiscard):
			return conv.Result(), fmt.Errorf("pledge: authenticator packet dropped: %w", err)
		case err != nil:
			return conv.Result(), fmt.Errorf("pledge: EAP: %w", err)
		case status == eap.StatusSuccess:
			return conv.Result(), nil
		case status == eap.StatusFailure:
			return conv.Result(), ErrEAPFailure
		}
		resp = out
	}
}

// VerifyServer checks the certificate chain of an EAP-TLS server against
// roots for server authentication, without a name check, as EAP-TLS
// supplicants do by default. Use it as a tls.Config.VerifyConnection
// together with InsecureSkipVerify, which only turns off crypto/tls's own
// check that needs a name.
func VerifyServer(cs tls.ConnectionState, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("pledge: server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots,
		Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return fmt.Errorf("pledge: server certificate not from the domain CA: %w", err)
	}
	return nil
}
