package pledge

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/brski-eap/brski/authenticator"
	"github.com/brski-eap/brski/authenticator/eapol"
)

var (
	pledgeMAC  = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x10}
	authMAC    = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x20}
	otherMAC   = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x30}
	identityRq = []byte{1, 7, 0, 5, 1}
)

// fakeLink is a frameConn whose received frames come from a channel. Its
// onWrite hook plays the authenticator.
type fakeLink struct {
	in      chan any // authenticator.Frame or error
	onWrite func(l *fakeLink, dst net.HardwareAddr, p *eapol.PDU)

	mu       sync.Mutex
	deadline time.Time
	changed  chan struct{}
	sent     []eapol.PacketType
}

func newFakeLink(onWrite func(l *fakeLink, dst net.HardwareAddr, p *eapol.PDU)) *fakeLink {
	return &fakeLink{in: make(chan any, 64), onWrite: onWrite, changed: make(chan struct{})}
}

func (l *fakeLink) Interface() *net.Interface {
	return &net.Interface{Name: "fake0", HardwareAddr: pledgeMAC}
}

func (l *fakeLink) ReadFrame() (authenticator.Frame, error) {
	for {
		l.mu.Lock()
		deadline, changed := l.deadline, l.changed
		l.mu.Unlock()
		var expire <-chan time.Time
		if !deadline.IsZero() {
			timer := time.NewTimer(time.Until(deadline))
			defer timer.Stop()
			expire = timer.C
		}
		select {
		case v := <-l.in:
			if err, ok := v.(error); ok {
				return authenticator.Frame{}, err
			}
			return v.(authenticator.Frame), nil
		case <-expire:
			return authenticator.Frame{}, os.ErrDeadlineExceeded
		case <-changed:
		}
	}
}

func (l *fakeLink) WriteFrame(dst net.HardwareAddr, p *eapol.PDU) error {
	l.mu.Lock()
	l.sent = append(l.sent, p.Type)
	l.mu.Unlock()
	if l.onWrite != nil {
		l.onWrite(l, dst, p)
	}
	return nil
}

func (l *fakeLink) SetReadDeadline(t time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.deadline = t
	close(l.changed)
	l.changed = make(chan struct{})
	return nil
}

func (l *fakeLink) Close() error { return nil }

func (l *fakeLink) sentTypes() []eapol.PacketType {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]eapol.PacketType(nil), l.sent...)
}

func (l *fakeLink) deliver(src, dst net.HardwareAddr, typ eapol.PacketType, body []byte) {
	l.in <- authenticator.Frame{
		Header: eapol.EthernetHeader{Source: src, Destination: dst},
		PDU:    &eapol.PDU{Version: 2, Type: typ, Body: body},
	}
}

// answerStart returns an onWrite hook that responds to the n-th
// EAPOL-Start with an EAP-Request/Identity from authMAC.
func answerStart(n int) func(*fakeLink, net.HardwareAddr, *eapol.PDU) {
	starts := 0
	return func(l *fakeLink, _ net.HardwareAddr, p *eapol.PDU) {
		if p.Type != eapol.TypeStart {
			return
		}
		starts++
		if starts == n {
			l.deliver(authMAC, eapol.PAEGroupAddress(), eapol.TypeEAPPacket, identityRq)
		}
	}
}

var fastEAPOL = EAPOLConfig{StartPeriod: 20 * time.Millisecond, MaxStart: 3,
	AuthPeriod: 50 * time.Millisecond}

