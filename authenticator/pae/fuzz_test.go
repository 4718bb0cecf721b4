package pae

import (
	"encoding/binary"
	"testing"

	"github.com/brski-eap/brski/authenticator/eapol"
)

// FuzzParseEAP checks that parseEAP never panics and accepts only packets
// whose length field matches and whose code is defined.
func FuzzParseEAP(f *testing.F) {
	f.Add(identityResponse(1, "pledge"))
	f.Add(tlsRequest(2))
	f.Add(resultPacket(eapSuccess, 3))
	f.Add([]byte{eapResponse, 4, 0, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseEAP(b)
		if err != nil {
			return
		}
		if int(binary.BigEndian.Uint16(b[2:4])) != len(b) {
			t.Fatalf("accepted %x with a wrong length field", b)
		}
		if h.code < eapRequest || h.code > eapFailure {
			t.Fatalf("accepted code %d", h.code)
		}
	})
}

// FuzzHandleFrame feeds arbitrary PDUs from two MACs into a multi-auth port
// with a backend that never replies, and checks that nothing panics.
func FuzzHandleFrame(f *testing.F) {
	f.Add(uint8(eapol.TypeStart), []byte{}, false)
	f.Add(uint8(eapol.TypeEAPPacket), identityResponse(1, "x"), true)
	f.Add(uint8(eapol.TypeLogoff), []byte{}, false)
	f.Add(uint8(eapol.TypeKey), []byte{1, 2, 3}, true)
	f.Fuzz(func(t *testing.T, typ uint8, body []byte, second bool) {
		h := newHarness(t, Config{Mode: MultiAuth})
		mac := macA
		if second {
			mac = macB
		}
		h.port.HandleFrame(mac, &eapol.PDU{Type: eapol.PacketType(typ), Body: body})
		h.port.HandleFrame(mac, &eapol.PDU{Type: eapol.TypeEAPPacket,
			Body: identityResponse(h.port.announce.id, "y")})
		h.clock.Advance(h.port.cfg.TxPeriod)
	})
}
