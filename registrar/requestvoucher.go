package registrar

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/masaclient"
	"github.com/brski-eap/brski/policies"
	"github.com/brski-eap/brski/voucher"
)

// maxClockSkew is how far in the future a pledge's created-on may lie.
// Pledges without a real-time clock may omit created-on or send a time long
// past (RFC 8995, Section 5.2), so only the future is bounded.
const maxClockSkew = time.Hour

// pledgeRequest is a verified pledge voucher request.
type pledgeRequest struct {
	peer *peerIdentity
	// cms is the pledge's signed request as received, the
	// prior-signed-voucher-request of the registrar request.
	cms []byte
	req *voucher.Voucher
	// serial is the device serial number: from the IDevID, or the claim
	// of the request for a pledge without IDevID.
	serial string
}

// exchangeResult is the outcome of one voucher exchange.
type exchangeResult struct {
	decision   policies.Decision
	decisionID int64
	// voucher is the CMS voucher for the pledge, nil when the decision is
	// a reject or the policy skipped the MASA.
	voucher []byte
	serial  string
	finger  string
	// cause is the internal error behind a reject's reason, for the log.
	cause error
}

// requestVoucher serves the pledge voucher request (RFC 8995, Section 5.2)
// and its alias /requestbootstraptoken.
func (r *Registrar) requestVoucher(w http.ResponseWriter, req *http.Request,
	rl *RequestLog) error {
	if req.Header.Get("Content-Type") == "" {
		return peerError(http.StatusUnsupportedMediaType, "the voucher request has no "+
			"Content-Type; send it as %s", voucher.MediaType)
	}
	if err := checkMediaType(req, voucher.MediaType); err != nil {
		return err
	}
	if !acceptsVoucher(req.Header.Values("Accept")) {
		return peerError(http.StatusNotAcceptable, "Accept %q excludes %s, the only voucher "+
			"format of this registrar", strings.Join(req.Header.Values("Accept"), ", "),
			voucher.MediaType)
	}
	body, err := readBody(req)
	if err != nil {
		return err
	}
	pr, err := r.verifyPledgeRequest(req, body)
	if err != nil {
		return err
	}
	rl.PeerSerial = pr.serial
	facts, err := r.initialFacts(req.Context(), pr)
	if err != nil {
		return internalError(err)
	}
	if len(pr.req.Nonce) == 0 && r.opts.Policy.Plan(facts).Voucher == policies.VoucherMASA {
		// NOTE: a plan does not say whether its rule accepts a nonceless MASA
		// voucher, so only the nonceless-cached and skip modes admit one.
		return peerError(http.StatusBadRequest, "voucher request has no nonce; the policy "+
			"for this device asks the MASA for a voucher, which needs the pledge's nonce")
	}
	key := pendingKey(pr, body)
	ctx := context.WithoutCancel(req.Context())
	run := func(setStatus func(string)) (*exchangeResult, error) {
		observed := masaclient.WithRetryObserver(ctx, func(retry masaclient.Retry) {
			setStatus(retryStatus(retry))
			if r.opts.OnMASARetry != nil {
				r.opts.OnMASARetry(pr.serial, retry)
			}
		})
		return r.exchange(observed, pr, facts)
	}
	e := r.pending.start(key, pr.req.Nonce, run)
	if e != nil && !bytes.Equal(e.nonce, pr.req.Nonce) &&
		r.pending.dropAbandoned(key, e, 2*r.opts.RetryAfter) {
		// The pledge that started e did not come back for its result, so a
		// new request of the device may start over.
		e = r.pending.start(key, pr.req.Nonce, run)
	}
	if e == nil {
		return &httpError{Status: http.StatusServiceUnavailable, RetryAfter: r.opts.RetryAfter,
			Message: "too many voucher requests are in progress; try again later"}
	}
	if !r.pending.wait(e, r.opts.VoucherWait) {
		detail := ""
		if status := r.pending.status(e); status != "" {
			detail = " (" + status + ")"
		}
		return &httpError{Status: http.StatusAccepted, RetryAfter: r.opts.RetryAfter,
			Message: fmt.Sprintf("the voucher is not ready yet%s; send the same voucher "+
				"request again after %v", detail, r.opts.RetryAfter)}
	}
	if !bytes.Equal(e.nonce, pr.req.Nonce) {
		// The result belongs to the request that started the exchange and
		// stays for it, because its voucher carries the other nonce.
		return &httpError{Status: http.StatusConflict, RetryAfter: r.opts.RetryAfter,
			Message: "another voucher request of this device, with another nonce, " +
				"holds the pending voucher exchange; send the request again later"}
	}
	r.pending.remove(key, e)
	if e.err != nil {
		return e.err
	}
	return r.deliver(w, req, rl, e.res)
}

