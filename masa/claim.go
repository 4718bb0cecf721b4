package masa

import (
	"bytes"
	"crypto/x509"
	"errors"
	"net/http"
	"time"

	"github.com/brski-eap/brski/devid"
	"github.com/brski-eap/brski/voucher"
)

// claim is an authenticated registrar voucher request.
type claim struct {
	serial    string
	nonce     []byte            // nil for a nonceless request
	createdOn time.Time         // created-on of the registrar voucher request
	registrar *x509.Certificate // signer of the registrar voucher request
	domainCA  *x509.Certificate // anchor of the registrar's chain, the pinned domain cert
	prior     *voucher.Voucher  // the pledge voucher request, nil when absent
}

// authenticate checks a registrar voucher request as RFC 8995, Section 5.5
// describes: the registrar signature with the domain CA carried in the CMS
// as a temporary trust anchor (Sections 5.5.2 and 5.5.3), the cmcRA extended
// key usage (Section 5.5.4), and the prior-signed-voucher-request of a
// device of this factory (Section 5.5.5). A registrar request without nonce
// and without prior request is a nonceless claim for its serial-number.
func (s *Server) authenticate(body []byte, log *RequestLog) (*claim, *httpError) {
	der, err := voucher.DecodeInput(body)
	var so *voucher.SignedObject
	if err == nil {
		so, err = voucher.ParseSigned(der)
	}
	if err != nil {
		return nil, reject(http.StatusBadRequest, "the body is not a CMS signed registrar "+
			"voucher request: %v", err)
	}
	c, herr := s.verifyRegistrar(so)
	if herr != nil {
		return nil, herr
	}
	req, err := voucher.ParseRequest(so.Content)
	if err != nil {
		return nil, reject(http.StatusBadRequest, "invalid registrar voucher request: %v", err)
	}
	c.serial, c.nonce, c.createdOn = req.SerialNumber, req.Nonce, req.CreatedOn
	log.SerialNumber = req.SerialNumber
	if len(req.ProximityRegistrarCert) > 0 {
		return nil, reject(http.StatusBadRequest, "a registrar voucher request must not "+
			"contain proximity-registrar-cert (RFC 8995, Section 5.5)")
	}
	if len(req.PriorSignedVoucherRequest) == 0 {
		herr = s.checkWithoutPrior(req)
	} else {
		herr = s.verifyPledge(c, req)
	}
	if herr != nil {
		return nil, herr
	}
	return c, nil
}

// checkWithoutPrior accepts a registrar voucher request without a pledge
// request only as a nonceless claim for a device of this factory.
func (s *Server) checkWithoutPrior(req *voucher.Voucher) *httpError {
	if len(req.Nonce) > 0 {
		return reject(http.StatusBadRequest, "the registrar voucher request has a "+
			"nonce but no prior-signed-voucher-request from the pledge")
	}
	if req.SerialNumber == "" {
		return reject(http.StatusBadRequest, "the registrar voucher request has no serial-number")
	}
	if _, err := s.factory.DeviceCertificate(req.SerialNumber); err != nil {
		return deviceError(req.SerialNumber, err)
	}
	return nil
}

// deviceError maps an error of Factory.DeviceCertificate to 404 for an
// unknown device and to 500 for a stored certificate that cannot be read.
func deviceError(serial string, err error) *httpError {
	if errors.Is(err, ErrUnknownDevice) {
		return reject(http.StatusNotFound, "device %q is not known to this MASA", serial)
	}
	return internalError(err)
}

