package eapserver_test

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/pledge"
)

// TestVerifyPledgeDecidesTheHandshake runs bootstraps against a server
// whose VerifyPledge hook accepts or rejects the pledge's chain. The hook
// replaces the PledgeCAs check and receives the IDevID. A rejected pledge
// gets a TLS alert and Access-Reject before any request in the tunnel.
func TestVerifyPledgeDecidesTheHandshake(t *testing.T) {
	errDenied := errors.New("denied by the test hook")
	var seen []string
	deny := false
	e := newEnvServer(t, nil, func(c *eapserver.Config) {
		c.VerifyPledge = func(certs []*x509.Certificate) error {
			seen = append(seen, certs[0].Subject.SerialNumber)
			if deny {
				return errDenied
			}
			return nil
		}
	})
	e.bootstrap("SN-2701", "02-00-00-00-27-01")

	deny = true
	nas := e.nas("02-00-00-00-27-02")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, _, err := e.mint("SN-2702").BootstrapEAP(ctx, nas, pledge.EAPConfig{}); err == nil {
		t.Fatal("BootstrapEAP succeeded although VerifyPledge rejected the IDevID")
	}
	reply, _ := nas.Final()
	checkReject(t, reply)
	if res := e.lastResult(); !errors.Is(res.Err, errDenied) {
		t.Errorf("reject cause = %v, want the hook's error", res.Err)
	}
	if want := []string{"SN-2701", "SN-2702"}; len(seen) != 2 || seen[0] != want[0] ||
		seen[1] != want[1] {
		t.Errorf("VerifyPledge saw %v, want %v", seen, want)
	}
}
