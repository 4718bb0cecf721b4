package pledge

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/brski-eap/brski/voucher"
)

// enroll runs the EST steps of RFC 8995, Section 5.9 over the session that
// the voucher has authenticated: CA certificates, CSR attributes and a
// simple enrollment with a new key. The first two go in one batch with the
// successful voucher_status (see enrollInputs).
func (p *Pledge) enroll(ctx context.Context, s Session, id *identity, vv *VerifiedVoucher) (
	*Result, error) {
	cas, attrs, err := p.enrollInputs(ctx, s, vv.PinnedDomainCert)
	if err != nil {
		return nil, err
	}
	key, csr, err := newCSR(id.serial, attrs)
	if err != nil {
		return nil, err
	}
	ldevid, chain, err := p.simpleEnroll(ctx, s, csr, key.Public(), cas)
	if err != nil {
		return nil, err
	}
	p.trace(Event{Kind: EventEnrolled, Cert: ldevid})
	return &Result{LDevID: ldevid, Key: key, Chain: chain, DomainCAs: cas,
		Voucher: vv.Voucher, Signed: vv.signed, PinnedDomainCert: vv.PinnedDomainCert}, nil
}

// caCertsExchange fetches the EST CA certificates (RFC 7030, Section 4.1).
var caCertsExchange = exchange{method: http.MethodGet, path: pathCACerts,
	accept: mediaPKCS7, want: []int{http.StatusOK}}

// checkCACerts parses the CA certificates of resp and checks that they
// belong to the domain that the voucher pinned.
func (p *Pledge) checkCACerts(resp *response, pinned *x509.Certificate) (
	[]*x509.Certificate, error) {
	certs, err := parseCertsOnly(pathCACerts, resp)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDomainCA, err)
	}
	if err := checkDomainCAs(certs, pinned, p.now()); err != nil {
		return nil, err
	}
	return certs, nil
}

// checkDomainCAs accepts the EST CA certificates when one of them is
// pinned, chains to pinned, or, where pinned is the registrar's own
// certificate, issues pinned (RFC 8995, Section 5.6.2 allows both kinds of
// pinned-domain-cert).
func checkDomainCAs(cas []*x509.Certificate, pinned *x509.Certificate, now time.Time) error {
	for _, ca := range cas {
		if bytes.Equal(ca.Raw, pinned.Raw) {
			return nil
		}
	}
	pinnedPool := x509.NewCertPool()
	pinnedPool.AddCert(pinned)
	estPool := certPool(cas)
	for _, ca := range cas {
		_, err := ca.Verify(x509.VerifyOptions{Roots: pinnedPool, Intermediates: estPool,
			CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err == nil {
			return nil
		}
	}
	_, err := pinned.Verify(x509.VerifyOptions{Roots: estPool, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return fmt.Errorf("%w: none of the %d CA certificates is, chains to or issues "+
			"%q", ErrDomainCA, len(cas), pinned.Subject.String())
	}
	return nil
}

// csrAttrsExchange fetches the CSR attributes (RFC 7030, Section 4.5),
// which RFC 8995, Section 5.9.2 requires the pledge to request. 204 and 404
// mean none.
var csrAttrsExchange = exchange{method: http.MethodGet, path: pathCSRAttrs,
	accept: mediaCSRAttrs,
	want:   []int{http.StatusOK, http.StatusNoContent, http.StatusNotFound}}

// parseCSRAttrsResponse returns the CSR attributes of resp, the response to
// csrAttrsExchange.
func parseCSRAttrsResponse(resp *response) (*CSRAttributes, error) {
	if resp.status != http.StatusOK || len(bytes.TrimSpace(resp.body)) == 0 {
		return &CSRAttributes{}, nil
	}
	if err := expectMedia(pathCSRAttrs, resp, mediaCSRAttrs); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCSRAttributes, err)
	}
	der, err := voucher.DecodeInput(resp.body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCSRAttributes, err)
	}
	return ParseCSRAttributes(der)
}

