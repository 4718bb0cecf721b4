package registrar

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"fmt"
	"net/http"

	"github.com/brski-eap/brski/devid"
)

// Object identifiers of the CSR attributes that the registrar announces.
var (
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}  // RFC 5758
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}  // RFC 5758
	oidECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}     // RFC 5480
	oidSecp384r1       = asn1.ObjectIdentifier{1, 3, 132, 0, 34}           // RFC 5480
	oidRSAEncryption   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1} // RFC 8017
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

// csrAttribute is the Attribute choice of AttrOrOID (RFC 7030,
// Section 4.5.2).
type csrAttribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.ObjectIdentifier `asn1:"set"`
}

// csrAttrs serves the EST CSR attributes (RFC 7030, Section 4.5.2;
// RFC 8995, Section 5.9.2): the subject serialNumber attribute, which must
// match the serial number of the IDevID, and a key type and signature
// algorithm that follow the domain CA's key.
func (r *Registrar) csrAttrs(w http.ResponseWriter, req *http.Request, rl *RequestLog) error {
	der, err := asn1.Marshal(append(r.keyRequest(), asn1.RawValue{
		FullBytes: mustMarshal(devid.OIDSerialNumber)}))
	if err != nil {
		return internalError(fmt.Errorf("registrar: marshal csrattrs: %w", err))
	}
	writeBase64(w, mediaCSRAttrs, der)
	return nil
}

// keyRequest returns the CsrAttrs items that request the LDevID key type,
// so that LDevIDs have the key type of the CA that issues them. With an
// RSA domain CA they request an RSA key and sha256WithRSAEncryption, with
// a P-384 CA a P-384 key and ecdsa-with-SHA384, and with any other CA
// ecdsa-with-SHA256, which a pledge fulfills with P-256.
func (r *Registrar) keyRequest() []asn1.RawValue {
	raw := func(v any) asn1.RawValue { return asn1.RawValue{FullBytes: mustMarshal(v)} }
	switch k := r.ca.Cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return []asn1.RawValue{raw(oidSHA256WithRSA), raw(oidRSAEncryption)}
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P384() {
			return []asn1.RawValue{raw(oidECDSAWithSHA384), raw(csrAttribute{
				Type: oidECPublicKey, Values: []asn1.ObjectIdentifier{oidSecp384r1}})}
		}
	}
	return []asn1.RawValue{raw(oidECDSAWithSHA256)}
}

// mustMarshal encodes one of the constant object identifiers above or a
// csrAttribute of them, for which asn1.Marshal returns no error.
func mustMarshal(v any) []byte {
	der, err := asn1.Marshal(v)
	if err != nil {
		panic("registrar: marshal constant CSR attribute: " + err.Error())
	}
	return der
}
