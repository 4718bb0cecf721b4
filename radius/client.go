package radius

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"layeh.com/radius"
)

// Defaults for the zero Client fields.
const (
	// DefaultRetries is the number of retransmissions to one server
	// before failing over to the next.
	DefaultRetries = 2
	// DefaultTimeout is how long the client waits for a reply after each
	// transmission.
	DefaultTimeout = 3 * time.Second
	// DefaultFailbackAfter is how long the client stays on a secondary
	// server before it tries the first server again.
	DefaultFailbackAfter = 60 * time.Second
)

// ErrTimeout reports that a server sent no valid reply to any
// transmission.
var ErrTimeout = errors.New("radius: no reply")

// ServerAddr is a RADIUS server the client sends to.
type ServerAddr struct {
	// Addr is the UDP address, host and port.
	Addr string
	// Secret is the shared secret with this server.
	Secret []byte
	// Legacy accepts replies without Message-Authenticator. A reply
	// that carries one is still checked.
	Legacy bool
}

// String returns the address, never the secret.
func (a ServerAddr) String() string { return a.Addr }

// GoString returns the fields with the secret elided.
func (a ServerAddr) GoString() string {
	return fmt.Sprintf("radius.ServerAddr{Addr:%q, Secret:<%d octets>, Legacy:%t}",
		a.Addr, len(a.Secret), a.Legacy)
}

// ClientStats is a snapshot of the client counters.
type ClientStats struct {
	// BadResponses counts datagrams ignored because of a wrong Response
	// Authenticator, a missing or wrong Message-Authenticator, an
	// unknown Identifier or a malformed packet.
	BadResponses uint64
	// Retransmissions counts sends after the first to one server.
	Retransmissions uint64
	// Failovers counts moves to the next server after its retries.
	Failovers uint64
}

// Client sends RADIUS requests to a list of servers. It retransmits the
// same packet, with the same Identifier and Authenticator, after each
// Timeout, fails over to the next server after Retries retransmissions,
// and returns to the first server FailbackAfter after leaving it.
// Status-Server is sent once to each server and never retransmitted.
//
// Each server gets one UDP socket with 256 Identifiers, shared by
// concurrent Exchange calls; a call waits for a free Identifier. Replies
// are matched by Identifier and accepted only with a valid Response
// Authenticator and Message-Authenticator; others are ignored and
// counted, and the call keeps waiting.
//
// The exported fields must be set before the first Exchange.
type Client struct {
	// Servers in order of preference. Required.
	Servers []ServerAddr
	// Retries is the number of retransmissions per server. Zero means
	// DefaultRetries and a negative value sends once.
	Retries int
	// Timeout is the wait after each transmission. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// FailbackAfter is how long to use a secondary server before trying
	// the first again. Zero means DefaultFailbackAfter.
	FailbackAfter time.Duration
	// OnBadResponse, when set, is called for each reply that fails its
	// checks, with an error that wraps ErrResponseAuthenticatorInvalid, a
	// Message-Authenticator error or ErrMalformedPacket, and never contains
	// the secret. Late replies to requests that are no longer waiting are
	// counted in Stats only. It runs on the socket's reader goroutine and
	// must not block.
	OnBadResponse func(server ServerAddr, err error)

	now func() time.Time

	mu          sync.Mutex
	conns       []*serverConn
	active      int
	activeSince time.Time
	closed      bool

	badResponses, retransmissions, failovers atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() ClientStats {
	return ClientStats{BadResponses: c.badResponses.Load(),
		Retransmissions: c.retransmissions.Load(), Failovers: c.failovers.Load()}
}

// Exchange sends p and returns the reply. Access-Request and Status-Server
// get a Message-Authenticator first. The Identifier and Secret of p are
// replaced per server and p is not modified; its Authenticator must be
// random, as radius.New makes it. The reply is parsed with the secret of
// the server that sent it.
//
// NOTE: attributes that p's creator encrypted with p.Secret, such as
// User-Password, are sent as they are, so they only decrypt at servers
// with that same secret. EAP requests carry no such attribute.
func (c *Client) Exchange(ctx context.Context, p *radius.Packet) (*radius.Packet, error) {
	if len(c.Servers) == 0 {
		return nil, errors.New("radius: Client has no Servers")
	}
	if isZero(p.Authenticator[:]) {
		return nil, errors.New("radius: request Authenticator is zero, create it with radius.New")
	}
	start := c.pick()
	var errs []error
	for i := range len(c.Servers) {
		idx := (start + i) % len(c.Servers)
		reply, err := c.exchangeWith(ctx, idx, p)
		if err == nil {
			c.answered(idx)
			return reply, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("radius: exchange with %s: %w", c.Servers[idx], ctx.Err())
		}
		errs = append(errs, err)
		if i < len(c.Servers)-1 {
			c.failovers.Add(1)
		}
	}
	return nil, errors.Join(errs...)
}

// pick returns the server to try first, going back to the first server
// once FailbackAfter has passed.
func (c *Client) pick() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active != 0 && c.clock().Sub(c.activeSince) >= c.failbackAfter() {
		c.active = 0
	}
	return c.active
}

