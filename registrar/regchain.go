package registrar

import (
	"crypto/x509"
	"errors"
	"fmt"
)

// ErrForeignRegistrarCert is returned at start and by Config.CheckFiles for
// a registrar certificate that does not chain to the domain CA. Pledges
// reject such a registrar, because its TLS certificate does not chain to
// the pinned-domain-cert of their voucher (RFC 8995, Section 5.6.2).
var ErrForeignRegistrarCert = errors.New("registrar: registrar certificate not issued " +
	"by the domain CA")

// linkDomainCA checks that the registrar certificate chains to a
// certificate of the domain CA file, directly or through the issuers in
// certFile.
func linkDomainCA(rc *RegistrarCert, ca *DomainCA, certFile string) (*RegistrarCert, error) {
	path := []*x509.Certificate{rc.Leaf()}
	for {
		top := path[len(path)-1]
		for _, c := range ca.Chain {
			if top.CheckSignatureFrom(c) == nil {
				return rc, nil
			}
		}
		next := issuerOf(top, rc.Chain[1:], path)
		if next == nil {
			return nil, fmt.Errorf("%w: %s: the certificate %q was issued by %q, but the "+
				"domain CA is %q; issue it from the domain CA, or name the CA that "+
				"issued it in domain_ca", ErrForeignRegistrarCert, certFile,
				top.Subject.String(), top.Issuer.String(), ca.Cert.Subject.String())
		}
		path = append(path, next)
	}
}

// issuerOf returns the certificate of candidates that signed cert and is not
// in path yet, or nil.
func issuerOf(cert *x509.Certificate, candidates, path []*x509.Certificate) *x509.Certificate {
	for _, c := range candidates {
		if !containsCert(path, c) && cert.CheckSignatureFrom(c) == nil {
			return c
		}
	}
	return nil
}

func containsCert(certs []*x509.Certificate, cert *x509.Certificate) bool {
	for _, c := range certs {
		if c.Equal(cert) {
			return true
		}
	}
	return false
}
