package eapserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	layeh "layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"

	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/eapest"
	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/radius"
	"github.com/brski-eap/brski/registrar"
)

// issueLDevID issues a client certificate from ca that is in no store.
func issueLDevID(t *testing.T, ca *registrar.DomainCA, serial string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sn, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	tmpl := &x509.Certificate{SerialNumber: sn,
		Subject:   pkix.Name{CommonName: serial, SerialNumber: serial},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestEAPTLSRejects(t *testing.T) {
	e := newEnv(t)
	dev := e.bootstrap("SN-2001", "02-00-00-00-20-01")
	other, err := registrar.GenerateDomainCA(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name    string
		cert    func() tls.Certificate
		wantErr error // in the server's result, nil to only expect a reject
		// wantUnknownCA expects the chain check to name an unknown issuer.
		wantUnknownCA bool
	}{
		{"unknown CA", func() tls.Certificate {
			return issueLDevID(t, other, "SN-2001")
		}, nil, true},
		{"never issued", func() tls.Certificate {
			return issueLDevID(t, e.ca, "SN-2001")
		}, eapserver.ErrNotEnrolled, false},
		{"revoked", func() tls.Certificate {
			if err := e.st.DB.RevokeCertificate(ctx, dev.res.LDevID.SerialNumber,
				time.Time{}); err != nil {
				t.Fatal(err)
			}
			return dev.ldevid
		}, eapserver.ErrNotEnrolled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nas := e.nas("02-00-00-00-20-02")
			_, err := pledge.AuthenticateTLS(ctx, nas, tt.cert(), pool(e.ca.Cert),
				pledge.EAPConfig{})
			if !errors.Is(err, pledge.ErrEAPFailure) {
				t.Errorf("AuthenticateTLS error = %v, want ErrEAPFailure", err)
			}
			reply, _ := nas.Final()
			checkReject(t, reply)
			res := e.lastResult()
			if res.MethodName() != "EAP-TLS" || res.Outcome != eapserver.OutcomeReject {
				t.Errorf("result = %+v, want an EAP-TLS reject", res)
			}
			if tt.wantErr != nil && !errors.Is(res.Err, tt.wantErr) {
				t.Errorf("reject cause = %v, want %v", res.Err, tt.wantErr)
			}
			var unknownCA x509.UnknownAuthorityError
			if gotUnknownCA := errors.As(res.Err, &unknownCA); gotUnknownCA != tt.wantUnknownCA {
				t.Errorf("reject cause = %v, want an unknown authority: %v", res.Err,
					tt.wantUnknownCA)
			}
		})
	}
}

// recorder keeps the EAP Requests that a transport returned.
type recorder struct {
	tr       eapest.Transport
	requests [][]byte
}

func (r *recorder) Exchange(ctx context.Context, resp []byte) ([]byte, error) {
	req, err := r.tr.Exchange(ctx, resp)
	if err == nil {
		r.requests = append(r.requests, req)
	}
	return req, err
}

func TestRSAOnlyClientHelloGetsAlertThenReject(t *testing.T) {
	e := newEnv(t)
	p := e.mint("SN-3001")
	ctx := context.Background()
	peer, err := eapest.NewTLSPeer(ctx, eapest.TLSPeerConfig{TLS: &tls.Config{
		Certificates: []tls.Certificate{p.IDevID}, InsecureSkipVerify: true,
		MaxVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	conv := eap.NewPeerConversation(eap.PeerConfig{Identity: "SN-3001",
		Methods: []eap.PeerMethod{peer}})
	nas := e.nas("02-00-00-00-30-01")
	rec := &recorder{tr: nas}
	var resp []byte
	for {
		msg, err := rec.Exchange(ctx, resp)
		if err != nil {
			t.Fatal(err)
		}
		out, status, err := conv.Handle(ctx, msg)
		if err != nil || status != eap.StatusContinue {
			break
		}
		resp = out
	}
	reply, _ := nas.Final()
	checkReject(t, reply)
	if len(rec.requests) < 2 {
		t.Fatalf("got %d EAP Requests, want an alert and a Failure", len(rec.requests))
	}
	alert, err := eap.Parse(rec.requests[len(rec.requests)-2])
	if err != nil {
		t.Fatal(err)
	}
	f, err := eapest.ParseFragment(alert.Data)
	// A plaintext fatal handshake_failure alert: type 21, version, length
	// 2, level 2, description 40.
	if err != nil || len(f.Data) != 7 || f.Data[0] != 21 || f.Data[5] != 2 || f.Data[6] != 40 {
		t.Errorf("Request before the Failure = %x (%v), want a handshake_failure alert",
			f.Data, err)
	}
}

// accessRequest builds an Access-Request from the test NAS with an EAP
// packet and an optional State.
func accessRequest(t *testing.T, mac string, state, msg []byte) *layeh.Packet {
	t.Helper()
	p := layeh.New(layeh.CodeAccessRequest, nil)
	if err := rfc2865.CallingStationID_SetString(p, mac); err != nil {
		t.Fatal(err)
	}
	if state != nil {
		if err := rfc2865.State_Set(p, state); err != nil {
			t.Fatal(err)
		}
	}
	if err := radius.SetEAPMessage(p, msg); err != nil {
		t.Fatal(err)
	}
	return p
}

func identityResponse(t *testing.T, id uint8, identity string) []byte {
	t.Helper()
	b, err := eap.NewIdentityResponse(id, identity).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUnknownStateGetsRejectWithFailure(t *testing.T) {
	e := newEnv(t)
	state := make([]byte, 16)
	rand.Read(state)
	ack := []byte{byte(eap.CodeResponse), 7, 0, 6, byte(eap.TypeTLS), 0}
	reply, err := e.client(0).Exchange(context.Background(),
		accessRequest(t, "02-00-00-00-40-01", state, ack))
	if err != nil {
		t.Fatal(err)
	}
	checkReject(t, reply)
	msg, _ := radius.EAPMessage(reply)
	if p, _ := eap.Parse(msg); p == nil || p.Identifier != 7 {
		t.Errorf("EAP-Failure = %v, want Identifier 7 of the Response", p)
	}
	if !errors.Is(e.lastResult().Err, radius.ErrUnknownState) {
		t.Errorf("reject cause = %v, want ErrUnknownState", e.lastResult().Err)
	}
}

// TestEAPLengthMismatchIsDropped sends EAP packets whose Length field
// disagrees with the EAP-Message attributes. RFC 3579, Section 3.1 lets
// them hold exactly one packet, and RFC 3748, Section 4.1 discards a
// malformed one silently, so no reply goes out and the conversation does
// not move.
func TestEAPLengthMismatchIsDropped(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	quiet := e.client(200 * time.Millisecond)
	quiet.Retries = -1
	mac := "02-00-00-00-50-01"
	long := identityResponse(t, 1, "SN-5001")
	long[3] += 5
	short := identityResponse(t, 1, "SN-5001")
	short[3] -= 2
	drops := 0
	for _, msg := range [][]byte{long, short} {
		_, err := quiet.Exchange(ctx, accessRequest(t, mac, nil, msg))
		if !errors.Is(err, radius.ErrTimeout) {
			t.Errorf("Exchange error = %v, want ErrTimeout because of no reply", err)
		}
		drops++
		waitDrops(t, e.radius, drops)
	}

	reply, err := e.client(0).Exchange(ctx,
		accessRequest(t, mac, nil, identityResponse(t, 1, "SN-5001")))
	if err != nil || reply.Code != layeh.CodeAccessChallenge {
		t.Fatalf("reply to the Identity = %v (%v), want Access-Challenge", reply, err)
	}
	state := rfc2865.State_Get(reply)
	msg, _ := radius.EAPMessage(reply)
	start, err := eap.Parse(msg)
	if err != nil || start.Type != eap.TypeTLS {
		t.Fatalf("first Request = %v (%v), want EAP-TLS Start", start, err)
	}
	nak, err := eap.NewNak(start.Identifier, []eap.MethodType{eapest.TypeEST}, false).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	bad := append(append([]byte(nil), nak...), 0)
	if _, err := quiet.Exchange(ctx, accessRequest(t, mac, state, bad)); !errors.Is(err,
		radius.ErrTimeout) {
		t.Errorf("Exchange error = %v, want ErrTimeout because of no reply", err)
	}
	waitDrops(t, e.radius, drops+1)
	reply, err = e.client(0).Exchange(ctx, accessRequest(t, mac, state, nak))
	if err != nil || reply.Code != layeh.CodeAccessChallenge {
		t.Fatalf("reply to the Nak = %v (%v), want Access-Challenge", reply, err)
	}
	msg, _ = radius.EAPMessage(reply)
	next, err := eap.Parse(msg)
	if err != nil || next.MethodType() != eapest.TypeEST || next.Identifier != start.Identifier+1 {
		t.Errorf("Request after the Nak = %v (%v), want EAP-EST Start", next, err)
	}
}

// waitDrops waits until the server counted n requests without a reply.
func waitDrops(t *testing.T, s *radius.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Dropped[radius.DropNoReply] < uint64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("server counted %d requests without reply, want %d",
				s.Stats().Dropped[radius.DropNoReply], n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRequestsWithoutEAPPacket(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		eap      *layeh.Attribute // nil: no EAP-Message attribute
		wantCode layeh.Code
	}{
		// RFC 3579, Section 2.1: an empty EAP-Message is an EAP-Start,
		// which gets the Identity Request.
		{"EAP-Start", &layeh.Attribute{}, layeh.CodeAccessChallenge},
		// RFC 3579, Section 2.6.2: an EAP-only server rejects a request
		// without EAP-Message.
		{"no EAP-Message", nil, layeh.CodeAccessReject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := layeh.New(layeh.CodeAccessRequest, nil)
			if err := rfc2865.CallingStationID_SetString(p, "02-00-00-00-60-01"); err != nil {
				t.Fatal(err)
			}
			if tt.eap != nil {
				p.Attributes.Add(rfc2869.EAPMessage_Type, *tt.eap)
			}
			reply, err := e.client(0).Exchange(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if reply.Code != tt.wantCode {
				t.Fatalf("reply = %v, want %v", reply.Code, tt.wantCode)
			}
			if tt.wantCode == layeh.CodeAccessReject {
				checkReject(t, reply)
				return
			}
			msg, _ := radius.EAPMessage(reply)
			req, err := eap.Parse(msg)
			if err != nil || req.Code != eap.CodeRequest || req.Type != eap.TypeIdentity {
				t.Errorf("Challenge EAP-Message = %v (%v), want Identity Request", req, err)
			}
			if rfc2865.State_Get(reply) == nil {
				t.Error("Challenge without State")
			}
		})
	}
}

func TestEAPTLSRevokedAfterAcceptGetsReject(t *testing.T) {
	e := newEnv(t)
	dev := e.bootstrap("SN-2003", "02-00-00-00-20-03")
	ctx := context.Background()
	roots := pool(dev.res.DomainCAs...)
	if _, err := pledge.AuthenticateTLS(ctx, dev.nas, dev.ldevid, roots,
		pledge.EAPConfig{}); err != nil {
		t.Fatalf("AuthenticateTLS before the revocation: %v (result %+v)", err,
			e.lastResult())
	}
	err := e.st.DB.RevokeCertificate(ctx, dev.res.LDevID.SerialNumber, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pledge.AuthenticateTLS(ctx, dev.nas, dev.ldevid, roots, pledge.EAPConfig{})
	if !errors.Is(err, pledge.ErrEAPFailure) {
		t.Errorf("AuthenticateTLS error = %v, want ErrEAPFailure", err)
	}
	reply, _ := dev.nas.Final()
	checkReject(t, reply)
	if res := e.lastResult(); !errors.Is(res.Err, eapserver.ErrNotEnrolled) {
		t.Errorf("reject cause = %v, want ErrNotEnrolled", res.Err)
	}
}
