package radius_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/brski-eap/brski/radius"
	layeh "layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

// A handler that runs a two-round conversation with State, then accepts
// the device into VLAN 100 with MPPE keys.
func ExampleServer() {
	clients, err := radius.NewClientTable(radius.NAS{
		Name:   "switch-1",
		Prefix: netip.MustParsePrefix("192.0.2.10/32"),
		Secret: []byte("example-secret"),
	})
	if err != nil {
		panic(err)
	}
	var sessions radius.Sessions
	handler := radius.HandlerFunc(func(_ context.Context,
		req *radius.Request) (*layeh.Packet, error) {
		if req.State() == nil {
			state, err := sessions.New(req.NAS.Name, req.CallingStationID(), "round 1")
			if err != nil {
				return nil, err
			}
			reply := req.Reply(layeh.CodeAccessChallenge)
			if err := rfc2865.State_Set(reply, state); err != nil {
				return nil, err
			}
			return reply, nil
		}
		if _, err := sessions.Lookup(req); errors.Is(err, radius.ErrUnknownState) {
			return req.Reply(layeh.CodeAccessReject), nil
		}
		sessions.Delete(req.State())
		reply := req.Reply(layeh.CodeAccessAccept)
		if err := radius.AddVLAN(reply, "100", req.NAS.TunnelTag); err != nil {
			return nil, err
		}
		sendKey, recvKey := make([]byte, 32), make([]byte, 32)
		if err := radius.AddMPPEKeys(reply, req.Packet, sendKey, recvKey); err != nil {
			return nil, err
		}
		return reply, nil
	})
	// ListenAndServe serves until Shutdown.
	server := &radius.Server{Addr: "127.0.0.1:0", Clients: clients, Handler: handler}
	fmt.Println(server.Clients.Clients()[0])
	// Output: switch-1 (192.0.2.10/32)
}
