package registrar

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/brski-eap/brski/devid"
)

// caCerts serves the EST CA certificates (RFC 7030, Section 4.1): the
// domain CA and any issuers of it, as a certs-only CMS in base64.
func (r *Registrar) caCerts(w http.ResponseWriter, req *http.Request, rl *RequestLog) error {
	der, err := certsOnly(r.ca.Chain)
	if err != nil {
		return internalError(err)
	}
	writeBase64(w, mediaCertsOnly, der)
	return nil
}

// simpleEnroll issues an LDevID (RFC 7030, Section 4.2.1) to the pledge
// whose voucher exchange succeeded in this session. The subject of the
// LDevID is the serialNumber of the IDevID and the commonName of the CSR.
// A CSR without serialNumber is accepted and gets the IDevID's; a CSR with
// a different one is rejected.
//
// One voucher exchange allows one enrollment: a second simpleenroll in the
// session gets 403, and the pledge renews with simplereenroll instead. A
// CSR that reuses the key of the TLS client certificate (the IDevID) is
// rejected, because the LDevID needs its own key.
func (r *Registrar) simpleEnroll(w http.ResponseWriter, req *http.Request, rl *RequestLog) error {
	s := sessionFrom(req.Context())
	g, err := s.claimGrant()
	if err != nil {
		return err
	}
	enrolled := false
	defer func() { s.releaseGrant(g, enrolled) }()
	rl.PeerSerial = g.Serial
	csr, err := readCSR(req)
	if err != nil {
		return err
	}
	if err := checkCSRSerial(csr, g.Serial); err != nil {
		return err
	}
	if p := r.peer(req); p.Cert != nil && samePublicKey(p.Cert.PublicKey, csr.PublicKey) {
		return peerError(http.StatusBadRequest, "the CSR reuses the key of the TLS client "+
			"certificate; generate a new key pair for the LDevID")
	}
	subject := pkix.Name{CommonName: csr.Subject.CommonName, SerialNumber: g.Serial}
	cert, err := r.issueLDevID(req, csr, subject, issued{device: g.Serial,
		idevid: g.Fingerprint, decision: g.DecisionID})
	if err != nil {
		return err
	}
	enrolled = true
	return r.writeIssued(w, cert)
}

// claimGrant returns the session's enrollment grant and marks it in use.
// It fails when there is no grant, when the grant already enrolled, or
// while another simpleenroll of the session uses it.
func (s *session) claimGrant() (*enrollGrant, error) {
	noGrant := peerError(http.StatusForbidden, "no successful voucher exchange in this "+
		"session; POST %s first in the same TLS connection", PathRequestVoucher)
	if s == nil {
		return nil, noGrant
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.enroll
	switch {
	case g == nil:
		return nil, noGrant
	case g.enrolled:
		return nil, peerError(http.StatusForbidden, "this voucher exchange already "+
			"enrolled an LDevID; renew it with %s and the LDevID as TLS client "+
			"certificate, or send a new voucher request", PathSimpleReenroll)
	case g.enrolling:
		return nil, peerError(http.StatusConflict, "another simpleenroll of this session "+
			"is in progress; wait for its response")
	}
	g.enrolling = true
	return g, nil
}

// releaseGrant ends the use of g that claimGrant began. A grant that
// enrolled stays used up, and after a failure the pledge may try again.
func (s *session) releaseGrant(g *enrollGrant, enrolled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g.enrolling = false
	g.enrolled = g.enrolled || enrolled
}

// simpleReenroll renews an LDevID (RFC 7030, Section 4.2.2). The TLS
// client must present a valid LDevID of the domain CA that the store
// contains and has not revoked. The new certificate keeps the old subject.
func (r *Registrar) simpleReenroll(w http.ResponseWriter, req *http.Request,
	rl *RequestLog) error {
	p := r.peer(req)
	if p.Kind != PeerLDevID {
		return peerError(http.StatusForbidden, "re-enrollment requires a valid LDevID of "+
			"this domain as the TLS client certificate; enroll with %s", PathSimpleEnroll)
	}
	old, err := r.opts.Store.IssuedCertificate(req.Context(), certSerial(p.Cert))
	if errors.Is(err, ErrNotFound) {
		return peerError(http.StatusForbidden, "the TLS client certificate (serial %s) was "+
			"not issued by this registrar", certSerial(p.Cert))
	}
	if err != nil {
		return internalError(err)
	}
	if old.Revoked {
		return peerError(http.StatusForbidden, "the TLS client certificate (serial %s) is "+
			"revoked; bootstrap again with a voucher request", old.Serial)
	}
	csr, err := readCSR(req)
	if err != nil {
		return err
	}
	if err := checkCSRSerial(csr, old.DeviceSerial); err != nil {
		return err
	}
	cert, err := r.issueLDevID(req, csr, p.Cert.Subject, issued{device: old.DeviceSerial,
		idevid: old.IDevIDFingerprint, decision: old.DecisionID})
	if err != nil {
		return err
	}
	return r.writeIssued(w, cert)
}

// readCSR reads and checks a PKCS #10 request body.
func readCSR(req *http.Request) (*x509.CertificateRequest, error) {
	if err := checkMediaType(req, mediaPKCS10); err != nil {
		return nil, err
	}
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	der, err := decodeESTBody(req, body)
	if err != nil {
		return nil, err
	}
	csr, err := parseCSR(der)
	if err != nil {
		return nil, err
	}
	if err := checkCSRKey(csr); err != nil {
		return nil, err
	}
	if err := checkCSRSubject(csr); err != nil {
		return nil, err
	}
	return csr, nil
}

// minRSABits is the smallest RSA key that the domain CA certifies.
const minRSABits = 2048

// maxSubjectValue caps the length of each CSR subject attribute, the
// ub-common-name and ub-serial-number of RFC 5280, Appendix A.1.
const maxSubjectValue = 64

// parseCSR parses a DER PKCS #10 request and checks its signature.
func parseCSR(der []byte) (*x509.CertificateRequest, error) {
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, peerFailure(http.StatusBadRequest, err,
			"the body is not a valid PKCS #10 CSR")
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, peerFailure(http.StatusBadRequest, err, "the CSR signature is invalid; "+
			"sign the CSR with the key it contains")
	}
	return csr, nil
}

