package pae

import (
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/brski-eap/brski/authenticator/eapol"
)

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0A}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0B}
)

// harness runs one Port named p1 on fakes.
type harness struct {
	port    *Port
	clock   *fakeClock
	tx      *fakeSender
	ctl     *fakeController
	backend *fakeBackend

	mu      sync.Mutex
	events  []Event
	changed chan struct{} // receives a value after each new event
}

// newHarness starts the port and consumes the announcement that LinkUp
// sends to the PAE group address.
func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{
		clock:   newFakeClock(),
		tx:      &fakeSender{frames: make(chan sentFrame, 64)},
		ctl:     &fakeController{},
		backend: &fakeBackend{calls: make(chan exchangeCall, 8)},
		changed: make(chan struct{}, 1),
	}
	cfg.Clock = h.clock
	cfg.Observe = func(e Event) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.events = append(h.events, e)
		select {
		case h.changed <- struct{}{}:
		default:
		}
	}
	port, err := NewPort("p1", h.tx, h.ctl, h.backend, cfg)
	if err != nil {
		t.Fatalf("NewPort: %v", err)
	}
	h.port = port
	t.Cleanup(port.Close)
	if err := port.LinkUp(); err != nil {
		t.Fatalf("LinkUp: %v", err)
	}
	f := h.frame(t)
	if !sameMAC(f.dst, eapol.PAEGroupAddress()) || f.eap[0] != eapRequest || f.eap[4] != 1 {
		t.Fatalf("announcement = %x to %v, want Request/Identity to the group", f.eap, f.dst)
	}
	h.ctl.takeCalls()
	return h
}

func (h *harness) start(mac net.HardwareAddr) {
	h.port.HandleFrame(mac, &eapol.PDU{Version: eapol.Version2001, Type: eapol.TypeStart})
}

func (h *harness) logoff(mac net.HardwareAddr) {
	h.port.HandleFrame(mac, &eapol.PDU{Version: eapol.Version2004, Type: eapol.TypeLogoff})
}

func (h *harness) eap(mac net.HardwareAddr, eap []byte) {
	h.port.HandleFrame(mac, &eapol.PDU{Version: eapol.Version2004, Type: eapol.TypeEAPPacket,
		Body: eap})
}

// frame waits for the next transmitted frame and then for the port lock.
// The PAE sends only while it holds the lock, so once the lock is free the
// handler that sent the frame has finished, timers included.
func (h *harness) frame(t *testing.T) sentFrame {
	t.Helper()
	f := h.tx.next(t)
	h.port.Sessions()
	return f
}

// requestTo waits for an EAP-Request to mac and returns it.
func (h *harness) requestTo(t *testing.T, mac net.HardwareAddr) []byte {
	t.Helper()
	f := h.frame(t)
	if !sameMAC(f.dst, mac) {
		t.Fatalf("frame to %v, want %v", f.dst, mac)
	}
	if f.eap[0] != eapRequest {
		t.Fatalf("EAP code %d in %x, want a Request", f.eap[0], f.eap)
	}
	return f.eap
}

// identify replies to the Request/Identity with a Response/Identity and
// returns the Backend call that it causes.
func (h *harness) identify(t *testing.T, mac net.HardwareAddr, req []byte) exchangeCall {
	t.Helper()
	h.eap(mac, identityResponse(req[1], "pledge"))
	return h.backend.next(t)
}

// connect runs EAPOL-Start and the identity exchange for mac.
func (h *harness) connect(t *testing.T, mac net.HardwareAddr) exchangeCall {
	t.Helper()
	h.start(mac)
	return h.identify(t, mac, h.requestTo(t, mac))
}

// authenticate runs a whole exchange that ends in an Access-Accept.
func (h *harness) authenticate(t *testing.T, mac net.HardwareAddr, accept BackendReply) {
	t.Helper()
	call := h.connect(t, mac)
	accept.Code = ReplyAccept
	call.reply <- exchangeResult{reply: accept}
	if f := h.frame(t); f.eap[0] != eapSuccess {
		t.Fatalf("after Accept sent %x, want EAP-Success", f.eap)
	}
}

// waitEvent waits until an event of kind arrives and returns the last one.
// It is how tests wait for a Backend reply that sends no frame.
func (h *harness) waitEvent(t *testing.T, kind EventKind) Event {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		h.mu.Lock()
		for _, e := range slices.Backward(h.events) {
			if e.Kind == kind {
				h.mu.Unlock()
				return e
			}
		}
		h.mu.Unlock()
		select {
		case <-h.changed:
		case <-deadline:
			t.Fatalf("no %v event", kind)
		}
	}
}

