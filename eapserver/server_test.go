package eapserver_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	layeh "layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/radius"
	"github.com/brski-eap/brski/registrar"
)

// maxESTRoundTrips bounds the RADIUS round trips of an EAP-EST bootstrap.
const maxESTRoundTrips = 11

// enrolled is a device after bootstrapping over EAP-EST.
type enrolled struct {
	ldevid tls.Certificate
	res    *pledge.Result
	nas    *pledge.NAS
}

// bootstrap runs the pledge of serial over EAP-EST through a simulated
// NAS and checks the Access-Accept.
func (e *env) bootstrap(serial, mac string) enrolled {
	e.t.Helper()
	return e.bootstrapWithin(serial, mac, maxESTRoundTrips)
}

// bootstrapWithin is bootstrap with a bound on the round trips.
func (e *env) bootstrapWithin(serial, mac string, maxTrips int) enrolled {
	e.t.Helper()
	p := e.mint(serial)
	nas := e.nas(mac)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, pr, err := p.BootstrapEAP(ctx, nas, pledge.EAPConfig{})
	if err != nil {
		e.t.Fatalf("BootstrapEAP: %v", err)
	}
	if pr.Status != eap.StatusSuccess {
		e.t.Fatalf("peer status = %v, want success", pr.Status)
	}
	e.checkAccept(nas, pr.MSK)
	e.t.Logf("EAP-EST bootstrap: %d RADIUS round trips", nas.RoundTrips())
	// At Framed-MTU 1400 the bound is exact: Identity, the Nak, two for the
	// handshake (the server flight without the domain CA fits one
	// fragment), three for the voucher request and the voucher of about
	// 2 kB each, one for the pipelined cacerts, csrattrs and
	// voucher_status, one for simpleenroll, one for enrollstatus and one
	// for close_notify. The simpleenroll response is about 35 octets below
	// one fragment here, so larger certificates can add a round. The peer
	// holds each Response until the pledge writes, so no idle poll is
	// counted unless a step takes longer than eapest.DefaultPeerHold or
	// the MASA longer than the round budget.
	if nas.RoundTrips() > maxTrips {
		e.t.Errorf("EAP-EST bootstrap took %d round trips, want at most %d",
			nas.RoundTrips(), maxTrips)
	}
	cert := tls.Certificate{Certificate: [][]byte{res.LDevID.Raw}, PrivateKey: res.Key,
		Leaf: res.LDevID}
	return enrolled{ldevid: cert, res: res, nas: nas}
}

// checkAccept checks the final reply of nas: Access-Accept with the VLAN
// triplet under the client's tag, the other policy attributes, and MPPE
// keys that decrypt to the halves of the peer's MSK.
func (e *env) checkAccept(nas *pledge.NAS, msk []byte) {
	e.t.Helper()
	reply, auth := nas.Final()
	if reply == nil || reply.Code != layeh.CodeAccessAccept {
		e.t.Fatalf("final reply = %v, want Access-Accept (result %+v)", reply, e.lastResult())
	}
	vlan, ok := radius.ParseVLAN(reply)
	if diff := cmp.Diff(radius.VLAN{Group: "100", Tag: 3}, vlan); !ok || diff != "" {
		e.t.Errorf("VLAN (-want +got):\n%s", diff)
	}
	if got := rfc2865.FilterID_GetString(reply); got != "enrolled" {
		e.t.Errorf("Filter-Id = %q, want enrolled", got)
	}
	if got := rfc2865.SessionTimeout_Get(reply); got != 3600 {
		e.t.Errorf("Session-Timeout = %d, want 3600", got)
	}
	if got := rfc2865.TerminationAction_Get(reply); got != 1 {
		e.t.Errorf("Termination-Action = %d, want RADIUS-Request (1)", got)
	}
	if len(reply.Attributes.Get(rfc2865.VendorSpecific_Type)) < 3 {
		e.t.Errorf("want two MS-MPPE keys and Cisco-AVPair as Vendor-Specific")
	}
	send, recv, err := radius.MPPEKeys(reply, auth)
	if err != nil {
		e.t.Fatalf("MPPEKeys: %v", err)
	}
	if len(msk) != 64 || !bytes.Equal(recv, msk[:32]) || !bytes.Equal(send, msk[32:]) {
		e.t.Errorf("MPPE keys do not match the peer's MSK:\nsend %x\nrecv %x\nmsk  %x",
			send, recv, msk)
	}
	eapMsg, _ := radius.EAPMessage(reply)
	if p, err := eap.Parse(eapMsg); err != nil || p.Code != eap.CodeSuccess {
		e.t.Errorf("Accept EAP-Message = %v (%v), want EAP-Success", p, err)
	}
}