func TestEAPOLStartRetransmitted(t *testing.T) {
	link := newFakeLink(answerStart(3))
	tr := newEAPOLTransport(link, fastEAPOL)
	got, err := tr.Exchange(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(identityRq, got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	want := []eapol.PacketType{eapol.TypeStart, eapol.TypeStart, eapol.TypeStart}
	if diff := cmp.Diff(want, link.sentTypes()); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(authMAC, tr.Authenticator()); diff != "" {
		t.Errorf("authenticator (-want +got):\n%s", diff)
	}
}

func TestEAPOLNoAuthenticator(t *testing.T) {
	link := newFakeLink(nil)
	tr := newEAPOLTransport(link, fastEAPOL)
	_, err := tr.Exchange(context.Background(), nil)
	if !errors.Is(err, ErrNoAuthenticator) {
		t.Fatalf("Exchange error = %v, want ErrNoAuthenticator", err)
	}
	if n := len(link.sentTypes()); n != fastEAPOL.MaxStart {
		t.Errorf("sent %d EAPOL-Start, want %d", n, fastEAPOL.MaxStart)
	}
}

func TestEAPOLAuthenticatorTimeout(t *testing.T) {
	link := newFakeLink(answerStart(1))
	tr := newEAPOLTransport(link, fastEAPOL)
	if _, err := tr.Exchange(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	_, err := tr.Exchange(context.Background(), []byte{2, 7, 0, 6, 1, 'x'})
	if !errors.Is(err, ErrAuthenticatorTimeout) {
		t.Errorf("Exchange error = %v, want ErrAuthenticatorTimeout", err)
	}
}

func TestEAPOLContextCanceled(t *testing.T) {
	link := newFakeLink(nil)
	tr := newEAPOLTransport(link, EAPOLConfig{StartPeriod: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	link.onWrite = func(*fakeLink, net.HardwareAddr, *eapol.PDU) { cancel() }
	if _, err := tr.Exchange(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Exchange error = %v, want context.Canceled", err)
	}
}

// TestEAPOLDropsForeignFrames delivers frames that the transport must
// ignore before the one it must return.
func TestEAPOLDropsForeignFrames(t *testing.T) {
	success := []byte{3, 7, 0, 4}
	group := eapol.PAEGroupAddress()
	link := newFakeLink(answerStart(1))
	tr := newEAPOLTransport(link, fastEAPOL)
	if _, err := tr.Exchange(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	link.onWrite = func(l *fakeLink, _ net.HardwareAddr, p *eapol.PDU) {
		l.in <- &authenticator.MalformedFrameError{Err: eapol.ErrTruncated}
		l.deliver(otherMAC, group, eapol.TypeEAPPacket, success)           // second authenticator
		l.deliver(authMAC, otherMAC, eapol.TypeEAPPacket, success)         // to another host
		l.deliver(authMAC, group, eapol.TypeKey, []byte{1, 2, 3, 4})       // EAPOL-Key
		l.deliver(authMAC, group, eapol.PacketType(200), success)          // unknown type
		l.deliver(authMAC, group, eapol.TypeEAPPacket, []byte{2, 7, 0, 4}) // a Response
		l.deliver(authMAC, group, eapol.TypeEAPPacket, []byte{1, 2})       // too short
		l.deliver(pledgeMAC, group, eapol.TypeEAPPacket, success)          // our own
		l.deliver(authMAC, pledgeMAC, eapol.TypeEAPPacket, success)
	}
	got, err := tr.Exchange(context.Background(), []byte{2, 7, 0, 6, 1, 'x'})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(success, got); diff != "" {
		t.Errorf("packet (-want +got):\n%s", diff)
	}
	if n := tr.Dropped(); n != 8 {
		t.Errorf("dropped %d frames, want 8", n)
	}
}

func TestEAPOLSkipsTriedAuthenticator(t *testing.T) {
	link := newFakeLink(func(l *fakeLink, _ net.HardwareAddr, p *eapol.PDU) {
		if p.Type == eapol.TypeStart {
			l.deliver(authMAC, eapol.PAEGroupAddress(), eapol.TypeEAPPacket, identityRq)
			l.deliver(otherMAC, eapol.PAEGroupAddress(), eapol.TypeEAPPacket, identityRq)
		}
	})
	cfg := fastEAPOL
	cfg.Skip = []net.HardwareAddr{authMAC}
	tr := newEAPOLTransport(link, cfg)
	if _, err := tr.Exchange(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(otherMAC, tr.Authenticator()); diff != "" {
		t.Errorf("authenticator (-want +got):\n%s", diff)
	}
}

func TestEAPOLLogoff(t *testing.T) {
	link := newFakeLink(nil)
	tr := newEAPOLTransport(link, fastEAPOL)
	if err := tr.Logoff(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]eapol.PacketType{eapol.TypeLogoff}, link.sentTypes()); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
}

func FuzzEAPOLAccept(f *testing.F) {
	group := eapol.PAEGroupAddress()
	short := append(append([]byte(nil), group...), authMAC...)
	short = append(short, 0x88, 0x8e, 2, 0, 0, 2, 1, 2) // EAP body of 2 octets
	f.Add(short)
	for _, body := range [][]byte{identityRq, {3, 7, 0, 4}, {2, 7, 0, 4}} {
		frame, err := eapol.MarshalFrame(group, authMAC, &eapol.PDU{Type: eapol.TypeEAPPacket,
			Body: body})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, pdu, err := eapol.ParseFrame(b)
		if err != nil {
			return
		}
		tr := newEAPOLTransport(newFakeLink(nil), fastEAPOL)
		msg, ok := tr.accept(authenticator.Frame{Header: h, PDU: pdu})
		if !ok {
			return
		}
		if len(msg) < 4 || (msg[0] != 1 && msg[0] != 3 && msg[0] != 4) {
			t.Fatalf("accepted %x, which is no EAP Request, Success or Failure", msg)
		}
	})
}
