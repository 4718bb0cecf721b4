package registrar

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/masaclient"
	"github.com/brski-eap/brski/policies"
	"github.com/brski-eap/brski/voucher"
)

// MASAClient requests vouchers and audit logs from a MASA (RFC 8995,
// Sections 5.5 and 5.8). *masaclient.Client implements it.
type MASAClient interface {
	RequestVoucher(ctx context.Context, masaURL string, request []byte) ([]byte, error)
	RequestAuditLog(ctx context.Context, masaURL string, request []byte) (*masa.AuditLog, error)
}

var _ MASAClient = (*masaclient.Client)(nil)

// exchange obtains the voucher that the policy's plan selects, evaluates
// the policy and records the decision. It returns an error only for
// transient failures, such as an unreachable MASA, and then records no
// decision.
func (r *Registrar) exchange(ctx context.Context, pr *pledgeRequest,
	facts policies.Facts) (*exchangeResult, error) {
	plan := r.opts.Policy.Plan(facts)
	facts.MASA.Mode = plan.Voucher
	facts.MASA.DomainID = domainID(r.ca.Cert)
	var got obtained
	switch {
	case pr.peer.Kind == PeerNone:
		got.problem = "the pledge presented no TLS client certificate (IDevID)"
	case pr.peer.Kind == PeerUntrusted || pr.peer.Kind == PeerLDevID:
		got.problem = "the TLS client certificate is not an IDevID of a configured " +
			"manufacturer"
	}
	switch {
	case plan.Final && plan.Outcome == policies.OutcomeReject:
		// The MASA cannot change a final reject, so it is not asked.
	case plan.Voucher == policies.VoucherSkip:
	case pr.peer.Kind != PeerIDevID:
		got.problem += "; a voucher needs a pledge with a verified IDevID"
	case plan.Voucher == policies.VoucherNoncelessCached:
		got = r.cachedVoucher(ctx, pr)
	default:
		var err error
		if got, err = r.masaVoucher(ctx, pr); err != nil {
			return nil, err
		}
	}
	got.apply(&facts.MASA)
	d := r.opts.Policy.Evaluate(facts)
	reason := d.Reason
	if got.problem != "" && d.Outcome == policies.OutcomeReject {
		d.Reason += "; " + got.problem
		reason = d.Reason
		if got.cause != nil {
			// The store and the log get the cause, the pledge only d.Reason.
			reason += " (" + got.cause.Error() + ")"
		}
	}
	rec := DecisionRecord{
		Time:              r.now(),
		DeviceSerial:      pr.serial,
		IDevIDFingerprint: pr.peer.Fingerprint,
		Mode:              plan.Voucher.String(),
		AuditSummary:      got.summary,
		Rule:              d.Rule,
		Outcome:           d.Outcome.String(),
		Reason:            reason,
	}
	for _, m := range d.Modes {
		rec.Modes = append(rec.Modes, string(m))
	}
	if pr.peer.Manufacturer != nil {
		rec.Manufacturer = pr.peer.Manufacturer.Name
	}
	res := &exchangeResult{decision: d, serial: pr.serial, finger: pr.peer.Fingerprint,
		cause: got.cause}
	if d.Outcome != policies.OutcomeReject && d.Voucher != policies.VoucherSkip {
		res.voucher = got.voucherCMS
		rec.Voucher = got.voucherCMS
	}
	id, err := r.opts.Store.RecordDecision(ctx, rec)
	if err != nil {
		return nil, internalError(err)
	}
	res.decisionID = id
	if r.opts.OnDecision != nil {
		r.opts.OnDecision(id, rec)
	}
	return res, nil
}

// obtained is what the registrar learned from the MASA or the cache.
type obtained struct {
	voucherCMS []byte
	voucher    *voucher.Voucher
	auditLog   *masa.AuditLog
	// domainID is the domainID of the pinned-domain-cert of the voucher.
	domainID string
	summary  string
	// problem explains a missing voucher or audit log in words for the
	// pledge, without URLs or package names.
	problem string
	// cause is the error behind problem, for the store and the log only.
	cause error
}

func (o *obtained) apply(m *policies.MASAFacts) {
	if o.voucher != nil {
		m.VoucherObtained = true
		m.Assertion = string(o.voucher.Assertion)
		m.Nonceless = len(o.voucher.Nonce) == 0
		m.DomainID = o.domainID
	}
	if o.auditLog != nil {
		m.AuditLogFetched = true
		m.ArbitraryTruncation = int(min(o.auditLog.Truncation.Arbitrary, 1<<31))
		for _, e := range o.auditLog.Events {
			m.AuditLog = append(m.AuditLog, policies.AuditEntry{
				Date:      e.Date,
				DomainID:  base64.StdEncoding.EncodeToString(e.DomainID),
				Nonceless: e.Nonce == nil,
				Assertion: e.Assertion,
			})
		}
	}
	o.summary = summarizeAudit(o.auditLog, m.DomainID, m.AuditLog)
}