func (h *harness) session(t *testing.T, mac net.HardwareAddr) (SessionInfo, bool) {
	t.Helper()
	for _, s := range h.port.Sessions() {
		if sameMAC(s.MAC, mac) {
			return s, true
		}
	}
	return SessionInfo{}, false
}

func (h *harness) requireState(t *testing.T, mac net.HardwareAddr, state string,
	authorized bool) {
	t.Helper()
	s, ok := h.session(t, mac)
	if !ok {
		t.Fatalf("no session for %v, want state %s", mac, state)
	}
	if s.State != state {
		t.Errorf("state of %v = %s, want %s", mac, s.State, state)
	}
	if s.Authorized != authorized {
		t.Errorf("authorized of %v = %v, want %v", mac, s.Authorized, authorized)
	}
}

func (h *harness) requireNoSession(t *testing.T, mac net.HardwareAddr) {
	t.Helper()
	if s, ok := h.session(t, mac); ok {
		t.Fatalf("session for %v in state %s, want none", mac, s.State)
	}
}

func (h *harness) requireCalls(t *testing.T, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, h.ctl.takeCalls()); diff != "" {
		t.Errorf("port control calls mismatch (-want +got):\n%s", diff)
	}
}

// lastEvent returns the last event of kind, or fails the test.
func (h *harness) lastEvent(t *testing.T, kind EventKind) Event {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range slices.Backward(h.events) {
		if e.Kind == kind {
			return e
		}
	}
	t.Fatalf("no %v event in %+v", kind, h.events)
	return Event{}
}

func identityResponse(id uint8, identity string) []byte {
	b := []byte{eapResponse, id, 0, byte(5 + len(identity)), eapTypeIdentity}
	return append(b, identity...)
}

// tlsRequest is an EAP-Request of type 13 (EAP-TLS) with the Start flag.
func tlsRequest(id uint8) []byte { return []byte{eapRequest, id, 0, 6, 13, 0x20} }

func tlsResponse(id uint8) []byte { return []byte{eapResponse, id, 0, 6, 13, 0x00} }

func TestStartToAccept(t *testing.T) {
	h := newHarness(t, Config{})
	h.start(macA)
	req := h.requestTo(t, macA)
	if diff := cmp.Diff(identityRequest(req[1]), req); diff != "" {
		t.Fatalf("Request/Identity mismatch (-want +got):\n%s", diff)
	}
	call := h.identify(t, macA, req)
	want := BackendRequest{
		EAP: identityResponse(req[1], "pledge"), Identity: "pledge",
		MAC: macA, Port: "p1", SessionID: call.req.SessionID,
	}
	if diff := cmp.Diff(want, call.req); diff != "" {
		t.Errorf("first BackendRequest mismatch (-want +got):\n%s", diff)
	}
	h.requireState(t, macA, "authenticating", false)

	call.reply <- exchangeResult{reply: BackendReply{
		Code: ReplyChallenge, EAP: tlsRequest(42), State: []byte("s1"),
	}}
	if diff := cmp.Diff(tlsRequest(42), h.requestTo(t, macA)); diff != "" {
		t.Errorf("relayed challenge mismatch (-want +got):\n%s", diff)
	}
	h.eap(macA, tlsResponse(42))
	second := h.backend.next(t)
	if diff := cmp.Diff([]byte("s1"), second.req.State); diff != "" {
		t.Errorf("State of second request mismatch (-want +got):\n%s", diff)
	}
	if second.req.SessionID != call.req.SessionID {
		t.Errorf("SessionID changed from %q to %q", call.req.SessionID, second.req.SessionID)
	}

	second.reply <- exchangeResult{reply: BackendReply{Code: ReplyAccept, VLAN: "10"}}
	f := h.frame(t)
	if diff := cmp.Diff(resultPacket(eapSuccess, 42), f.eap); diff != "" {
		t.Errorf("EAP-Success mismatch (-want +got):\n%s", diff)
	}
	h.requireState(t, macA, "authenticated", true)
	h.requireCalls(t, `authorize p1 02:00:00:00:00:0a "10"`)
	e := h.lastEvent(t, EventAuthorized)
	if e.VLAN != "10" || !sameMAC(e.MAC, macA) {
		t.Errorf("authorized event = %+v, want VLAN 10 for %v", e, macA)
	}
	if e.SessionID != call.req.SessionID {
		t.Errorf("authorized event SessionID = %q, want %q", e.SessionID, call.req.SessionID)
	}
}

