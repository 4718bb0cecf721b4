package registrar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// StatusTelemetry is the body of a voucher_status (RFC 8995, Section 5.7)
// or enrollstatus (RFC 8995, Section 5.9.4) report.
type StatusTelemetry struct {
	// Version is the format version, 1 in RFC 8995.
	Version int
	// Status is true when the pledge accepted the voucher or enrolled.
	Status bool
	// Reason explains a failure in human-readable text.
	Reason string
	// ReasonContext is the optional "reason-context" JSON object as sent.
	ReasonContext json.RawMessage
}

// ParseStatusTelemetry parses a status report. The "version" and "status"
// members are required, "reason" must be a string and "reason-context" an
// object when present. Unknown members are ignored, as RFC 8995,
// Section 5.7 asks.
func ParseStatusTelemetry(data []byte) (*StatusTelemetry, error) {
	var raw struct {
		Version       *json.Number    `json:"version"`
		Status        *bool           `json:"status"`
		Reason        *string         `json:"reason"`
		ReasonContext json.RawMessage `json:"reason-context"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("registrar: invalid status JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("registrar: invalid status JSON: data after the object")
	}
	if raw.Version == nil || raw.Status == nil {
		return nil, errors.New(`registrar: status report needs "version" and "status" members`)
	}
	v, err := raw.Version.Int64()
	if err != nil || v < 0 || v > 1<<31 {
		return nil, fmt.Errorf("registrar: status version %q is not an unsigned integer",
			raw.Version.String())
	}
	st := &StatusTelemetry{Version: int(v), Status: *raw.Status}
	if raw.Reason != nil {
		st.Reason = *raw.Reason
	}
	if len(raw.ReasonContext) > 0 && !bytes.Equal(raw.ReasonContext, []byte("null")) {
		if raw.ReasonContext[0] != '{' {
			return nil, errors.New(`registrar: status "reason-context" must be a JSON object`)
		}
		st.ReasonContext = raw.ReasonContext
	}
	return st, nil
}

func (r *Registrar) voucherStatus(w http.ResponseWriter, req *http.Request, rl *RequestLog) error {
	return r.recordStatus(w, req, rl, "voucher")
}

func (r *Registrar) enrollStatus(w http.ResponseWriter, req *http.Request, rl *RequestLog) error {
	return r.recordStatus(w, req, rl, "enroll")
}

// recordStatus stores a status report with the identity of the TLS client
// and answers 200 with an empty body.
func (r *Registrar) recordStatus(w http.ResponseWriter, req *http.Request, rl *RequestLog,
	kind string) error {
	if err := checkMediaType(req, "application/json"); err != nil {
		return err
	}
	body, err := readBody(req)
	if err != nil {
		return err
	}
	st, err := ParseStatusTelemetry(body)
	if err != nil {
		return peerError(http.StatusBadRequest, "%v", err)
	}
	p := r.peer(req)
	rep := StatusReport{
		Time:          r.now(),
		Kind:          kind,
		DeviceSerial:  p.Serial,
		Fingerprint:   p.Fingerprint,
		Authenticated: p.Kind == PeerIDevID || p.Kind == PeerLDevID,
		Version:       st.Version,
		Status:        st.Status,
		Reason:        st.Reason,
		Raw:           body,
	}
	if g := sessionFrom(req.Context()).grant(); g != nil && rep.DeviceSerial == "" {
		rep.DeviceSerial = g.Serial
	}
	if err := r.opts.Store.RecordStatus(req.Context(), rep); err != nil {
		return internalError(err)
	}
	rl.Outcome = fmt.Sprintf("status=%t", st.Status)
	rl.Reason = st.Reason
	w.WriteHeader(http.StatusOK)
	return nil
}
