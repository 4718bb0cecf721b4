package eapol

import (
	"bytes"
	"testing"
)

// FuzzParse checks that Parse never panics and that every PDU it accepts
// encodes to the same PDU again.
func FuzzParse(f *testing.F) {
	f.Add([]byte{0x01, 0x01, 0x00, 0x00})
	f.Add([]byte{0x02, 0x02, 0x00, 0x00, 0x00, 0x00})
	f.Add(append([]byte{0x02, 0x00, 0x00, 0x05}, eapIdentityRequest...))
	f.Add([]byte{0x03, 0x03, 0x00, 0x03, 0x02, 0x00, 0x01})
	f.Add([]byte{0x03, 0x05, 0xFF, 0xFF})
	f.Add([]byte{0x02, 0x00, 0x00, 0x04, 0x03, 0x01, 0x00, 0x04})
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := Parse(in)
		if err != nil {
			return
		}
		out, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of parsed %v: %v", p, err)
		}
		if !bytes.Equal(out, in[:len(out)]) {
			t.Fatalf("re-encoding = %x, want prefix of %x", out, in)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse of re-encoding %x: %v", out, err)
		}
		if again.Version != p.Version || again.Type != p.Type ||
			!bytes.Equal(again.Body, p.Body) {
			t.Fatalf("round trip = %v, want %v", again, p)
		}
	})
}

// FuzzParseFrame checks that ParseFrame never panics on whole Ethernet
// frames and that accepted frames encode back to an equal PDU.
func FuzzParseFrame(f *testing.F) {
	frame, err := MarshalFrame(PAEGroupAddress(), []byte{2, 0, 0, 0, 0, 1},
		&PDU{Type: TypeEAPPacket, Body: eapIdentityRequest})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(frame)
	f.Add(append(frame[:12:12], 0x81, 0x00, 0x00, 0x05, 0x88, 0x8E, 0x01, 0x01, 0x00, 0x00))
	f.Fuzz(func(t *testing.T, in []byte) {
		h, p, err := ParseFrame(in)
		if err != nil {
			return
		}
		out, err := MarshalFrame(h.Destination, h.Source, p)
		if err != nil {
			t.Fatalf("MarshalFrame of parsed %v: %v", p, err)
		}
		_, again, err := ParseFrame(out)
		if err != nil {
			t.Fatalf("ParseFrame of re-encoding %x: %v", out, err)
		}
		if again.Type != p.Type || !bytes.Equal(again.Body, p.Body) {
			t.Fatalf("round trip = %v, want %v", again, p)
		}
	})
}