// checkReject checks that nas ended with Access-Reject and EAP-Failure.
func checkReject(t *testing.T, reply *layeh.Packet) {
	t.Helper()
	if reply == nil || reply.Code != layeh.CodeAccessReject {
		t.Fatalf("reply = %v, want Access-Reject", reply)
	}
	msg, _ := radius.EAPMessage(reply)
	if p, err := eap.Parse(msg); err != nil || p.Code != eap.CodeFailure {
		t.Errorf("Reject EAP-Message = %v (%v), want EAP-Failure", p, err)
	}
}

func TestBootstrapThenEAPTLS(t *testing.T) {
	e := newEnv(t)
	dev := e.bootstrap("SN-1001", "02-00-00-00-10-01")
	got := e.lastResult()
	want := eapserver.Result{NAS: "switch-1", CallingStationID: "02-00-00-00-10-01",
		Identity: "SN-1001", Serial: "SN-1001", Outcome: "accept", Rule: "acme", VLAN: "100"}
	if diff := cmp.Diff(want, summary(got)); diff != "" {
		t.Errorf("EAP-EST result (-want +got):\n%s", diff)
	}
	if got.MethodName() != "EAP-EST" {
		t.Errorf("method = %s, want EAP-EST", got.MethodName())
	}

	ctx := context.Background()
	pr, err := pledge.AuthenticateTLS(ctx, dev.nas, dev.ldevid, pool(dev.res.DomainCAs...),
		pledge.EAPConfig{})
	if err != nil {
		t.Fatalf("AuthenticateTLS: %v (result %+v)", err, e.lastResult())
	}
	e.checkAccept(dev.nas, pr.MSK)
	t.Logf("EAP-TLS at Framed-MTU 1400: %d RADIUS round trips, %d after the Identity",
		dev.nas.RoundTrips(), dev.nas.RoundTrips()-1)
	if dev.nas.RoundTrips()-1 > 4 {
		t.Errorf("EAP-TLS took %d round trips after the Identity, want at most 4",
			dev.nas.RoundTrips()-1)
	}
	got = e.lastResult()
	if got.MethodName() != "EAP-TLS" || got.Serial != "SN-1001" || got.VLAN != "100" {
		t.Errorf("EAP-TLS result = %+v, want EAP-TLS for SN-1001 in VLAN 100", got)
	}
}

// summary keeps the fields of a Result that do not vary between runs.
func summary(r eapserver.Result) eapserver.Result {
	return eapserver.Result{NAS: r.NAS, CallingStationID: r.CallingStationID,
		Identity: r.Identity, Serial: r.Serial, Outcome: r.Outcome, Rule: r.Rule,
		VLAN: r.VLAN}
}

func TestReplayAfterAcceptGetsReject(t *testing.T) {
	e := newEnv(t)
	dev := e.bootstrap("SN-1002", "02-00-00-00-10-02")
	last := dev.nas.LastRequest()
	replay := layeh.New(layeh.CodeAccessRequest, nil)
	replay.Attributes = last.Attributes
	// A new Request Authenticator makes it a new request, not a
	// retransmission that the duplicate cache would answer.
	if bytes.Equal(replay.Authenticator[:], last.Authenticator[:]) {
		t.Fatal("replay has the same authenticator")
	}
	reply, err := e.client(0).Exchange(context.Background(), replay)
	if err != nil {
		t.Fatal(err)
	}
	checkReject(t, reply)
	if !errors.Is(e.lastResult().Err, radius.ErrUnknownState) {
		t.Errorf("reject cause = %v, want ErrUnknownState", e.lastResult().Err)
	}
}

