package authenticator

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/brski-eap/brski/radius"
)

func TestNewPortControlChecksBridges(t *testing.T) {
	tp := newTopology(t, "br-unauth", "br-v100", "br-unauth", "br-v100")
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