// masaVoucher requests a voucher and the audit log from the MASA. A MASA
// that rejects the request leaves a problem for the decision. A MASA that
// cannot be reached gives an error with status 503.
func (r *Registrar) masaVoucher(ctx context.Context, pr *pledgeRequest) (obtained, error) {
	var got obtained
	if r.opts.MASA == nil {
		got.problem = "the registrar has no MASA client configured"
		return got, nil
	}
	m := pr.peer.Manufacturer
	url := m.MASAURL
	if url == "" {
		var err error
		if url, err = devid.MASAURL(pr.peer.Cert); err != nil {
			got.problem = "the registrar knows no MASA URL for this device"
			got.cause = fmt.Errorf("%w; set masa_url for manufacturer %q", err, m.Name)
			return got, nil
		}
	}
	rvr, err := r.registrarRequest(pr)
	if err != nil {
		return got, internalError(err)
	}
	cms, err := r.opts.MASA.RequestVoucher(ctx, url, rvr)
	var se *masaclient.StatusError
	switch {
	case errors.As(err, &se) && se.Code >= 400 && se.Code < 500:
		got.problem = fmt.Sprintf("the MASA rejected the voucher request with %d %s",
			se.Code, http.StatusText(se.Code))
		got.cause = err
		return got, nil
	case err != nil:
		return got, masaFailure(err, r.opts.RetryAfter)
	}
	v, id, err := r.verifyVoucher(cms, m, pr.serial, pr.req.Nonce)
	if err != nil {
		got.problem, got.cause = "the voucher from the MASA failed verification", err
		return got, nil
	}
	got.voucherCMS, got.voucher, got.domainID = cms, v, id
	if got.auditLog, err = r.opts.MASA.RequestAuditLog(ctx, url, rvr); err != nil {
		got.problem, got.cause = "reading the MASA audit log failed", err
	}
	return got, nil
}

// masaFailure is the 503 for a MASA that gave no voucher and no 4xx: one
// that answered with an unusable response, or one that cannot be reached.
func masaFailure(err error, retryAfter time.Duration) *httpError {
	msg := "the MASA of the manufacturer cannot be reached; try again later"
	var se *masaclient.StatusError
	if errors.As(err, &se) || errors.Is(err, masaclient.ErrBadResponse) {
		msg = "the MASA of the manufacturer answered with an error; try again later"
	}
	return &httpError{Status: http.StatusServiceUnavailable, RetryAfter: retryAfter,
		Cause: err, Message: msg}
}

// registrarRequest builds and signs the registrar voucher request
// (RFC 8995, Section 5.5). The CMS carries the registrar certificate and the
// domain CA chain, so the MASA can pin the domain CA.
func (r *Registrar) registrarRequest(pr *pledgeRequest) ([]byte, error) {
	rvr := &voucher.Voucher{
		CreatedOn:                 r.now(),
		Assertion:                 voucher.AssertionProximity,
		SerialNumber:              pr.serial,
		IDevIDIssuer:              pr.peer.Cert.AuthorityKeyId,
		Nonce:                     pr.req.Nonce,
		PriorSignedVoucherRequest: pr.cms,
	}
	content, err := rvr.MarshalRequest()
	if err != nil {
		return nil, fmt.Errorf("registrar: marshal registrar voucher request: %w", err)
	}
	signed, err := voucher.Sign(content, r.cert.Leaf(), r.cert.Key,
		&voucher.SignOptions{Certificates: r.cert.Chain[1:]})
	if err != nil {
		return nil, fmt.Errorf("registrar: sign registrar voucher request: %w", err)
	}
	return signed, nil
}

// verifyVoucher checks a voucher against the manufacturer's MASA trust
// anchors and against this domain: the pinned-domain-cert is the domain CA
// or the registrar certificate, and the serial number and nonce match. It
// returns the voucher and the domainID of its pinned certificate.
func (r *Registrar) verifyVoucher(cms []byte, m *Manufacturer, serial string,
	nonce []byte) (*voucher.Voucher, string, error) {
	if len(m.MASATrust) == 0 {
		return nil, "", fmt.Errorf("manufacturer %q has no masa_trust anchors to verify "+
			"its vouchers", m.Name)
	}
	so, err := voucher.ParseSignedWith(cms, r.masaCerts.get())
	if err != nil {
		return nil, "", fmt.Errorf("the MASA voucher is not valid CMS: %w", err)
	}
	if _, err := so.Verify(voucher.VerifyOptions{Roots: m.masaRoots,
		CurrentTime: r.now(), VerifyChain: r.chains.Verify}); err != nil {
		return nil, "", fmt.Errorf("the MASA voucher signature does not verify with the "+
			"masa_trust anchors of manufacturer %q: %w", m.Name, err)
	}
	r.masaCerts.remember(so.Certificates)
	v, err := voucher.ParseVoucher(so.Content)
	if err == nil {
		err = v.Validate()
	}
	if err != nil {
		return nil, "", fmt.Errorf("the MASA voucher is invalid: %w", err)
	}
	pinned, err := r.checkVoucherLeaves(v, serial, nonce)
	if err != nil {
		return nil, "", err
	}
	return v, domainID(pinned), nil
}

// maxMemoCerts bounds the certificates that a certMemo keeps. A MASA
// voucher carries the signing certificate and perhaps its intermediates.
const maxMemoCerts = 4

// certMemo keeps the parsed certificates of the latest verified MASA
// voucher. Every voucher of a MASA carries the same signing chain, so
// voucher.ParseSignedWith takes them from here in place of parsing them
// for every bootstrap. A certMemo is safe for concurrent use.
type certMemo struct {
	mu    sync.Mutex
	certs []*x509.Certificate
}

func (m *certMemo) get() []*x509.Certificate {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.certs
}

// remember replaces the kept certificates with certs, of which it keeps
// at most maxMemoCerts.
func (m *certMemo) remember(certs []*x509.Certificate) {
	certs = slices.Clone(certs[:min(len(certs), maxMemoCerts)])
	m.mu.Lock()
	defer m.mu.Unlock()
	m.certs = certs
}
