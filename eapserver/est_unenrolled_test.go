package eapserver_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/brski-eap/brski/eapest"
	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/registrar"
)

// TestEAPESTWithoutEnrollmentNotAccepted runs pledges that stop before
// simpleenroll: one whose MASA trust anchors do not verify the voucher, so
// that it reports voucher_status false and closes the tunnel, and one that
// sends no request at all. Neither device has an LDevID, so the NAS must
// not admit it to the enrolled VLAN.
func TestEAPESTWithoutEnrollmentNotAccepted(t *testing.T) {
	other, err := registrar.GenerateDomainCA(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	tests := []struct {
		name string
		// run stops the pledge of serial early. The test only logs its
		// error, because the server's reply is what it checks.
		run func(ctx context.Context, serial string, nas *pledge.NAS) error
		// wantErr is the reject cause in the server's result.
		wantErr error
	}{
		{"voucher not trusted", func(ctx context.Context, serial string,
			nas *pledge.NAS) error {
			p := e.mint(serial)
			p.MASATrust = pool(other.Cert)
			if _, _, err := p.BootstrapEAP(ctx, nas, pledge.EAPConfig{}); err == nil {
				return errors.New("BootstrapEAP succeeded with MASA trust anchors of " +
					"another CA")
			}
			return nil
		}, eapserver.ErrNoEnrollment},
		{"no request in the tunnel", func(ctx context.Context, serial string,
			nas *pledge.NAS) error {
			p := e.mint(serial)
			tun, err := eapest.Dial(ctx, nas, eapest.PeerConfig{Identity: serial,
				TLS: eapest.ProvisionalTLSConfig(p.IDevID)})
			if err != nil {
				return err
			}
			_, err = tun.Close(ctx)
			return err
		}, eapserver.ErrNoDecision},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nas := e.nas(fmt.Sprintf("02-00-00-00-26-%02X", i))
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := tt.run(ctx, fmt.Sprintf("SN-26%02d", i), nas); err != nil {
				t.Logf("pledge: %v", err)
			}
			if res := e.lastResult(); res.Outcome != eapserver.OutcomeReject {
				t.Errorf("result = %+v, want a reject", res)
			}
			if res := e.lastResult(); !errors.Is(res.Err, tt.wantErr) {
				t.Errorf("reject cause = %v, want %v", res.Err, tt.wantErr)
			}
			if res := e.lastResult(); res.VLAN != "" {
				t.Errorf("VLAN = %q for a device without an LDevID, want none", res.VLAN)
			}
			reply, _ := nas.Final()
			checkReject(t, reply)
		})
	}
}
