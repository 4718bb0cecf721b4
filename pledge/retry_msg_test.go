package pledge

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// scriptedTransport responds to each request with the next step of a script:
// a status code, a dial error when the code is 0, or closed.
type scriptedTransport struct {
	mu    sync.Mutex
	steps []int
	sent  int
}

var errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

// closed is the step of a registrar that closes the connection without a
// response, which net/http reports as io.EOF.
const closed = -1

func (st *scriptedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sent >= len(st.steps) {
		return nil, errors.New("scriptedTransport: script exhausted")
	}
	code := st.steps[st.sent]
	st.sent++
	switch code {
	case 0:
		return nil, errRefused
	case closed:
		return nil, io.EOF
	}
	h := http.Header{}
	if code == http.StatusAccepted {
		h.Set("Retry-After", "0")
	}
	return &http.Response{StatusCode: code, Header: h, Request: req,
		Body: io.NopCloser(strings.NewReader(""))}, nil
}

func TestSendRetriesRefusedConnection(t *testing.T) {
	noReconnectWait(t)
	tests := []struct {
		name      string
		steps     []int
		telemetry bool
		wantErr   error
		wantKinds []EventKind
		wantSent  int
	}{
		{"202 then refused then 200", []int{202, 0, 0, 200}, false, nil,
			[]EventKind{EventRetry, EventConnectRetry, EventConnectRetry}, 4},
		{"refused then 200", []int{0, 200}, false, nil,
			[]EventKind{EventConnectRetry}, 2},
		{"refused telemetry", []int{0, 200}, true, syscall.ECONNREFUSED, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &scriptedTransport{steps: tt.steps}
			s := Session{HTTP: &http.Client{Transport: st}, BaseURL: "https://registrar.test"}
			var kinds []EventKind
			p := &Pledge{Trace: func(e Event) { kinds = append(kinds, e.Kind) }}
			x := exchange{method: http.MethodGet, path: pathCACerts, want: []int{200},
				telemetry: tt.telemetry}
			_, err := p.send(t.Context(), s, x)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("send error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantKinds, kinds); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if st.sent != tt.wantSent {
				t.Errorf("requests sent = %d, want %d", st.sent, tt.wantSent)
			}
		})
	}
}

// TestSendRetriesClosedConnection checks which requests are sent again
// after the registrar closed the connection without a response.
func TestSendRetriesClosedConnection(t *testing.T) {
	noReconnectWait(t)
	tests := []struct {
		name      string
		method    string
		path      string
		via       string
		steps     []int
		wantErr   error
		wantKinds []EventKind
	}{
		{"voucher request after 202", http.MethodPost, pathRequestVoucher, "",
			[]int{202, closed, closed, 200}, nil,
			[]EventKind{EventRetry, EventConnectRetry, EventConnectRetry}},
		{"voucher request refused then closed", http.MethodPost, pathRequestVoucher, "",
			[]int{202, 0, closed, 200}, nil,
			[]EventKind{EventRetry, EventConnectRetry, EventConnectRetry}},
		{"first voucher request", http.MethodPost, pathRequestVoucher, "",
			[]int{closed, 200}, io.EOF, nil},
		{"GET", http.MethodGet, pathCACerts, "", []int{closed, 200}, nil,
			[]EventKind{EventConnectRetry}},
		{"simpleenroll", http.MethodPost, pathSimpleEnroll, "", []int{closed, 200},
			io.EOF, nil},
		{"simpleenroll after 202", http.MethodPost, pathSimpleEnroll, "",
			[]int{202, closed, 200}, io.EOF, []EventKind{EventRetry}},
		{"GET in a tunnel", http.MethodGet, pathCACerts, "inside the tunnel",
			[]int{closed, 200}, io.EOF, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &scriptedTransport{steps: tt.steps}
			s := Session{HTTP: &http.Client{Transport: st}, BaseURL: "https://registrar.test",
				Via: tt.via}
			var kinds []EventKind
			p := &Pledge{Trace: func(e Event) { kinds = append(kinds, e.Kind) }}
			x := exchange{method: tt.method, path: tt.path, want: []int{200}}
			if tt.method == http.MethodPost {
				x.body = []byte("request")
			}
			_, err := p.send(t.Context(), s, x)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("send error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantKinds, kinds); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if want := len(tt.wantKinds) + 1; st.sent != want {
				t.Errorf("requests sent = %d, want %d", st.sent, want)
			}
		})
	}
}