func TestEAPTLSPolicyByNASPort(t *testing.T) {
	e := newEnv(t)
	dev := e.bootstrap("SN-1003", "02-00-00-00-10-03")
	tests := []struct {
		port     string
		wantCode layeh.Code
		wantVLAN string
		wantRule string
	}{
		{"blocked", layeh.CodeAccessReject, "", "blocked-port"},
		{"guest-7", layeh.CodeAccessAccept, "guest", "guest-port"},
		{"ge-0/0/7", layeh.CodeAccessAccept, "100", "acme"},
	}
	for _, tt := range tests {
		t.Run(tt.port, func(t *testing.T) {
			nas := e.nas("02-00-00-00-10-03")
			nas.PortID = tt.port
			_, err := pledge.AuthenticateTLS(context.Background(), nas, dev.ldevid,
				pool(dev.res.DomainCAs...), pledge.EAPConfig{})
			reply, _ := nas.Final()
			if reply == nil || reply.Code != tt.wantCode {
				t.Fatalf("reply = %v (error %v), want %v", reply, err, tt.wantCode)
			}
			if tt.wantCode == layeh.CodeAccessReject {
				checkReject(t, reply)
			}
			vlan, _ := radius.ParseVLAN(reply)
			if vlan.Group != tt.wantVLAN {
				t.Errorf("VLAN = %q, want %q", vlan.Group, tt.wantVLAN)
			}
			if got := e.lastResult(); got.Rule != tt.wantRule {
				t.Errorf("rule = %q, want %q", got.Rule, tt.wantRule)
			}
		})
	}
}

func TestEAPESTPolicyRejectGetsReject(t *testing.T) {
	e := newEnv(t)
	p := e.mint("SN-1004")
	nas := e.nas("02-00-00-00-10-04")
	nas.PortID = "blocked"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, _, err := p.BootstrapEAP(ctx, nas, pledge.EAPConfig{}); err == nil {
		t.Error("BootstrapEAP succeeded on a blocked port")
	}
	reply, _ := nas.Final()
	checkReject(t, reply)
	got := e.lastResult()
	if got.MethodName() != "EAP-EST" || got.Rule != "blocked-port" ||
		got.Outcome != eapserver.OutcomeReject {
		t.Errorf("result = %+v, want an EAP-EST reject by rule blocked-port", got)
	}
}

// TestSlowMASAPollsInsideTunnel holds the MASA until the registrar has
// answered the voucher request with 202, so the pledge waits for
// Retry-After inside the tunnel while the EAP-EST rounds keep the RADIUS
// conversation alive.
func TestSlowMASAPollsInsideTunnel(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	e := newEnvWith(t, func(o *registrar.Options) {
		o.VoucherWait = 50 * time.Millisecond
		o.RetryAfter = time.Second
		o.OnRequest = func(l registrar.RequestLog) {
			if l.Status == http.StatusAccepted {
				once.Do(func() { close(release) })
			}
		}
	})
	e.mu.Lock()
	e.masaHold = release
	e.mu.Unlock()
	// The wait of about one second adds polls, about one per
	// eapest.DefaultPeerHold.
	dev := e.bootstrapWithin("SN-1005", "02-00-00-00-10-05", 2*maxESTRoundTrips)
	select {
	case <-release:
	default:
		t.Fatal("the registrar never answered 202")
	}
	if dev.res.LDevID == nil {
		t.Fatal("no LDevID")
	}
	t.Logf("bootstrap with a 202 took %d RADIUS round trips", dev.nas.RoundTrips())
}