// newCSR generates the LDevID key and a PKCS #10 request for it. The
// subject carries the IDevID serial number as serialNumber and commonName.
// The key type, the curve, the signature algorithm and the extensions come
// from attrs when it requests them. A signature algorithm that does not fit
// the key type is replaced by the default of the key.
func newCSR(serial string, attrs *CSRAttributes) (crypto.Signer, []byte, error) {
	key, err := newLDevIDKey(attrs)
	if err != nil {
		return nil, nil, fmt.Errorf("pledge: generate LDevID key: %w", err)
	}
	sigAlg := attrs.SignatureAlgorithm
	if signatureKeyType(sigAlg) != attrs.KeyType() {
		sigAlg = x509.UnknownSignatureAlgorithm
	}
	tmpl := &x509.CertificateRequest{
		Subject:            pkix.Name{SerialNumber: serial, CommonName: serial},
		SignatureAlgorithm: sigAlg,
		ExtraExtensions:    attrs.Extensions,
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, nil, fmt.Errorf("pledge: create certificate request: %w", err)
	}
	return key, csr, nil
}

// newLDevIDKey generates a key of the type that attrs requests: RSA of the
// requested size or 2048 bits, or ECDSA on the requested curve or P-256.
func newLDevIDKey(attrs *CSRAttributes) (crypto.Signer, error) {
	if attrs.KeyType() == x509.RSA {
		bits := attrs.RSABits
		if bits == 0 {
			bits = minRSABits
		}
		return rsa.GenerateKey(rand.Reader, bits)
	}
	curve := attrs.Curve
	if curve == nil {
		curve = elliptic.P256()
	}
	return ecdsa.GenerateKey(curve, rand.Reader)
}

// simpleEnroll posts the CSR (RFC 7030, Section 4.2.1) and returns the
// issued certificate and the other certificates of the response. The
// certificate must carry pub and chain to the domain CA certificates.
func (p *Pledge) simpleEnroll(ctx context.Context, s Session, csr []byte, pub crypto.PublicKey,
	cas []*x509.Certificate) (*x509.Certificate, []*x509.Certificate, error) {
	body := []byte(base64.StdEncoding.EncodeToString(csr))
	resp, err := p.send(ctx, s, exchange{method: http.MethodPost, path: pathSimpleEnroll,
		contentType: mediaPKCS10, accept: mediaPKCS7, body: body,
		want: []int{http.StatusOK}})
	if err != nil {
		return nil, nil, err
	}
	certs, err := parseCertsOnly(pathSimpleEnroll, resp)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrLDevID, err)
	}
	var leaf *x509.Certificate
	var others []*x509.Certificate
	for _, c := range certs {
		if k, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok &&
			leaf == nil && k.Equal(pub) {
			leaf = c
			continue
		}
		others = append(others, c)
	}
	if leaf == nil {
		return nil, nil, fmt.Errorf("%w: none of the %d certificates carries the new "+
			"public key", ErrLDevID, len(certs))
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: certPool(cas),
		Intermediates: certPool(others), CurrentTime: p.now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: certificate %q does not chain to the domain CA: %w",
			ErrLDevID, leaf.Subject.String(), err)
	}
	return leaf, others, nil
}

// parseCertsOnly parses a certs-only CMS response (RFC 7030, Section 4.1.3),
// base64 encoded, with the application/pkcs7-mime media type.
func parseCertsOnly(path string, resp *response) ([]*x509.Certificate, error) {
	if err := expectMedia(path, resp, mediaPKCS7); err != nil {
		return nil, err
	}
	der, err := voucher.DecodeInput(resp.body)
	if err != nil {
		return nil, fmt.Errorf("pledge: %s: %w", path, err)
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("pledge: %s: parse certs-only CMS: %w", path, err)
	}
	if len(p7.Certificates) == 0 {
		return nil, fmt.Errorf("pledge: %s: certs-only response has no certificates", path)
	}
	return p7.Certificates, nil
}

func certPool(certs []*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}