// maxStatusMessage caps the MASA's text in a status, because it comes
// from another server.
const maxStatusMessage = 120

// retryStatus describes a retried MASA attempt for the pledge: the MASA's
// status code and the start of its message, or that it was unreachable.
func retryStatus(retry masaclient.Retry) string {
	next := fmt.Sprintf("retry %d of %d in %v", retry.Attempt+1, retry.MaxAttempts,
		retry.Delay.Round(time.Second))
	var se *masaclient.StatusError
	if !errors.As(retry.Err, &se) {
		return "the MASA could not be reached; " + next
	}
	msg := se.Message
	if len(msg) > maxStatusMessage {
		msg = strings.ToValidUTF8(msg[:maxStatusMessage], "") + "..."
	}
	if msg == "" {
		return fmt.Sprintf("the MASA answered %d; %s", se.Code, next)
	}
	return fmt.Sprintf("the MASA answered %d %q; %s", se.Code, msg, next)
}

// deliver sends the pledge the result of its voucher exchange and, for an
// accept or quarantine, allows EST enrollment in this session.
func (r *Registrar) deliver(w http.ResponseWriter, req *http.Request, rl *RequestLog,
	res *exchangeResult) error {
	d := res.decision
	rl.Outcome, rl.Reason = d.Outcome.String(), d.Reason
	for _, m := range d.Modes {
		rl.Modes = append(rl.Modes, string(m))
	}
	s := sessionFrom(req.Context())
	s.setDecision(&d)
	if d.Outcome == policies.OutcomeReject {
		// A reject withdraws an enrollment grant of an earlier exchange.
		s.setGrant(nil)
		return peerFailure(http.StatusForbidden, res.cause, "voucher request rejected: %s",
			d.Reason)
	}
	s.setGrant(&enrollGrant{Serial: res.serial, Fingerprint: res.finger,
		DecisionID: res.decisionID, Outcome: d.Outcome.String()})
	if res.voucher == nil {
		// The policy skips the MASA: there is no voucher, and only a pledge
		// configured to proceed without one continues to EST.
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	w.Header().Set("Content-Type", voucher.MediaType)
	w.WriteHeader(http.StatusOK)
	w.Write(res.voucher)
	return nil
}

// acceptsVoucher reports whether Accept header values admit the voucher
// media type (RFC 8995, Section 5.2). No header admits everything.
func acceptsVoucher(values []string) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || params["q"] == "0" {
				continue
			}
			if mt == voucher.MediaType || mt == "application/*" || mt == "*/*" {
				return true
			}
		}
	}
	return false
}

// pendingKey identifies a voucher exchange for single-flight. It is the
// IDevID fingerprint, so one device runs one exchange at a time whatever
// its nonces. A request without IDevID, whose serial number is only a
// claim, is keyed by a hash of its body.
func pendingKey(pr *pledgeRequest, body []byte) string {
	if pr.peer.Kind == PeerIDevID {
		return "idevid/" + pr.peer.Fingerprint
	}
	sum := sha256.Sum256(body)
	return "body/" + hex.EncodeToString(sum[:])
}

// verifyPledgeRequest parses the signed pledge voucher request, checks that
// the IDevID of the TLS connection signed it, and checks its leaves.
func (r *Registrar) verifyPledgeRequest(req *http.Request, body []byte) (*pledgeRequest, error) {
	p := r.peer(req)
	der, err := voucher.DecodeInput(body)
	if err != nil {
		return nil, peerFailure(http.StatusBadRequest, err, "voucher request is not CMS: %s",
			peerText(err))
	}
	var known []*x509.Certificate
	if req.TLS != nil {
		known = req.TLS.PeerCertificates
	}
	so, err := voucher.ParseSignedWith(der, known)
	if err != nil {
		return nil, peerFailure(http.StatusBadRequest, err, "invalid voucher request CMS: %s",
			peerText(err))
	}
	if p.Kind == PeerIDevID {
		if err := r.checkPledgeSignature(req, p, so); err != nil {
			return nil, err
		}
	}
	// NOTE: without a verified IDevID the signature is not checked, because
	// there is no trusted key to check it with. Only a policy rule with
	// allow_no_idevid accepts such a pledge.
	vr, err := voucher.ParseRequest(so.Content)
	if err == nil {
		err = vr.ValidateRequest()
	}
	if err != nil {
		return nil, peerFailure(http.StatusBadRequest, err, "invalid voucher request: %s",
			peerText(err))
	}
	pr := &pledgeRequest{peer: p, cms: der, req: vr, serial: p.Serial}
	if p.Kind != PeerIDevID {
		pr.serial = vr.SerialNumber
	}
	if err := r.checkPledgeLeaves(pr); err != nil {
		return nil, err
	}
	return pr, nil
}

