package masaclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/brski-eap/brski/voucher"
)

// Answers that arrived but cannot be used match ErrBadResponse, so that
// the registrar can tell them from a MASA it cannot reach.
func TestBadResponse(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"202", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusAccepted)
		}},
		{"302", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Location", "https://127.0.0.1:1/elsewhere")
			w.WriteHeader(http.StatusFound)
		}},
		{"text/html", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html></html>"))
		}},
		{"empty voucher", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", voucher.MediaType)
		}},
		{"over the size limit", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", voucher.MediaType)
			w.Write([]byte(strings.Repeat("x", 2048)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, url := testServer(t, Config{MaxAttempts: 1, MaxResponseBytes: 1024}, tt.handler)
			_, err := c.RequestVoucher(context.Background(), url, []byte("request"))
			if !errors.Is(err, ErrBadResponse) {
				t.Errorf("error = %v, want ErrBadResponse", err)
			}
		})
	}
}

func TestUnreachableIsNoBadResponse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := New(Config{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RequestVoucher(context.Background(), "https://"+addr, []byte("request"))
	if err == nil || errors.Is(err, ErrBadResponse) {
		t.Errorf("error = %v, want a connection error that is no ErrBadResponse", err)
	}
}
