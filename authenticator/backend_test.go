package authenticator

import (
	"context"
	"crypto/md5"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	layeh "layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"

	"github.com/brski-eap/brski/authenticator/pae"
	"github.com/brski-eap/brski/radius"
)

var backendSecret = []byte("backend-test-secret")

// startRADIUS serves handler on 127.0.0.1 port 0 for the client 127.0.0.1.
func startRADIUS(t *testing.T, handler radius.HandlerFunc) string {
	t.Helper()
	table, err := radius.NewClientTable(radius.NAS{Name: "authenticator",
		Prefix: netip.MustParsePrefix("127.0.0.1/32"), Secret: backendSecret})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &radius.Server{Clients: table, Handler: handler}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(conn) }()
	t.Cleanup(func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
	})
	return conn.LocalAddr().String()
}

func newTestBackend(addrs ...string) *RADIUSBackend {
	c := &radius.Client{Timeout: 200 * time.Millisecond, Retries: -1}
	for _, a := range addrs {
		c.Servers = append(c.Servers, radius.ServerAddr{Addr: a, Secret: backendSecret})
	}
	return &RADIUSBackend{
		Client:        c,
		NASIdentifier: "lab-switch",
		NASIP:         netip.MustParseAddr("127.0.0.1"),
		Ports: map[string]PortInfo{"swp1": {Number: 7,
			MAC: net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}}},
		VLANNames: map[string]uint16{"staff": 10},
	}
}

var testRequest = pae.BackendRequest{
	EAP:       []byte{2, 1, 0, 9, 1, 'd', 'e', 'v', '1'},
	Identity:  "dev1",
	MAC:       net.HardwareAddr{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee},
	Port:      "swp1",
	SessionID: "0123456789abcdef",
}

func TestBackendRequestAttributes(t *testing.T) {
	got := make(chan map[string]string, 1)
	addr := startRADIUS(t, func(_ context.Context, req *radius.Request) (*layeh.Packet, error) {
		p := req.Packet
		got <- map[string]string{
			"User-Name":          rfc2865.UserName_GetString(p),
			"NAS-Identifier":     rfc2865.NASIdentifier_GetString(p),
			"NAS-IP-Address":     rfc2865.NASIPAddress_Get(p).String(),
			"NAS-Port":           strconv.Itoa(int(rfc2865.NASPort_Get(p))),
			"NAS-Port-Id":        rfc2869.NASPortID_GetString(p),
			"NAS-Port-Type":      rfc2865.NASPortType_Get(p).String(),
			"Service-Type":       rfc2865.ServiceType_Get(p).String(),
			"Framed-MTU":         strconv.Itoa(int(rfc2865.FramedMTU_Get(p))),
			"Called-Station-Id":  rfc2865.CalledStationID_GetString(p),
			"Calling-Station-Id": rfc2865.CallingStationID_GetString(p),
			"Acct-Session-Id":    rfc2866.AcctSessionID_GetString(p),
			"State":              string(rfc2865.State_Get(p)),
			"EAP-Message":        string(req.EAPMessage()),
		}
		return req.Reply(layeh.CodeAccessReject), nil
	})
	b := newTestBackend(addr)
	defer b.Client.Close()
	req := testRequest
	req.State = []byte("state-1")
	if _, err := b.Exchange(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"User-Name":          "dev1",
		"NAS-Identifier":     "lab-switch",
		"NAS-IP-Address":     "127.0.0.1",
		"NAS-Port":           "7",
		"NAS-Port-Id":        "swp1",
		"NAS-Port-Type":      "Ethernet",
		"Service-Type":       "Framed-User",
		"Framed-MTU":         "1400",
		"Called-Station-Id":  "02-00-00-00-00-01",
		"Calling-Station-Id": "02-AA-BB-CC-DD-EE",
		"Acct-Session-Id":    "0123456789abcdef",
		"State":              "state-1",
		"EAP-Message":        string(testRequest.EAP),
	}
	if diff := cmp.Diff(want, <-got); diff != "" {
		t.Errorf("Access-Request attributes (-want +got):\n%s", diff)
	}
}

