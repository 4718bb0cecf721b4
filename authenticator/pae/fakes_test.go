package pae

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/brski-eap/brski/authenticator/eapol"
)

// fakeClock is a Clock that moves only in Advance, which runs the due
// timers in time order on the calling goroutine.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	clock *fakeClock
	at    time.Time
	f     func()
	done  bool // fired or stopped
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clock: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	wasPending := !t.done
	t.done = true
	return wasPending
}

// Advance moves the clock forward by d and runs every timer that falls due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	for {
		next := c.nextDue(target)
		if next == nil {
			break
		}
		c.now = next.at
		next.done = true
		c.mu.Unlock()
		next.f()
		c.mu.Lock()
	}
	c.now = target
	c.mu.Unlock()
}

func (c *fakeClock) nextDue(target time.Time) *fakeTimer {
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
	for _, t := range c.timers {
		if !t.done && !t.at.After(target) {
			return t
		}
	}
	return nil
}

// sentFrame is one PDU that the PAE transmitted.
type sentFrame struct {
	dst net.HardwareAddr
	eap []byte
}

// fakeSender records transmitted EAP-Packet PDUs.
type fakeSender struct {
	frames chan sentFrame
}

func (s *fakeSender) WriteFrame(dst net.HardwareAddr, p *eapol.PDU) error {
	if p.Type != eapol.TypeEAPPacket {
		return fmt.Errorf("fake sender: unexpected %v", p.Type)
	}
	s.frames <- sentFrame{dst: append(net.HardwareAddr(nil), dst...),
		eap: append([]byte(nil), p.Body...)}
	return nil
}

// fakeController records the calls of the PAE as short strings.
type fakeController struct {
	mu           sync.Mutex
	calls        []string
	authorizeErr error
}

func (c *fakeController) record(call string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, call)
}

func (c *fakeController) Lock(port string) error {
	c.record("lock " + port)
	return nil
}

func (c *fakeController) Unlock(port string) error {
	c.record("unlock " + port)
	return nil
}

func (c *fakeController) Authorize(port string, mac net.HardwareAddr, vlan string) error {
	c.record(fmt.Sprintf("authorize %s %v %q", port, mac, vlan))
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authorizeErr
}

func (c *fakeController) Deauthorize(port string, mac net.HardwareAddr) error {
	c.record(fmt.Sprintf("deauthorize %s %v", port, mac))
	return nil
}

// takeCalls returns the calls so far and clears the record.
func (c *fakeController) takeCalls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := c.calls
	c.calls = nil
	return calls
}

// exchangeCall is one Backend.Exchange that waits for the test's reply.
type exchangeCall struct {
	req   BackendRequest
	reply chan exchangeResult
}

type exchangeResult struct {
	reply BackendReply
	err   error
}

// fakeBackend hands every Exchange to the test and blocks until the test
// replies or the context ends.
type fakeBackend struct {
	calls chan exchangeCall
}

func (b *fakeBackend) Exchange(ctx context.Context, req BackendRequest) (BackendReply, error) {
	call := exchangeCall{req: req, reply: make(chan exchangeResult, 1)}
	select {
	case b.calls <- call:
	case <-ctx.Done():
		return BackendReply{}, ctx.Err()
	}
	select {
	case r := <-call.reply:
		return r.reply, r.err
	case <-ctx.Done():
		return BackendReply{}, ctx.Err()
	}
}

// waitTimeout bounds every wait for an event that must happen. It only
// decides how long a broken test takes to fail.
const waitTimeout = 5 * time.Second

func (b *fakeBackend) next(t *testing.T) exchangeCall {
	t.Helper()
	select {
	case call := <-b.calls:
		return call
	case <-time.After(waitTimeout):
		t.Fatal("no Backend.Exchange")
		return exchangeCall{}
	}
}

func (s *fakeSender) next(t *testing.T) sentFrame {
	t.Helper()
	select {
	case f := <-s.frames:
		return f
	case <-time.After(waitTimeout):
		t.Fatal("no frame sent")
		return sentFrame{}
	}
}

// none fails the test if a frame was sent. It is meaningful only when no
// Backend reply is being processed.
func (s *fakeSender) none(t *testing.T) {
	t.Helper()
	select {
	case f := <-s.frames:
		t.Fatalf("unexpected frame to %v: %x", f.dst, f.eap)
	default:
	}
}
