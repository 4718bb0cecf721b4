package eapest

import (
	"context"
	"errors"
	"fmt"

	"github.com/brski-eap/brski/eap"
)

// runPeer exchanges EAP packets over tr until Success, Failure or an error.
// After a dropped Request it sends the previous Response again, because
// over RADIUS only a Response brings the next Request. The TLS error of t,
// if any, is wrapped into the Failure.
func runPeer(ctx context.Context, tr Transport, conv *eap.PeerConversation,
	t *peerTunnel) error {
	var resp []byte
	for {
		req, err := tr.Exchange(ctx, resp)
		if err != nil {
			return fmt.Errorf("eapest: EAP exchange: %w", err)
		}
		out, status, err := conv.Handle(ctx, req)
		switch {
		case errors.Is(err, eap.ErrDiscard):
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
		resp = out
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