// verifyRegistrar verifies the registrar's signature with the chain that
// the CMS carries: its self-signed certificates, or else its last
// certificate, are the anchors.
func (s *Server) verifyRegistrar(so *voucher.SignedObject) (*claim, *httpError) {
	if len(so.Certificates) == 0 {
		return nil, reject(http.StatusForbidden, "the registrar voucher request carries no "+
			"certificates; include the registrar certificate and the domain CA")
	}
	roots, intermediates := x509.NewCertPool(), x509.NewCertPool()
	anchors := 0
	for _, cert := range so.Certificates {
		if bytes.Equal(cert.RawIssuer, cert.RawSubject) && cert.CheckSignatureFrom(cert) == nil {
			roots.AddCert(cert)
			anchors++
		} else {
			intermediates.AddCert(cert)
		}
	}
	if anchors == 0 {
		roots.AddCert(so.Certificates[len(so.Certificates)-1])
	}
	v, err := so.Verify(voucher.VerifyOptions{Roots: roots, Intermediates: intermediates,
		CurrentTime: s.cfg.Now()})
	if err != nil {
		return nil, reject(http.StatusForbidden, "the registrar signature does not verify "+
			"with the certificates in the request: %v", err)
	}
	if !devid.HasCmcRA(v.Signer) {
		return nil, reject(http.StatusForbidden, "the registrar certificate %q has no "+
			"id-kp-cmcRA extended key usage (RFC 8995, Section 5.5.4)", v.Signer.Subject)
	}
	chain := v.Chains[0]
	return &claim{registrar: v.Signer, domainCA: chain[len(chain)-1]}, nil
}

// verifyPledge checks the prior-signed-voucher-request: it must be signed
// by an IDevID of the factory CA that Mint stored for its serial number,
// and its serial-number and nonce must equal those of the registrar.
func (s *Server) verifyPledge(c *claim, req *voucher.Voucher) *httpError {
	pso, err := voucher.ParseSigned(req.PriorSignedVoucherRequest)
	if err != nil {
		return reject(http.StatusBadRequest, "invalid prior-signed-voucher-request: %v", err)
	}
	prior, err := voucher.ParseRequest(pso.Content)
	if err != nil {
		return reject(http.StatusBadRequest, "invalid pledge voucher request: %v", err)
	}
	if herr := s.verifyIDevID(pso, prior.SerialNumber); herr != nil {
		return herr
	}
	if req.SerialNumber != prior.SerialNumber {
		return reject(http.StatusBadRequest, "the registrar voucher request has serial-number "+
			"%q but the pledge voucher request has %q", req.SerialNumber, prior.SerialNumber)
	}
	if !bytes.Equal(req.Nonce, prior.Nonce) {
		return reject(http.StatusBadRequest, "the nonce of the registrar voucher request "+
			"differs from the nonce of the pledge voucher request")
	}
	c.prior = prior
	return nil
}

// verifyIDevID checks that the pledge voucher request is signed by the
// IDevID that the factory minted for serial.
func (s *Server) verifyIDevID(pso *voucher.SignedObject, serial string) *httpError {
	known, knownErr := s.factory.DeviceCertificate(serial)
	if knownErr != nil && !errors.Is(knownErr, ErrUnknownDevice) {
		return internalError(knownErr)
	}
	roots := x509.NewCertPool()
	roots.AddCert(s.factory.CA)
	v, err := pso.Verify(voucher.VerifyOptions{Roots: roots, CurrentTime: s.cfg.Now(),
		Signer: known})
	switch {
	case err != nil && knownErr != nil && errors.Is(err, voucher.ErrSignerNotFound):
		return reject(http.StatusNotFound, "device %q is not known to this MASA", serial)
	case err != nil:
		return reject(http.StatusForbidden, "the pledge voucher request is not signed "+
			"by an IDevID of this factory (%s): %v", s.factory.CA.Subject, err)
	}
	signerSerial, err := devid.SerialNumber(v.Signer)
	if err != nil || signerSerial != serial {
		return reject(http.StatusBadRequest, "the pledge voucher request has "+
			"serial-number %q but its IDevID has %q", serial, signerSerial)
	}
	if knownErr != nil {
		return reject(http.StatusNotFound, "device %q is not known to this MASA", serial)
	}
	if !known.Equal(v.Signer) {
		return reject(http.StatusForbidden, "the IDevID of device %q is not the one "+
			"this factory minted", serial)
	}
	return nil
}
