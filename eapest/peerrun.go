package eapest

import (
	"context"
	"errors"
	"fmt"

	"github.com/brski-eap/brski/eap"
)

// Receiver is implemented by a Transport that can wait for the next EAP
// packet without sending one, such as EAPOL, where the authenticator
// retransmits an unanswered Request (RFC 3748, Section 4.3).
type Receiver interface {
	Receive(ctx context.Context) (eapRequest []byte, err error)
}

// runPeer exchanges EAP packets over tr until Success, Failure or an error.
// After a Request that the peer drops (RFC 3748, Section 4.1) it waits for
// the next one when tr is a Receiver. Otherwise the drop ends the exchange
// with an error wrapping eap.ErrDiscard, because sending the previous
// Response again would be dropped by the server in turn. The TLS error of
// t, if any, is wrapped into a Failure.
func runPeer(ctx context.Context, tr Transport, conv *eap.PeerConversation,
	t *peerTunnel) error {
	req, err := tr.Exchange(ctx, nil)
	for {
		if err != nil {
			return fmt.Errorf("eapest: EAP exchange: %w", err)
		}
		// Assign to the outer err, so the check above tests the error of the
		// Exchange or Receive at the end of this iteration.
		var out []byte
		var status eap.Status
		out, status, err = conv.Handle(ctx, req)
		switch {
		case errors.Is(err, eap.ErrDiscard):
			rc, ok := tr.(Receiver)
			if !ok {
				return fmt.Errorf("eapest: the transport cannot wait for a retransmission: %w",
					err)
			}
			req, err = rc.Receive(ctx)
			continue
		case err != nil:
			return err
		case status == eap.StatusSuccess:
			return nil
		case status == eap.StatusFailure:
			if _, _, err := t.status(); err != nil {
				return fmt.Errorf("%w: %w", ErrEAPFailure, err)
			}
			return ErrEAPFailure
		}
		req, err = tr.Exchange(ctx, out)
	}
}

// Authenticate runs one EAP-TLS authentication over tr with identity and
// the LDevID in cfg, as an enrolled device does, and returns the peer's
// result with the MSK and EMSK.
func Authenticate(ctx context.Context, tr Transport, identity string,
	cfg TLSPeerConfig) (eap.PeerResult, error) {
	m, err := NewTLSPeer(ctx, cfg)
	if err != nil {
		return eap.PeerResult{}, err
	}
	defer m.Close()
	conv := eap.NewPeerConversation(eap.PeerConfig{
		Identity: identity, Methods: []eap.PeerMethod{m},
	})
	err = runPeer(ctx, tr, conv, &m.t)
	return conv.Result(), err
}
