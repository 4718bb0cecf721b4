package authenticator

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/brski-eap/brski/radius"
)

func TestNewPortControlChecksBridges(t *testing.T) {
	tp := newTopology(t, "br-unauth", "br-v100", "br-unauth", "br-v100")
	runIP(t, "-n", tp.sw, "link", "add", "br-down", "type", "bridge")
	tests := []struct {
		name    string
		vlans   BridgePerVLAN
		wantErr string // "" for success
	}{
		{"all present", BridgePerVLAN{Unauthenticated: "br-unauth",
			Bridges: map[string]string{"100": "br-v100"}}, ""},
		{"missing VLAN bridge", BridgePerVLAN{Unauthenticated: "br-unauth",
			Bridges: map[string]string{"100": "br-v100", "999": "br-quarantine"}},
			`the bridge of VLAN "999", "br-quarantine"`},
		{"missing unauthenticated bridge", BridgePerVLAN{Unauthenticated: "br-none",
			Bridges: map[string]string{"100": "br-v100"}}, `the unauthenticated bridge, "br-none"`},
		// p1 is the pledge's veth port on the switch.
		{"not a bridge", BridgePerVLAN{Bridges: map[string]string{"100": "p1"}},
			"is a veth link, not a bridge"},
		{"bridge down", BridgePerVLAN{Bridges: map[string]string{"100": "br-down"}},
			`the bridge of VLAN "100", "br-down", is down`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc, err := NewPortControl(tp.swNS, tt.vlans)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("NewPortControl: %v", err)
				}
				pc.Close()
				return
			}
			if !errors.Is(err, ErrMissingBridge) {
				t.Fatalf("error = %v, want ErrMissingBridge", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestRunFailsBeforeReadyForMissingBridge(t *testing.T) {
	tp := newTopology(t, "br0", "br0", "br0")
	setup := &Setup{
		Client:  &radius.Client{},
		VLANs:   BridgePerVLAN{Unauthenticated: "br-none"},
		Ports:   []PortSetup{{Name: "p1"}},
		Backend: &RADIUSBackend{NASIdentifier: "test", Ports: map[string]PortInfo{}},
	}
	setup.Backend.Client = setup.Client
	readied := false
	err := inNamespace(tp.swNS, func() error {
		return Run(context.Background(), setup, Hooks{Ready: func() { readied = true }})
	})
	if !errors.Is(err, ErrMissingBridge) {
		t.Errorf("Run error = %v, want ErrMissingBridge", err)
	}
	if readied {
		t.Error("Run called Ready although it could not start")
	}
}

// A port whose VLAN bridge an operator deleted returns to the
// unauthenticated bridge, locked, at the next port control call, and a
// later authorization works once the bridge exists again.
func TestBridgePerVLANBridgeDeleted(t *testing.T) {
	tp := newTopology(t, "brunauth", "brv10", "brunauth", "brv10")
	pc := tp.portControl(t, BridgePerVLAN{
		Unauthenticated: "brunauth",
		Bridges:         map[string]string{"10": "brv10"},
	})
	if err := pc.Lock("p1"); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if err := pc.Authorize("p1", pledgeMAC, "10"); err != nil {
		t.Fatalf("Authorize VLAN 10: %v", err)
	}
	runIP(t, "-n", tp.sw, "link", "del", "brv10")

	if err := pc.Deauthorize("p1", pledgeMAC); err != nil {
		t.Fatalf("Deauthorize after the bridge was deleted: %v", err)
	}
	requirePortState(t, pc, "p1", PortState{Bridge: "brunauth", Locked: true})
	tp.pledgeToHost.requireUnreachable(t, "back in the unauthenticated bridge")

	if err := pc.Authorize("p1", pledgeMAC, "10"); err == nil {
		t.Error("Authorize into the deleted bridge succeeded")
	}
	runIP(t, "-n", tp.sw, "link", "add", "brv10", "type", "bridge")
	runIP(t, "-n", tp.sw, "link", "set", "brv10", "up")
	runIP(t, "-n", tp.sw, "link", "set", "p2", "master", "brv10")
	if err := pc.Authorize("p1", pledgeMAC, "10"); err != nil {
		t.Fatalf("Authorize after the bridge was created again: %v", err)
	}
	requirePortState(t, pc, "p1",
		PortState{Bridge: "brv10", Locked: true, Static: []net.HardwareAddr{pledgeMAC}})
	tp.pledgeToHost.requireReachable(t, "in VLAN 10 again")
}

// A second authenticator on a port that one serves already fails at start
// and leaves the port as the first one set it.
func TestRunRefusesPortInUse(t *testing.T) {
	tp := newTopology(t, "br0", "br0", "br0")
	newSetup := func() *Setup {
		s := &Setup{
			Client:  &radius.Client{},
			VLANs:   BridgePerVLAN{},
			Ports:   []PortSetup{{Name: "p1"}},
			Backend: &RADIUSBackend{NASIdentifier: "test", Ports: map[string]PortInfo{}},
		}
		s.Backend.Client = s.Client
		return s
	}
	first := newSetup()
	defer first.Client.Close()
	ready := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() {
		ran <- inNamespace(tp.swNS, func() error {
			return Run(ctx, first, Hooks{Ready: func() { close(ready) }})
		})
	}()
	select {
	case <-ready:
	case err := <-ran:
		t.Fatalf("first Run returned %v before Ready", err)
	}

	second := newSetup()
	defer second.Client.Close()
	err := inNamespace(tp.swNS, func() error {
		return Run(context.Background(), second, Hooks{})
	})
	if !errors.Is(err, ErrPortInUse) {
		t.Errorf("second Run error = %v, want ErrPortInUse", err)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatalf("first Run returned %v after cancel", err)
	}
	// Once the first one stopped, the port is free again.
	ctx2, cancel2 := context.WithCancel(context.Background())
	third := newSetup()
	defer third.Client.Close()
	ready2 := make(chan struct{})
	ran2 := make(chan error, 1)
	go func() {
		ran2 <- inNamespace(tp.swNS, func() error {
			return Run(ctx2, third, Hooks{Ready: func() { close(ready2) }})
		})
	}()
	select {
	case <-ready2:
	case err := <-ran2:
		t.Fatalf("Run after the first stopped returned %v before Ready", err)
	}
	cancel2()
	<-ran2
}
