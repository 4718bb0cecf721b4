package radius

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2868"
	"layeh.com/radius/rfc2869"
)

func TestAddVLAN(t *testing.T) {
	tests := []struct {
		name      string
		vlan      string
		tag       byte
		wantGroup []byte
		wantErr   error
	}{
		{"decimal", "100", 0, []byte("100"), nil},
		{"leading zeros", "0042", 0, []byte("42"), nil},
		{"highest", "4094", 0, []byte("4094"), nil},
		{"name", "guests", 0, []byte("guests"), nil},
		{"tagged", "100", 5, []byte("\x05100"), nil},
		{"zero", "0", 0, nil, ErrInvalidVLAN},
		{"too high", "4095", 0, nil, ErrInvalidVLAN},
		{"empty", "", 0, nil, ErrInvalidVLAN},
		{"control octet", "a\nb", 0, nil, ErrInvalidVLAN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := radius.New(radius.CodeAccessAccept, testSecret)
			err := AddVLAN(p, tt.vlan, tt.tag)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("AddVLAN error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			want := radius.Attributes{
				{Type: rfc2868.TunnelType_Type, Attribute: radius.Attribute{tt.tag, 0, 0, 13}},
				{Type: rfc2868.TunnelMediumType_Type,
					Attribute: radius.Attribute{tt.tag, 0, 0, 6}},
				{Type: rfc2868.TunnelPrivateGroupID_Type, Attribute: tt.wantGroup},
			}
			if diff := cmp.Diff(want, p.Attributes); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
			got, ok := ParseVLAN(p)
			if !ok {
				t.Fatal("ParseVLAN found no VLAN")
			}
			wantVLAN := VLAN{Group: string(bytes.TrimLeft(tt.wantGroup, "\x05")), Tag: tt.tag}
			if diff := cmp.Diff(wantVLAN, got); diff != "" {
				t.Errorf("ParseVLAN (-want +got):\n%s", diff)
			}
		})
	}
	if err := AddVLAN(radius.New(radius.CodeAccessAccept, testSecret), "1", 32); err == nil {
		t.Error("AddVLAN accepted tag 32")
	}
}

func TestParseVLANNeedsAllThree(t *testing.T) {
	p := radius.New(radius.CodeAccessAccept, testSecret)
	p.Add(rfc2868.TunnelPrivateGroupID_Type, radius.Attribute("100"))
	p.Add(rfc2868.TunnelType_Type, radius.Attribute{0, 0, 0, 3})
	p.Add(rfc2868.TunnelMediumType_Type, radius.Attribute{0, 0, 0, 6})
	if v, ok := ParseVLAN(p); ok {
		t.Errorf("ParseVLAN = %+v for an L2TP tunnel, want none", v)
	}
}

func TestSetSessionTimeout(t *testing.T) {
	p := radius.New(radius.CodeAccessAccept, testSecret)
	d := 3600*time.Second + time.Millisecond
	if err := SetSessionTimeout(p, d, TerminationRADIUSRequest); err != nil {
		t.Fatal(err)
	}
	if got := rfc2865.SessionTimeout_Get(p); got != 3601 {
		t.Errorf("Session-Timeout = %d, want 3601", got)
	}
	if got := rfc2865.TerminationAction_Get(p); got != 1 {
		t.Errorf("Termination-Action = %d, want 1", got)
	}
	for _, d := range []time.Duration{0, -time.Second, 1 << 62} {
		if err := SetSessionTimeout(p, d, TerminationDefault); err == nil {
			t.Errorf("SetSessionTimeout(%v) succeeded, want an error", d)
		}
	}
	if err := SetSessionTimeout(p, time.Hour, 2); err == nil {
		t.Error("SetSessionTimeout accepted Termination-Action 2")
	}
}

func TestAddFilterID(t *testing.T) {
	p := radius.New(radius.CodeAccessAccept, testSecret)
	if err := AddFilterID(p, "enrolled"); err != nil {
		t.Fatal(err)
	}
	if got := rfc2865.FilterID_GetString(p); got != "enrolled" {
		t.Errorf("Filter-Id = %q, want enrolled", got)
	}
	for _, id := range []string{"", string(make([]byte, 254))} {
		if err := AddFilterID(p, id); err == nil {
			t.Errorf("AddFilterID of %d octets succeeded, want an error", len(id))
		}
	}
}

func TestSetEAPMessageSplits(t *testing.T) {
	tests := []struct {
		size int
		want []int
	}{
		{4, []int{4}},
		{253, []int{253}},
		{254, []int{253, 1}},
		{1000, []int{253, 253, 253, 241}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.size), func(t *testing.T) {
			eap := bytes.Repeat([]byte{7}, tt.size)
			p := radius.New(radius.CodeAccessChallenge, testSecret)
			p.Add(rfc2869.EAPMessage_Type, radius.Attribute{9})
			rfc2865.ReplyMessage_SetString(p, "before")
			if err := SetEAPMessage(p, eap); err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, avp := range p.Attributes {
				if avp.Type == rfc2869.EAPMessage_Type {
					got = append(got, len(avp.Attribute))
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("EAP-Message lengths (-want +got):\n%s", diff)
			}
			back, err := EAPMessage(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, eap) {
				t.Error("EAPMessage does not return what SetEAPMessage stored")
			}
		})
	}
	if err := SetEAPMessage(radius.New(radius.CodeAccessChallenge, testSecret), nil); err == nil {
		t.Error("SetEAPMessage accepted an empty EAP packet")
	}
}

