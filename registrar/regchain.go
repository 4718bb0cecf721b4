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
// certFile, and returns the chain that the registrar presents.
//
// When certFile lacks that certificate of the domain CA file, the returned
// chain is the path from the registrar certificate followed by the domain
// CA chain from that certificate on. The TLS server chain and the CMS of
// the registrar voucher request are then the same as with a generated
// registrar certificate. A MASA may pin the certificate of the CMS chain
// farthest from the registrar certificate (RFC 8995, Section 5.5.2), as
// package masa does, so a registrar certificate alone would be pinned
// instead of the domain CA.
func linkDomainCA(rc *RegistrarCert, ca *DomainCA, certFile string) (*RegistrarCert, error) {
	path := []*x509.Certificate{rc.Leaf()}
	for {
		top := path[len(path)-1]
		for i, c := range ca.Chain {
			if top.CheckSignatureFrom(c) != nil {
				continue
			}
			if containsCert(rc.Chain, c) {
				return rc, nil
			}
			chain := append(path, ca.Chain[i:]...)
			return &RegistrarCert{Chain: chain, Key: rc.Key}, nil
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
