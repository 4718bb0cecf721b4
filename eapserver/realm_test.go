package eapserver_test

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/pledge"
)

// TestESTRealmSkipsNak checks that an identity of a configured realm is
// offered EAP-EST first, which saves the Nak, and that EAP-TLS still works
// for it through a Nak to EAP-EST.
func TestESTRealmSkipsNak(t *testing.T) {
	e := newEnvServer(t, nil, func(c *eapserver.Config) {
		c.ESTRealms = []string{"pledges.example"}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nas := e.nas("02-00-00-00-10-20")
	tr := &firstMethod{nas: nas}
	res, pr, err := e.mint("SN-1020").BootstrapEAP(ctx, tr,
		pledge.EAPConfig{Identity: "SN-1020@Pledges.Example"})
	if err != nil {
		t.Fatalf("BootstrapEAP: %v", err)
	}
	e.checkAccept(nas, pr.MSK)
	if tr.first != eap.TypeExperimental {
		t.Errorf("first method = %v, want EAP-EST (Experimental)", tr.first)
	}
	if got, want := nas.RoundTrips(), maxESTRoundTrips-1; got > want {
		t.Errorf("EAP-EST with a realm took %d round trips, want at most %d", got, want)
	}
	if got := e.lastResult(); got.MethodName() != "EAP-EST" || got.Serial != "SN-1020" {
		t.Errorf("result = %+v, want EAP-EST for SN-1020", summary(got))
	}

	ldevid := tls.Certificate{Certificate: [][]byte{res.LDevID.Raw}, PrivateKey: res.Key}
	tlsNAS := e.nas("02-00-00-00-10-20")
	pr, err = pledge.AuthenticateTLS(ctx, tlsNAS, ldevid, pool(res.DomainCAs...),
		pledge.EAPConfig{Identity: "SN-1020@pledges.example"})
	if err != nil {
		t.Fatalf("AuthenticateTLS: %v (result %+v)", err, e.lastResult())
	}
	e.checkAccept(tlsNAS, pr.MSK)
	if got := e.lastResult().MethodName(); got != "EAP-TLS" {
		t.Errorf("method = %s, want EAP-TLS after the Nak", got)
	}
}

// TestESTRealmOthersGetTLSFirst checks that identities outside the
// configured realms still get EAP-TLS first.
func TestESTRealmOthersGetTLSFirst(t *testing.T) {
	e := newEnvServer(t, nil, func(c *eapserver.Config) {
		c.ESTRealms = []string{"pledges.example"}
	})
	tests := []struct{ serial, identity string }{
		{"SN-1021", "SN-1021"},
		{"SN-1022", "SN-1022@other.example"},
		{"SN-1023", "pledges.example"},
		{"SN-1024", "SN-1024@pledges.example.net"},
	}
	for _, tt := range tests {
		t.Run(tt.identity, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			tr := &firstMethod{nas: e.nas("02-00-00-00-10-21")}
			if _, _, err := e.mint(tt.serial).BootstrapEAP(ctx, tr,
				pledge.EAPConfig{Identity: tt.identity}); err != nil {
				t.Fatalf("BootstrapEAP: %v", err)
			}
			if tr.first != eap.TypeTLS {
				t.Errorf("first method = %v, want EAP-TLS", tr.first)
			}
		})
	}
}

// firstMethod relays to nas and records the type of the first method
// Request, the one after the Identity Request.
type firstMethod struct {
	nas   *pledge.NAS
	first eap.Type
}

func (f *firstMethod) Exchange(ctx context.Context, resp []byte) ([]byte, error) {
	req, err := f.nas.Exchange(ctx, resp)
	if p, perr := eap.Parse(req); err == nil && perr == nil && f.first == 0 &&
		p.Code == eap.CodeRequest && p.Type != eap.TypeIdentity {
		f.first = p.Type
	}
	return req, err
}