func (r *Registrar) checkPledgeSignature(req *http.Request, p *peerIdentity,
	so *voucher.SignedObject) error {
	inter := chainPool(req.TLS.PeerCertificates[1:])
	v, err := so.Verify(voucher.VerifyOptions{Roots: p.Manufacturer.roots,
		Intermediates: inter, CurrentTime: r.now(), Signer: p.Cert,
		VerifyChain: r.chains.Verify})
	if err != nil {
		return peerFailure(http.StatusForbidden, err, "voucher request signature does not "+
			"verify with the IDevID: %s", peerText(err))
	}
	if !v.Signer.Equal(p.Cert) {
		return peerError(http.StatusForbidden, "voucher request is signed by %q, not by the "+
			"IDevID of the TLS connection; sign it with the IDevID key", v.Signer.Subject)
	}
	return nil
}

// checkPledgeLeaves applies the checks of RFC 8995, Sections 5.2 and 5.5.
func (r *Registrar) checkPledgeLeaves(pr *pledgeRequest) error {
	vr := pr.req
	if vr.Assertion != voucher.AssertionProximity {
		return peerError(http.StatusBadRequest, "voucher request assertion is %q; a pledge "+
			"request must assert \"proximity\"", vr.Assertion)
	}
	if !bytes.Equal(vr.ProximityRegistrarCert, r.cert.Leaf().Raw) {
		// RFC 8995, Section 5.2: a mismatch means an on-path attacker, so
		// the registrar returns 401 and closes the connection.
		e := peerError(http.StatusUnauthorized, "proximity-registrar-cert is not the "+
			"certificate of this registrar; use the TLS server certificate of this connection")
		e.Close = true
		return e
	}
	if pr.peer.Kind == PeerIDevID && vr.SerialNumber != pr.serial {
		return peerError(http.StatusBadRequest, "voucher request serial-number %q does not "+
			"match the IDevID serialNumber %q", vr.SerialNumber, pr.serial)
	}
	if pr.serial == "" {
		return peerError(http.StatusBadRequest, "voucher request has no serial-number")
	}
	if !vr.CreatedOn.IsZero() && vr.CreatedOn.After(r.now().Add(maxClockSkew)) {
		return peerError(http.StatusBadRequest, "voucher request created-on %s is in the "+
			"future; check the pledge clock", vr.CreatedOn.Format(time.RFC3339))
	}
	return nil
}

// initialFacts returns the device, NAS and time facts for Plan.
func (r *Registrar) initialFacts(ctx context.Context, pr *pledgeRequest) (policies.Facts, error) {
	p := pr.peer
	f := policies.Facts{Time: r.now()}
	f.Device.Serial = pr.serial
	if p.Kind == PeerIDevID {
		f.Device.IDevIDPresented = true
		f.Device.Manufacturer = p.Manufacturer.Name
		f.Device.ManufacturerKeyID = p.Manufacturer.keyID
		f.Device.Model = devid.Model(p.Cert)
		f.Device.IDevIDFingerprint = p.Fingerprint
	}
	exp, err := r.opts.Store.ExpectedDevice(ctx, pr.serial)
	switch {
	case err == nil:
		f.Device.Expected, f.Device.Tags = true, exp.Tags
	case !errors.Is(err, ErrNotFound):
		return f, err
	}
	if nas, ok := NASFactsFrom(ctx); ok {
		f.NAS = policies.NASFacts{Client: nas.ClientName, Identifier: nas.NASIdentifier,
			PortID: nas.NASPortID, CalledStationID: nas.CalledStationID,
			CallingStationID: nas.CallingStationID}
	}
	return f, nil
}
