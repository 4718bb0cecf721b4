package radius

import (
	"crypto/hmac"
	"crypto/md5"
	"errors"
	"fmt"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"
)

// headerLen is the length of the RADIUS header: Code, Identifier, Length
// and Authenticator (RFC 2865, Section 3).
const headerLen = 20

// messageAuthenticatorLen is the length of the Message-Authenticator value,
// an HMAC-MD5 (RFC 3579, Section 3.2).
const messageAuthenticatorLen = 16

// Errors returned by VerifyMessageAuthenticator. Each has its own drop
// reason on the server.
var (
	ErrMessageAuthenticatorMissing   = errors.New("radius: Message-Authenticator missing")
	ErrMessageAuthenticatorZero      = errors.New("radius: Message-Authenticator is all zero")
	ErrMessageAuthenticatorInvalid   = errors.New("radius: Message-Authenticator invalid")
	ErrMessageAuthenticatorLength    = errors.New("radius: Message-Authenticator length not 16")
	ErrMessageAuthenticatorDuplicate = errors.New("radius: more than one Message-Authenticator")
)

// messageAuthenticator computes the HMAC-MD5 of packet with the
// Message-Authenticator value at offset treated as 16 zero octets and with
// auth in place of the Authenticator field (RFC 3579, Section 3.2). For a
// request auth is the packet's own Authenticator; for a reply it is the
// Request Authenticator.
func messageAuthenticator(packet []byte, offset int, auth, secret []byte) []byte {
	var zero [messageAuthenticatorLen]byte
	mac := hmac.New(md5.New, secret)
	mac.Write(packet[:4])
	mac.Write(auth)
	mac.Write(packet[headerLen:offset])
	mac.Write(zero[:])
	mac.Write(packet[offset+messageAuthenticatorLen:])
	return mac.Sum(nil)
}

// VerifyMessageAuthenticator checks the Message-Authenticator of a wire
// packet (RFC 3579, Section 3.2). requestAuth is nil for a request, which is
// authenticated with its own Authenticator field, and the Request
// Authenticator for a reply. It returns ErrMessageAuthenticatorMissing when
// the attribute is absent, one of the other ErrMessageAuthenticator errors
// when it is duplicated, of the wrong length, zero or wrong, and an error
// wrapping ErrMalformedPacket or ErrPacketTooLarge when the packet does not
// parse.
func VerifyMessageAuthenticator(packet, requestAuth, secret []byte) error {
	scan, err := scanPacket(packet)
	if err != nil {
		return err
	}
	return scan.verifyMessageAuthenticator(packet[:scan.length], requestAuth, secret)
}

func (s *packetScan) verifyMessageAuthenticator(packet, requestAuth, secret []byte) error {
	switch {
	case s.maCount == 0:
		return ErrMessageAuthenticatorMissing
	case s.maCount > 1:
		return ErrMessageAuthenticatorDuplicate
	case s.maLen != messageAuthenticatorLen:
		return ErrMessageAuthenticatorLength
	}
	got := packet[s.maOffset : s.maOffset+messageAuthenticatorLen]
	if isZero(got) {
		return ErrMessageAuthenticatorZero
	}
	if requestAuth == nil {
		requestAuth = packet[4:headerLen]
	}
	want := messageAuthenticator(packet, s.maOffset, requestAuth, secret)
	if !hmac.Equal(got, want) {
		return ErrMessageAuthenticatorInvalid
	}
	return nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// EncodeRequest encodes an Access-Request or Status-Server with a
// Message-Authenticator as its first attribute, replacing any that p
// carries, and encodes other codes with the codec's Encode. The packet's
// Authenticator is sent as it is, so encoding the same packet twice gives
// the same bytes.
func EncodeRequest(p *radius.Packet) ([]byte, error) {
	if p.Code != radius.CodeAccessRequest && p.Code != radius.CodeStatusServer {
		b, err := p.Encode()
		if err != nil {
			return nil, fmt.Errorf("radius: encode %v: %w", p.Code, err)
		}
		return b, nil
	}
	q := withMessageAuthenticatorFirst(p, nil)
	b, err := marshal(q)
	if err != nil {
		return nil, err
	}
	offset := headerLen + 2
	copy(b[offset:], messageAuthenticator(b, offset, b[4:headerLen], p.Secret))
	return b, nil
}

// withMessageAuthenticatorFirst returns a shallow copy of p whose attributes
// are a zero Message-Authenticator, then extra, then the attributes of p
// other than Message-Authenticator and the types listed in skip.
func withMessageAuthenticatorFirst(p *radius.Packet, extra radius.Attributes,
	skip ...radius.Type) *radius.Packet {
	q := *p
	q.Attributes = make(radius.Attributes, 0, len(p.Attributes)+len(extra)+1)
	q.Attributes.Add(rfc2869.MessageAuthenticator_Type,
		make(radius.Attribute, messageAuthenticatorLen))
	q.Attributes = append(q.Attributes, extra...)
	for _, avp := range p.Attributes {
		if avp.Type == rfc2869.MessageAuthenticator_Type || containsType(skip, avp.Type) {
			continue
		}
		q.Attributes = append(q.Attributes, avp)
	}
	return &q
}

func containsType(types []radius.Type, t radius.Type) bool {
	for _, u := range types {
		if u == t {
			return true
		}
	}
	return false
}

// marshal encodes p without computing any authenticator and reports a
// packet over 4096 octets as ErrPacketTooLarge.
func marshal(p *radius.Packet) ([]byte, error) {
	n, err := radius.AttributesEncodedLen(p.Attributes)
	if err != nil {
		return nil, fmt.Errorf("radius: encode %v: %w", p.Code, err)
	}
	if headerLen+n > radius.MaxPacketLength {
		return nil, fmt.Errorf("radius: encode %v of %d octets: %w",
			p.Code, headerLen+n, ErrPacketTooLarge)
	}
	b, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("radius: encode %v: %w", p.Code, err)
	}
	return b, nil
}

// EncodeResponse encodes reply as the reply to request: it takes the
// Identifier and secret from request, puts a Message-Authenticator first,
// copies the request's Proxy-State attributes after it unchanged and in
// order (RFC 2865, Section 5.33), and then computes the Response
// Authenticator (RFC 2865, Section 3). Proxy-State and Message-Authenticator
// attributes in reply are replaced. A reply over 4096 octets returns an
// error that wraps ErrPacketTooLarge.
func EncodeResponse(reply, request *radius.Packet) ([]byte, error) {
	var proxy radius.Attributes
	for _, avp := range request.Attributes {
		if avp.Type == rfc2865.ProxyState_Type {
			proxy = append(proxy, avp)
		}
	}
	q := withMessageAuthenticatorFirst(reply, proxy, rfc2865.ProxyState_Type)
	q.Identifier = request.Identifier
	q.Authenticator = request.Authenticator
	b, err := marshal(q)
	if err != nil {
		return nil, err
	}
	secret := request.Secret
	offset := headerLen + 2
	copy(b[offset:], messageAuthenticator(b, offset, request.Authenticator[:], secret))
	h := md5.New()
	h.Write(b[:4])
	h.Write(request.Authenticator[:])
	h.Write(b[headerLen:])
	h.Write(secret)
	h.Sum(b[4:4])
	return b, nil
}