func TestEAPMessageNotConsecutive(t *testing.T) {
	p := radius.New(radius.CodeAccessRequest, testSecret)
	p.Add(rfc2869.EAPMessage_Type, radius.Attribute{1})
	rfc2865.UserName_SetString(p, "x")
	p.Add(rfc2869.EAPMessage_Type, radius.Attribute{2})
	if _, err := EAPMessage(p); !errors.Is(err, ErrEAPMessageNotConsecutive) {
		t.Errorf("EAPMessage error = %v, want ErrEAPMessageNotConsecutive", err)
	}
	none, err := EAPMessage(radius.New(radius.CodeAccessRequest, testSecret))
	if none != nil || err != nil {
		t.Errorf("EAPMessage without EAP = %v, %v, want nil, nil", none, err)
	}
}

// TestMPPEKeyFixedSalt checks RFC 2548, Section 2.4.2 against a vector
// computed independently with Python's hashlib: secret "testing123",
// Request Authenticator 00..0f, salt 8001 and the key 00..1f.
func TestMPPEKeyFixedSalt(t *testing.T) {
	const want = "800112a4054f091e203ec82fb961b9b618fd8f15c5905da6d786c767" +
		"11ebfbf9b14b8303667ce1e1c225c3924927cd3f0bce"
	reqAuth := make([]byte, 16)
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
		if i < 16 {
			reqAuth[i] = byte(i)
		}
	}
	got, err := EncryptMPPEKey(key, [2]byte{0x80, 0x01}, testSecret, reqAuth)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got) != want {
		t.Errorf("EncryptMPPEKey = %x, want %s", got, want)
	}
	back, err := DecryptMPPEKey(got, testSecret, reqAuth)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(key, back); diff != "" {
		t.Errorf("DecryptMPPEKey (-want +got):\n%s", diff)
	}
}

func TestMPPEKeyErrors(t *testing.T) {
	auth := make([]byte, 16)
	tests := []struct {
		name string
		key  []byte
		salt [2]byte
	}{
		{"empty key", nil, [2]byte{0x80, 0}},
		{"key too long", make([]byte, 240), [2]byte{0x80, 0}},
		{"salt without high bit", make([]byte, 32), [2]byte{0x7f, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := EncryptMPPEKey(tt.key, tt.salt, testSecret, auth); err == nil {
				t.Error("EncryptMPPEKey succeeded, want an error")
			}
		})
	}
	if _, err := DecryptMPPEKey([]byte{0x80, 0, 1}, testSecret, auth); err == nil {
		t.Error("DecryptMPPEKey accepted a truncated value")
	}
}

func TestAddMPPEKeysRoundTrip(t *testing.T) {
	request := radius.New(radius.CodeAccessRequest, testSecret)
	reply := request.Response(radius.CodeAccessAccept)
	send, recv := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	if err := AddMPPEKeys(reply, request, send, recv); err != nil {
		t.Fatal(err)
	}
	b, err := EncodeResponse(reply, request)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := radius.Parse(b, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	gotSend, gotRecv, err := MPPEKeys(parsed, request.Authenticator)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotSend, send) || !bytes.Equal(gotRecv, recv) {
		t.Errorf("MPPEKeys = %x, %x, want %x, %x", gotSend, gotRecv, send, recv)
	}
	var salts [][]byte
	for _, avp := range parsed.Attributes {
		if _, v, ok := vendorAttribute(avp, VendorMicrosoft); ok {
			salts = append(salts, v[:2])
		}
	}
	if len(salts) != 2 || bytes.Equal(salts[0], salts[1]) || salts[0][0]&0x80 == 0 {
		t.Errorf("salts %x: want two distinct salts with the high bit set", salts)
	}
	empty := radius.New(radius.CodeAccessAccept, testSecret)
	if _, _, err := MPPEKeys(empty, request.Authenticator); !errors.Is(err, ErrMissingMPPEKey) {
		t.Errorf("MPPEKeys without keys: error %v, want ErrMissingMPPEKey", err)
	}
}

func TestVendorDictionary(t *testing.T) {
	d, err := NewVendorDictionary(VendorAttribute{"Example-Address", 32473, 1, VendorIPAddr})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, value string
		want        []byte // Vendor-Specific value
		wantErr     bool
	}{
		{"Cisco-AVPair", "tunnel-type=vlan",
			append([]byte{0, 0, 0, 9, 1, 18}, "tunnel-type=vlan"...), false},
		{"aruba-user-vlan", "300", []byte{0, 0, 0x39, 0xe7, 2, 6, 0, 0, 1, 0x2c}, false},
		{"Example-Address", "192.0.2.1", []byte{0, 0, 0x7e, 0xd9, 1, 6, 192, 0, 2, 1}, false},
		{"Aruba-User-Vlan", "vlan", nil, true},
		{"Example-Address", "2001:db8::1", nil, true},
		{"No-Such-Attribute", "x", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			p := radius.New(radius.CodeAccessAccept, testSecret)
			err := d.Add(p, tt.name, tt.value)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Add error = %v, want error %t", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			got := p.Get(rfc2865.VendorSpecific_Type)
			if diff := cmp.Diff(radius.Attribute(tt.want), got); diff != "" {
				t.Errorf("Vendor-Specific (-want +got):\n%s", diff)
			}
		})
	}
	var unknown error = d.Add(radius.New(radius.CodeAccessAccept, testSecret), "Nope", "")
	if !errors.Is(unknown, ErrUnknownVendorAttribute) {
		t.Errorf("unknown name: error %v, want ErrUnknownVendorAttribute", unknown)
	}
}
