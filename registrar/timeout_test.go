package registrar

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brski-eap/brski/voucher"
)

// A request body that stalls until the read timeout gets a readable 400,
// because the default write timeout lies beyond it.
func TestStalledBodyGets400(t *testing.T) {
	d := newTestDomain(t)
	r, err := New(Options{DomainCA: d.ca, Cert: d.cert, Store: newMemStore(),
		Policy: parsePolicy(t, testPolicy), ReadTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	read, write := r.ServerTimeouts()
	srv := &http.Server{Handler: r, TLSConfig: r.TLSConfig(), ConnContext: r.ConnContext,
		ReadTimeout: read, WriteTimeout: write}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(l, "", "") }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeTLS: %v", err)
		}
	})
	roots := x509.NewCertPool()
	roots.AddCert(d.ca.Cert)
	conn, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: roots,
		ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"+
		"Content-Length: 1000\r\n\r\n0", PathRequestVoucher, voucher.MediaType)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response body: %v", err)
	}
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400: %s", resp.StatusCode, body)
	}
	if strings.Contains(string(body), "127.0.0.1") {
		t.Errorf("400 body %q shows socket addresses", body)
	}
}

func TestWriteTimeoutMustExceedReadAndWait(t *testing.T) {
	d := newTestDomain(t)
	_, err := New(Options{DomainCA: d.ca, Cert: d.cert, Store: newMemStore(),
		Policy: parsePolicy(t, testPolicy), ReadTimeout: 30 * time.Second,
		VoucherWait: 2 * time.Second, WriteTimeout: 30 * time.Second})
	if err == nil {
		t.Error("New accepted a write timeout equal to the read timeout")
	}
}
