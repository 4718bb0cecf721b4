package radius

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"layeh.com/radius"
)

// Defaults for the zero Server fields.
const (
	// DefaultAddr is the RADIUS authentication port on all interfaces
	// (RFC 2865, Section 3).
	DefaultAddr = ":1812"
	// DefaultQueueSize is the number of datagrams waiting for a worker.
	DefaultQueueSize = 1024
	// DefaultDuplicateTTL is how long a reply stays cached for
	// retransmissions. RFC 5080, Section 2.2.2 suggests a few seconds to
	// tens of seconds, longer than a client's retransmission schedule.
	DefaultDuplicateTTL = 30 * time.Second
	// DefaultDuplicateMax bounds the duplicate cache. With replies of up
	// to 4096 octets it holds at most 16 MiB of replies.
	DefaultDuplicateMax = 4096
	// DefaultDropHookRate is how often per second OnDrop is called for
	// each drop reason.
	DefaultDropHookRate = 10
)

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown.
var ErrServerClosed = errors.New("radius: server closed")

// Server is a RADIUS authentication server. One goroutine reads the socket
// and a fixed pool of workers processes the datagrams from a bounded queue.
// When the queue is full a datagram is dropped and counted.
//
// Every Access-Request and Status-Server needs a valid
// Message-Authenticator (RFC 3579, Section 3.2), except Access-Requests
// without EAP-Message from a client marked Legacy. The server itself replies
// Access-Accept to Status-Server (RFC 5997), bypassing the
// handler and the duplicate cache, because that reply has no state to
// replay. Access-Requests go to Handler once, and their
// retransmissions get the cached reply (RFC 5080, Section 2.2.2). Other
// codes are dropped.
//
// The exported fields must be set before Serve and not changed after.
type Server struct {
	// Addr is the UDP address ListenAndServe listens on. Empty means
	// DefaultAddr.
	Addr string
	// Clients contains the clients allowed to send requests, matched by
	// source address. Required.
	Clients *ClientTable
	// Handler serves Access-Requests. Required.
	Handler Handler
	// Workers is the number of datagrams processed at once. Zero means
	// twice GOMAXPROCS.
	Workers int
	// QueueSize is the number of datagrams waiting for a worker. Zero
	// means DefaultQueueSize.
	QueueSize int
	// DuplicateTTL is how long a reply is kept for retransmissions. Zero
	// means DefaultDuplicateTTL.
	DuplicateTTL time.Duration
	// DuplicateMax is the maximum number of cached replies; the oldest
	// go first. Zero means DefaultDuplicateMax. Values below Workers are
	// raised to Workers.
	DuplicateMax int
	// DropHookRate is the maximum number of OnDrop calls per second for
	// each reason. The rest are counted in Stats.DropHooksSuppressed. Zero
	// means DefaultDropHookRate.
	DropHookRate int
	// OnDrop, when set, is called for dropped datagrams, within
	// DropHookRate. err gives detail where there is any; it never
	// contains a secret. It is called from the server's goroutines and
	// must not block.
	OnDrop func(reason DropReason, addr net.Addr, err error)

	initOnce sync.Once
	now      func() time.Time
	counters serverCounters
	limiter  dropLimiter
	dups     *dupCache
	ctx      context.Context
	cancel   context.CancelFunc

	mu      sync.Mutex
	conn    net.PacketConn
	done    chan struct{}
	closing atomic.Bool
}

// datagram is a received packet waiting in the queue.
type datagram struct {
	addr net.Addr
	nas  *NAS
	data []byte
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		if s.now == nil {
			s.now = time.Now
		}
		s.limiter = dropLimiter{rate: orDefault(s.DropHookRate, DefaultDropHookRate), now: s.now}
		dupMax := max(orDefault(s.DuplicateMax, DefaultDuplicateMax), s.workers())
		ttl := s.DuplicateTTL
		if ttl <= 0 {
			ttl = DefaultDuplicateTTL
		}
		s.dups = newDupCache(ttl, dupMax, s.now)
		s.ctx, s.cancel = context.WithCancel(context.Background())
	})
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func (s *Server) workers() int {
	return orDefault(s.Workers, 2*runtime.GOMAXPROCS(0))
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	return s.counters.snapshot()
}

// ListenAndServe listens on Addr over UDP and calls Serve.
func (s *Server) ListenAndServe() error {
	addr := s.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return fmt.Errorf("radius: listen on %s: %w", addr, err)
	}
	return s.Serve(conn)
}

// Serve reads requests from conn until Shutdown or a read error, and closes
// conn before it returns. After Shutdown it returns ErrServerClosed.
func (s *Server) Serve(conn net.PacketConn) error {
	if s.Handler == nil || s.Clients == nil {
		conn.Close()
		return errors.New("radius: Server needs a Handler and Clients")
	}
	s.init()
	s.mu.Lock()
	switch {
	case s.closing.Load():
		s.mu.Unlock()
		conn.Close()
		return ErrServerClosed
	case s.conn != nil:
		s.mu.Unlock()
		return errors.New("radius: Serve called twice on one Server")
	}
	s.conn, s.done = conn, make(chan struct{})
	s.mu.Unlock()
	defer close(s.done)
	defer conn.Close()

	queue := make(chan datagram, orDefault(s.QueueSize, DefaultQueueSize))
	var wg sync.WaitGroup
	for range s.workers() {
		wg.Go(func() {
			for d := range queue {
				s.handle(d)
			}
		})
	}
	err := s.read(conn, queue)
	close(queue)
	wg.Wait()
	return err
}

// read is the only goroutine that reads conn. It drops datagrams from
// unknown sources and datagrams over 4096 octets before they take a queue
// slot.
func (s *Server) read(conn net.PacketConn, queue chan<- datagram) error {
	buf := make([]byte, radius.MaxPacketLength+1)
	for {
		n, addr, err := conn.ReadFrom(buf)
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			return fmt.Errorf("radius: read: %w", err)
		}
		s.counters.received.Add(1)
		nas, ok := s.Clients.Lookup(addrPort(addr).Addr())
		switch {
		case !ok:
			s.drop(DropUnknownClient, addr, nil)
			continue
		case n > radius.MaxPacketLength:
			err := fmt.Errorf("%w: datagram from %s", ErrPacketTooLarge, nas.Name)
			s.drop(DropTooLarge, addr, err)
			continue
		}
		select {
		case queue <- datagram{addr: addr, nas: nas, data: bytes.Clone(buf[:n])}:
		default:
			s.drop(DropQueueFull, addr, nil)
		}
	}
}

// Shutdown stops reading, drops the datagrams still queued, waits for the
// handlers in progress to send their replies and closes the socket. When
// ctx ends first it cancels the handlers' context, closes the socket and
// returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	s.closing.Store(true)
	conn, done := s.conn, s.done
	s.mu.Unlock()
	if conn == nil {
		s.cancel()
		return nil
	}
	// A deadline in the past unblocks ReadFrom at once.
	if err := conn.SetReadDeadline(time.Unix(1, 0)); err != nil {
		conn.Close()
	}
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		conn.Close()
		return ctx.Err()
	}
}
