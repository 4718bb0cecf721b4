package eapest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"

	"github.com/brski-eap/brski/eap"
)

// The key export without the Extended Master Secret.
//
// Since Go 1.22, ConnectionState.ExportKeyingMaterial rejects TLS 1.0 to
// 1.2 connections without the Extended Master Secret (RFC 7627) unless
// GODEBUG tlsunsafeekm=1. That setting is process-wide: internal/godebug
// reads it for every tls.Conn of the binary, so it would let the default
// profile's conversations export keys from such peers too. The legacy
// profile therefore leaves GODEBUG alone. Each of its conversations runs
// TLS with its own Config copy whose KeyLogWriter, a legacyKeys, keeps
// the TLS 1.0 to 1.2 master secret in memory, and derives the RFC 5216
// keys from it with the TLS PRF. Nothing is written anywhere else, and
// TLS 1.3 secrets are discarded.

// keyLogLabelTLS12 starts the NSS key log line of a TLS 1.0 to 1.2 master
// secret, as crypto/tls writes it: the label, the client random and the
// master secret, each in hex and separated by a space.
const keyLogLabelTLS12 = "CLIENT_RANDOM"

// masterSecretLen is the length of a TLS 1.0 to 1.2 master secret
// (RFC 5246, Section 8.1).
const masterSecretLen = 48

// legacyKeys is the tls.Config.KeyLogWriter of one legacy conversation.
// crypto/tls calls Write from the handshake goroutine. The tunnel reads
// the fields only after that goroutine has ended.
type legacyKeys struct {
	clientRandom []byte
	masterSecret []byte
}

// Write keeps the master secret of a CLIENT_RANDOM line and discards every
// other line.
func (k *legacyKeys) Write(line []byte) (int, error) {
	fields := strings.Fields(string(line))
	if len(fields) != 3 || fields[0] != keyLogLabelTLS12 {
		return len(line), nil
	}
	random, err1 := hex.DecodeString(fields[1])
	secret, err2 := hex.DecodeString(fields[2])
	if err1 != nil || err2 != nil || len(random) != 32 || len(secret) != masterSecretLen {
		return 0, errors.New("eapest: malformed CLIENT_RANDOM key log line")
	}
	k.clientRandom, k.masterSecret = random, secret
	return len(line), nil
}

// legacyConfig returns the TLS configuration of one conversation: config
// itself, or under ProfileLegacy a copy whose KeyLogWriter is a new
// t.secrets.
func (t *serverTunnel) legacyConfig() *tls.Config {
	if t.profile != ProfileLegacy {
		return t.config
	}
	t.secrets = &legacyKeys{}
	c := t.config.Clone()
	c.KeyLogWriter = t.secrets
	return c
}

// deriveTunnelKeys derives the keys of a finished handshake. Where
// ExportKeyingMaterial rejects a TLS 1.0 to 1.2 connection without the
// Extended Master Secret, the legacy profile derives them from the
// captured master secret.
func (t *serverTunnel) deriveTunnelKeys() (keyMaterial, error) {
	keys, err := deriveKeys(&t.state, t.typ, t.randoms)
	if err == nil || t.secrets == nil || t.state.Version >= tls.VersionTLS13 {
		return keys, err
	}
	return t.secrets.derive(&t.state, t.typ, t.randoms)
}

// derive returns MSK, EMSK and Session-Id as RFC 5216, Section 2.3 defines
// them for TLS 1.0 to 1.2: PRF(master secret, "client EAP encryption",
// client.random || server.random), the value that ExportKeyingMaterial
// returns for a nil context. randoms must be client.random ||
// server.random.
func (k *legacyKeys) derive(cs *tls.ConnectionState, t eap.MethodType,
	randoms []byte) (keyMaterial, error) {
	if len(k.masterSecret) != masterSecretLen || len(randoms) != 64 {
		return keyMaterial{}, errors.New("eapest: TLS master secret or hello randoms " +
			"not captured; the peer needs the Extended Master Secret")
	}
	if !bytes.Equal(k.clientRandom, randoms[:32]) {
		return keyMaterial{}, errors.New("eapest: captured master secret belongs to " +
			"another client random")
	}
	km, err := tlsPRF(cs.Version, cs.CipherSuite, k.masterSecret, []byte(labelTLS12),
		randoms, 128)
	if err != nil {
		return keyMaterial{}, err
	}
	return keyMaterial{MSK: km[:64], EMSK: km[64:],
		SessionID: append(typeCode(t), randoms...)}, nil
}

// tlsPRF returns n bytes of the PRF of a TLS version and cipher suite.
// TLS 1.0 and 1.1 use P_MD5 XOR P_SHA-1 (RFC 2246, Section 5). TLS 1.2
// uses P_SHA256 (RFC 5246, Section 5), or P_SHA384 for the SHA384 suites
// of RFC 5288 and RFC 5289, as crypto/tls does.
func tlsPRF(version, suite uint16, secret, label, seed []byte, n int) ([]byte, error) {
	labelSeed := append(append([]byte(nil), label...), seed...)
	switch version {
	case tls.VersionTLS10, tls.VersionTLS11:
		// RFC 2246, Section 5: S1 and S2 are the halves of the secret, and
		// share the middle byte when its length is odd.
		half := (len(secret) + 1) / 2
		out := pHash(md5.New, secret[:half], labelSeed, n)
		for i, b := range pHash(sha1.New, secret[len(secret)-half:], labelSeed, n) {
			out[i] ^= b
		}
		return out, nil
	case tls.VersionTLS12:
		if strings.HasSuffix(tls.CipherSuiteName(suite), "_SHA384") {
			return pHash(sha512.New384, secret, labelSeed, n), nil
		}
		return pHash(sha256.New, secret, labelSeed, n), nil
	}
	return nil, fmt.Errorf("eapest: no TLS PRF for version %s", tls.VersionName(version))
}

// pHash is P_hash of RFC 5246, Section 5: HMAC(secret, A(i) || seed) for
// A(1) = HMAC(secret, seed), A(i) = HMAC(secret, A(i-1)), cut to n bytes.
func pHash(h func() hash.Hash, secret, seed []byte, n int) []byte {
	out := make([]byte, 0, n+64)
	mac := hmac.New(h, secret)
	mac.Write(seed)
	a := mac.Sum(nil)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(seed)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
	}
	return out[:n]
}
