package main

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"layeh.com/radius"

	"github.com/brski-eap/brski/eap"
	"github.com/brski-eap/brski/eapest"
	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/pledge"
	brskiradius "github.com/brski-eap/brski/radius"
)

// attempter loads the credentials of the chosen method.
func (f *benchFlags) attempter() (attemptFunc, error) {
	if f.method == "eap-est" {
		return f.estAttempter()
	}
	return f.tlsAttempter()
}

func (f *benchFlags) tlsAttempter() (attemptFunc, error) {
	certFile, keyFile, caFile := f.cert, f.key, f.ca
	if f.ldevid != "" {
		certFile = filepath.Join(f.ldevid, pledge.LDevIDFile)
		keyFile = filepath.Join(f.ldevid, pledge.LDevIDKeyFile)
		caFile = filepath.Join(f.ldevid, pledge.DomainCAFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load client certificate %s with key %s: %w", certFile,
			keyFile, err)
	}
	roots, err := loadPool(caFile)
	if err != nil {
		return nil, err
	}
	identity := f.identity
	if identity == "" {
		identity = cert.Leaf.Subject.CommonName
	}
	cfg := benchTLSConfig(cert, roots, f.serverName, f.tlsMax)
	cfg.CurvePreferences = benchGroups[f.group]
	frag := f.framedMTU - 10 // EAP header, type, flags and TLS Message Length
	return func(ctx context.Context, _ int, nas *pledge.NAS) error {
		return runEAPTLS(ctx, nas, identity, cfg, frag)
	}, nil
}

func loadPool(path string) (*x509.CertPool, error) {
	certs, err := masa.ReadCertificates(path)
	if err != nil {
		return nil, fmt.Errorf("load CA certificates: %w", err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// benchGroups are the key exchange groups of each --group. A TLS 1.2
// client that offers X25519 alone cannot accept a P-256 server
// certificate (RFC 8422, Section 5.3), so x25519 offers P-256 as well,
// and crypto/tls sends a key share for X25519 only.
var benchGroups = map[string][]tls.CurveID{
	"p256":   {tls.CurveP256},
	"x25519": {tls.X25519, tls.CurveP256},
}

// benchTLSConfig verifies the server chain against roots, and its name
// only when serverName is set.
func benchTLSConfig(cert tls.Certificate, roots *x509.CertPool, serverName,
	tlsMax string) *tls.Config {
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      roots,
		ServerName:   serverName,
		MaxVersion:   tls.VersionTLS13,
	}
	if tlsMax == "1.2" {
		cfg.MaxVersion = tls.VersionTLS12
	}
	if serverName != "" {
		return cfg
	}
	// crypto/tls checks the chain only together with a name, so without a
	// name the chain is checked here instead.
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		return pledge.VerifyServer(cs, roots)
	}
	return cfg
}

// runEAPTLS runs one EAP-TLS authentication and checks that the MPPE keys
// of the Access-Accept match the keys the peer derived.
func runEAPTLS(ctx context.Context, nas *pledge.NAS, identity string, cfg *tls.Config,
	frag int) error {
	method, err := eapest.NewTLSPeer(ctx, eapest.TLSPeerConfig{TLS: cfg, FragmentSize: frag})
	if err != nil {
		return err
	}
	defer method.Close()
	peer := eap.NewPeerConversation(eap.PeerConfig{Identity: identity,
		Methods: []eap.PeerMethod{method}})
	var resp []byte
	for range benchMaxRounds {
		req, err := nas.Exchange(ctx, resp)
		if err != nil {
			return err
		}
		var status eap.Status
		resp, status, err = peer.Handle(ctx, req)
		if err != nil {
			return err
		}
		if status != eap.StatusContinue {
			break
		}
	}
	res := peer.Result()
	if res.Status != eap.StatusSuccess {
		return fmt.Errorf("eap-tls ended with %v: %v", res.Status, res.Err)
	}
	return checkAccept(nas, res.MSK)
}

func (f *benchFlags) estAttempter() (attemptFunc, error) {
	devices, err := loadFactoryDevices(f.factory)
	if err != nil {
		return nil, err
	}
	trustFile := f.masaTrust
	if trustFile == "" {
		trustFile = filepath.Join(f.factory, masa.FactoryCAFile)
	}
	trust, err := loadPool(trustFile)
	if err != nil {
		return nil, err
	}
	frag := f.framedMTU - 10
	return func(ctx context.Context, i int, nas *pledge.NAS) error {
		d := devices[i%len(devices)]
		identity := f.identity
		if identity == "" {
			identity = d.serial
		}
		p := &pledge.Pledge{IDevID: d.cert, MASATrust: trust}
		return runEAPEST(ctx, nas, identity, p, frag)
	}, nil
}

// factoryDevice is one IDevID of a factory directory.
type factoryDevice struct {
	serial string
	cert   tls.Certificate
}

func loadFactoryDevices(dir string) ([]factoryDevice, error) {
	entries, err := os.ReadDir(filepath.Join(dir, masa.DevicesDir))
	if err != nil {
		return nil, fmt.Errorf("read factory devices: %w", err)
	}
	var out []factoryDevice
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		d := filepath.Join(dir, masa.DevicesDir, e.Name())
		cert, err := tls.LoadX509KeyPair(filepath.Join(d, masa.DeviceCertFile),
			filepath.Join(d, masa.DeviceKeyFile))
		if err != nil {
			return nil, fmt.Errorf("load IDevID of %s: %w", d, err)
		}
		out = append(out, factoryDevice{serial: e.Name(), cert: cert})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("factory %s has no devices; mint some with brski factory "+
			"mint or brski init --devices N", dir)
	}
	return out, nil
}

// runEAPEST bootstraps one device over EAP-EST: voucher, enrollment and the
// final Access-Accept with MPPE keys.
func runEAPEST(ctx context.Context, nas *pledge.NAS, identity string, p *pledge.Pledge,
	frag int) error {
	_, res, err := p.BootstrapEAP(ctx, nas, pledge.EAPConfig{Identity: identity,
		FragmentSize: frag})
	if err != nil {
		return err
	}
	if res.Status != eap.StatusSuccess {
		return fmt.Errorf("eap-est ended with %v: %v", res.Status, res.Err)
	}
	return checkAccept(nas, res.MSK)
}

// checkAccept checks that the conversation ended in Access-Accept whose
// MS-MPPE keys are the halves of msk (RFC 5216, Section 2.3).
func checkAccept(nas *pledge.NAS, msk []byte) error {
	final, reqAuth := nas.Final()
	if final == nil || final.Code != radius.CodeAccessAccept {
		return errors.New("EAP-Success without Access-Accept")
	}
	send, recv, err := brskiradius.MPPEKeys(final, reqAuth)
	if err != nil {
		return err
	}
	if len(msk) < 64 || subtle.ConstantTimeCompare(recv, msk[:32]) != 1 ||
		subtle.ConstantTimeCompare(send, msk[32:64]) != 1 {
		return errors.New("MS-MPPE keys of the Access-Accept do not match the peer's MSK")
	}
	return nil
}
