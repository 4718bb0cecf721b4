package eapest

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"
)

// maxPending caps the TLS bytes that the conn holds in each direction. A
// Write blocks while the outgoing buffer is full, until the EAP side takes
// the bytes, so a large HTTP response never sits in memory whole.
const maxPending = MaxMessageLen

// pipeConn is the net.Conn under crypto/tls. Its far end is the EAP method:
// the method feeds received TLS bytes in and takes the bytes that TLS wrote.
// Reads block until the method feeds more input. The conn tracks exactly
// whether the TLS side waits for input, so the method detects a complete
// flight without timing guesses.
type pipeConn struct {
	mu      sync.Mutex
	in      []byte
	out     []byte
	reading bool // a Read is blocked with no input
	kicked  bool // the TLS side asked for its output to be sent now
	closed  bool
	// readWake and writeWake wake a blocked Read or Write, and changed
	// signals the method that the state changed. Each has room for one
	// token, so a notification is never lost and never blocks.
	readWake  chan struct{}
	writeWake chan struct{}
	changed   chan struct{}
}

func newPipeConn() *pipeConn {
	return &pipeConn{
		readWake:  make(chan struct{}, 1),
		writeWake: make(chan struct{}, 1),
		changed:   make(chan struct{}, 1),
	}
}

func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Read returns fed input, blocking until there is some.
func (c *pipeConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.in) == 0 {
		if c.closed {
			return 0, net.ErrClosed
		}
		c.reading = true
		c.mu.Unlock()
		notify(c.changed)
		<-c.readWake
		c.mu.Lock()
		c.reading = false
	}
	n := copy(b, c.in)
	c.in = c.in[n:]
	if len(c.in) == 0 {
		c.in = nil
	}
	return n, nil
}

// Write queues b for the method, blocking while maxPending bytes wait.
func (c *pipeConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	written := 0
	for written < len(b) {
		if c.closed {
			return written, net.ErrClosed
		}
		room := maxPending - len(c.out)
		if room <= 0 {
			c.mu.Unlock()
			notify(c.changed)
			<-c.writeWake
			c.mu.Lock()
			continue
		}
		n := min(room, len(b)-written)
		c.out = append(c.out, b[written:written+n]...)
		written += n
	}
	if len(c.out) >= maxPending {
		// Output below the cap settles nothing: the method waits until TLS
		// reads or kicks. Waking it for every TLS record would only make it
		// check settled and sleep again.
		notify(c.changed)
	}
	return written, nil
}

// Close ends both directions. Bytes already written stay for take.
func (c *pipeConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	notify(c.readWake)
	notify(c.writeWake)
	notify(c.changed)
	return nil
}

// feed appends received TLS bytes for Read. It rejects input beyond
// maxPending unread bytes, which only a peer that keeps sending while the
// TLS side is busy (in a slow HTTP handler) can reach.
func (c *pipeConn) feed(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	c.mu.Lock()
	if len(c.in)+len(b) > maxPending {
		n := len(c.in)
		c.mu.Unlock()
		return fmt.Errorf("%w: %d unread bytes and %d more", ErrTooLarge, n, len(b))
	}
	c.in = append(c.in, b...)
	c.mu.Unlock()
	notify(c.readWake)
	return nil
}

// take removes and returns up to max written bytes.
func (c *pipeConn) take(max int) []byte {
	c.mu.Lock()
	n := min(max, len(c.out))
	out := append([]byte(nil), c.out[:n]...)
	c.out = c.out[n:]
	if len(c.out) == 0 {
		c.out = nil
	}
	c.mu.Unlock()
	notify(c.writeWake)
	return out
}

// hasOutput reports whether written bytes wait for take.
func (c *pipeConn) hasOutput() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.out) > 0
}

// kick makes the method send the output now, although no Read waits.
func (c *pipeConn) kick() {
	c.mu.Lock()
	c.kicked = true
	c.mu.Unlock()
	notify(c.changed)
}

// settled reports whether the TLS side cannot progress without the method:
// it waits for input that has not arrived, its output buffer is full, it
// asked for a flush of pending output, or the conn is closed. It consumes a
// kick. A kick whose output was already taken settles nothing, so that it
// cannot end a later wait early with an empty message.
func (c *pipeConn) settled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kicked {
		c.kicked = false
		if len(c.out) > 0 {
			return true
		}
	}
	return (c.reading && len(c.in) == 0) || len(c.out) >= maxPending || c.closed
}

// waitResult is the reason that waitSettled returned.
type waitResult int

const (
	waitSettled  waitResult = iota
	waitDone                // the goroutine that runs TLS returned
	waitBudget              // the round budget ran out
	waitCanceled            // ctx ended
)

// waitSettled blocks until settled, done is closed, budget (if positive)
// passes, or ctx ends. It checks done before settled, so a goroutine that
// returned is always reported as waitDone.
func (c *pipeConn) waitSettled(ctx context.Context, done <-chan struct{},
	budget time.Duration) waitResult {
	var timeout <-chan time.Time
	if budget > 0 {
		t := time.NewTimer(budget)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case <-done:
			return waitDone
		default:
		}
		if c.settled() {
			return waitSettled
		}
		select {
		case <-c.changed:
		case <-done:
			return waitDone
		case <-timeout:
			return waitBudget
		case <-ctx.Done():
			return waitCanceled
		}
	}
}

type pipeAddr string

func (a pipeAddr) Network() string { return "eap" }
func (a pipeAddr) String() string  { return string(a) }

func (c *pipeConn) LocalAddr() net.Addr  { return pipeAddr("local") }
func (c *pipeConn) RemoteAddr() net.Addr { return pipeAddr("peer") }

// Deadlines are not supported: the EAP conversation's idle timeout and the
// method's Close end a stalled connection instead.
func (c *pipeConn) SetDeadline(time.Time) error      { return nil }
func (c *pipeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *pipeConn) SetWriteDeadline(time.Time) error { return nil }

var _ net.Conn = (*pipeConn)(nil)