func TestAnnouncementStartsSession(t *testing.T) {
	h := newHarness(t, Config{})
	h.eap(macB, identityResponse(h.port.announce.id, "quiet device"))
	call := h.backend.next(t)
	if call.req.Identity != "quiet device" || !sameMAC(call.req.MAC, macB) {
		t.Errorf("BackendRequest = %+v, want identity of %v", call.req, macB)
	}
}

func TestAnnouncementRepeats(t *testing.T) {
	h := newHarness(t, Config{TxPeriod: 10 * time.Second, MaxRequests: 2})
	for i := range 2 {
		h.clock.Advance(10 * time.Second)
		if f := h.frame(t); !sameMAC(f.dst, eapol.PAEGroupAddress()) {
			t.Fatalf("repeat %d went to %v, want the PAE group address", i+1, f.dst)
		}
	}
	h.clock.Advance(time.Minute)
	h.tx.none(t)
}

func TestReject(t *testing.T) {
	h := newHarness(t, Config{QuietPeriod: time.Minute})
	call := h.connect(t, macA)
	call.reply <- exchangeResult{reply: BackendReply{Code: ReplyReject}}
	if f := h.frame(t); f.eap[0] != eapFailure {
		t.Fatalf("after Reject sent %x, want EAP-Failure", f.eap)
	}
	h.requireState(t, macA, "held", false)
	h.requireCalls(t)

	h.clock.Advance(30 * time.Second)
	h.start(macA)
	h.tx.none(t)
	if e := h.lastEvent(t, EventFrameDropped); e.Reason != "EAPOL-Start in the quiet period" {
		t.Errorf("drop reason = %q, want the quiet period", e.Reason)
	}

	h.logoff(macA)
	h.requireState(t, macA, "held", false)

	h.clock.Advance(30 * time.Second)
	h.requestTo(t, macA)
	h.requireState(t, macA, "connecting", false)
}

func TestTxPeriodRetransmits(t *testing.T) {
	h := newHarness(t, Config{TxPeriod: 5 * time.Second, MaxRequests: 2})
	h.start(macA)
	first := h.requestTo(t, macA)
	for i := range 2 {
		h.clock.Advance(5 * time.Second)
		if diff := cmp.Diff(first, h.requestTo(t, macA)); diff != "" {
			t.Fatalf("retransmission %d mismatch (-want +got):\n%s", i+1, diff)
		}
	}
	h.clock.Advance(5 * time.Second)
	h.tx.none(t)
	h.requireNoSession(t, macA)
	if e := h.lastEvent(t, EventSessionEnded); e.Reason != ReasonSupplicantTimeout {
		t.Errorf("end reason = %q, want %q", e.Reason, ReasonSupplicantTimeout)
	}
}

func TestSupplicantTimeout(t *testing.T) {
	h := newHarness(t, Config{SupplicantTimeout: 20 * time.Second, MaxRequests: 1})
	call := h.connect(t, macA)
	call.reply <- exchangeResult{reply: BackendReply{Code: ReplyChallenge, EAP: tlsRequest(9)}}
	h.requestTo(t, macA)
	h.clock.Advance(20 * time.Second)
	if diff := cmp.Diff(tlsRequest(9), h.requestTo(t, macA)); diff != "" {
		t.Fatalf("retransmission mismatch (-want +got):\n%s", diff)
	}
	h.clock.Advance(20 * time.Second)
	h.requireNoSession(t, macA)
	h.tx.none(t)
}

func TestStartMidExchange(t *testing.T) {
	h := newHarness(t, Config{StartInterval: time.Second})
	call := h.connect(t, macA)
	call.reply <- exchangeResult{reply: BackendReply{Code: ReplyChallenge, EAP: tlsRequest(3)}}
	h.requestTo(t, macA)

	h.clock.Advance(2 * time.Second)
	h.start(macA)
	if diff := cmp.Diff(tlsRequest(3), h.requestTo(t, macA)); diff != "" {
		t.Errorf("repeated request mismatch (-want +got):\n%s", diff)
	}
	h.start(macA)
	h.tx.none(t)
	want := "EAPOL-Start within StartInterval of the previous one"
	if e := h.lastEvent(t, EventFrameDropped); e.Reason != want {
		t.Errorf("drop reason = %q, want %q", e.Reason, want)
	}
	h.requireState(t, macA, "authenticating", false)
}