// checkCSRKey accepts ECDSA P-256 and P-384 keys and RSA keys of at least
// minRSABits, whatever key type csrattrs announces.
func checkCSRKey(csr *x509.CertificateRequest) error {
	switch k := csr.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() {
			return nil
		}
		return peerError(http.StatusBadRequest, "the CSR has an ECDSA key on curve %s; use "+
			"the key type that csrattrs announces, P-256 or P-384", k.Curve.Params().Name)
	case *rsa.PublicKey:
		if k.N.BitLen() >= minRSABits {
			return nil
		}
		return peerError(http.StatusBadRequest, "the CSR has a %d-bit RSA key; use ECDSA "+
			"P-256 or RSA of at least %d bits", k.N.BitLen(), minRSABits)
	}
	return peerError(http.StatusBadRequest, "the CSR has a %s key; use the key type that "+
		"csrattrs announces, ECDSA P-256 or P-384 or RSA of at least %d bits",
		csr.PublicKeyAlgorithm, minRSABits)
}

// checkCSRSubject rejects subject attributes longer than maxSubjectValue
// characters.
func checkCSRSubject(csr *x509.CertificateRequest) error {
	for _, atv := range csr.Subject.Names {
		v, ok := atv.Value.(string)
		if ok && utf8.RuneCountInString(v) <= maxSubjectValue {
			continue
		}
		return peerError(http.StatusBadRequest, "the CSR subject attribute %s is not a "+
			"string of at most %d characters (RFC 5280, Appendix A.1)", atv.Type,
			maxSubjectValue)
	}
	return nil
}

func checkCSRSerial(csr *x509.CertificateRequest, serial string) error {
	got := csr.Subject.SerialNumber
	if got != "" && got != serial {
		return peerError(http.StatusBadRequest, "CSR subject serialNumber %q does not "+
			"match the device serial number %q; use the one of the IDevID", got, serial)
	}
	return nil
}

// issued names the device an LDevID is issued to.
type issued struct {
	device   string
	idevid   string
	decision int64
}

// issueLDevID signs an LDevID for the CSR's key with the clientAuth
// extended key usage and records it in the store before it returns.
func (r *Registrar) issueLDevID(req *http.Request, csr *x509.CertificateRequest,
	subject pkix.Name, to issued) (*x509.Certificate, error) {
	now := r.now()
	serial, err := randomSerial()
	if err != nil {
		return nil, internalError(err)
	}
	ski, err := devid.KeyIdentifier(csr.PublicKey)
	if err != nil {
		return nil, peerError(http.StatusBadRequest, "CSR public key is not supported: %v", err)
	}
	notAfter := now.Add(r.opts.LDevIDValidity)
	if notAfter.After(r.ca.Cert.NotAfter) {
		notAfter = r.ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now.Add(-5 * time.Minute),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		SubjectKeyId: ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, r.ca.Cert, csr.PublicKey, r.ca.Key)
	if err != nil {
		return nil, internalError(fmt.Errorf("registrar: issue LDevID: %w", err))
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, internalError(fmt.Errorf("registrar: parse issued LDevID: %w", err))
	}
	rec := IssuedCertificate{
		Serial:            certSerial(cert),
		Subject:           cert.Subject.String(),
		DeviceSerial:      to.device,
		IDevIDFingerprint: to.idevid,
		Fingerprint:       devid.Fingerprint(cert),
		NotAfter:          cert.NotAfter,
		DecisionID:        to.decision,
		Certificate:       der,
	}
	if err := r.opts.Store.RecordCertificate(req.Context(), rec); err != nil {
		return nil, internalError(err)
	}
	return cert, nil
}

// writeIssued sends the LDevID followed by the domain CA chain.
func (r *Registrar) writeIssued(w http.ResponseWriter, cert *x509.Certificate) error {
	der, err := certsOnly(append([]*x509.Certificate{cert}, r.ca.Chain...))
	if err != nil {
		return internalError(err)
	}
	writeBase64(w, mediaCertsOnly, der)
	return nil
}

// certSerial returns the serial number of a certificate in lower-case hex,
// as the store keys issued certificates.
func certSerial(c *x509.Certificate) string { return c.SerialNumber.Text(16) }