func (c *Client) answered(idx int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if idx != c.active {
		c.active, c.activeSince = idx, c.clock()
	}
}

func (c *Client) exchangeWith(ctx context.Context, idx int,
	p *radius.Packet) (*radius.Packet, error) {
	server := c.Servers[idx]
	sc, err := c.conn(idx)
	if err != nil {
		return nil, err
	}
	id, err := sc.acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("radius: wait for an Identifier for %s: %w", server, err)
	}
	defer sc.release(id)

	q := *p
	q.Identifier, q.Secret = id, server.Secret
	b, err := EncodeRequest(&q)
	if err != nil {
		return nil, err
	}
	replies := sc.register(id, b)
	defer sc.unregister(id)

	sends := c.retries() + 1
	if p.Code == radius.CodeStatusServer {
		// RFC 5997 has clients send a new Status-Server rather than
		// retransmit one.
		sends = 1
	}
	for attempt := range sends {
		if attempt > 0 {
			c.retransmissions.Add(1)
		}
		if _, err := sc.conn.Write(b); err != nil {
			return nil, fmt.Errorf("radius: send to %s: %w", server, err)
		}
		if reply, ok, err := c.wait(ctx, replies); ok || err != nil {
			if err != nil {
				return nil, err
			}
			return parseReply(reply, server)
		}
	}
	return nil, fmt.Errorf("%w from %s after %d transmissions", ErrTimeout, server, sends)
}

// wait returns a reply, or ok false after Timeout, or ctx's error.
func (c *Client) wait(ctx context.Context, replies <-chan []byte) ([]byte, bool, error) {
	t := time.NewTimer(c.timeout())
	defer t.Stop()
	select {
	case reply := <-replies:
		return reply, true, nil
	case <-t.C:
		return nil, false, nil
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

func parseReply(b []byte, server ServerAddr) (*radius.Packet, error) {
	reply, err := radius.Parse(b, server.Secret)
	if err != nil {
		return nil, fmt.Errorf("radius: parse reply from %s: %w", server, err)
	}
	return reply, nil
}

// conn returns the socket for server idx, dialing it on first use.
func (c *Client) conn(idx int) (*serverConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("radius: Client is closed")
	}
	if c.conns == nil {
		c.conns = make([]*serverConn, len(c.Servers))
	}
	if c.conns[idx] == nil {
		sc, err := dialServer(c.Servers[idx], &c.badResponses, c.OnBadResponse)
		if err != nil {
			return nil, err
		}
		c.conns[idx] = sc
	}
	return c.conns[idx], nil
}

// Close closes the sockets. Exchange calls in progress fail at their next
// transmission or time out.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for _, sc := range c.conns {
		if sc != nil {
			errs = append(errs, sc.conn.Close())
		}
	}
	return errors.Join(errs...)
}

func (c *Client) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

func (c *Client) retries() int {
	switch {
	case c.Retries < 0:
		return 0
	case c.Retries == 0:
		return DefaultRetries
	}
	return c.Retries
}

func (c *Client) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

func (c *Client) failbackAfter() time.Duration {
	if c.FailbackAfter <= 0 {
		return DefaultFailbackAfter
	}
	return c.FailbackAfter
}
