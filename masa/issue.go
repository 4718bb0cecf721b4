package masa

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/voucher"
)

// requestVoucher issues a voucher for an authenticated claim (RFC 8995,
// Section 5.6) and logs it before the response is written. A repeated
// request for a serial number and nonce that already got a voucher gets
// that stored voucher again.
func (s *Server) requestVoucher(r *http.Request, body []byte, log *RequestLog) ([]byte,
	*httpError) {
	c, herr := s.authenticate(body, log)
	if herr != nil {
		return nil, herr
	}
	now := s.cfg.Now().UTC()
	if herr := s.checkCreatedOn(c, now); herr != nil {
		return nil, herr
	}
	v := &voucher.Voucher{CreatedOn: now, Assertion: s.cfg.Assertion,
		SerialNumber: c.serial, PinnedDomainCert: c.domainCA.Raw, Nonce: c.nonce,
		DomainCertRevocationChecks: new(bool)}
	if len(c.nonce) == 0 {
		if !s.isOwner(c) {
			return nil, reject(http.StatusForbidden, "no nonceless voucher for device %q: "+
				"the domain CA %q is not configured as its owner; the MASA operator adds it "+
				"in an owner block", c.serial, c.domainCA.Subject)
		}
		v.ExpiresOn = minTime(now.Add(s.cfg.NoncelessLifetime), c.domainCA.NotAfter,
			c.registrar.NotAfter)
	}
	if s.cfg.Assertion == voucher.AssertionProximity {
		if herr := checkProximity(c); herr != nil {
			return nil, herr
		}
	}
	signed, repeated, herr := s.issue(r.Context(), c, v)
	if herr != nil {
		return nil, herr
	}
	log.Outcome = OutcomeVoucherIssued
	if repeated {
		log.Outcome = OutcomeVoucherRepeated
	}
	return signed, nil
}

// checkCreatedOn rejects a registrar voucher request without created-on or
// with one further than MaxClockSkew from now, which limits how long a
// copied request can be replayed.
func (s *Server) checkCreatedOn(c *claim, now time.Time) *httpError {
	if c.createdOn.IsZero() {
		return reject(http.StatusBadRequest, "the registrar voucher request has no "+
			"created-on; the registrar sets it to the current time (RFC 8995, Section 5.5)")
	}
	skew := c.createdOn.Sub(now)
	if skew > s.cfg.MaxClockSkew || -skew > s.cfg.MaxClockSkew {
		return reject(http.StatusBadRequest, "the registrar voucher request was created "+
			"on %s, more than %v from the MASA's time %s; send a fresh request, or fix "+
			"the registrar clock", c.createdOn.UTC().Format(time.RFC3339), s.cfg.MaxClockSkew,
			now.Format(time.RFC3339))
	}
	return nil
}

// issue signs v and stores it in the audit log. When the claim's serial
// number and nonce already got a voucher, it returns that voucher with
// repeated set, without a new audit event and without a rate check. The
// checks and the insert run under one lock, so two racing claims for the
// same device cannot both pass.
func (s *Server) issue(ctx context.Context, c *claim, v *voucher.Voucher) (signed []byte,
	repeated bool, herr *httpError) {
	s.claimMu.Lock()
	defer s.claimMu.Unlock()
	var nonce *string
	if len(c.nonce) > 0 {
		n := base64.StdEncoding.EncodeToString(c.nonce)
		nonce = &n
		if stored, herr := s.storedVoucher(ctx, c, n); stored != nil || herr != nil {
			return stored, true, herr
		}
	}
	if herr := s.checkRate(ctx, c.serial, v.CreatedOn); herr != nil {
		return nil, false, herr
	}
	content, err := v.MarshalVoucher()
	if err != nil {
		return nil, false, internalError(fmt.Errorf("marshal voucher: %w", err))
	}
	signed, err = voucher.Sign(content, s.factory.SigningCert, s.factory.signingKey,
		&voucher.SignOptions{Hash: crypto.SHA256, SigningTime: v.CreatedOn})
	if err != nil {
		return nil, false, internalError(fmt.Errorf("sign voucher: %w", err))
	}
	rec := voucherRecord{SerialNumber: c.serial, IssuedAt: v.CreatedOn, ExpiresAt: v.ExpiresOn,
		DomainID: devid.DomainID(c.domainCA), Assertion: string(v.Assertion),
		RegistrarFingerprint: devid.Fingerprint(c.registrar), Nonce: nonce, Signed: signed}
	if err := insertVoucher(ctx, s.db, rec); err != nil {
		return nil, false, internalError(err)
	}
	return signed, false, nil
}

