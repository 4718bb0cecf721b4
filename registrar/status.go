package registrar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
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

// Limits of status telemetry. A report's reason is stored up to
// maxStoredReason bytes and logged up to maxLoggedReason bytes. One device
// stores at most maxReportsPerWindow reports of each kind per reportWindow.
const (
	maxStoredReason     = 1024
	maxLoggedReason     = 200
	maxStoredRaw        = 4096
	maxReportsPerWindow = 8
	reportWindow        = time.Hour
)

func (r *Registrar) voucherStatus(w http.ResponseWriter, req *http.Request, rl *RequestLog) error {
	return r.recordStatus(w, req, rl, "voucher")
}

func (r *Registrar) enrollStatus(w http.ResponseWriter, req *http.Request, rl *RequestLog) error {
	return r.recordStatus(w, req, rl, "enroll")
}

// recordStatus stores a status report of an authenticated pledge with the
// identity of its TLS client certificate and answers 200 with an empty
// body.
func (r *Registrar) recordStatus(w http.ResponseWriter, req *http.Request, rl *RequestLog,
	kind string) error {
	if err := checkMediaType(req, "application/json"); err != nil {
		return err
	}
	p := r.peer(req)
	serial, err := r.checkReporter(req, p, kind)
	if err != nil {
		return err
	}
	body, err := readBody(req)
	if err != nil {
		return err
	}
	st, err := ParseStatusTelemetry(body)
	if err != nil {
		return peerFailure(http.StatusBadRequest, err, "%s",
			strings.TrimPrefix(err.Error(), "registrar: "))
	}
	if wait := r.reports.admit(kind+"/"+p.Fingerprint, r.now()); wait > 0 {
		return &httpError{Status: http.StatusTooManyRequests, RetryAfter: wait,
			Message: fmt.Sprintf("device %q sent %d %s status reports within %v; the "+
				"registrar stores no more until the oldest is older", serial,
				maxReportsPerWindow, kind, reportWindow)}
	}
	rep := StatusReport{
		Time:          r.now(),
		Kind:          kind,
		DeviceSerial:  serial,
		Fingerprint:   p.Fingerprint,
		Authenticated: true,
		Version:       st.Version,
		Status:        st.Status,
		Reason:        truncateUTF8(st.Reason, maxStoredReason),
		Raw:           storedRaw(body, st),
	}
	if err := r.opts.Store.RecordStatus(req.Context(), rep); err != nil {
		return internalError(err)
	}
	rl.Outcome = fmt.Sprintf("status=%t", st.Status)
	rl.Reason = logText(st.Reason, maxLoggedReason)
	w.WriteHeader(http.StatusOK)
	return nil
}

// checkReporter accepts a status report only from a pledge with a verified
// IDevID or an LDevID of this domain (RFC 8995, Sections 5.7 and 5.9.4). A
// voucher status report with an IDevID also needs a voucher exchange in
// this session or a device in the expected-devices list. It returns the
// device serial number.
func (r *Registrar) checkReporter(req *http.Request, p *peerIdentity,
	kind string) (string, error) {
	switch p.Kind {
	case PeerNone:
		return "", peerError(http.StatusUnauthorized, "a status report needs a TLS client "+
			"certificate: the pledge's IDevID or its LDevID of this domain")
	case PeerIDevID, PeerLDevID:
	default:
		return "", peerError(http.StatusForbidden, "the TLS client certificate is neither "+
			"an IDevID of a configured manufacturer nor an LDevID of this domain")
	}
	if kind != "voucher" || p.Kind == PeerLDevID {
		return p.Serial, nil
	}
	if _, ok := SessionDecision(req.Context()); ok {
		return p.Serial, nil
	}
	_, err := r.opts.Store.ExpectedDevice(req.Context(), p.Serial)
	switch {
	case errors.Is(err, ErrNotFound):
		return "", peerError(http.StatusForbidden, "no voucher exchange in this session, "+
			"and device %q is not in the expected-devices list; report the voucher status "+
			"in the connection of the voucher request", p.Serial)
	case err != nil:
		return "", internalError(err)
	}
	return p.Serial, nil
}

// storedRaw returns the body to store: as received when it is small, or
// else the parsed members with the capped reason.
func storedRaw(body []byte, st *StatusTelemetry) []byte {
	if len(body) <= maxStoredRaw {
		return body
	}
	capped := struct {
		Version int    `json:"version"`
		Status  bool   `json:"status"`
		Reason  string `json:"reason,omitempty"`
	}{st.Version, st.Status, truncateUTF8(st.Reason, maxStoredReason)}
	out, err := json.Marshal(capped)
	if err != nil {
		return nil
	}
	return out
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// logText returns s for a log line: control characters, CR and LF become
// spaces, and text beyond n bytes is replaced by "...".
func logText(s string, n int) string {
	// Map first: it turns invalid bytes into U+FFFD, which takes three.
	s = strings.Map(func(c rune) rune {
		if unicode.IsControl(c) {
			return ' '
		}
		return c
	}, s)
	if len(s) <= n {
		return s
	}
	return truncateUTF8(s, n) + "..."
}

// reportLimiter counts the status reports of each device within
// reportWindow.
type reportLimiter struct {
	mu    sync.Mutex
	times map[string][]time.Time
}

// maxLimiterKeys bounds the devices that the limiter remembers. Beyond it,
// the limiter forgets devices without a report in the window.
const maxLimiterKeys = 4096

// admit records a report for key at now and returns 0, or returns how long
// to wait when key sent maxReportsPerWindow reports within the window.
func (l *reportLimiter) admit(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.times == nil {
		l.times = map[string][]time.Time{}
	}
	if len(l.times) >= maxLimiterKeys {
		for k, ts := range l.times {
			if now.Sub(ts[len(ts)-1]) >= reportWindow {
				delete(l.times, k)
			}
		}
	}
	ts := l.times[key]
	for len(ts) > 0 && now.Sub(ts[0]) >= reportWindow {
		ts = ts[1:]
	}
	if len(ts) >= maxReportsPerWindow {
		l.times[key] = ts
		return ts[0].Add(reportWindow).Sub(now)
	}
	l.times[key] = append(ts, now)
	return 0
}
