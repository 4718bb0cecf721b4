package pledge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/brski-eap/brski/voucher"
)

// requestVoucher signs a pledge voucher request with a fresh nonce, posts it
// to the registrar (RFC 8995, Section 5.2) and validates the voucher it
// returns. It reports a rejected voucher to voucher_status (RFC 8995,
// Section 5.7). enroll reports an accepted one.
func (p *Pledge) requestVoucher(ctx context.Context, s Session, id *identity) (
	*VerifiedVoucher, error) {
	nonce, err := newNonce()
	if err != nil {
		return nil, err
	}
	signed, err := p.signRequest(s, id, nonce)
	if err != nil {
		return nil, err
	}
	p.trace(Event{Kind: EventVoucherRequested, Path: pathRequestVoucher})
	// The same signed request is resent after each 202, as RFC 8995,
	// Section 5.6 requires: same nonce, no new signature.
	resp, err := p.send(ctx, s, exchange{
		method: http.MethodPost, path: pathRequestVoucher,
		contentType: mediaVoucherCMS, accept: mediaVoucherCMS,
		body: signed, want: []int{http.StatusOK},
	})
	if err != nil {
		return nil, err
	}
	vv, err := p.checkVoucherResponse(resp, Expected{
		Nonce: nonce, SerialNumber: id.serial, IDevID: id.cert,
		RegistrarCert: s.RegistrarCert, RegistrarChain: s.RegistrarChain,
	})
	if err != nil {
		p.report(ctx, s, pathVoucherStatus, err, "voucher rejected")
		return nil, err
	}
	return vv, nil
}

// signRequest builds the pledge voucher request of RFC 8995, Section 5.2
// and signs it with the IDevID key, carrying the IDevID chain in the CMS
// object so the registrar can verify it.
func (p *Pledge) signRequest(s Session, id *identity, nonce []byte) ([]byte, error) {
	req := &voucher.Voucher{
		CreatedOn:              p.now().UTC(),
		Assertion:              voucher.AssertionProximity,
		SerialNumber:           id.serial,
		Nonce:                  nonce,
		ProximityRegistrarCert: s.RegistrarCert.Raw,
	}
	content, err := req.MarshalRequest()
	if err != nil {
		return nil, fmt.Errorf("pledge: encode voucher request: %w", err)
	}
	signed, err := voucher.Sign(content, id.cert, id.key,
		&voucher.SignOptions{Certificates: id.chain[1:]})
	if err != nil {
		return nil, fmt.Errorf("pledge: sign voucher request: %w", err)
	}
	return signed, nil
}

// checkVoucherResponse checks the media type of the registrar's response
// and validates the voucher in it.
func (p *Pledge) checkVoucherResponse(resp *response, want Expected) (*VerifiedVoucher,
	error) {
	if err := expectMedia(pathRequestVoucher, resp, mediaVoucherCMS); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVoucherMalformed, err)
	}
	vv, err := p.VerifyVoucher(resp.body, want)
	if err != nil {
		return nil, err
	}
	vv.signed = resp.body
	return vv, nil
}

// statusReport is the body of voucher_status (RFC 8995, Section 5.7) and
// enrollstatus (RFC 8995, Section 5.9.4).
type statusReport struct {
	Version int    `json:"version"`
	Status  bool   `json:"status"`
	Reason  string `json:"reason,omitempty"`
}

// report posts a status report to path: success when failure is nil, and
// otherwise status false with a reason derived from failure. The registrar's
// response status is ignored (RFC 8995, Section 5.7). A failed post is
// traced and returned, but telemetry must not decide the outcome of the
// attempt, so callers only use the error to choose another session.
func (p *Pledge) report(ctx context.Context, s Session, path string, failure error,
	fallback string) error {
	x, err := statusExchange(path, failure, fallback)
	if err == nil {
		_, err = roundTrip(ctx, s, x)
	}
	if err != nil {
		p.trace(Event{Kind: EventTelemetryFailed, Path: path, Err: err})
	}
	return err
}

// statusExchange returns the status report to path that report sends.
func statusExchange(path string, failure error, fallback string) (exchange, error) {
	r := statusReport{Version: 1, Status: failure == nil}
	if failure != nil {
		r.Reason = reason(failure, fallback)
	}
	body, err := json.Marshal(r)
	if err != nil {
		return exchange{}, fmt.Errorf("pledge: encode status report: %w", err)
	}
	return exchange{method: http.MethodPost, path: path, contentType: mediaJSON,
		body: body, telemetry: true}, nil
}
