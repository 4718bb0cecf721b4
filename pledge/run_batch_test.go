package pledge

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// batchRecorder is a Session.Pipeline that records the paths of each batch
// and performs the requests one by one over client, or fails with err.
type batchRecorder struct {
	client  *http.Client
	err     error
	batches [][]string
}

func (b *batchRecorder) pipeline(reqs []*http.Request) ([]*http.Response, error) {
	var paths []string
	for _, req := range reqs {
		paths = append(paths, req.URL.Path)
	}
	b.batches = append(b.batches, paths)
	if b.err != nil {
		return nil, b.err
	}
	var resps []*http.Response
	for _, req := range reqs {
		resp, err := b.client.Do(req)
		if err != nil {
			closeBodies(resps)
			return nil, err
		}
		// The body is read here, because the next request needs the one
		// connection of the session.
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			closeBodies(resps)
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resps = append(resps, resp)
	}
	return resps, nil
}

func TestRunPipelinesAfterVoucher(t *testing.T) {
	errTunnel := errors.New("tunnel ended")
	tests := []struct {
		name string
		err  error
	}{
		{"pipelined", nil},
		{"pipeline fails", errTunnel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pki := newTestPKI(t)
			fr := newFakeRegistrar(t, pki)
			p := pki.pledge()
			s := fr.session(t, p)
			rec := &batchRecorder{client: s.HTTP, err: tt.err}
			s.Pipeline = rec.pipeline
			_, err := p.Run(t.Context(), s)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("Run error = %v, want %v", err, tt.err)
			}
			want := [][]string{{pathCACerts, pathCSRAttrs, pathVoucherStatus}}
			if diff := cmp.Diff(want, rec.batches); diff != "" {
				t.Errorf("batches (-want +got):\n%s", diff)
			}
			if tt.err != nil {
				return
			}
			_, paths, _ := fr.seen()
			wantPaths := []string{pathRequestVoucher, pathCACerts, pathCSRAttrs,
				pathVoucherStatus, pathSimpleEnroll, pathEnrollStatus}
			if diff := cmp.Diff(wantPaths, paths); diff != "" {
				t.Errorf("request paths (-want +got):\n%s", diff)
			}
			wantReports := []statusReport{{Version: 1, Status: true}}
			if diff := cmp.Diff(wantReports, fr.reportsOf(pathVoucherStatus)); diff != "" {
				t.Errorf("voucher_status (-want +got):\n%s", diff)
			}
		})
	}
}
