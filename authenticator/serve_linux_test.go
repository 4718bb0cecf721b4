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

// TestServeAuthorizesPledge runs the PAE on a real locked bridge port: the
// pledge responds to the announcement, the backend accepts it, the port opens,
// and EAPOL-Logoff closes it again.
func TestServeAuthorizesPledge(t *testing.T) {
	tp := newTopology(t, "br0", "br0", "br0")
	pc := tp.portControl(t, nil)
	conn := listenIn(t, tp.swNS, "p1")
	supp := listenIn(t, tp.pledgeNS, "eth0")

	events := make(chan pae.Event, 64)
	port, err := pae.NewPort("p1", conn, pc, acceptBackend{}, pae.Config{
		Observe: func(e pae.Event) { events <- e },
	})
	if err != nil {
		t.Fatalf("NewPort: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- Serve(conn, port, nil) }()
	t.Cleanup(func() {
		port.Close()
		conn.Close()
		if err := <-served; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Serve returned %v, want net.ErrClosed", err)
		}
	})

	if err := port.LinkUp(); err != nil {
		t.Fatalf("LinkUp: %v", err)
	}
	tp.pledgeToHost.requireUnreachable(t, "after LinkUp")

	announcement := readFrame(t, supp)
	body := announcement.PDU.Body
	if len(body) < 5 || body[0] != 1 || body[4] != 1 {
		t.Fatalf("announcement body %x, want EAP-Request/Identity", body)
	}
	response := &eapol.PDU{Type: eapol.TypeEAPPacket, Body: []byte{2, body[1], 0, 5, 1}}
	if err := supp.WriteFrame(eapol.PAEGroupAddress(), response); err != nil {
		t.Fatalf("supplicant WriteFrame: %v", err)
	}
	if got := readFrame(t, supp).PDU.Body; len(got) != 4 || got[0] != 3 {
		t.Fatalf("reply body %x, want EAP-Success", got)
	}
	waitFor(t, events, pae.EventAuthorized)
	tp.pledgeToHost.requireReachable(t, "after EAP-Success")

	logoff := &eapol.PDU{Type: eapol.TypeLogoff}
	if err := supp.WriteFrame(eapol.PAEGroupAddress(), logoff); err != nil {
		t.Fatalf("supplicant WriteFrame: %v", err)
	}
	if e := waitFor(t, events, pae.EventSessionEnded); e.Reason != pae.ReasonLogoff {
		t.Errorf("end reason = %q, want %q", e.Reason, pae.ReasonLogoff)
	}
	tp.pledgeToHost.requireUnreachable(t, "after EAPOL-Logoff")
}
