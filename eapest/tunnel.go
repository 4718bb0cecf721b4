package eapest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/brski-eap/brski/eap"
)

// ErrProtocol marks a peer that broke the EAP-TLS framing rules: data in
// place of an ACK, a Start flag from the peer, or the wrong version bits.
var ErrProtocol = errors.New("eapest: protocol violation")

// serverTunnel is the server half of TLS over EAP, shared by EAP-TLS and
// EAP-EST. One goroutine per conversation runs crypto/tls on a pipeConn,
// started when the ClientHello arrives. Each Process call feeds the
// reassembled peer message in and waits until TLS needs more input or
// stops, then returns what TLS wrote as the next Request.
type serverTunnel struct {
	typ          eap.MethodType
	config       *tls.Config
	profile      TLSProfile
	version      Flags // version bits of every Request
	checkVersion bool  // reject Responses with other version bits
	configSize   int   // configured fragment size
	budget       time.Duration
	// serve runs after a successful handshake, in the TLS goroutine.
	serve func(ctx context.Context, c *tls.Conn) error

	ctx    context.Context
	cancel context.CancelFunc
	size   int
	conn   *pipeConn
	tc     *tls.Conn
	done   chan struct{}
	// Written by the TLS goroutine before done is closed.
	err       error
	state     tls.ConnectionState
	handshake bool

	reasm   Reassembler
	frag    fragmenter
	randoms []byte      // client.random || server.random, for the TLS 1.2 Session-Id
	secrets *legacyKeys // the master secret under ProfileLegacy, else nil
	sentAny bool
}

// start returns the EAP-TLS Start fragment and prepares the tunnel.
func (t *serverTunnel) start(ctx context.Context, s eap.Session) []byte {
	t.ctx, t.cancel = context.WithCancel(context.WithoutCancel(ctx))
	t.size = fragmentSize(t.configSize, s.FramedMTU, t.typ.Type == eap.TypeExpanded)
	return Fragment{Flags: FlagStart | t.version}.Append(nil)
}

// process handles the type data of one Response.
func (t *serverTunnel) process(ctx context.Context, data []byte) (eap.Step, error) {
	f, err := ParseFragment(data)
	if err != nil {
		return eap.Step{}, err
	}
	if f.Flags&FlagStart != 0 {
		return eap.Step{}, fmt.Errorf("%w: S flag in a Response", ErrProtocol)
	}
	if t.checkVersion && f.Flags.Version() != t.version.Version() {
		return eap.Step{}, fmt.Errorf("%w: version %d, expected %d", ErrProtocol,
			f.Flags.Version(), t.version.Version())
	}
	if t.frag.pending() {
		if !f.IsACK() {
			return eap.Step{}, fmt.Errorf("%w: data in place of an ACK for a fragment",
				ErrProtocol)
		}
		return t.sendFragment(), nil
	}
	msg, complete, err := t.reasm.Add(f)
	if err != nil {
		return eap.Step{}, err
	}
	if !complete {
		return t.ack(), nil
	}
	return t.advance(ctx, msg)
}

// advance feeds one complete peer message to TLS and returns the next step.
func (t *serverTunnel) advance(ctx context.Context, msg []byte) (eap.Step, error) {
	if t.conn == nil {
		if len(msg) == 0 {
			return eap.Step{}, fmt.Errorf("%w: empty Response to the Start", ErrProtocol)
		}
		t.launch()
		if r := helloRandom(msg, 1); r != nil {
			t.randoms = r
		}
	}
	if t.isDone() {
		// After a TLS failure the alert is out, and whatever the peer sends
		// back ends in the same Failure.
		if len(msg) > 0 && t.err == nil {
			return t.finish(fmt.Errorf("%w: %d bytes after the TLS tunnel ended",
				ErrProtocol, len(msg)))
		}
		return t.finish(nil)
	}
	if err := t.conn.feed(msg); err != nil {
		return eap.Step{}, err
	}
	if t.conn.waitSettled(ctx, t.done, t.budget) == waitCanceled {
		return eap.Step{}, fmt.Errorf("eapest: waiting for TLS: %w", ctx.Err())
	}
	if out := t.conn.take(MaxMessageLen); len(out) > 0 {
		if !t.sentAny && len(t.randoms) == 32 {
			if r := helloRandom(out, 2); r != nil {
				t.randoms = append(t.randoms, r...)
			}
		}
		t.sentAny = true
		t.frag.load(out, t.size)
		return t.sendFragment(), nil
	}
	if t.isDone() {
		return t.finish(nil)
	}
	// The TLS side is still working, for example on a slow HTTP handler.
	// An empty Request completes the round, and the peer polls again.
	return t.ack(), nil
}

// launch creates the TLS server and its goroutine.
func (t *serverTunnel) launch() {
	t.conn = newPipeConn()
	t.tc = tls.Server(t.conn, t.legacyConfig())
	t.done = make(chan struct{})
	tunnelWorkers.run(func() {
		defer close(t.done)
		err := t.tc.HandshakeContext(t.ctx)
		if err == nil {
			t.state = t.tc.ConnectionState()
			t.handshake = true
			err = t.serve(t.ctx, t.tc)
		}
		t.err = err
	})
}

func (t *serverTunnel) isDone() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

func (t *serverTunnel) sendFragment() eap.Step {
	return eap.Step{Status: eap.StatusContinue, Data: t.frag.next(t.version).Append(nil)}
}

// ack returns an empty Request: an ACK of a peer fragment, or a poll.
func (t *serverTunnel) ack() eap.Step {
	return eap.Step{Status: eap.StatusContinue, Data: []byte{byte(t.version)}}
}

// finish ends the method once TLS has stopped and all its output was sent,
// so a TLS alert reaches the peer before the Failure.
func (t *serverTunnel) finish(cause error) (eap.Step, error) {
	out := eap.Outcome{Err: cause}
	if cause == nil {
		out.Err = t.err
	}
	if t.handshake {
		out.PeerCertificates = t.state.PeerCertificates
		out.Detail = t.state
	}
	if out.Err != nil {
		return eap.Step{Status: eap.StatusFailure, Outcome: out}, nil
	}
	keys, err := t.deriveTunnelKeys()
	if err != nil {
		out.Err = err
		return eap.Step{Status: eap.StatusFailure, Outcome: out}, nil
	}
	out.MSK, out.EMSK, out.SessionID = keys.MSK, keys.EMSK, keys.SessionID
	return eap.Step{Status: eap.StatusSuccess, Outcome: out}, nil
}

// close stops the TLS goroutine without waiting for it. A blocked Read
// returns at once, and an HTTP handler's request context is canceled.
func (t *serverTunnel) close() error {
	if t.cancel != nil {
		t.cancel()
	}
	if t.conn != nil {
		t.conn.Close()
	}
	t.reasm.Reset()
	return nil
}