// storedVoucher returns the voucher already issued for the claim's serial
// number and nonce, nil when there is none, or a rejection when it went to
// another domain or was stored without its signed form.
func (s *Server) storedVoucher(ctx context.Context, c *claim, nonce string) ([]byte,
	*httpError) {
	domainID, signed, found, err := issuedForNonce(ctx, s.db, c.serial, nonce)
	switch {
	case err != nil:
		return nil, internalError(err)
	case !found:
		return nil, nil
	case !bytes.Equal(domainID, devid.DomainID(c.domainCA)) || len(signed) == 0:
		return nil, reject(http.StatusConflict, "device %q already received a voucher "+
			"with this nonce; the pledge must send a new voucher request with a new nonce",
			c.serial)
	}
	return signed, nil
}

// checkRate rejects a claim within RateInterval of the device's last
// voucher with 503 and Retry-After.
func (s *Server) checkRate(ctx context.Context, serial string, now time.Time) *httpError {
	last, err := lastIssued(ctx, s.db, serial)
	if err != nil {
		return internalError(err)
	}
	if last.IsZero() {
		return nil
	}
	wait := last.Add(s.cfg.RateInterval).Sub(now)
	if wait <= 0 {
		return nil
	}
	e := reject(http.StatusServiceUnavailable, "device %q received a voucher at %s; "+
		"the MASA issues at most one voucher per device every %v", serial,
		last.Format(time.RFC3339), s.cfg.RateInterval)
	e.retryAfter = wait
	return e
}

// isOwner reports whether the claim's domain CA may receive nonceless
// vouchers for its device.
func (s *Server) isOwner(c *claim) bool {
	for _, key := range []string{c.serial, AnyDevice} {
		for _, ca := range s.cfg.Owners[key] {
			if ca.Equal(c.domainCA) {
				return true
			}
		}
	}
	return false
}

// checkProximity requires the pledge's proximity-registrar-cert to be the
// registrar's certificate or its domain CA, which is what a "proximity"
// assertion claims (RFC 8995, Section 5.5.5).
func checkProximity(c *claim) *httpError {
	if c.prior == nil || len(c.prior.ProximityRegistrarCert) == 0 {
		return reject(http.StatusForbidden, "this MASA issues proximity vouchers only, and "+
			"the pledge voucher request has no proximity-registrar-cert")
	}
	pinned := c.prior.ProximityRegistrarCert
	if string(pinned) == string(c.registrar.Raw) || string(pinned) == string(c.domainCA.Raw) {
		return nil
	}
	return reject(http.StatusForbidden, "the pledge's proximity-registrar-cert is not the "+
		"certificate of the registrar that signed the request")
}

// requestAuditLog returns the audit log of the claim's device (RFC 8995,
// Section 5.8). A domain that never received a voucher for the device gets
// 404, as that section requires.
func (s *Server) requestAuditLog(r *http.Request, body []byte, log *RequestLog) ([]byte,
	*httpError) {
	c, herr := s.authenticate(body, log)
	if herr != nil {
		return nil, herr
	}
	events, omitted, err := auditEvents(r.Context(), s.db, c.serial, maxAuditEvents)
	if err != nil {
		return nil, internalError(err)
	}
	domainID := string(devid.DomainID(c.domainCA))
	owner := false
	for _, e := range events {
		owner = owner || string(e.DomainID) == domainID
	}
	if !owner {
		// NOTE: when more than maxAuditEvents vouchers exist, a domain whose
		// only vouchers were left out also gets this 404.
		return nil, reject(http.StatusNotFound, "the domain CA %q never received a voucher "+
			"for device %q", c.domainCA.Subject, c.serial)
	}
	out, err := json.Marshal(&AuditLog{Version: AuditLogVersion, Events: events,
		Truncation: Truncation{Arbitrary: omitted}})
	if err != nil {
		return nil, internalError(fmt.Errorf("marshal audit log: %w", err))
	}
	log.Outcome = OutcomeAuditLogSent
	return out, nil
}

func minTime(first time.Time, others ...time.Time) time.Time {
	m := first
	for _, t := range others {
		if t.Before(m) {
			m = t
		}
	}
	return m
}
