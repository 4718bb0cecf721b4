package eapest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRoundTripBatch checks that pipelined requests are served in order
// and that the batch takes one EAP round trip.
func TestRoundTripBatch(t *testing.T) {
	p := newPKI(t)
	s := newESTSetup(t, p, TypeEST, http.HandlerFunc(echoHandler), 0)
	tr := &countingTransport{tr: s.tr}
	// The long hold keeps the peer from idle rounds, so that the count
	// below is exact.
	tun, err := Dial(context.Background(), tr, PeerConfig{
		Identity: "pledge-1", TLS: ProvisionalTLSConfig(p.client), Hold: time.Minute,
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer tun.Close(context.Background())
	batch := []struct{ method, path, body string }{
		{"GET", "/.well-known/est/cacerts", ""},
		{"GET", "/.well-known/est/csrattrs", ""},
		{"POST", "/.well-known/brski/voucher_status", `{"version":1,"status":true}`},
	}
	var reqs []*http.Request
	for _, rq := range batch {
		req, err := http.NewRequest(rq.method, "https://registrar"+rq.path,
			strings.NewReader(rq.body))
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, req)
	}
	before := tr.exchanges.Load()
	resps, err := tun.RoundTripBatch(reqs)
	if err != nil {
		t.Fatalf("RoundTripBatch: %v", err)
	}
	if got := tr.exchanges.Load() - before; got != 1 {
		t.Errorf("batch took %d EAP round trips, want 1", got)
	}
	if len(resps) != len(batch) {
		t.Fatalf("got %d responses, want %d", len(resps), len(batch))
	}
	for i, rq := range batch {
		got, _ := io.ReadAll(resps[i].Body)
		want := fmt.Sprintf("%s %s %s cn=device-1 id=pledge-1 facts=nas-facts",
			rq.method, rq.path, rq.body)
		if diff := cmp.Diff(want, string(got)); diff != "" {
			t.Errorf("response %d (-want +got):\n%s", i, diff)
		}
	}
}

func TestRoundTripBatchRejects(t *testing.T) {
	p := newPKI(t)
	s := newESTSetup(t, p, TypeEST, http.HandlerFunc(echoHandler), 0)
	tr := &countingTransport{tr: s.tr}
	tun, err := Dial(context.Background(), tr, PeerConfig{
		Identity: "pledge-1", TLS: ProvisionalTLSConfig(p.client), Hold: time.Minute,
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer tun.Close(context.Background())
	post, _ := http.NewRequest("POST", "https://registrar/.well-known/brski/voucher_status",
		strings.NewReader("{}"))
	get, _ := http.NewRequest("GET", "https://registrar/.well-known/est/cacerts", nil)
	tests := []struct {
		name string
		reqs []*http.Request
		want error
	}{
		{"POST before GET", []*http.Request{post, get}, ErrPipelineMethod},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tr.exchanges.Load()
			_, err := tun.RoundTripBatch(tt.reqs)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("RoundTripBatch error = %v, want %v", err, tt.want)
			}
			if tr.exchanges.Load() != before {
				t.Error("a rejected batch reached the server")
			}
		})
	}
	// The tunnel still works after the rejected batches.
	resp, err := tun.RoundTrip(get)
	if err != nil {
		t.Fatalf("RoundTrip after rejected batches: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d, want 200", resp.StatusCode)
	}
}

// countingTransport counts the exchanges of a Transport, safe to read while
// the tunnel runs.
type countingTransport struct {
	tr        Transport
	exchanges atomic.Int32
	// sent, when not nil, receives every Response before it is relayed.
	sent chan []byte
}

func (c *countingTransport) Exchange(ctx context.Context, resp []byte) ([]byte, error) {
	if c.sent != nil {
		c.sent <- resp
	}
	req, err := c.tr.Exchange(ctx, resp)
	c.exchanges.Add(1)
	return req, err
}

// TestESTNoIdleRoundAfterHandshake checks that the peer holds its Response
// after the protected success indication until the first request, so the
// server sends no empty Request in between.
func TestESTNoIdleRoundAfterHandshake(t *testing.T) {
	p := newPKI(t)
	s := newESTSetup(t, p, TypeEST, http.HandlerFunc(echoHandler), 0)
	tr := &countingTransport{tr: s.tr, sent: make(chan []byte, 16)}
	tun, err := Dial(context.Background(), tr, PeerConfig{
		Identity: "pledge-1", TLS: ProvisionalTLSConfig(p.client), Hold: time.Minute,
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	// The start, the Identity, the ClientHello and the client flight.
	for range 4 {
		<-tr.sent
	}
	// A peer that does not hold sends its ACK of the success indication at
	// once. One that holds sends nothing until the request below.
	select {
	case resp := <-tr.sent:
		t.Fatalf("peer sent a %d-byte Response before the first request", len(resp))
	case <-time.After(100 * time.Millisecond):
	}
	req, _ := http.NewRequest("GET", "https://registrar/.well-known/est/cacerts", nil)
	if _, err := tun.RoundTrip(req); err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	if _, err := tun.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	// Then the request and close_notify.
	if got := tr.exchanges.Load(); got != 6 {
		t.Errorf("tunnel took %d exchanges, want 6", got)
	}
}