// TestSendRefusedUntilContextEnds checks that a registrar that stays down
// ends the retries when the context ends, with both errors wrapped.
func TestSendRefusedUntilContextEnds(t *testing.T) {
	noReconnectWait(t)
	steps := make([]int, 3)
	st := &scriptedTransport{steps: steps}
	s := Session{HTTP: &http.Client{Transport: st}, BaseURL: "https://registrar.test"}
	// The deadline only ends a run that would otherwise hang.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	retries := 0
	p := &Pledge{Trace: func(e Event) {
		if retries++; retries == len(steps) {
			cancel()
		}
	}}
	_, err := p.send(ctx, s, exchange{method: http.MethodGet, path: pathCACerts,
		want: []int{200}})
	if !errors.Is(err, syscall.ECONNREFUSED) || !errors.Is(err, context.Canceled) {
		t.Errorf("send error = %v, want ECONNREFUSED and context.Canceled", err)
	}
	if st.sent != len(steps) {
		t.Errorf("requests sent = %d, want %d", st.sent, len(steps))
	}
}

// noReconnectWait makes the retries after a failed connection wait 0 for
// the rest of the test.
func noReconnectWait(t *testing.T) {
	first, least := firstReconnectWait, minReconnectWait
	firstReconnectWait, minReconnectWait = 0, 0
	t.Cleanup(func() { firstReconnectWait, minReconnectWait = first, least })
}

// closedAddr returns a loopback TCP address that nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestBootstrapWaitsForRegistrar starts the registrar on the pledge's
// first retry, after the provisional TLS connection was refused.
func TestBootstrapWaitsForRegistrar(t *testing.T) {
	noReconnectWait(t)
	pki := newTestPKI(t)
	addr := closedAddr(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter,
		_ *http.Request) {
		http.Error(w, "no rule accepted the device", http.StatusForbidden)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.registrar.tlsCert()}}
	defer srv.Close()
	// The deadline only ends a run that would otherwise hang.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var kinds []EventKind
	started := false
	p := pki.pledge()
	p.Trace = func(e Event) {
		kinds = append(kinds, e.Kind)
		if e.Kind != EventConnectRetry || started {
			return
		}
		started = true
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen on %s: %v", addr, err)
			cancel()
			return
		}
		srv.Listener.Close()
		srv.Listener = l
		srv.StartTLS()
	}

	_, err := p.Bootstrap(ctx, "https://"+addr)
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
		t.Errorf("Bootstrap error = %v, want the registrar's 403", err)
	}
	want := []EventKind{EventConnectRetry, EventVoucherRequested}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestBootstrapRegistrarStaysDown checks that the retries of a refused
// provisional TLS connection end with the context, and that the error
// counts the attempts.
func TestBootstrapRegistrarStaysDown(t *testing.T) {
	noReconnectWait(t)
	url := "https://" + closedAddr(t)
	// The deadline only ends a run that would otherwise hang.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var paths []string
	p := newTestPKI(t).pledge()
	p.Trace = func(e Event) {
		if e.Kind == EventConnectRetry {
			paths = append(paths, e.Path)
		}
		if len(paths) == 3 {
			cancel()
		}
	}

	_, err := p.Bootstrap(ctx, url)
	var ue *UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("Bootstrap error = %v, want an *UnreachableError", err)
	}
	if ue.URL != url || ue.Attempts != 3 {
		t.Errorf("URL %q after %d attempts, want %q after 3", ue.URL, ue.Attempts, url)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) || !errors.Is(err, context.Canceled) {
		t.Errorf("Bootstrap error = %v, want ECONNREFUSED and context.Canceled", err)
	}
	want := []string{pathRequestVoucher, pathRequestVoucher, pathRequestVoucher}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("paths of the retry events (-want +got):\n%s", diff)
	}
}
