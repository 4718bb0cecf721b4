package pledge

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
)

// enrollInputs sends the requests that follow an accepted voucher and
// depend on nothing but it: cacerts, csrattrs and the successful
// voucher_status (RFC 8995, Sections 5.7, 5.9.1 and 5.9.2). Over a session
// with Pipeline they travel in one batch, which inside EAP-EST takes one
// RADIUS round trip in place of three. voucher_status comes last, because
// RFC 9112, Section 9.3.2 advises against pipelining after a POST. Its
// failure is traced and otherwise ignored, as for every status report.
func (p *Pledge) enrollInputs(ctx context.Context, s Session, pinned *x509.Certificate) (
	[]*x509.Certificate, *CSRAttributes, error) {
	status, err := statusExchange(pathVoucherStatus, nil, "")
	if err != nil {
		return nil, nil, err
	}
	resps, errs := p.sendBatch(ctx, s, []exchange{caCertsExchange, csrAttrsExchange, status})
	if errs[2] != nil {
		p.trace(Event{Kind: EventTelemetryFailed, Path: pathVoucherStatus, Err: errs[2]})
	}
	if errs[0] != nil {
		return nil, nil, errs[0]
	}
	cas, err := p.checkCACerts(resps[0], pinned)
	if err != nil {
		return nil, nil, err
	}
	p.trace(Event{Kind: EventCACerts, Certs: cas})
	if errs[1] != nil {
		return nil, nil, errs[1]
	}
	attrs, err := parseCSRAttrsResponse(resps[1])
	if err != nil {
		return nil, nil, err
	}
	return cas, attrs, nil
}

// sendBatch performs xs on s and returns a response or an error for each.
// With s.Pipeline the requests go in one batch, and otherwise one after
// another. A 202 Accepted response is retried on its own, as send does. A
// telemetry exchange is sent once and its status is not checked.
func (p *Pledge) sendBatch(ctx context.Context, s Session, xs []exchange) ([]*response,
	[]error) {
	resps := make([]*response, len(xs))
	errs := make([]error, len(xs))
	if s.Pipeline == nil || len(xs) < 2 {
		for i, x := range xs {
			if x.telemetry {
				resps[i], errs[i] = roundTrip(ctx, s, x)
			} else {
				resps[i], errs[i] = p.send(ctx, s, x)
			}
		}
		return resps, errs
	}
	first, err := pipeline(ctx, s, xs)
	for i, x := range xs {
		switch {
		case err != nil:
			errs[i] = err
		case x.telemetry:
			resps[i] = first[i]
		default:
			resps[i], errs[i] = p.retryAccepted(ctx, s, x, first[i])
		}
	}
	return resps, errs
}

// pipeline sends xs in one s.Pipeline batch and reads every response.
func pipeline(ctx context.Context, s Session, xs []exchange) ([]*response, error) {
	reqs := make([]*http.Request, len(xs))
	for i, x := range xs {
		req, err := newRequest(ctx, s, x)
		if err != nil {
			return nil, err
		}
		reqs[i] = req
	}
	resps, err := s.Pipeline(reqs)
	if err != nil && s.Via != "" {
		return nil, fmt.Errorf("pledge: pipelined requests to %s and %d more %s: %w",
			xs[0].path, len(xs)-1, s.Via, err)
	}
	if err != nil {
		return nil, fmt.Errorf("pledge: pipelined requests to %s and %d more: %w",
			xs[0].path, len(xs)-1, err)
	}
	if len(resps) != len(xs) {
		closeBodies(resps)
		return nil, fmt.Errorf("pledge: pipeline returned %d responses to %d requests",
			len(resps), len(xs))
	}
	out := make([]*response, len(xs))
	var errs []error
	for i, resp := range resps {
		if resp == nil {
			errs = append(errs, fmt.Errorf("pledge: pipeline returned no response to %s",
				xs[i].path))
			continue
		}
		out[i], err = readResponse(xs[i], resp)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func closeBodies(resps []*http.Response) {
	for _, r := range resps {
		if r != nil && r.Body != nil {
			r.Body.Close()
		}
	}
}
