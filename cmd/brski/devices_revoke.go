package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/brski-eap/brski/store"
)

// maxSerialOctets is the maximum length of a certificate serial number
// (RFC 5280, Section 4.1.2.2).
const maxSerialOctets = 20

// revokeEffect is the output line that states when a revocation takes
// effect. Both the EAP-TLS server and EST simplereenroll read the store
// for every request, so a running registrar needs no restart.
const revokeEffect = "The next EAP-TLS authentication and EST simplereenroll with a revoked " +
	"LDevID are rejected; a running registrar reads the store and needs no restart.\n"

// listCertificatesHint is the command that lists the serial numbers that
// revoke accepts.
const listCertificatesHint = "brski devices certificates --all"

func init() {
	register(command{Name: "devices revoke",
		Summary: "revoke an LDevID by --cert SERIAL_HEX, or all of a --device",
		Run:     runDevicesRevoke})
}

// errInvalidSerial is wrapped by the errors of parseSerialHex.
var errInvalidSerial = errors.New("invalid certificate serial number")

// parseSerialHex parses a certificate serial number in hex as the
// registrar logs it ("1f3a"), and also as OpenSSL prints it ("1F:3A") or
// with a "0x" prefix. The value must be positive and at most
// maxSerialOctets long.
func parseSerialHex(s string) (*big.Int, error) {
	digits := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	digits = strings.ReplaceAll(digits, ":", "")
	if digits == "" {
		return nil, fmt.Errorf("%w %q: no hex digits", errInvalidSerial, s)
	}
	// A positive serial with the top bit set has one leading zero octet
	// in DER, which OpenSSL prints as "00:".
	trimmed := strings.TrimLeft(digits, "0")
	if len(trimmed) > 2*maxSerialOctets {
		return nil, fmt.Errorf("%w %q: longer than %d octets", errInvalidSerial, s,
			maxSerialOctets)
	}
	// big.Int.SetString also accepts a sign, which a serial never has.
	n, ok := new(big.Int).SetString(digits, 16)
	if !ok || strings.IndexFunc(digits, notHexDigit) >= 0 {
		return nil, fmt.Errorf("%w %q: use hex digits, such as 1f3a or 1F:3A",
			errInvalidSerial, s)
	}
	if n.Sign() <= 0 {
		return nil, fmt.Errorf("%w %q: a serial number is positive", errInvalidSerial, s)
	}
	return n, nil
}

func notHexDigit(r rune) bool {
	return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F')
}

// revokeRequest is a parsed "brski devices revoke" invocation: one of
// serial and device, and the revocation time.
type revokeRequest struct {
	serial *big.Int
	device string
	at     time.Time // zero means now
}

func runDevicesRevoke(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("devices revoke", stderr)
	var sf storeFlags
	sf.register(fs)
	certSerial := fs.String("cert", "", "serial number in hex of the LDevID to revoke, "+
		"as \""+listCertificatesHint+"\" prints it")
	device := fs.String("device", "", "serialNumber of a device; revokes all its valid LDevIDs")
	at := fs.String("at", "", "revocation time in RFC 3339, such as 2026-03-04T10:30:00Z, "+
		"not in the future (default now)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: brski devices revoke [--data DIR | --store PATH] "+
			"(--cert SERIAL_HEX | --device SERIAL) [--at TIME]")
		fmt.Fprint(stderr, revokeEffect)
		fs.PrintDefaults()
	}
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	req, err := parseRevokeRequest(fs, *certSerial, *device, *at)
	if err != nil {
		return err
	}

	ctx := context.Background()
	s, err := sf.open(ctx, false)
	if err != nil {
		return err
	}
	defer s.Close()
	if req.serial != nil {
		return revokeSerial(ctx, s, req, stdout)
	}
	return revokeDevice(ctx, s, req, stdout)
}

