package eapest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/brski-eap/brski/eap"
)

// Exporter labels, RFC 9190, Section 2.3, and the TLS 1.2 PRF label of
// RFC 5216, Section 2.3.
const (
	labelKeyMaterial = "EXPORTER_EAP_TLS_Key_Material"
	labelMethodID    = "EXPORTER_EAP_TLS_Method-Id"
	labelTLS12       = "client EAP encryption"
)

// keyMaterial is the key material of a finished TLS tunnel: the 64-byte
// MSK and EMSK, and the EAP Session-Id (the type code followed by the
// Method-Id, RFC 9190, Section 2.3 and RFC 5216, Section 2.3). SessionID is
// nil for TLS 1.2 when the hello randoms were not captured.
type keyMaterial struct {
	MSK       []byte
	EMSK      []byte
	SessionID []byte
}

// typeCode returns the exporter context for a method type: the one-octet
// type code (0x0D for EAP-TLS, RFC 9190, Section 2.3). RFC 9190 defines no
// context for expanded types, so an expanded type uses its whole 8-byte
// type field (254, Vendor-Id, Vendor-Type), which keeps keys of different
// vendor methods apart.
func typeCode(t eap.MethodType) []byte {
	if t.Type != eap.TypeExpanded {
		return []byte{byte(t.Type)}
	}
	v, vt := t.VendorID, t.VendorType
	return []byte{byte(eap.TypeExpanded), byte(v >> 16), byte(v >> 8), byte(v),
		byte(vt >> 24), byte(vt >> 16), byte(vt >> 8), byte(vt)}
}

// deriveKeys derives MSK, EMSK and Session-Id. For TLS 1.3 it uses the
// exporter with the type code as context (RFC 9190, Section 2.3). For
// TLS 1.2 it uses the PRF with label "client EAP encryption" and seed
// client.random || server.random (RFC 5216, Section 2.3), which is what
// ExportKeyingMaterial computes for a nil context. randoms is
// client.random || server.random for the TLS 1.2 Session-Id, or nil.
//
// Since Go 1.22, ExportKeyingMaterial rejects TLS 1.0 to 1.2 connections
// without the Extended Master Secret (RFC 7627), so under ProfileDefault
// such peers fail here. OpenSSL-based supplicants send it. Under
// ProfileLegacy the server tunnel derives their keys from the captured
// master secret instead, see legacyKeys.
func deriveKeys(cs *tls.ConnectionState, t eap.MethodType, randoms []byte) (keyMaterial, error) {
	code := typeCode(t)
	if cs.Version == tls.VersionTLS13 {
		km, err := cs.ExportKeyingMaterial(labelKeyMaterial, code, 128)
		if err != nil {
			return keyMaterial{}, fmt.Errorf("eapest: export key material: %w", err)
		}
		id, err := cs.ExportKeyingMaterial(labelMethodID, code, 64)
		if err != nil {
			return keyMaterial{}, fmt.Errorf("eapest: export Method-Id: %w", err)
		}
		return keyMaterial{MSK: km[:64], EMSK: km[64:], SessionID: append(code, id...)}, nil
	}
	km, err := cs.ExportKeyingMaterial(labelTLS12, nil, 128)
	if err != nil {
		return keyMaterial{}, fmt.Errorf("eapest: TLS 1.2 key material (the peer must support "+
			"Extended Master Secret): %w", err)
	}
	k := keyMaterial{MSK: km[:64], EMSK: km[64:]}
	if len(randoms) == 64 {
		k.SessionID = append(code, randoms...)
	}
	return k, nil
}

// helloRandom returns the 32-byte random of a ClientHello (hsType 1) or
// ServerHello (hsType 2) at the start of a TLS message, or nil. TLS 1.2
// hellos are plaintext: a record header (5 bytes), a handshake header
// (4 bytes), the legacy version (2 bytes) and the random.
func helloRandom(msg []byte, hsType byte) []byte {
	const off = 5 + 4 + 2
	if len(msg) < off+32 || msg[0] != 22 || msg[5] != hsType {
		return nil
	}
	return append([]byte(nil), msg[off:off+32]...)
}

