package integration

import (
	"encoding/binary"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/packet"

	"github.com/brski-eap/brski/authenticator/eapol"
)

// rawEAPOL is a raw AF_PACKET socket on eth0 of the pledge namespace. It
// writes whole Ethernet frames, so it can send frames that no EAPOL codec
// would encode and use any source address.
type rawEAPOL struct {
	conn *packet.Conn
	mac  net.HardwareAddr
}

func newRawEAPOL(t *testing.T, ns string) *rawEAPOL {
	t.Helper()
	r := &rawEAPOL{}
	err := inLabNamespace(ns, func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		r.mac = ifi.HardwareAddr
		r.conn, err = packet.Listen(ifi, packet.Raw, eapol.EtherType, nil)
		return err
	})
	if err != nil {
		t.Fatalf("open raw socket in %s: %v", ns, err)
	}
	t.Cleanup(func() { r.conn.Close() })
	return r
}

// send writes an Ethernet frame from src to the PAE group address with
// EtherType 0x888E and payload, padded to the minimum frame length.
func (r *rawEAPOL) send(t *testing.T, src net.HardwareAddr, payload []byte) {
	t.Helper()
	frame := append(append(append([]byte(nil), eapol.PAEGroupAddress()...), src...),
		0x88, 0x8e)
	frame = append(frame, payload...)
	for len(frame) < eapol.MinFrameLen {
		frame = append(frame, 0)
	}
	dst := &packet.Addr{HardwareAddr: eapol.PAEGroupAddress()}
	if _, err := r.conn.WriteTo(frame, dst); err != nil {
		t.Fatalf("send raw frame: %v", err)
	}
}

// identityRequests counts the EAP-Request/Identity frames that arrive
// within wait.
func (r *rawEAPOL) identityRequests(t *testing.T, wait time.Duration) int {
	t.Helper()
	buf := make([]byte, 2048)
	n := 0
	r.conn.SetReadDeadline(time.Now().Add(wait))
	for {
		m, _, err := r.conn.ReadFrom(buf)
		if err != nil {
			return n
		}
		_, pdu, err := eapol.ParseFrame(buf[:m])
		if err == nil && pdu.Type == eapol.TypeEAPPacket && len(pdu.Body) >= 5 &&
			pdu.Body[0] == 1 && pdu.Body[4] == 1 {
			n++
		}
	}
}

// eapolPDU returns an EAPOL header of version 2, type typ and the given
// length field, followed by body.
func eapolPDU(typ byte, length int, body []byte) []byte {
	b := []byte{2, typ, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(length))
	return append(b, body...)
}

// TestLabAuthenticatorSurvivesBadFrames sends malformed and unexpected
// EAPOL frames to our authenticator, then bootstraps the pledge through
// it. The authenticator logs the malformed ones and keeps serving.
func TestLabAuthenticatorSurvivesBadFrames(t *testing.T) {
	requireLabRoot(t)
	l := newLabSwitch(t, nsLabVLAN)
	serial := l.startLabDomain(t)
	secret := filepath.Join(l.dir, "radius-secret")
	auth := l.startAuthenticator(t, labServer("registrar", "127.0.0.1:1812", secret), "")
	raw := newRawEAPOL(t, l.pl)

	identity := []byte{2, 1, 0, 6, 1, 'x'}
	frames := []struct {
		name    string
		payload []byte
	}{
		{"truncated header", []byte{2, 0}},
		{"length beyond the frame", eapolPDU(0, 1400, identity)},
		{"EAP length larger than the body", eapolPDU(0, 6, []byte{2, 1, 0, 60, 1, 'x'})},
		{"EAP length smaller than the body", eapolPDU(0, 6, []byte{2, 1, 0, 5, 1, 'x'})},
		{"version 0", append([]byte{0}, eapolPDU(1, 0, nil)[1:]...)},
		{"unknown type", eapolPDU(200, 0, nil)},
		{"EAPOL-Key", eapolPDU(3, 4, []byte{1, 2, 3, 4})},
		{"full-size frame", eapolPDU(0, 1486, make([]byte, 1486))},
	}
	for _, f := range frames {
		raw.send(t, raw.mac, f.payload)
	}
	auth.waitOutput(t, "malformed EAPOL frame dropped", 10*time.Second)

	l.bootstrap(t, serial)
	if got, want := l.master(t, "swp1"), fmt.Sprintf("br-v%d", nsLabVLAN); got != want {
		t.Errorf("swp1 is in bridge %q after the bootstrap, want %q", got, want)
	}
}

// TestLabSingleHostIgnoresSecondMAC sends EAPOL-Start from a second MAC on
// the single-host port of an authorized pledge. The authenticator starts
// no session for it, and the pledge keeps its session.
func TestLabSingleHostIgnoresSecondMAC(t *testing.T) {
	requireLabRoot(t)
	l, auth := enrolledLab(t, "", nil)
	raw := newRawEAPOL(t, l.pl)
	second := net.HardwareAddr{0x02, 0x00, 0x5e, 0x00, 0x53, 0x02}
	raw.send(t, second, eapolPDU(1, 0, nil))
	if n := raw.identityRequests(t, 2*time.Second); n != 0 {
		t.Errorf("the authenticator sent %d EAP-Request/Identity to the second MAC", n)
	}
	if strings.Contains(auth.out.String(), "session authorized: port=swp1 mac="+
		second.String()) {
		t.Error("the authenticator authorized the second MAC")
	}
	if strings.Contains(auth.out.String(), "session ended") {
		t.Errorf("the pledge's session ended:\n%s", auth.out.String())
	}
	if got, want := l.master(t, "swp1"), fmt.Sprintf("br-v%d", nsLabVLAN); got != want {
		t.Errorf("swp1 is in bridge %q, want %q", got, want)
	}
}

// TestLabStartFloodIsLimited sends 500 EAPOL-Start PDUs in a burst. The
// authenticator acts on at most one per StartInterval (1 s), so the
// pledge gets far fewer EAP-Request/Identity frames than it sent Starts.
func TestLabStartFloodIsLimited(t *testing.T) {
	requireLabRoot(t)
	l := newLabSwitch(t, nsLabVLAN)
	l.startLabDomain(t)
	secret := filepath.Join(l.dir, "radius-secret")
	auth := l.startAuthenticator(t, labServer("registrar", "127.0.0.1:1812", secret), "")
	raw := newRawEAPOL(t, l.pl)
	const starts = 500
	for range starts {
		raw.send(t, raw.mac, eapolPDU(1, 0, nil))
	}
	n := raw.identityRequests(t, 3*time.Second)
	if n == 0 || n > starts/10 {
		t.Errorf("%d EAP-Request/Identity for %d EAPOL-Start, want from 1 to %d", n, starts,
			starts/10)
	}
	select {
	case <-auth.done:
		t.Fatalf("the authenticator exited during the flood: %v", auth.err)
	default:
	}
}