func TestBackendReplies(t *testing.T) {
	success := []byte{3, 1, 0, 4}
	tests := []struct {
		name   string
		reply  func(req *radius.Request) *layeh.Packet
		reject string // RejectVLAN
		want   pae.BackendReply
	}{{
		name: "challenge",
		reply: func(req *radius.Request) *layeh.Packet {
			p := req.Reply(layeh.CodeAccessChallenge)
			radius.SetEAPMessage(p, []byte{1, 2, 0, 6, 13, 0x20})
			rfc2865.State_Set(p, []byte("next"))
			return p
		},
		want: pae.BackendReply{Code: pae.ReplyChallenge, EAP: []byte{1, 2, 0, 6, 13, 0x20},
			State: []byte("next")},
	}, {
		name: "accept with VLAN ID",
		reply: func(req *radius.Request) *layeh.Packet {
			p := req.Reply(layeh.CodeAccessAccept)
			radius.SetEAPMessage(p, success)
			radius.AddVLAN(p, "20", 0)
			radius.SetSessionTimeout(p, 90*time.Second, radius.TerminationRADIUSRequest)
			return p
		},
		want: pae.BackendReply{Code: pae.ReplyAccept, EAP: success, VLAN: "20",
			SessionTimeout: 90 * time.Second, TerminationAction: pae.TerminationRADIUSRequest},
	}, {
		name: "accept with VLAN name",
		reply: func(req *radius.Request) *layeh.Packet {
			p := req.Reply(layeh.CodeAccessAccept)
			radius.AddVLAN(p, "staff", 1)
			return p
		},
		want: pae.BackendReply{Code: pae.ReplyAccept, VLAN: "10"},
	}, {
		name: "accept with unknown VLAN name",
		reply: func(req *radius.Request) *layeh.Packet {
			p := req.Reply(layeh.CodeAccessAccept)
			radius.AddVLAN(p, "guests", 0)
			return p
		},
		want: pae.BackendReply{Code: pae.ReplyAccept, VLAN: "guests"},
	}, {
		name:  "reject",
		reply: func(req *radius.Request) *layeh.Packet { return req.Reply(layeh.CodeAccessReject) },
		want:  pae.BackendReply{Code: pae.ReplyReject},
	}, {
		name:   "reject into reject VLAN",
		reply:  func(req *radius.Request) *layeh.Packet { return req.Reply(layeh.CodeAccessReject) },
		reject: "staff",
		want:   pae.BackendReply{Code: pae.ReplyAccept, VLAN: "10"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startRADIUS(t, func(_ context.Context, req *radius.Request) (*layeh.Packet,
				error) {
				return tt.reply(req), nil
			})
			b := newTestBackend(addr)
			b.RejectVLAN = tt.reject
			defer b.Client.Close()
			got, err := b.Exchange(context.Background(), testRequest)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBackendChallengeWithoutEAP(t *testing.T) {
	addr := startRADIUS(t, func(_ context.Context, req *radius.Request) (*layeh.Packet, error) {
		return req.Reply(layeh.CodeAccessChallenge), nil
	})
	b := newTestBackend(addr)
	defer b.Client.Close()
	_, err := b.Exchange(context.Background(), testRequest)
	if !errors.Is(err, ErrUnexpectedReply) {
		t.Errorf("Exchange error = %v, want ErrUnexpectedReply", err)
	}
}

func TestBackendFailsOverFromDeadPrimary(t *testing.T) {
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close() // bound but never read, so requests to it go unanswered
	addr := startRADIUS(t, func(_ context.Context, req *radius.Request) (*layeh.Packet, error) {
		return req.Reply(layeh.CodeAccessAccept), nil
	})
	b := newTestBackend(dead.LocalAddr().String(), addr)
	defer b.Client.Close()
	got, err := b.Exchange(context.Background(), testRequest)
	if err != nil {
		t.Fatal(err)
	}
	if got.Code != pae.ReplyAccept {
		t.Errorf("code = %v, want Access-Accept", got.Code)
	}
	if n := b.Client.Stats().Failovers; n != 1 {
		t.Errorf("failovers = %d, want 1", n)
	}
}

// TestBackendIgnoresForgedReplies responds to each request first with a reply
// whose Response Authenticator is wrong, then with one whose
// Message-Authenticator is wrong, and last with a valid reply.
func TestBackendIgnoresForgedReplies(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go forgingServer(conn)
	b := newTestBackend(conn.LocalAddr().String())
	b.Client.Timeout = 5 * time.Second
	defer b.Client.Close()
	got, err := b.Exchange(context.Background(), testRequest)
	if err != nil {
		t.Fatal(err)
	}
	if got.Code != pae.ReplyAccept {
		t.Errorf("code = %v, want Access-Accept", got.Code)
	}
	if n := b.Client.Stats().BadResponses; n != 2 {
		t.Errorf("bad responses = %d, want 2", n)
	}
}

// forgingServer sends two forged replies and one valid reply to each
// request on conn.
func forgingServer(conn net.PacketConn) {
	buf := make([]byte, 4096)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return
		}
		req, err := layeh.Parse(buf[:n], backendSecret)
		if err != nil {
			continue
		}
		reply := req.Response(layeh.CodeAccessAccept)
		good, err := radius.EncodeResponse(reply, req)
		if err != nil {
			continue
		}
		badAuth := append([]byte(nil), good...)
		badAuth[4] ^= 0xff // Response Authenticator
		badMA := append([]byte(nil), good...)
		badMA[len(badMA)-1] ^= 0xff // last octet of the Message-Authenticator
		// Recompute the Response Authenticator so that only the
		// Message-Authenticator is wrong.
		copy(badMA[4:20], req.Authenticator[:])
		sum := md5.Sum(append(badMA, backendSecret...))
		copy(badMA[4:20], sum[:])
		for _, b := range [][]byte{badAuth, badMA, good} {
			conn.WriteTo(b, from)
		}
	}
}