// ecdheSuites returns Go's secure TLS 1.2 cipher suites with ECDHE key
// exchange. TLS 1.3 suites are not configurable in crypto/tls and all use
// (EC)DHE.
func ecdheSuites() []uint16 {
	var ids []uint16
	for _, s := range tls.CipherSuites() {
		if strings.HasPrefix(s.Name, "TLS_ECDHE_") {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// ecdheOnly returns the ECDHE suites of suites, or ecdheSuites when
// suites is nil. A list without any gets an error, because the default
// profile accepts no TLS 1.2 key exchange without forward secrecy.
func ecdheOnly(suites []uint16) ([]uint16, error) {
	if suites == nil {
		return ecdheSuites(), nil
	}
	var ids []uint16
	for _, id := range suites {
		if strings.HasPrefix(tls.CipherSuiteName(id), "TLS_ECDHE_") {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("eapest: none of the %d cipher suites of the server TLS "+
			"config uses ECDHE key exchange; add TLS_ECDHE_ suites or leave CipherSuites "+
			"nil", len(suites))
	}
	return ids, nil
}

// curves are the key exchange groups that the server accepts. Since Go
// 1.24 crypto/tls ignores the order of CurvePreferences: among the groups
// of the client's key_share it takes X25519 before P-256. A client that
// sends a key share of either never gets a HelloRetryRequest.
var curves = []tls.CurveID{tls.X25519, tls.CurveP256}

// peerCurves is the peer's default group: P-256 alone, which every TLS 1.3
// server must support (RFC 8446, Section 9.1) and which every ECDHE
// server of TLS 1.2 has. Its key exchange costs the server about two
// thirds of X25519's in Go on amd64 (a fixed-base table for the server's
// key share, and assembly field arithmetic).
var peerCurves = []tls.CurveID{tls.CurveP256}

// ServerTLSConfig returns a copy of base with the tunnel rules of
// ProfileDefault applied: TLS 1.2 at least, ECDHE cipher suites (those of
// base.CipherSuites when it is set), X25519 and P-256, no session tickets,
// and a required client certificate. base must
// contain the server certificate and decide trust in the client
// certificate: either ClientCAs with ClientAuth
// tls.RequireAndVerifyClientCert, or a VerifyConnection or
// VerifyPeerCertificate hook, which is how the registrar checks an IDevID
// against its manufacturer CAs.
func ServerTLSConfig(base *tls.Config) (*tls.Config, error) {
	return ProfileDefault.ServerTLSConfig(base)
}

// checkServerBase checks the requirements of ServerTLSConfig on base and
// returns a copy of it.
func checkServerBase(base *tls.Config) (*tls.Config, error) {
	if base == nil {
		return nil, errors.New("eapest: nil server TLS config; set the server certificate")
	}
	if len(base.Certificates) == 0 && base.GetCertificate == nil {
		return nil, errors.New("eapest: server TLS config has no certificate; " +
			"set Certificates or GetCertificate")
	}
	trusted := base.VerifyConnection != nil || base.VerifyPeerCertificate != nil ||
		(base.ClientCAs != nil && base.ClientAuth == tls.RequireAndVerifyClientCert)
	if !trusted {
		return nil, errors.New("eapest: server TLS config does not verify client " +
			"certificates; set VerifyConnection or ClientCAs with RequireAndVerifyClientCert")
	}
	return base.Clone(), nil
}

// PeerTLSConfig returns a copy of base with the tunnel rules applied. base
// must contain the peer certificate (IDevID or LDevID). The peer offers
// base.CurvePreferences, which must be X25519 or P-256, or P-256 alone
// when it is empty.
func PeerTLSConfig(base *tls.Config) (*tls.Config, error) {
	if base == nil || (len(base.Certificates) == 0 && base.GetClientCertificate == nil) {
		return nil, errors.New("eapest: peer TLS config has no client certificate; " +
			"set Certificates to the IDevID or LDevID")
	}
	groups, err := peerGroups(base.CurvePreferences)
	if err != nil {
		return nil, err
	}
	c := base.Clone()
	applyTunnelRules(c)
	c.CurvePreferences = groups
	c.ClientSessionCache = nil
	return c, nil
}

// peerGroups returns the key exchange groups that a peer offers: those of
// want that the tunnel allows, or peerCurves when want is empty.
func peerGroups(want []tls.CurveID) ([]tls.CurveID, error) {
	if len(want) == 0 {
		return slices.Clone(peerCurves), nil
	}
	var groups []tls.CurveID
	for _, g := range want {
		if !slices.Contains(curves, g) {
			return nil, fmt.Errorf("eapest: peer key exchange group %v is not allowed in "+
				"the tunnel; use %v", g, curves)
		}
		groups = append(groups, g)
	}
	return groups, nil
}

func applyTunnelRules(c *tls.Config) {
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	if c.CipherSuites == nil {
		c.CipherSuites = ecdheSuites()
	}
	// Each config gets its own copy, so that a caller that edits the groups
	// of one config changes no other.
	c.CurvePreferences = slices.Clone(curves)
	c.Renegotiation = tls.RenegotiateNever
	// crypto/tls sizes the first application data records for one TCP
	// segment, so that a receiver can decode early. EAP reassembles a whole
	// message before TLS reads it, so the split only adds 22 octets per
	// extra record, as in the pledge's first request of about 2 kB.
	c.DynamicRecordSizingDisabled = true
}
