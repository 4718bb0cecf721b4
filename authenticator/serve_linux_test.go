//go:build linux

package authenticator

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/brski-eap/brski/authenticator/eapol"
	"github.com/brski-eap/brski/authenticator/pae"
)

// acceptBackend accepts every identity at once with an EAP-Success.
type acceptBackend struct{}

func (acceptBackend) Exchange(_ context.Context, req pae.BackendRequest) (pae.BackendReply, error) {
	if len(req.EAP) < 2 {
		return pae.BackendReply{}, errors.New("acceptBackend: short EAP packet")
	}
	return pae.BackendReply{Code: pae.ReplyAccept, EAP: []byte{3, req.EAP[1], 0, 4}}, nil
}

// waitFor reads events until one of kind arrives.
func waitFor(t *testing.T, events <-chan pae.Event, kind pae.EventKind) pae.Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Kind == kind {
				return e
			}
		case <-deadline:
			t.Fatalf("no %v event within 5s", kind)
		}
	}
}

// paeSetup is a PAE served on port p1 of a topology, with a supplicant
// socket on the pledge's eth0.
type paeSetup struct {
	tp     *topology
	pc     *PortControl
	port   *pae.Port
	supp   *Conn
	events chan pae.Event
}

// servePAE runs Serve for a PAE on p1 until the test ends. The backend
// accepts every identity.
func servePAE(t *testing.T) *paeSetup {
	t.Helper()
	tp := newTopology(t, "br0", "br0", "br0")
	ps := &paeSetup{tp: tp, pc: tp.portControl(t, nil), events: make(chan pae.Event, 64)}
	conn := listenIn(t, tp.swNS, "p1")
	ps.supp = listenIn(t, tp.pledgeNS, "eth0")
	port, err := pae.NewPort("p1", conn, ps.pc, acceptBackend{}, pae.Config{
		Observe: func(e pae.Event) { ps.events <- e },
	})
	if err != nil {
		t.Fatalf("NewPort: %v", err)
	}
	ps.port = port
	served := make(chan error, 1)
	go func() { served <- Serve(conn, port, nil) }()
	t.Cleanup(func() {
		port.Close()
		conn.Close()
		if err := <-served; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Serve returned %v, want net.ErrClosed", err)
		}
	})
	return ps
}

// authenticate responds to the announcement with an EAP-Response/Identity
// and waits for EAP-Success and the authorization.
func (ps *paeSetup) authenticate(t *testing.T) {
	t.Helper()
	body := readFrame(t, ps.supp).PDU.Body
	if len(body) < 5 || body[0] != 1 || body[4] != 1 {
		t.Fatalf("announcement body %x, want EAP-Request/Identity", body)
	}
	response := &eapol.PDU{Type: eapol.TypeEAPPacket, Body: []byte{2, body[1], 0, 5, 1}}
	if err := ps.supp.WriteFrame(eapol.PAEGroupAddress(), response); err != nil {
		t.Fatalf("supplicant WriteFrame: %v", err)
	}
	if got := readFrame(t, ps.supp).PDU.Body; len(got) != 4 || got[0] != 3 {
		t.Fatalf("reply body %x, want EAP-Success", got)
	}
	waitFor(t, ps.events, pae.EventAuthorized)
}

// TestServeAuthorizesPledge runs the PAE on a real locked bridge port: the
// pledge responds to the announcement, the backend accepts it, the port opens,
// and EAPOL-Logoff closes it again.
func TestServeAuthorizesPledge(t *testing.T) {
	ps := servePAE(t)
	if err := ps.port.LinkUp(); err != nil {
		t.Fatalf("LinkUp: %v", err)
	}
	ps.tp.pledgeToHost.requireUnreachable(t, "after LinkUp")
	ps.authenticate(t)
	ps.tp.pledgeToHost.requireReachable(t, "after EAP-Success")

	logoff := &eapol.PDU{Type: eapol.TypeLogoff}
	if err := ps.supp.WriteFrame(eapol.PAEGroupAddress(), logoff); err != nil {
		t.Fatalf("supplicant WriteFrame: %v", err)
	}
	if e := waitFor(t, ps.events, pae.EventSessionEnded); e.Reason != pae.ReasonLogoff {
		t.Errorf("end reason = %q, want %q", e.Reason, pae.ReasonLogoff)
	}
	ps.tp.pledgeToHost.requireUnreachable(t, "after EAPOL-Logoff")
}

// TestWatchLinkEndsSession checks that losing carrier on the port ends the
// session and closes the port, and that carrier back brings a new
// announcement.
func TestWatchLinkEndsSession(t *testing.T) {
	ps := servePAE(t)
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan error, 1)
	go func() {
		watched <- WatchLink(ctx, ps.tp.swNS, "p1", ps.port,
			func(err error) { t.Errorf("LinkUp: %v", err) })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-watched; !errors.Is(err, context.Canceled) {
			t.Errorf("WatchLink returned %v, want context.Canceled", err)
		}
	})
	ps.authenticate(t)

	runIP(t, "-n", ps.tp.pledge, "link", "set", "eth0", "down")
	if e := waitFor(t, ps.events, pae.EventSessionEnded); e.Reason != pae.ReasonLinkDown {
		t.Errorf("end reason = %q, want %q", e.Reason, pae.ReasonLinkDown)
	}
	requirePortState(t, ps.pc, "p1", PortState{Bridge: "br0", Locked: true})

	runIP(t, "-n", ps.tp.pledge, "link", "set", "eth0", "up")
	if body := readFrame(t, ps.supp).PDU.Body; len(body) < 5 || body[0] != 1 || body[4] != 1 {
		t.Errorf("frame after carrier returned = %x, want EAP-Request/Identity", body)
	}
}
