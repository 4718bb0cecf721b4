package eapserver_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brski-eap/brski/eapest"
	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/registrar"
)

// TestVerifyPeerChainInHandshake runs EAP-EST handshakes against a server
// whose VerifyPledge is the registrar's VerifyPeerChain, as brski
// registrar configures it. An IDevID of an unknown manufacturer or an
// expired one, and a chain of more than MaxClientCertificates, must end
// in Access-Reject with the reason in the result. An LDevID of the domain
// opens the tunnel but gets no voucher decision, so it is rejected too.
func TestVerifyPeerChainInHandshake(t *testing.T) {
	// clock is the registrar's time, nil for time.Now. An IDevID's
	// NotAfter may be 9999-12-31, past the range of Unix nanoseconds.
	var clock atomic.Pointer[time.Time]
	e := newEnvServer(t, func(o *registrar.Options) {
		o.Now = func() time.Time {
			if now := clock.Load(); now != nil {
				return *now
			}
			return time.Now()
		}
	}, func(c *eapserver.Config) {
		c.PledgeCAs = nil
		c.VerifyPledge = c.Registrar.(*registrar.Registrar).VerifyPeerChain
	})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	other, err := masa.InitFactory(t.TempDir(), "other", "https://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	ldevid := e.bootstrap("SN-2800", "02-00-00-00-28-00")
	tests := []struct {
		name   string
		client func(t *testing.T) tls.Certificate
		// expiredAt sets the registrar's clock after the leaf's NotAfter.
		expiredAt bool
		// check returns an error unless the reject cause is the expected
		// one.
		check func(error) error
	}{
		{"unknown manufacturer", func(t *testing.T) tls.Certificate {
			dev, err := other.Mint("SN-2801", "router")
			if err != nil {
				t.Fatal(err)
			}
			return tls.Certificate{Certificate: [][]byte{dev.Certificate.Raw},
				PrivateKey: dev.Key}
		}, false, wantAs[x509.UnknownAuthorityError]},
		{"expired IDevID", func(t *testing.T) tls.Certificate {
			return e.mint("SN-2802").IDevID
		}, true, func(err error) error {
			var invalid x509.CertificateInvalidError
			if !errors.As(err, &invalid) || invalid.Reason != x509.Expired ||
				!strings.Contains(err.Error(), "is after") {
				return fmt.Errorf("reject cause = %v, want an expired certificate", err)
			}
			return nil
		}},
		{"nine certificates", func(t *testing.T) tls.Certificate {
			id := e.mint("SN-2803").IDevID
			for range eapserver.MaxClientCertificates {
				id.Certificate = append(id.Certificate, e.factory.CA.Raw)
			}
			return id
		}, false, func(err error) error {
			if err == nil || !strings.Contains(err.Error(), "more than 8") {
				return fmt.Errorf("reject cause = %v, want more than 8 certificates", err)
			}
			return nil
		}},
		{"LDevID of the domain", func(t *testing.T) tls.Certificate {
			return ldevid.ldevid
		}, false, func(err error) error {
			if !errors.Is(err, eapserver.ErrNoDecision) {
				return fmt.Errorf("reject cause = %v, want %v", err, eapserver.ErrNoDecision)
			}
			return nil
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := tt.client(t)
			if tt.expiredAt {
				leaf, err := x509.ParseCertificate(cert.Certificate[0])
				if err != nil {
					t.Fatal(err)
				}
				expired := leaf.NotAfter.Add(time.Hour)
				clock.Store(&expired)
				defer clock.Store(nil)
			}
			nas := e.nas(fmt.Sprintf("02-00-00-00-28-%02X", i+1))
			tun, err := eapest.Dial(ctx, nas, eapest.PeerConfig{Identity: "SN-28",
				TLS: eapest.ProvisionalTLSConfig(cert)})
			if err == nil {
				tun.Close(ctx)
			}
			res := e.lastResult()
			t.Logf("reject cause: %v", res.Err)
			if err := tt.check(res.Err); err != nil {
				t.Error(err)
			}
			if res.Outcome != eapserver.OutcomeReject {
				t.Errorf("outcome = %q, want %q", res.Outcome, eapserver.OutcomeReject)
			}
			if strings.Contains(fmt.Sprint(res.Err), "PRIVATE KEY") {
				t.Errorf("reject cause %q contains key material", res.Err)
			}
			reply, _ := nas.Final()
			checkReject(t, reply)
		})
	}
}

// wantAs returns an error unless err wraps an error of type T.
func wantAs[T error](err error) error {
	var target T
	if !errors.As(err, &target) {
		return fmt.Errorf("reject cause = %v, want a %T", err, target)
	}
	return nil
}
