package eapserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/registrar"
)

// TestEAPESTWithoutEnrollmentNotAccepted runs pledges that stop before
// simpleenroll: one whose MASA trust anchors do not verify the voucher, so
// that it reports voucher_status false and closes the tunnel. Such a device
// has no LDevID, so the NAS must not admit it to the enrolled VLAN.
//
// NOTE: this fails today: the conversation ends with Access-Accept and the
// policy's VLAN after the pledge gave up. The decision is made in
// eapserver/handler.go and eapest/est.go.
func TestEAPESTWithoutEnrollmentNotAccepted(t *testing.T) {
	other, err := registrar.GenerateDomainCA(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	tests := []struct {
		name   string
		serial string
	}{
		{"voucher not trusted", "SN-2601"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.mint(tt.serial)
			p.MASATrust = pool(other.Cert)
			nas := e.nas("02-00-00-00-26-01")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if _, _, err := p.BootstrapEAP(ctx, nas, pledge.EAPConfig{}); err == nil {
				t.Fatal("BootstrapEAP succeeded with MASA trust anchors of another CA")
			}
			if res := e.lastResult(); res.Outcome != eapserver.OutcomeReject {
				t.Errorf("result = %+v, want a reject", res)
			}
			if res := e.lastResult(); res.VLAN != "" {
				t.Errorf("VLAN = %q for a device without an LDevID, want none", res.VLAN)
			}
			reply, _ := nas.Final()
			checkReject(t, reply)
		})
	}
}
