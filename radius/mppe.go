package radius

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

// Microsoft vendor attributes for MPPE keys (RFC 2548, Sections 2.4.2 and
// 2.4.3).
const (
	VendorMicrosoft = 311
	MSMPPESendKey   = 16
	MSMPPERecvKey   = 17
)

// maxMPPEKeyLen is the longest key that fits one vendor attribute: 253
// octets less vendor ID (4), vendor type and length (2) and salt (2) leave
// 245, of which 240 are whole 16-octet blocks, one octet being the key
// length.
const maxMPPEKeyLen = 239

// ErrMissingMPPEKey reports a reply without MS-MPPE-Send-Key or
// MS-MPPE-Recv-Key.
var ErrMissingMPPEKey = errors.New("radius: MS-MPPE key missing")

// EncryptMPPEKey encrypts key for MS-MPPE-Send-Key or MS-MPPE-Recv-Key and
// returns the Salt and String fields (RFC 2548, Section 2.4.2). The
// plaintext is the key length octet, the key and zero padding to a multiple
// of 16. It is XORed with an MD5 chain over the secret, the Request
// Authenticator and the salt. The high bit of salt[0] must be set. The
// scheme is that of Tunnel-Password (RFC 2868, Section 3.5), so the codec's
// implementation does the work.
func EncryptMPPEKey(key []byte, salt [2]byte, secret, requestAuth []byte) ([]byte, error) {
	switch {
	case len(key) == 0 || len(key) > maxMPPEKeyLen:
		return nil, fmt.Errorf("radius: MPPE key of %d octets, need 1 to %d",
			len(key), maxMPPEKeyLen)
	case salt[0]&0x80 == 0:
		return nil, fmt.Errorf("radius: MPPE salt %#04x lacks the high bit", salt)
	}
	v, err := radius.NewTunnelPassword(key, salt[:], secret, requestAuth)
	if err != nil {
		return nil, fmt.Errorf("radius: encrypt MPPE key: %w", err)
	}
	return v, nil
}

// DecryptMPPEKey reverses EncryptMPPEKey on the Salt and String fields of an
// MS-MPPE key attribute.
func DecryptMPPEKey(value, secret, requestAuth []byte) ([]byte, error) {
	key, _, err := radius.TunnelPassword(value, secret, requestAuth)
	if err != nil {
		return nil, fmt.Errorf("radius: decrypt MPPE key: %w", err)
	}
	return key, nil
}

// AddMPPEKeys adds MS-MPPE-Send-Key and MS-MPPE-Recv-Key to reply,
// encrypted with the secret and Request Authenticator of request. Each
// gets a random salt with the high bit set, and the two salts differ, as
// RFC 2548, Section 2.4.2 requires of salts in one packet.
func AddMPPEKeys(reply, request *radius.Packet, sendKey, recvKey []byte) error {
	var send [2]byte
	rand.Read(send[:]) // since Go 1.24 Read crashes the program instead of failing
	send[0] |= 0x80
	recv := [2]byte{send[0] ^ 0x01, send[1]} // differs in the low bit
	for _, k := range []struct {
		typ  byte
		key  []byte
		salt [2]byte
	}{{MSMPPESendKey, sendKey, send}, {MSMPPERecvKey, recvKey, recv}} {
		v, err := EncryptMPPEKey(k.key, k.salt, request.Secret, request.Authenticator[:])
		if err != nil {
			return err
		}
		if err := AddVendorSpecific(reply, VendorMicrosoft, k.typ, v); err != nil {
			return err
		}
	}
	return nil
}

// MPPEKeys decrypts the MS-MPPE-Send-Key and MS-MPPE-Recv-Key of reply, as
// a NAS does, with reply.Secret (radius.Parse and Client.Exchange set it to
// the secret of the server that sent the reply) and the Request
// Authenticator of the request.
func MPPEKeys(reply *radius.Packet, requestAuth [16]byte) (send, recv []byte, err error) {
	for _, avp := range reply.Attributes {
		typ, v, ok := vendorAttribute(avp, VendorMicrosoft)
		if !ok || (typ != MSMPPESendKey && typ != MSMPPERecvKey) {
			continue
		}
		key, err := DecryptMPPEKey(v, reply.Secret, requestAuth[:])
		if err != nil {
			return nil, nil, err
		}
		if typ == MSMPPESendKey && send == nil {
			send = key
		} else if typ == MSMPPERecvKey && recv == nil {
			recv = key
		}
	}
	if send == nil || recv == nil {
		return nil, nil, ErrMissingMPPEKey
	}
	return send, recv, nil
}

// AddVendorSpecific adds a Vendor-Specific attribute holding one vendor
// attribute in the format RFC 2865, Section 5.26 recommends: the vendor
// type, a length octet and value.
func AddVendorSpecific(p *radius.Packet, vendorID uint32, vendorType byte, value []byte) error {
	if len(value) > maxAttributeValue-6 {
		return fmt.Errorf("radius: vendor %d attribute %d of %d octets, longer than 247",
			vendorID, vendorType, len(value))
	}
	a := make(radius.Attribute, 6+len(value))
	binary.BigEndian.PutUint32(a, vendorID)
	a[4], a[5] = vendorType, byte(2+len(value))
	copy(a[6:], value)
	p.Add(rfc2865.VendorSpecific_Type, a)
	return nil
}

// vendorAttribute returns the vendor type and value of a Vendor-Specific
// attribute of vendorID that holds exactly one vendor attribute.
func vendorAttribute(avp *radius.AVP, vendorID uint32) (byte, []byte, bool) {
	a := avp.Attribute
	if avp.Type != rfc2865.VendorSpecific_Type || len(a) < 6 ||
		binary.BigEndian.Uint32(a) != vendorID || int(a[5]) != len(a)-4 || a[5] < 2 {
		return 0, nil, false
	}
	return a[4], a[6:], true
}
