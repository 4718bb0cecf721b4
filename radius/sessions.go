package radius

import (
	"container/list"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero Sessions fields.
const (
	// DefaultSessionTTL is how long a session lives without a Get.
	DefaultSessionTTL = 60 * time.Second
	// DefaultSessionMax is the maximum number of live sessions.
	DefaultSessionMax = 10000
	// stateLen is the length of a State value from New.
	stateLen = 16
)

// Session errors.
var (
	// ErrUnknownState reports a State that is absent from the table,
	// expired or bound to another client or Calling-Station-Id. The
	// handler must reject such a request, for EAP with Access-Reject and
	// EAP-Failure.
	ErrUnknownState = errors.New("radius: unknown State")
	// ErrSessionsFull reports that New hit the Max of live sessions.
	ErrSessionsFull = errors.New("radius: session table full")
)

// Sessions maps State values (RFC 2865, Section 5.24) to the state of a
// multi-round conversation such as EAP. A State is 16 random octets from
// crypto/rand and is bound to the client name and Calling-Station-Id that
// created it, so a request from elsewhere does not find it.
//
// A session lives for TTL after its creation or last Get. Expired
// sessions are swept on each call, oldest first, so the table needs no
// goroutine. The handler deletes a session at the final Access-Accept or
// Access-Reject.
//
// The zero value is ready to use. Set the fields before the first call.
type Sessions struct {
	// TTL is the idle lifetime. Zero means DefaultSessionTTL.
	TTL time.Duration
	// Max is the maximum number of live sessions. New beyond it fails
	// with ErrSessionsFull. Zero means DefaultSessionMax.
	Max int
	// OnExpire, when set, is called with the value of each session that
	// expires (not of those deleted), outside the table's lock, so that
	// resources such as TLS connections can be closed.
	OnExpire func(value any)

	now func() time.Time

	mu      sync.Mutex
	entries map[string]*list.Element
	order   *list.List // *session, least recently used first

	created, rejected, expired, mismatched atomic.Uint64
}

type session struct {
	state            string
	client, stations string
	value            any
	expires          time.Time
}

// SessionStats is a snapshot of the session counters.
type SessionStats struct {
	Live       int    // sessions in the table
	Created    uint64 // sessions created by New
	Rejected   uint64 // New calls that failed with ErrSessionsFull
	Expired    uint64 // sessions removed by the TTL
	Mismatched uint64 // Get calls whose State had another binding
}

// New stores value under a fresh State bound to clientName and
// callingStationID and returns the State for the Access-Challenge.
func (s *Sessions) New(clientName, callingStationID string, value any) ([]byte, error) {
	state := make([]byte, stateLen)
	rand.Read(state) // since Go 1.24 Read crashes the program instead of failing
	now := s.clock()
	s.mu.Lock()
	expired := s.expireLocked(now)
	if len(s.entries) >= s.max() {
		s.mu.Unlock()
		s.notify(expired)
		s.rejected.Add(1)
		return nil, fmt.Errorf("%w: %d live sessions", ErrSessionsFull, s.max())
	}
	e := &session{state: string(state), client: clientName, stations: callingStationID,
		value: value, expires: now.Add(s.ttl())}
	s.entries[e.state] = s.order.PushBack(e)
	s.mu.Unlock()
	s.notify(expired)
	s.created.Add(1)
	return state, nil
}

// Get returns the value stored under state when the session is live and
// bound to clientName and callingStationID, and extends its lifetime.
func (s *Sessions) Get(state []byte, clientName, callingStationID string) (any, bool) {
	now := s.clock()
	s.mu.Lock()
	expired := s.expireLocked(now)
	elem, ok := s.entries[string(state)]
	var value any
	if ok {
		e := elem.Value.(*session)
		if e.client != clientName || e.stations != callingStationID {
			ok = false
			s.mismatched.Add(1)
		} else {
			value = e.value
			e.expires = now.Add(s.ttl())
			s.order.MoveToBack(elem)
		}
	}
	s.mu.Unlock()
	s.notify(expired)
	return value, ok
}

// Lookup returns the session of req by its State, client name and
// Calling-Station-Id, or an error wrapping ErrUnknownState.
func (s *Sessions) Lookup(req *Request) (any, error) {
	state := req.State()
	if len(state) == 0 {
		return nil, fmt.Errorf("%w: request has no State", ErrUnknownState)
	}
	v, ok := s.Get(state, req.NAS.Name, req.CallingStationID())
	if !ok {
		return nil, fmt.Errorf("%w from client %s", ErrUnknownState, req.NAS.Name)
	}
	return v, nil
}

// Delete removes the session of state, if any.
func (s *Sessions) Delete(state []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if elem, ok := s.entries[string(state)]; ok {
		s.order.Remove(elem)
		delete(s.entries, string(state))
	}
}

// Sweep removes the expired sessions now, calls OnExpire for each and
// returns how many it removed. Every other call sweeps as well, so Sweep
// matters only while no requests arrive: it lets an idle server release
// the resources of conversations that the NAS abandoned.
func (s *Sessions) Sweep() int {
	s.mu.Lock()
	before := len(s.entries)
	expired := s.expireLocked(s.clock())
	removed := before - len(s.entries)
	s.mu.Unlock()
	s.notify(expired)
	return removed
}

// Clear removes every session, live or expired, and calls OnExpire for
// each, so that a server that stops releases their resources. It returns
// how many it removed. The table stays usable.
func (s *Sessions) Clear() int {
	s.mu.Lock()
	removed := len(s.entries)
	var values []any
	if s.OnExpire != nil && s.order != nil {
		values = make([]any, 0, removed)
		for e := s.order.Front(); e != nil; e = e.Next() {
			values = append(values, e.Value.(*session).value)
		}
	}
	s.entries = nil
	s.order = nil
	s.mu.Unlock()
	s.notify(values)
	return removed
}

// Len returns the number of sessions in the table, expired ones included
// until the next sweep.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Stats returns a snapshot of the counters.
func (s *Sessions) Stats() SessionStats {
	return SessionStats{Live: s.Len(), Created: s.created.Load(), Rejected: s.rejected.Load(),
		Expired: s.expired.Load(), Mismatched: s.mismatched.Load()}
}

// expireLocked removes the sessions whose time is up and returns their
// values for OnExpire. The order list is sorted by expiry because every
// update moves a session to the back with the same TTL.
func (s *Sessions) expireLocked(now time.Time) []any {
	if s.entries == nil {
		s.entries = make(map[string]*list.Element)
		s.order = list.New()
	}
	var values []any
	for f := s.order.Front(); f != nil; f = s.order.Front() {
		e := f.Value.(*session)
		if now.Before(e.expires) {
			break
		}
		s.order.Remove(f)
		delete(s.entries, e.state)
		s.expired.Add(1)
		if s.OnExpire != nil {
			values = append(values, e.value)
		}
	}
	return values
}

func (s *Sessions) notify(values []any) {
	for _, v := range values {
		s.OnExpire(v)
	}
}

func (s *Sessions) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

func (s *Sessions) ttl() time.Duration {
	if s.TTL <= 0 {
		return DefaultSessionTTL
	}
	return s.TTL
}

func (s *Sessions) max() int {
	return orDefault(s.Max, DefaultSessionMax)
}
