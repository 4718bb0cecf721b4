package eapest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/brski-eap/brski/eap"
)

// DefaultPeerHold is how long a peer holds its Response when it has nothing
// to send, waiting for the local TLS user to write. It paces the polling
// rounds of an idle EAP-EST tunnel to about one per second.
const DefaultPeerHold = time.Second

// peerTunnel is the peer half of TLS over EAP. The EAP-TLS Start creates a
// tls.Client on a pipeConn and runs run in a goroutine, which performs the
// handshake. Each Request feeds the server's message in and waits until the
// local TLS side reads with no input left, kicks, fills its buffer, closes
// or the hold time passes.
type peerTunnel struct {
	typ          eap.MethodType
	config       *tls.Config
	version      Flags
	checkVersion bool
	size         int
	hold         time.Duration
	// run performs the handshake and what follows, in the TLS goroutine.
	run func(ctx context.Context, c *tls.Conn) error
	// hasUser marks a tunnel whose TLS connection is used after run
	// returns, as by the EAP-EST Tunnel.
	hasUser bool

	mu        sync.Mutex // guards the fields below written by the goroutine
	ctx       context.Context
	cancel    context.CancelFunc
	conn      *pipeConn
	tc        *tls.Conn
	done      chan struct{}
	err       error
	state     tls.ConnectionState
	handshake bool

	reasm   Reassembler
	frag    fragmenter
	randoms []byte
	sentAny bool
}

// init prepares the tunnel. The TLS goroutine runs under ctx without its
// cancellation, until close.
func (t *peerTunnel) init(ctx context.Context) {
	t.ctx, t.cancel = context.WithCancel(context.WithoutCancel(ctx))
	t.done = make(chan struct{})
	if t.hold <= 0 {
		t.hold = DefaultPeerHold
	}
	if t.size <= 0 {
		t.size = DefaultFragmentSize
	}
}

// process handles the type data of one Request and returns the Response.
func (t *peerTunnel) process(ctx context.Context, data []byte) ([]byte, error) {
	f, err := ParseFragment(data)
	if err != nil {
		return nil, err
	}
	if t.checkVersion && f.Flags.Version() != t.version.Version() {
		return nil, fmt.Errorf("%w: version %d, expected %d", ErrProtocol,
			f.Flags.Version(), t.version.Version())
	}
	if f.Flags&FlagStart != 0 {
		if t.conn != nil {
			return nil, fmt.Errorf("%w: second Start in one conversation", ErrProtocol)
		}
		t.launch()
		return t.exchange(ctx, nil)
	}
	if t.conn == nil {
		return nil, fmt.Errorf("%w: Request before the Start", ErrProtocol)
	}
	if t.frag.pending() {
		if !f.IsACK() {
			return nil, fmt.Errorf("%w: data in place of an ACK for a fragment", ErrProtocol)
		}
		return t.frag.next(t.version).Append(nil), nil
	}
	msg, complete, err := t.reasm.Add(f)
	if err != nil {
		return nil, err
	}
	if !complete {
		return t.ack(), nil
	}
	if len(t.randoms) == 32 {
		if r := helloRandom(msg, 2); r != nil {
			t.randoms = append(t.randoms, r...)
		}
	}
	return t.exchange(ctx, msg)
}

// exchange feeds msg to TLS, waits for its reaction and returns the first
// fragment of its output, or an ACK when it wrote nothing.
func (t *peerTunnel) exchange(ctx context.Context, msg []byte) ([]byte, error) {
	if err := t.conn.feed(msg); err != nil {
		return nil, err
	}
	// While the TLS goroutine runs, its next Read or its end comes for sure,
	// so the wait has no limit. Afterwards the local TLS user may stay idle,
	// and the hold time bounds the wait.
	done, hold := t.done, time.Duration(0)
	if t.finished() {
		done, hold = nil, t.hold
	}
	res := t.conn.waitSettled(ctx, done, hold)
	if res == waitDone && t.idleAfterRun() {
		// The goroutine ended and left nothing to send, as after the
		// protected success indication, so the local TLS user comes next.
		// Holding for its first write saves an empty round.
		res = t.conn.waitSettled(ctx, nil, t.hold)
	}
	if res == waitCanceled {
		return nil, fmt.Errorf("eapest: waiting for TLS: %w", ctx.Err())
	}
	out := t.conn.take(MaxMessageLen)
	if len(out) == 0 {
		return t.ack(), nil
	}
	if !t.sentAny {
		t.randoms = helloRandom(out, 1)
		t.sentAny = true
	}
	t.frag.load(out, t.size)
	return t.frag.next(t.version).Append(nil), nil
}

// idleAfterRun reports whether the TLS goroutine succeeded, a local TLS
// user may follow, and no output waits.
func (t *peerTunnel) idleAfterRun() bool {
	_, handshake, err := t.status()
	return handshake && err == nil && t.hasUser && !t.conn.hasOutput()
}

func (t *peerTunnel) ack() []byte { return []byte{byte(t.version)} }

func (t *peerTunnel) launch() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.conn = newPipeConn()
	t.tc = tls.Client(t.conn, t.config)
	tunnelWorkers.run(func() {
		// The kick, which runs after done is closed, sends what the
		// goroutine wrote last although nothing reads afterwards.
		defer t.conn.kick()
		defer close(t.done)
		err := t.tc.HandshakeContext(t.ctx)
		t.mu.Lock()
		if err == nil {
			t.state = t.tc.ConnectionState()
			t.handshake = true
		}
		t.err = err
		t.mu.Unlock()
		if err == nil && t.run != nil {
			err = t.run(t.ctx, t.tc)
			t.mu.Lock()
			t.err = err
			t.mu.Unlock()
		}
	})
}

func (t *peerTunnel) finished() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// status returns the handshake state and the goroutine's error so far.
func (t *peerTunnel) status() (tls.ConnectionState, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state, t.handshake, t.err
}

// keys derives the key material after a successful handshake.
func (t *peerTunnel) keys() (eap.Outcome, error) {
	state, ok, err := t.status()
	if err != nil {
		return eap.Outcome{}, err
	}
	if !ok {
		return eap.Outcome{}, errors.New("eapest: TLS handshake not complete")
	}
	k, err := deriveKeys(&state, t.typ, t.randoms)
	if err != nil {
		return eap.Outcome{}, err
	}
	return eap.Outcome{
		MSK: k.MSK, EMSK: k.EMSK, SessionID: k.SessionID,
		PeerCertificates: state.PeerCertificates, Detail: state,
	}, nil
}

func (t *peerTunnel) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cancel != nil {
		t.cancel()
	}
	if t.conn != nil {
		t.conn.Close()
	}
}
