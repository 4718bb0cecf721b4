package radius

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"
)

func fuzzSeeds(f *testing.F) [][]byte {
	f.Helper()
	eap := radius.New(radius.CodeAccessRequest, testSecret)
	rfc2865.UserName_SetString(eap, "pledge")
	rfc2865.ProxyState_Add(eap, []byte{1, 2})
	if err := SetEAPMessage(eap, bytes.Repeat([]byte{2}, 300)); err != nil {
		f.Fatal(err)
	}
	status := radius.New(radius.CodeStatusServer, testSecret)
	var seeds [][]byte
	for _, p := range []*radius.Packet{eap, status} {
		b, err := EncodeRequest(p)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	split := radius.New(radius.CodeAccessRequest, testSecret)
	split.Add(rfc2869.EAPMessage_Type, radius.Attribute{2, 1, 0, 4})
	rfc2865.UserName_SetString(split, "x")
	split.Add(rfc2869.EAPMessage_Type, radius.Attribute{1})
	b, err := EncodeRequest(split)
	if err != nil {
		f.Fatal(err)
	}
	return append(seeds, b, []byte{1, 0, 0, 20}, []byte{1, 0, 0, 19, 0})
}

// FuzzServerPacket runs a datagram through the checks the server applies
// and, when they pass, through reply encoding. With sign set the fuzzer's
// packet gets a correct Message-Authenticator first, so the paths after
// the check are reached.
func FuzzServerPacket(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, true, false)
		f.Add(s, false, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, sign, legacy bool) {
		nas := &NAS{Name: "fuzz", Secret: testSecret, Legacy: legacy}
		if sign {
			b = signForFuzz(b)
		}
		req, reason, err := parseRequest(b, nas)
		if (req == nil) != (err != nil) || reason >= numDropReasons {
			t.Fatalf("parseRequest = %v, %v, %v", req, reason, err)
		}
		if req == nil {
			return
		}
		eap, err := EAPMessage(req.Packet)
		if err != nil || !bytes.Equal(eap, req.EAPMessage()) {
			t.Fatalf("EAPMessage = %x, %v; request has %x", eap, err, req.EAPMessage())
		}
		reply := req.Reply(radius.CodeAccessAccept)
		if len(eap) > 0 {
			if err := SetEAPMessage(reply, eap); err != nil {
				t.Fatal(err)
			}
		}
		out, err := EncodeResponse(reply, req.Packet)
		if errors.Is(err, ErrPacketTooLarge) {
			return
		}
		if err != nil {
			t.Fatalf("EncodeResponse: %v", err)
		}
		if !radius.IsAuthenticResponse(out, req.Raw, testSecret) {
			t.Fatal("reply has a wrong Response Authenticator")
		}
		if err := VerifyMessageAuthenticator(out, req.Raw[4:20], testSecret); err != nil {
			t.Fatalf("reply Message-Authenticator: %v", err)
		}
	})
}

// signForFuzz writes a correct Message-Authenticator into the first one of
// b, when b parses and has one of 16 octets.
func signForFuzz(b []byte) []byte {
	s, err := scanPacket(b)
	if err != nil || s.maCount == 0 || s.maLen != messageAuthenticatorLen {
		return b
	}
	b = bytes.Clone(b[:s.length])
	copy(b[s.maOffset:], make([]byte, messageAuthenticatorLen))
	copy(b[s.maOffset:], messageAuthenticator(b, s.maOffset, b[4:20], testSecret))
	return b
}

// FuzzAttributes compares the attribute scan with the codec's parser and
// checks that parsed attributes encode back to the same octets.
func FuzzAttributes(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		if len(s) >= 20 {
			f.Add(s[20:])
		}
	}
	f.Add([]byte{79, 2, 79, 3, 0})
	f.Fuzz(func(t *testing.T, attrs []byte) {
		if len(attrs) > radius.MaxPacketLength-headerLen {
			return
		}
		packet := make([]byte, headerLen+len(attrs))
		packet[0] = byte(radius.CodeAccessRequest)
		binary.BigEndian.PutUint16(packet[2:], uint16(len(packet)))
		copy(packet[headerLen:], attrs)
		scan, scanErr := scanPacket(packet)
		parsed, parseErr := radius.ParseAttributes(attrs)
		if (scanErr == nil) != (parseErr == nil) {
			t.Fatalf("scan error %v, codec error %v", scanErr, parseErr)
		}
		if scanErr != nil {
			return
		}
		if scan.attrs != len(parsed) {
			t.Fatalf("scan found %d attributes, codec %d", scan.attrs, len(parsed))
		}
		p := &radius.Packet{Code: radius.CodeAccessRequest, Attributes: parsed}
		_, eapErr := EAPMessage(p)
		if (eapErr == nil) != scan.eapConsecutive {
			t.Fatalf("EAPMessage error %v, scan consecutive %t", eapErr, scan.eapConsecutive)
		}
		out, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out[headerLen:], attrs) {
			t.Fatalf("round trip %x, want %x", out[headerLen:], attrs)
		}
	})
}

// FuzzParseClientsHCL decodes client blocks from arbitrary HCL and
// validates them. Errors are expected, panics are not.
func FuzzParseClientsHCL(f *testing.F) {
	src, err := os.ReadFile("testdata/clients.hcl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(src)
	f.Add([]byte(`client "a" { address = "::1/129" secret = "x" tunnel_tag = 99 }`))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfgs, err := ParseClientsHCL(src, "fuzz.hcl")
		if err != nil {
			return
		}
		for _, c := range cfgs {
			if err := c.Validate(); err != nil {
				var ce *ConfigError
				if !errors.As(err, &ce) {
					t.Fatalf("Validate error %v is not a *ConfigError", err)
				}
			}
		}
	})
}