// parseRevokeRequest checks the values of --cert, --device and --at and
// returns a usage error of fs for an invalid one.
func parseRevokeRequest(fs *flag.FlagSet, certSerial, device, at string) (revokeRequest,
	error) {
	var req revokeRequest
	switch {
	case (certSerial == "") == (device == ""):
		return req, usageError(fs, "pass one of --cert SERIAL_HEX and --device SERIAL")
	case certSerial != "":
		n, err := parseSerialHex(certSerial)
		if err != nil {
			return req, usageError(fs, "--cert: %w", err)
		}
		req.serial = n
	default:
		req.device = device
	}
	if at == "" {
		return req, nil
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return req, usageError(fs, "--at %q is not an RFC 3339 time, such as "+
			"2026-03-04T10:30:00Z", at)
	}
	if t.IsZero() {
		// The store reads a zero time as now.
		return req, usageError(fs, "--at %s is before any LDevID was issued; pass the "+
			"time the key was lost, or leave --at out for now", at)
	}
	if t.After(time.Now()) {
		return req, usageError(fs, "--at %s is in the future; revocation takes effect at "+
			"once, so pass a past time or leave --at out", at)
	}
	req.at = t
	return req, nil
}

// revokeSerial revokes the LDevID req.serial. An LDevID that is revoked
// already keeps its revocation time, and the command succeeds.
func revokeSerial(ctx context.Context, s *store.Store, req revokeRequest,
	stdout io.Writer) error {
	c, err := s.CertificateBySerial(ctx, req.serial)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no LDevID with serial %s was issued; list the serial numbers "+
			"with \"%s\": %w", serialHex(req.serial), listCertificatesHint, err)
	}
	if err != nil {
		return err
	}
	if c.IsRevoked() {
		fmt.Fprintf(stdout, "LDevID %s of device %s was revoked already at %s\n",
			serialHex(c.SerialNumber), cell(c.DeviceSerial), c.Revoked.Format(time.RFC3339))
		return nil
	}
	return revokeAndPrint(ctx, s, []store.Certificate{c}, req.at, stdout)
}

// revokeDevice revokes every valid LDevID of req.device. A device whose
// LDevIDs are all revoked or expired is no error.
func revokeDevice(ctx context.Context, s *store.Store, req revokeRequest,
	stdout io.Writer) error {
	list, err := s.CertificatesOfDevice(ctx, req.device)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("no LDevID was issued to device %q; list the devices with "+
			"LDevIDs with \"%s\"", req.device, listCertificatesHint)
	}
	var valid []store.Certificate
	now := time.Now()
	for _, c := range list {
		if c.IsValidAt(now) {
			valid = append(valid, c)
		}
	}
	if len(valid) == 0 {
		fmt.Fprintf(stdout, "device %s has no valid LDevID to revoke; its %d %s "+
			"revoked or expired\n", cell(req.device), len(list),
			plural(len(list), "LDevID")+pluralVerb(len(list)))
		return nil
	}
	return revokeAndPrint(ctx, s, valid, req.at, stdout)
}

// revokeAndPrint revokes each certificate of list at the time at and
// prints the stored revocation time of each, which is an earlier time when
// another process revoked the certificate in the meantime.
func revokeAndPrint(ctx context.Context, s *store.Store, list []store.Certificate,
	at time.Time, stdout io.Writer) error {
	// A revocation before the issue would date the LDevID's end before its
	// start, so none is revoked unless --at fits all of them.
	for _, c := range list {
		if !at.IsZero() && at.Before(c.Issued) {
			return fmt.Errorf("--at %s is before LDevID %s of device %s was issued at %s; "+
				"pass a later time, or leave --at out for now", at.Format(time.RFC3339Nano),
				serialHex(c.SerialNumber), cell(c.DeviceSerial), c.Issued.Format(time.RFC3339))
		}
	}
	for _, c := range list {
		if err := s.RevokeCertificate(ctx, c.SerialNumber, at); err != nil {
			return err
		}
		stored, err := s.CertificateBySerial(ctx, c.SerialNumber)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked LDevID %s of device %s (%s) at %s\n",
			serialHex(c.SerialNumber), cell(c.DeviceSerial), cell(c.Subject),
			stored.Revoked.Format(time.RFC3339))
	}
	fmt.Fprint(stdout, revokeEffect)
	return nil
}

// pluralVerb returns " is" for one and " are" for any other count.
func pluralVerb(n int) string {
	if n == 1 {
		return " is"
	}
	return " are"
}
