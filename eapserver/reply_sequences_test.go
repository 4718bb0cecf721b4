package eapserver_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brski-eap/brski/eapest"
	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/registrar"
)

// tunnelScript is what a pledge sends inside one EAP-EST tunnel.
type tunnelScript struct {
	p      *pledge.Pledge
	serial string
	tun    *eapest.Tunnel
	// breakPath, when set, makes the client fail requests to that path
	// without sending them, and breakOnce limits that to the first one.
	breakPath string
	breakOnce bool
}

// errBroken is the error of a request that breakingTransport kept back.
var errBroken = errors.New("request kept back by the test")

type breakingTransport struct{ s *tunnelScript }

func (b breakingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if b.s.breakPath != "" && req.URL.Path == b.s.breakPath {
		if b.s.breakOnce {
			b.s.breakPath = ""
		}
		return nil, errBroken
	}
	return b.s.tun.RoundTrip(req)
}

// bootstrap runs the pledge's voucher exchange, enrollment and status
// reports in the tunnel.
func (s *tunnelScript) bootstrap(ctx context.Context) (*pledge.Result, error) {
	sess, err := pledge.NewSession(&http.Client{Transport: breakingTransport{s}},
		"https://registrar", s.tun.ConnectionState())
	if err != nil {
		return nil, err
	}
	return s.p.Run(ctx, sess)
}

// postCSR sends a new CSR for s.serial to path, such as simpleenroll, and
// returns the HTTP status.
func (s *tunnelScript) postCSR(ctx context.Context, path string) (int, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return 0, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: s.serial, SerialNumber: s.serial}}, key)
	if err != nil {
		return 0, err
	}
	body := base64.StdEncoding.EncodeToString(der)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://registrar"+path,
		bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/pkcs10")
	req.Header.Set("Content-Transfer-Encoding", "base64")
	resp, err := s.tun.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// enrolledLDevID bootstraps p over a tunnel of its own and returns the
// LDevID as a TLS client certificate.
func enrolledLDevID(ctx context.Context, e *env, p *pledge.Pledge) (tls.Certificate, error) {
	res, _, err := p.BootstrapEAP(ctx, e.nas("02-00-00-00-27-FF"), pledge.EAPConfig{})
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{res.LDevID.Raw}, PrivateKey: res.Key,
		Leaf: res.LDevID}, nil
}

// TestEAPESTTunnelSequences runs EAP-EST tunnels in which a pledge
// enrolls twice, fails simpleenroll and retries, skips enrollstatus, or
// renews an LDevID. The server must accept exactly the tunnels that issued
// an LDevID after an admitting voucher decision.
func TestEAPESTTunnelSequences(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	tests := []struct {
		name string
		// client returns the TLS client certificate, or is nil for the IDevID.
		client func(p *pledge.Pledge) (tls.Certificate, error)
		run    func(ctx context.Context, s *tunnelScript) error
		// wantErr is the reject cause, nil for an Access-Accept.
		wantErr error
		// wantCause are parts of the cause that the log line prints.
		wantCause []string
	}{
		{"bootstrap twice", nil, func(ctx context.Context, s *tunnelScript) error {
			if _, err := s.bootstrap(ctx); err != nil {
				return err
			}
			_, err := s.bootstrap(ctx)
			return err
		}, nil, nil},
		{"second voucher exchange without enrollment", nil,
			func(ctx context.Context, s *tunnelScript) error {
				if _, err := s.bootstrap(ctx); err != nil {
					return err
				}
				s.breakPath = registrar.PathSimpleEnroll
				if _, err := s.bootstrap(ctx); !errors.Is(err, errBroken) {
					return fmt.Errorf("second bootstrap: %v, want %v", err, errBroken)
				}
				return nil
			}, nil, nil},
		{"simpleenroll failed then retried", nil,
			func(ctx context.Context, s *tunnelScript) error {
				s.breakPath, s.breakOnce = registrar.PathSimpleEnroll, true
				if _, err := s.bootstrap(ctx); !errors.Is(err, errBroken) {
					return fmt.Errorf("bootstrap: %v, want %v", err, errBroken)
				}
				status, err := s.postCSR(ctx, registrar.PathSimpleEnroll)
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("simpleenroll retry: status %d, want 200", status)
				}
				return err
			}, nil, nil},
		{"simpleenroll failed", nil, func(ctx context.Context, s *tunnelScript) error {
			s.breakPath = registrar.PathSimpleEnroll
			if _, err := s.bootstrap(ctx); !errors.Is(err, errBroken) {
				return fmt.Errorf("bootstrap: %v, want %v", err, errBroken)
			}
			return nil
		}, eapserver.ErrNoEnrollment, []string{`rule "acme"`, "accept"}},
		{"no enrollstatus", nil, func(ctx context.Context, s *tunnelScript) error {
			s.breakPath = registrar.PathEnrollStatus
			_, err := s.bootstrap(ctx)
			return err
		}, nil, nil},
		{"simplereenroll with an LDevID", func(p *pledge.Pledge) (tls.Certificate, error) {
			return enrolledLDevID(ctx, e, p)
		}, func(ctx context.Context, s *tunnelScript) error {
			status, err := s.postCSR(ctx, registrar.PathSimpleReenroll)
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("simplereenroll: status %d, want 200", status)
			}
			return err
		}, eapserver.ErrNoDecision, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serial := fmt.Sprintf("SN-27%02d", i)
			s := &tunnelScript{p: e.mint(serial), serial: serial}
			cert := s.p.IDevID
			if tt.client != nil {
				var err error
				if cert, err = tt.client(s.p); err != nil {
					t.Fatal(err)
				}
			}
			nas := e.nas(fmt.Sprintf("02-00-00-00-27-%02X", i))
			tun, err := eapest.Dial(ctx, nas, eapest.PeerConfig{Identity: serial,
				TLS: eapest.ProvisionalTLSConfig(cert)})
			if err != nil {
				t.Fatal(err)
			}
			s.tun = tun
			if err := tt.run(ctx, s); err != nil {
				t.Error(err)
			}
			if _, err := tun.Close(ctx); err != nil {
				t.Logf("close tunnel: %v", err)
			}
			res := e.lastResult()
			if !errors.Is(res.Err, tt.wantErr) {
				t.Errorf("reject cause = %v, want %v", res.Err, tt.wantErr)
			}
			for _, want := range tt.wantCause {
				if !strings.Contains(fmt.Sprint(res.Err), want) {
					t.Errorf("reject cause %q lacks %q", res.Err, want)
				}
			}
			reply, _ := nas.Final()
			if tt.wantErr != nil {
				checkReject(t, reply)
				return
			}
			if res.Outcome != "accept" || res.VLAN == "" {
				t.Errorf("result = %+v, want an accept with a VLAN", res)
			}
		})
	}
}