func TestLogoff(t *testing.T) {
	h := newHarness(t, Config{})
	h.authenticate(t, macA, BackendReply{})
	h.requireCalls(t, `authorize p1 02:00:00:00:00:0a ""`)
	h.logoff(macA)
	h.requireNoSession(t, macA)
	h.requireCalls(t, "deauthorize p1 02:00:00:00:00:0a")
	if e := h.lastEvent(t, EventSessionEnded); e.Reason != ReasonLogoff {
		t.Errorf("end reason = %q, want %q", e.Reason, ReasonLogoff)
	}
}

func TestReauthentication(t *testing.T) {
	h := newHarness(t, Config{})
	h.authenticate(t, macA, BackendReply{
		SessionTimeout: time.Hour, TerminationAction: TerminationRADIUSRequest,
	})
	h.ctl.takeCalls()
	h.clock.Advance(time.Hour)
	req := h.requestTo(t, macA)
	h.requireState(t, macA, "connecting", true)

	call := h.identify(t, macA, req)
	call.reply <- exchangeResult{reply: BackendReply{Code: ReplyReject}}
	if f := h.frame(t); f.eap[0] != eapFailure {
		t.Fatalf("after Reject sent %x, want EAP-Failure", f.eap)
	}
	h.waitEvent(t, EventRejected)
	h.requireState(t, macA, "held", false)
	h.requireCalls(t, "deauthorize p1 02:00:00:00:00:0a")
}

func TestSessionTimeoutEndsSession(t *testing.T) {
	h := newHarness(t, Config{})
	h.authenticate(t, macA, BackendReply{SessionTimeout: time.Minute})
	h.ctl.takeCalls()
	h.clock.Advance(time.Minute)
	h.requireNoSession(t, macA)
	h.requireCalls(t, "deauthorize p1 02:00:00:00:00:0a")
	h.tx.none(t)
}

func TestStartReauthenticates(t *testing.T) {
	h := newHarness(t, Config{})
	h.authenticate(t, macA, BackendReply{})
	h.clock.Advance(time.Minute)
	h.start(macA)
	h.requestTo(t, macA)
	h.requireState(t, macA, "connecting", true)
}

func TestLinkDown(t *testing.T) {
	h := newHarness(t, Config{Mode: MultiAuth})
	h.authenticate(t, macA, BackendReply{})
	call := h.connect(t, macB)
	h.ctl.takeCalls()
	h.port.LinkDown()
	h.requireCalls(t, "lock p1")
	if got := h.port.Sessions(); len(got) != 0 {
		t.Errorf("sessions after LinkDown = %+v, want none", got)
	}
	// A reply that arrives after the link went down changes nothing.
	call.reply <- exchangeResult{reply: BackendReply{Code: ReplyAccept}}
	h.port.inflight.Wait()
	h.start(macA)
	h.tx.none(t)
	h.requireCalls(t)
}

func TestHostModes(t *testing.T) {
	t.Run("single-host drops a second MAC", func(t *testing.T) {
		h := newHarness(t, Config{Mode: SingleHost})
		h.authenticate(t, macA, BackendReply{})
		h.start(macB)
		h.tx.none(t)
		h.requireNoSession(t, macB)
	})
	t.Run("multi-host opens the port", func(t *testing.T) {
		h := newHarness(t, Config{Mode: MultiHost})
		h.authenticate(t, macA, BackendReply{VLAN: "20"})
		h.requireCalls(t, `authorize p1 02:00:00:00:00:0a "20"`, "unlock p1")
		h.logoff(macA)
		h.requireCalls(t, "lock p1")
	})
	t.Run("multi-auth authorizes each MAC", func(t *testing.T) {
		h := newHarness(t, Config{Mode: MultiAuth, MaxSessions: 2})
		h.authenticate(t, macA, BackendReply{})
		h.authenticate(t, macB, BackendReply{})
		h.requireCalls(t, `authorize p1 02:00:00:00:00:0a ""`,
			`authorize p1 02:00:00:00:00:0b ""`)
		h.start(net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0C})
		h.tx.none(t)
	})
}

