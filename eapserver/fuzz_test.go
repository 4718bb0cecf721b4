package eapserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	layeh "layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/policies"
	"github.com/brski-eap/brski/radius"
	"github.com/brski-eap/brski/store"
)

// emptyStore contains no certificate.
type emptyStore struct{}

func (emptyStore) CertificateWithDevice(context.Context, *big.Int) (store.IssuedCertificate,
	error) {
	return store.IssuedCertificate{}, store.ErrNotFound
}

func (emptyStore) Enrollments(context.Context, string) ([]store.Enrollment, error) {
	return nil, nil
}

// fuzzServer returns a Server with a self-signed certificate, an empty
// store and a registrar that returns 404.
func fuzzServer(f *testing.F) *Server {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1),
		Subject: pkix.Name{CommonName: "fuzz"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		f.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	file, diags := hclsyntax.ParseConfig([]byte(`default { outcome = "reject" }`),
		"policy.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		f.Fatal(diags)
	}
	pol, diags := policies.Decode(file.Body, "policy.hcl")
	if diags.HasErrors() {
		f.Fatal(diags)
	}
	s, err := New(Config{Registrar: http.NotFoundHandler(),
		RegistrarTLS: &tls.Config{Certificates: []tls.Certificate{{
			Certificate: [][]byte{der}, PrivateKey: key}}},
		DomainCAs: []*x509.Certificate{cert}, Store: emptyStore{}, Policy: pol,
		RoundBudget: 10 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	return s
}

// splitMessages cuts data into EAP-Message values, each prefixed with a
// one-octet length.
func splitMessages(data []byte) [][]byte {
	var msgs [][]byte
	for len(data) > 0 && len(msgs) < 8 {
		n := min(int(data[0]), len(data)-1)
		msgs = append(msgs, data[1:1+n])
		data = data[1+n:]
	}
	return msgs
}

// FuzzServe feeds a conversation of arbitrary EAP-Message values to the
// server, each request carrying the State of the previous Challenge.
// Every reply must be a well-formed RADIUS reply whose EAP-Message parses.
func FuzzServe(f *testing.F) {
	s := fuzzServer(f)
	ident, _ := eap.NewIdentityResponse(1, "pledge").Marshal()
	nak, _ := eap.NewNak(2, []eap.MethodType{{Type: eap.TypeExperimental}}, false).Marshal()
	seed := append([]byte{byte(len(ident))}, ident...)
	f.Add(seed)
	f.Add(append(append(seed, byte(len(nak))), nak...))
	f.Add(append(append(seed, 6), 2, 2, 0, 6, 13, 0))
	f.Add([]byte{0})
	f.Add([]byte{4, 2, 1, 0, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		var state []byte
		for _, msg := range splitMessages(data) {
			p := layeh.New(layeh.CodeAccessRequest, []byte("secret"))
			rfc2865.CallingStationID_SetString(p, "02-00-00-00-00-01")
			if state != nil {
				rfc2865.State_Set(p, state)
			}
			req := &radius.Request{Packet: p, NAS: &radius.NAS{Name: "fuzz"}}
			reply, err := s.serve(context.Background(), req, msg)
			if err != nil || reply == nil {
				continue
			}
			eapMsg, err := radius.EAPMessage(reply)
			if err != nil {
				t.Fatalf("reply EAP-Message: %v", err)
			}
			if _, err := eap.Parse(eapMsg); err != nil {
				t.Fatalf("reply carries an unparsable EAP packet %x: %v", eapMsg, err)
			}
			if reply.Code != layeh.CodeAccessChallenge {
				return
			}
			state = rfc2865.State_Get(reply)
		}
		if state != nil {
			if v, ok := s.sessions.Get(state, "fuzz", "02-00-00-00-00-01"); ok {
				v.(*conversation).close()
				s.sessions.Delete(state)
			}
		}
	})
}
