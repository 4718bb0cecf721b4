//go:build linux

package authenticator

import (
	"context"
	"testing"

	layeh "layeh.com/radius"

	"github.com/brski-eap/brski/authenticator/eapol"
	"github.com/brski-eap/brski/authenticator/pae"
	"github.com/brski-eap/brski/radius"
)

// TestRunAuthorizesAndLocksOnShutdown runs Run on a thread in the switch
// namespace while its goroutines run anywhere. The supplicant on the
// pledge side authenticates through the RADIUS server, and cancelling the
// context locks the port again.
func TestRunAuthorizesAndLocksOnShutdown(t *testing.T) {
	tp := newTopology(t, "br0", "br0", "br0")
	// The RADIUS client opens its socket from a goroutine of Run, in the
	// test process's own namespace, so the server listens there.
	addr := startRADIUS(t, func(_ context.Context, req *radius.Request) (*layeh.Packet, error) {
		eap := req.EAPMessage()
		if len(eap) < 2 {
			return req.Reply(layeh.CodeAccessReject), nil
		}
		reply := req.Reply(layeh.CodeAccessAccept)
		return reply, radius.SetEAPMessage(reply, []byte{3, eap[1], 0, 4})
	})
	setup := &Setup{
		Client:  &radius.Client{Servers: []radius.ServerAddr{{Addr: addr, Secret: backendSecret}}},
		VLANs:   BridgePerVLAN{},
		Ports:   []PortSetup{{Name: "p1"}},
		Backend: &RADIUSBackend{NASIdentifier: "test", Ports: map[string]PortInfo{}},
	}
	setup.Backend.Client = setup.Client
	defer setup.Client.Close()
	supp := listenIn(t, tp.pledgeNS, "eth0")
	events := make(chan pae.Event, 64)
	ready := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() {
		ran <- inNamespace(tp.swNS, func() error {
			return Run(ctx, setup, Hooks{Event: func(e pae.Event) { events <- e },
				Ready: func() { close(ready) }})
		})
	}()
	select {
	case <-ready:
	case err := <-ran:
		t.Fatalf("Run returned %v before Ready", err)
	}

	body := readFrame(t, supp).PDU.Body
	if len(body) < 5 || body[0] != 1 || body[4] != 1 {
		cancel()
		t.Fatalf("first frame body %x, want EAP-Request/Identity", body)
	}
	response := &eapol.PDU{Type: eapol.TypeEAPPacket, Body: []byte{2, body[1], 0, 6, 1, 'x'}}
	if err := supp.WriteFrame(eapol.PAEGroupAddress(), response); err != nil {
		cancel()
		t.Fatalf("supplicant WriteFrame: %v", err)
	}
	waitFor(t, events, pae.EventAuthorized)
	tp.pledgeToHost.requireReachable(t, "after Access-Accept")

	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("Run returned %v, want nil after cancel", err)
	}
	pc := tp.portControl(t, nil)
	st := portState(t, pc, "p1")
	if !st.Locked || len(st.Static) != 0 {
		t.Errorf("after shutdown p1 is locked %t with static MACs %v, want locked with none",
			st.Locked, st.Static)
	}
	tp.pledgeToHost.requireUnreachable(t, "after shutdown")
}