func TestDroppedFrames(t *testing.T) {
	h := newHarness(t, Config{})
	call := h.connect(t, macA)
	tests := []struct {
		name   string
		mac    net.HardwareAddr
		pdu    *eapol.PDU
		reason string
	}{
		{"response while server decides", macA,
			&eapol.PDU{Type: eapol.TypeEAPPacket, Body: tlsResponse(1)},
			"EAP-Response while the server decides"},
		{"request from supplicant", macA,
			&eapol.PDU{Type: eapol.TypeEAPPacket, Body: tlsRequest(1)},
			"EAP code 1 from a supplicant"},
		{"EAPOL-Key", macA, &eapol.PDU{Type: eapol.TypeKey, Body: []byte{1}},
			"EAPOL-Key not handled"},
		{"logoff of stranger", macB, &eapol.PDU{Type: eapol.TypeLogoff},
			"EAPOL-Logoff without a session"},
		{"multicast source", eapol.PAEGroupAddress(), &eapol.PDU{Type: eapol.TypeStart},
			"source is not a unicast MAC address"},
		{"short source", net.HardwareAddr{2, 0, 0}, &eapol.PDU{Type: eapol.TypeStart},
			"source is not a unicast MAC address"},
		{"response of stranger", macB,
			&eapol.PDU{Type: eapol.TypeEAPPacket, Body: tlsResponse(1)},
			"EAP-Response without a session"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.port.HandleFrame(tt.mac, tt.pdu)
			if e := h.lastEvent(t, EventFrameDropped); e.Reason != tt.reason {
				t.Errorf("drop reason = %q, want %q", e.Reason, tt.reason)
			}
			h.tx.none(t)
		})
	}

	call.reply <- exchangeResult{reply: BackendReply{Code: ReplyChallenge, EAP: tlsRequest(5)}}
	h.requestTo(t, macA)
	h.eap(macA, tlsResponse(6))
	want := "EAP-Response Identifier 6 does not match the request"
	if e := h.lastEvent(t, EventFrameDropped); e.Reason != want {
		t.Errorf("drop reason = %q, want %q", e.Reason, want)
	}
}

func TestBackendError(t *testing.T) {
	h := newHarness(t, Config{})
	call := h.connect(t, macA)
	call.reply <- exchangeResult{err: errors.New("no RADIUS server answered")}
	h.waitEvent(t, EventSessionEnded)
	h.requireNoSession(t, macA)
	if e := h.lastEvent(t, EventSessionEnded); e.Reason != ReasonBackendError || e.Err == nil {
		t.Errorf("end event = %+v, want a backend error", e)
	}
	h.tx.none(t)
}

func TestChallengeWithoutRequest(t *testing.T) {
	h := newHarness(t, Config{})
	call := h.connect(t, macA)
	call.reply <- exchangeResult{reply: BackendReply{Code: ReplyChallenge,
		EAP: resultPacket(eapSuccess, 1)}}
	h.waitEvent(t, EventSessionEnded)
	h.requireNoSession(t, macA)
	if e := h.lastEvent(t, EventSessionEnded); !errors.Is(e.Err, errBackendReply) {
		t.Errorf("end error = %v, want errBackendReply", e.Err)
	}
}

func TestAuthorizeFailure(t *testing.T) {
	h := newHarness(t, Config{})
	h.ctl.authorizeErr = errors.New("VLAN conflict")
	call := h.connect(t, macA)
	call.reply <- exchangeResult{reply: BackendReply{Code: ReplyAccept, VLAN: "30"}}
	if f := h.frame(t); f.eap[0] != eapFailure {
		t.Fatalf("after failed authorization sent %x, want EAP-Failure", f.eap)
	}
	h.waitEvent(t, EventSessionEnded)
	h.requireNoSession(t, macA)
	if e := h.lastEvent(t, EventSessionEnded); e.Reason != ReasonPortError {
		t.Errorf("end reason = %q, want %q", e.Reason, ReasonPortError)
	}
}

func TestLinkUpAfterClose(t *testing.T) {
	h := newHarness(t, Config{})
	h.port.Close()
	if err := h.port.LinkUp(); err == nil {
		t.Error("LinkUp after Close succeeded")
	}
}

func TestPortDown(t *testing.T) {
	h := newHarness(t, Config{})
	h.port.LinkDown()
	h.start(macA)
	h.tx.none(t)
	if e := h.lastEvent(t, EventFrameDropped); e.Reason != "port is down" {
		t.Errorf("drop reason = %q, want port is down", e.Reason)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"multi-auth", Config{Mode: MultiAuth, MaxSessions: 4}, true},
		{"bad mode", Config{Mode: 7}, false},
		{"negative timer", Config{QuietPeriod: -time.Second}, false},
		{"negative requests", Config{MaxRequests: -1}, false},
		{"bad version", Config{Version: 4}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func sameMAC(a, b net.HardwareAddr) bool { return string(a) == string(b) }
