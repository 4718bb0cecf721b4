package eapest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
)

// TLSProfile selects the TLS versions, cipher suites and key derivations
// that a server tunnel accepts. The zero value is ProfileDefault.
type TLSProfile uint8

const (
	// ProfileDefault accepts TLS 1.2 and 1.3 with ECDHE cipher suites, and
	// TLS 1.2 only with the Extended Master Secret (RFC 7627).
	ProfileDefault TLSProfile = iota
	// ProfileLegacy also accepts TLS 1.0 and 1.1, TLS 1.0 to 1.2 without
	// the Extended Master Secret, and the TLS_RSA_WITH_AES cipher suites,
	// which crypto/tls selects only with an RSA server certificate.
	// Connections under the default rules stay as they are.
	ProfileLegacy
)

// ErrUnknownTLSProfile marks a TLS profile name or value that is neither
// ProfileDefault nor ProfileLegacy.
var ErrUnknownTLSProfile = errors.New("eapest: unknown TLS profile")

// profileNames are the configuration names of the profiles, by value.
var profileNames = [...]string{ProfileDefault: "default", ProfileLegacy: "legacy"}

// String returns the configuration name of p: "default" or "legacy".
func (p TLSProfile) String() string {
	if int(p) < len(profileNames) {
		return profileNames[p]
	}
	return fmt.Sprintf("TLSProfile(%d)", uint8(p))
}

// ParseTLSProfile returns the profile named s, "default" or "legacy". Any
// other name gets an error that wraps ErrUnknownTLSProfile.
func ParseTLSProfile(s string) (TLSProfile, error) {
	for p, name := range profileNames {
		if s == name {
			return TLSProfile(p), nil
		}
	}
	return 0, fmt.Errorf("%w %q; use %q or %q", ErrUnknownTLSProfile, s,
		ProfileDefault.String(), ProfileLegacy.String())
}

// ServerTLSConfig returns a copy of base with the tunnel rules of p
// applied. base has the same requirements as for the package function
// ServerTLSConfig. Under ProfileLegacy, MinVersion is TLS 1.0 whatever
// base sets, because base is usually the registrar's HTTPS configuration
// with a floor of TLS 1.2. A nil base.CipherSuites becomes the ECDHE
// suites plus the TLS_RSA_WITH_AES suites.
func (p TLSProfile) ServerTLSConfig(base *tls.Config) (*tls.Config, error) {
	if p != ProfileDefault && p != ProfileLegacy {
		return nil, fmt.Errorf("%w: value %d; use ProfileDefault or ProfileLegacy",
			ErrUnknownTLSProfile, uint8(p))
	}
	c, err := checkServerBase(base)
	if err != nil {
		return nil, err
	}
	if p == ProfileLegacy {
		applyLegacyRules(c)
	} else {
		if c.CipherSuites, err = ecdheOnly(c.CipherSuites); err != nil {
			return nil, err
		}
		applyTunnelRules(c)
	}
	c.SessionTicketsDisabled = true
	if c.ClientAuth < tls.RequireAnyClientCert {
		c.ClientAuth = tls.RequireAnyClientCert
	}
	return c, nil
}

// rsaKeyExchangeSuites are the cipher suites without ECDHE that the legacy
// profile adds. They lack forward secrecy, and Go 1.22 removed them from
// the crypto/tls defaults. The 3DES, RC4 and CBC-SHA256 suites stay out:
// 3DES has a 64-bit block (Sweet32), RC4 is broken (RFC 7465), and
// crypto/tls implements CBC-SHA256 without the Lucky13 countermeasures.
var rsaKeyExchangeSuites = []uint16{
	tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
}

// applyLegacyRules applies the tunnel rules of ProfileLegacy to c.
// crypto/tls accepts an explicit MinVersion of TLS 1.0 on a server, and
// explicit TLS_RSA suites, without any GODEBUG setting (Go 1.26,
// Config.supportedVersions and Config.cipherSuites). It selects a TLS_RSA
// suite only when the certificate's key is an RSA crypto.Decrypter, so
// with the ECDSA certificates that the registrar generates these suites
// are never chosen.
func applyLegacyRules(c *tls.Config) {
	if c.CipherSuites == nil {
		c.CipherSuites = append(ecdheSuites(), rsaKeyExchangeSuites...)
	}
	applyTunnelRules(c)
	c.MinVersion = tls.VersionTLS10
}

// LegacyFeatures is the set of features outside the default profile that
// one TLS connection used.
type LegacyFeatures uint8

const (
	// LegacyTLS10 is TLS 1.0 (RFC 2246).
	LegacyTLS10 LegacyFeatures = 1 << iota
	// LegacyTLS11 is TLS 1.1 (RFC 4346).
	LegacyTLS11
	// LegacyRSAKeyExchange is a TLS_RSA cipher suite: the client encrypts
	// the premaster secret to the server's RSA key, without forward
	// secrecy.
	LegacyRSAKeyExchange
	// LegacyNoEMS is TLS 1.0 to 1.2 without the Extended Master Secret of
	// RFC 7627, which leaves the keys open to the triple handshake attack.
	LegacyNoEMS
)

// legacyFeatureNames are the log names of the features, in bit order.
var legacyFeatureNames = [...]string{"tls1.0", "tls1.1", "rsa-kex", "no-ems"}

// String returns the features as a comma-separated list of "tls1.0",
// "tls1.1", "rsa-kex" and "no-ems", or "" for none.
func (f LegacyFeatures) String() string {
	var names []string
	for i, name := range legacyFeatureNames {
		if f&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return strings.Join(names, ",")
}

// LegacyFeaturesOf returns the legacy features of a finished handshake.
// It learns whether the Extended Master Secret was negotiated from
// ExportKeyingMaterial, which crypto/tls rejects for TLS 1.0 to 1.2
// without it (tunnels never allow renegotiation, the other reason).
//
// NOTE: with GODEBUG tlsunsafeekm=1 in the environment, crypto/tls
// exports keys without the Extended Master Secret, so LegacyNoEMS is then
// never reported.
func LegacyFeaturesOf(cs *tls.ConnectionState) LegacyFeatures {
	if !cs.HandshakeComplete || cs.Version >= tls.VersionTLS13 {
		return 0
	}
	var f LegacyFeatures
	switch cs.Version {
	case tls.VersionTLS10:
		f |= LegacyTLS10
	case tls.VersionTLS11:
		f |= LegacyTLS11
	}
	if !strings.HasPrefix(tls.CipherSuiteName(cs.CipherSuite), "TLS_ECDHE_") {
		f |= LegacyRSAKeyExchange
	}
	if _, err := cs.ExportKeyingMaterial(labelTLS12, nil, 1); err != nil {
		f |= LegacyNoEMS
	}
	return f
}
