package pledge

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	layeh "layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"

	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/radius"
)

// nasRequest is what the test server saw of one Access-Request.
type nasRequest struct {
	UserName, NASIdentifier, CallingStationID, PortID string
	PortType                                          rfc2865.NASPortType
	FramedMTU                                         rfc2865.FramedMTU
	State                                             string
	EAP                                               []byte
}

// startTwoRoundServer serves a RADIUS conversation of one Challenge and
// one Accept with VLAN 42, and records the requests.
func startTwoRoundServer(t *testing.T) (string, func() []nasRequest) {
	t.Helper()
	var mu sync.Mutex
	var seen []nasRequest
	success, _ := (&eap.Packet{Code: eap.CodeSuccess, Identifier: 2}).Marshal()
	start, _ := (&eap.Packet{Code: eap.CodeRequest, Identifier: 2, Type: eap.TypeTLS,
		Data: []byte{0x20}}).Marshal()
	h := radius.HandlerFunc(func(_ context.Context, req *radius.Request) (*layeh.Packet,
		error) {
		p := req.Packet
		mtu, _ := rfc2865.FramedMTU_Lookup(p)
		mu.Lock()
		seen = append(seen, nasRequest{UserName: req.UserName(),
			NASIdentifier:    rfc2865.NASIdentifier_GetString(p),
			CallingStationID: req.CallingStationID(), PortID: rfc2869.NASPortID_GetString(p),
			PortType: rfc2865.NASPortType_Get(p), FramedMTU: mtu, State: string(req.State()),
			EAP: req.EAPMessage()})
		mu.Unlock()
		if req.State() == nil {
			reply := req.Reply(layeh.CodeAccessChallenge)
			rfc2865.State_Set(reply, []byte("state-1"))
			return reply, radius.SetEAPMessage(reply, start)
		}
		reply := req.Reply(layeh.CodeAccessAccept)
		if err := radius.AddVLAN(reply, "42", 0); err != nil {
			return nil, err
		}
		return reply, radius.SetEAPMessage(reply, success)
	})
	clients, err := radius.NewClientTable(radius.NAS{Name: "test",
		Prefix: netip.MustParsePrefix("127.0.0.1/32"), Secret: []byte("nas-secret")})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &radius.Server{Clients: clients, Handler: h}
	go srv.Serve(conn)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return conn.LocalAddr().String(), func() []nasRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]nasRequest(nil), seen...)
	}
}

func TestNASConversation(t *testing.T) {
	addr, seen := startTwoRoundServer(t)
	client := &radius.Client{Servers: []radius.ServerAddr{{Addr: addr,
		Secret: []byte("nas-secret")}}}
	defer client.Close()
	nas := &NAS{Client: client, CallingStationID: "02-00-00-00-00-01", PortID: "port-7"}
	ctx := context.Background()
	msg, err := nas.Exchange(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, err := eap.Parse(msg)
	if err != nil || req.Type != eap.TypeIdentity {
		t.Fatalf("first packet = %v (%v), want the NAS's Identity Request", req, err)
	}
	identity, _ := eap.NewIdentityResponse(req.Identifier, "SN-1").Marshal()
	if _, err := nas.Exchange(ctx, identity); err != nil {
		t.Fatal(err)
	}
	ack := []byte{byte(eap.CodeResponse), 2, 0, 6, byte(eap.TypeTLS), 0}
	msg, err = nas.Exchange(ctx, ack)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := eap.Parse(msg); err != nil || p.Code != eap.CodeSuccess {
		t.Errorf("last packet = %v (%v), want EAP-Success", p, err)
	}
	base := nasRequest{UserName: "SN-1", NASIdentifier: "brski-nas",
		CallingStationID: "02-00-00-00-00-01", PortID: "port-7",
		PortType: NASPortTypeEthernet, FramedMTU: DefaultFramedMTU}
	first, second := base, base
	first.EAP = identity
	second.State, second.EAP = "state-1", ack
	if diff := cmp.Diff([]nasRequest{first, second}, seen()); diff != "" {
		t.Errorf("Access-Requests (-want +got):\n%s", diff)
	}
	reply, _ := nas.Final()
	if reply == nil || reply.Code != layeh.CodeAccessAccept {
		t.Fatalf("Final = %v, want Access-Accept", reply)
	}
	if vlan, ok := radius.ParseVLAN(reply); !ok || vlan.Group != "42" {
		t.Errorf("VLAN = %+v, want 42", vlan)
	}
	if nas.RoundTrips() != 2 {
		t.Errorf("RoundTrips = %d, want 2", nas.RoundTrips())
	}
	if _, err := nas.Exchange(ctx, ack); !errors.Is(err, ErrNASFinal) {
		t.Errorf("Exchange after Accept: %v, want ErrNASFinal", err)
	}
}

// FuzzNASReply feeds arbitrary RADIUS replies to the NAS. A reply that it
// accepts yields a non-empty EAP packet.
func FuzzNASReply(f *testing.F) {
	secret := []byte("nas-secret")
	accept := layeh.New(layeh.CodeAccessAccept, secret)
	radius.SetEAPMessage(accept, []byte{3, 1, 0, 4})
	b, _ := accept.Encode()
	f.Add(b)
	challenge := layeh.New(layeh.CodeAccessChallenge, secret)
	rfc2865.State_Set(challenge, []byte("s"))
	radius.SetEAPMessage(challenge, []byte{1, 1, 0, 6, 13, 0x20})
	b, _ = challenge.Encode()
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		reply, err := layeh.Parse(data, secret)
		if err != nil {
			return
		}
		n := &NAS{}
		req := layeh.New(layeh.CodeAccessRequest, secret)
		msg, err := n.handleReply(req, reply)
		if err == nil && len(msg) == 0 {
			t.Fatal("accepted a reply without EAP-Message")
		}
	})
}
