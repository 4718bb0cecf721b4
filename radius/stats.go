package radius

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// DropReason is the cause of a datagram dropped without a reply.
type DropReason uint8

// Drop reasons. Each has its own counter in Stats.
const (
	DropUnknownClient DropReason = iota
	DropQueueFull
	DropTooLarge
	DropMalformed
	DropUnsupportedCode
	DropMessageAuthenticatorMissing
	DropMessageAuthenticatorZero
	DropMessageAuthenticatorInvalid
	DropMessageAuthenticatorLength
	DropMessageAuthenticatorDuplicate
	DropEAPMessageNotConsecutive
	DropDuplicateInProgress
	DropNoReply
	DropHandlerError
	DropReplyTooLarge
	DropWriteFailed
	DropShutdown

	numDropReasons
)

var dropReasonNames = [numDropReasons]string{
	DropUnknownClient:                 "unknown_client",
	DropQueueFull:                     "queue_full",
	DropTooLarge:                      "too_large",
	DropMalformed:                     "malformed",
	DropUnsupportedCode:               "unsupported_code",
	DropMessageAuthenticatorMissing:   "message_authenticator_missing",
	DropMessageAuthenticatorZero:      "message_authenticator_zero",
	DropMessageAuthenticatorInvalid:   "message_authenticator_invalid",
	DropMessageAuthenticatorLength:    "message_authenticator_length",
	DropMessageAuthenticatorDuplicate: "message_authenticator_duplicate",
	DropEAPMessageNotConsecutive:      "eap_message_not_consecutive",
	DropDuplicateInProgress:           "duplicate_in_progress",
	DropNoReply:                       "no_reply",
	DropHandlerError:                  "handler_error",
	DropReplyTooLarge:                 "reply_too_large",
	DropWriteFailed:                   "write_failed",
	DropShutdown:                      "shutdown",
}

// String returns the reason in snake case, fit for a metric label.
func (r DropReason) String() string {
	if r < numDropReasons {
		return dropReasonNames[r]
	}
	return "unknown"
}

// DropReasons returns every drop reason, for exporters that register one
// series per reason.
func DropReasons() []DropReason {
	out := make([]DropReason, numDropReasons)
	for i := range out {
		out[i] = DropReason(i)
	}
	return out
}

// Stats is a snapshot of the server counters. All count datagrams.
type Stats struct {
	// Received counts datagrams read from the socket.
	Received uint64
	// Replied counts replies the handler produced and the server sent.
	Replied uint64
	// DuplicateReplies counts cached replies sent again to
	// retransmissions.
	DuplicateReplies uint64
	// StatusServer counts replies sent to Status-Server requests.
	StatusServer uint64
	// Dropped counts dropped datagrams by reason. Every reason is
	// present, zero or not.
	Dropped map[DropReason]uint64
	// DropHooksSuppressed counts drops whose OnDrop call the rate limit
	// suppressed.
	DropHooksSuppressed uint64
}

type serverCounters struct {
	received, replied, duplicateReplies, statusServer atomic.Uint64
	hooksSuppressed                                   atomic.Uint64
	dropped                                           [numDropReasons]atomic.Uint64
}

func (c *serverCounters) snapshot() Stats {
	s := Stats{
		Received:            c.received.Load(),
		Replied:             c.replied.Load(),
		DuplicateReplies:    c.duplicateReplies.Load(),
		StatusServer:        c.statusServer.Load(),
		Dropped:             make(map[DropReason]uint64, numDropReasons),
		DropHooksSuppressed: c.hooksSuppressed.Load(),
	}
	for i := range c.dropped {
		s.Dropped[DropReason(i)] = c.dropped[i].Load()
	}
	return s
}

// dropLimiter allows at most rate hook calls per reason in each one-second
// window.
type dropLimiter struct {
	rate int
	now  func() time.Time

	mu      sync.Mutex
	windows [numDropReasons]struct {
		start int64 // Unix second of the window
		calls int
	}
}

func (l *dropLimiter) allow(r DropReason) bool {
	sec := l.now().Unix()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := &l.windows[r]
	if w.start != sec {
		w.start, w.calls = sec, 0
	}
	if w.calls >= l.rate {
		return false
	}
	w.calls++
	return true
}

// drop counts a dropped datagram and calls the OnDrop hook within its rate
// limit.
func (s *Server) drop(r DropReason, addr net.Addr, err error) {
	s.counters.dropped[r].Add(1)
	if s.OnDrop == nil {
		return
	}
	if !s.limiter.allow(r) {
		s.counters.hooksSuppressed.Add(1)
		return
	}
	s.OnDrop(r, addr, err)
}
