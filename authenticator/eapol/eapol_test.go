package eapol

import (
	"bytes"
	"errors"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// eapIdentityRequest is an EAP-Request/Identity with Identifier 1,
// RFC 3748, Section 5.1.
var eapIdentityRequest = []byte{0x01, 0x01, 0x00, 0x05, 0x01}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    *PDU
		wantErr error
	}{
		{
			name: "start v1",
			in:   []byte{0x01, 0x01, 0x00, 0x00},
			want: &PDU{Version: Version2001, Type: TypeStart, Body: []byte{}},
		},
		{
			name: "logoff v3",
			in:   []byte{0x03, 0x02, 0x00, 0x00},
			want: &PDU{Version: Version2010, Type: TypeLogoff, Body: []byte{}},
		},
		{
			name: "eap packet",
			in:   append([]byte{0x02, 0x00, 0x00, 0x05}, eapIdentityRequest...),
			want: &PDU{Version: Version2004, Type: TypeEAPPacket, Body: eapIdentityRequest},
		},
		{
			name: "eap packet with Ethernet padding",
			in: append(append([]byte{0x02, 0x00, 0x00, 0x05}, eapIdentityRequest...),
				make([]byte, 37)...),
			want: &PDU{Version: Version2004, Type: TypeEAPPacket, Body: eapIdentityRequest},
		},
		{
			name: "start padded",
			in:   append([]byte{0x02, 0x01, 0x00, 0x00}, make([]byte, 42)...),
			want: &PDU{Version: Version2004, Type: TypeStart, Body: []byte{}},
		},
		{
			name: "unknown type parses",
			in:   []byte{0x03, 0x2A, 0x00, 0x01, 0xFF},
			want: &PDU{Version: Version2010, Type: 42, Body: []byte{0xFF}},
		},
		{name: "empty", in: nil, wantErr: ErrTruncated},
		{name: "short header", in: []byte{0x02, 0x01, 0x00}, wantErr: ErrTruncated},
		{name: "body longer than frame", in: []byte{0x02, 0x03, 0x00, 0x10, 1, 2},
			wantErr: ErrTruncated},
		{name: "version 0", in: []byte{0x00, 0x01, 0x00, 0x00}, wantErr: ErrVersion},
		{name: "version 4", in: []byte{0x04, 0x01, 0x00, 0x00}, wantErr: ErrVersion},
		{
			name:    "eap length shorter than body",
			in:      []byte{0x02, 0x00, 0x00, 0x06, 0x01, 0x01, 0x00, 0x05, 0x01, 0x00},
			wantErr: ErrEAPLength,
		},
		{
			name:    "eap length longer than body",
			in:      []byte{0x02, 0x00, 0x00, 0x05, 0x01, 0x01, 0x00, 0x09, 0x01},
			wantErr: ErrEAPLength,
		},
		{
			name:    "eap body shorter than eap header",
			in:      []byte{0x02, 0x00, 0x00, 0x02, 0x03, 0x01},
			wantErr: ErrEAPLength,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPacketTypeString(t *testing.T) {
	tests := []struct {
		in    PacketType
		want  string
		known bool
	}{
		{TypeEAPPacket, "EAP-Packet", true},
		{TypeStart, "EAPOL-Start", true},
		{TypeLogoff, "EAPOL-Logoff", true},
		{TypeKey, "EAPOL-Key", true},
		{TypeEncapsulatedASFAlert, "EAPOL-Encapsulated-ASF-Alert", true},
		{TypeMKA, "EAPOL-MKA", true},
		{TypeAnnouncementReq, "EAPOL-Announcement-Req", true},
		{9, "unknown EAPOL packet type 9", false},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := tt.in.Known(); got != tt.known {
				t.Errorf("Known() = %v, want %v", got, tt.known)
			}
		})
	}
}

func TestMarshalBinary(t *testing.T) {
	tests := []struct {
		name    string
		in      PDU
		want    []byte
		wantErr error
	}{
		{
			name: "default version start",
			in:   PDU{Type: TypeStart},
			want: []byte{0x02, 0x01, 0x00, 0x00},
		},
		{
			name: "eap packet v3",
			in:   PDU{Version: Version2010, Type: TypeEAPPacket, Body: eapIdentityRequest},
			want: append([]byte{0x03, 0x00, 0x00, 0x05}, eapIdentityRequest...),
		},
		{name: "bad version", in: PDU{Version: 7, Type: TypeStart}, wantErr: ErrVersion},
		{
			name:    "eap length mismatch",
			in:      PDU{Type: TypeEAPPacket, Body: []byte{0x03, 0x01, 0x00, 0x05}},
			wantErr: ErrEAPLength,
		},
		{
			name:    "body too long",
			in:      PDU{Type: TypeKey, Body: make([]byte, 0x10000)},
			wantErr: ErrBodyTooLong,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.MarshalBinary()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("MarshalBinary error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("MarshalBinary mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFrameRoundTrip(t *testing.T) {
	src := net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	pdu := &PDU{Version: Version2004, Type: TypeEAPPacket, Body: eapIdentityRequest}
	frame, err := MarshalFrame(PAEGroupAddress(), src, pdu)
	if err != nil {
		t.Fatalf("MarshalFrame: %v", err)
	}
	if len(frame) != MinFrameLen {
		t.Errorf("frame length = %d, want %d", len(frame), MinFrameLen)
	}
	h, got, err := ParseFrame(frame)
	if err != nil {
		t.Fatalf("ParseFrame: %v", err)
	}
	wantHeader := EthernetHeader{Destination: PAEGroupAddress(), Source: src}
	if diff := cmp.Diff(wantHeader, h); diff != "" {
		t.Errorf("header mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(pdu, got); diff != "" {
		t.Errorf("PDU mismatch (-want +got):\n%s", diff)
	}
}

func TestParseEthernet(t *testing.T) {
	dst := PAEGroupAddress()
	src := []byte{0x02, 0, 0, 0, 0, 2}
	start := []byte{0x01, 0x01, 0x00, 0x00}
	header := concat(dst, src)
	tagged := concat(header, []byte{0x81, 0x00, 0x20, 0x0A, 0x88, 0x8E})
	tests := []struct {
		name     string
		in       []byte
		wantVLAN uint16
		wantBody []byte
		wantErr  error
	}{
		{name: "untagged", in: concat(header, []byte{0x88, 0x8E}, start), wantBody: start},
		{name: "tagged", in: concat(tagged, start), wantVLAN: 10, wantBody: start},
		{name: "ipv4", in: concat(header, []byte{0x08, 0x00, 0x45}), wantErr: ErrNotEAPOL},
		{name: "short", in: header, wantErr: ErrTruncated},
		{name: "short tag", in: concat(header, []byte{0x81, 0x00, 0x00}),
			wantErr: ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, payload, err := ParseEthernet(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseEthernet error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if h.VLAN != tt.wantVLAN {
				t.Errorf("VLAN = %d, want %d", h.VLAN, tt.wantVLAN)
			}
			if !bytes.Equal(payload, tt.wantBody) {
				t.Errorf("payload = %x, want %x", payload, tt.wantBody)
			}
		})
	}
}

func TestAppendEthernetBadAddress(t *testing.T) {
	_, err := AppendEthernet(nil, PAEGroupAddress(), net.HardwareAddr{1, 2, 3})
	if err == nil {
		t.Fatal("AppendEthernet accepted a 3-octet source address")
	}
}

// concat returns a new slice with the parts joined, so that test cases never
// share a backing array.
func concat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}
