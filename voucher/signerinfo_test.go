package voucher

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"testing"
)

// attrValue is one signed attribute for buildSigned.
type attrValue struct {
	typ   asn1.ObjectIdentifier
	value any
}

// buildSigned signs content by hand, so tests can produce SignerInfos that
// Sign never emits. With attrs nil, the signature covers the content.
func buildSigned(t *testing.T, pki *testPKI, contentType asn1.ObjectIdentifier,
	content []byte, sigAlg asn1.ObjectIdentifier, attrs []attrValue) []byte {
	t.Helper()
	si, err := newSignerInfo(pki.leaf, false)
	if err != nil {
		t.Fatal(err)
	}
	si.DigestAlgorithm = pkix.AlgorithmIdentifier{Algorithm: oidSHA256}
	si.SignatureAlgorithm = pkix.AlgorithmIdentifier{Algorithm: sigAlg}
	signed := content
	if attrs != nil {
		var encoded []byte
		for _, a := range attrs {
			value, err := asn1.Marshal(a.value)
			if err != nil {
				t.Fatal(err)
			}
			attr, err := asn1.Marshal(attribute{Type: a.typ, Values: asn1.RawValue{
				Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: value}})
			if err != nil {
				t.Fatal(err)
			}
			encoded = append(encoded, attr...)
		}
		set := encodeElement([]byte{0x31}, encoded)
		si.SignedAttrs = asn1.RawValue{FullBytes: append([]byte{0xa0}, set[1:]...)}
		signed = set
	}
	digest := sha256.Sum256(signed)
	si.Signature, err = pki.leafKey.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	certs := []*x509.Certificate{pki.leaf, pki.intermediate}
	der, err := encodeSignedData(contentType, content, si, certs)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestVerifySignerInfoVariants(t *testing.T) {
	pki := newTestPKI(t, elliptic.P256())
	content := []byte(testContent)
	digest := sha256.Sum256(content)
	ctAttr := attrValue{oidAttrContentType, OIDAnimaJSONVoucher}
	mdAttr := attrValue{oidAttrMessageDigest, digest[:]}
	timeAttr := attrValue{oidAttrSigningTime, pkiTime}
	anima, ecdsa256 := OIDAnimaJSONVoucher, oidECDSAWithSHA256
	tests := []struct {
		name        string
		contentType asn1.ObjectIdentifier
		sigAlg      asn1.ObjectIdentifier
		attrs       []attrValue
		want        error
	}{
		{"no signed attributes", anima, ecdsa256, nil, nil},
		{"id-data", oidData, ecdsa256, []attrValue{
			{oidAttrContentType, oidData}, mdAttr}, nil},
		{"key-type signature algorithm", anima, oidECPublicKey,
			[]attrValue{ctAttr, mdAttr, timeAttr}, nil},
		{"no message-digest", anima, ecdsa256, []attrValue{ctAttr, timeAttr}, ErrSignature},
		{"no content-type", anima, ecdsa256, []attrValue{mdAttr, timeAttr}, ErrSignature},
		{"content-type mismatch", anima, ecdsa256,
			[]attrValue{{oidAttrContentType, oidData}, mdAttr}, ErrSignature},
		{"message-digest mismatch", anima, ecdsa256,
			[]attrValue{ctAttr, {oidAttrMessageDigest, make([]byte, 32)}}, ErrSignature},
		{"duplicate attribute", anima, ecdsa256, []attrValue{ctAttr, mdAttr, mdAttr},
			ErrMalformed},
		{"bad signing time", anima, ecdsa256,
			[]attrValue{ctAttr, mdAttr, {oidAttrSigningTime, 5}}, ErrMalformed},
		{"RSA-PSS signature", anima, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10},
			[]attrValue{ctAttr, mdAttr}, ErrUnsupportedAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der := buildSigned(t, pki, tt.contentType, content, tt.sigAlg, tt.attrs)
			obj, err := ParseSigned(der)
			if err == nil {
				_, err = obj.Verify(pki.verifyOptions())
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("ParseSigned and Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyWithoutSignedAttributesTampered(t *testing.T) {
	pki := newTestPKI(t, elliptic.P256())
	der := buildSigned(t, pki, OIDAnimaJSONVoucher, []byte(testContent), oidECDSAWithSHA256, nil)
	i := bytes.Index(der, []byte(testContent))
	der[i] ^= 1
	obj, err := ParseSigned(der)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.Verify(pki.verifyOptions()); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify = %v, want ErrSignature", err)
	}
}

func TestParseSignedContentTypes(t *testing.T) {
	pki := newTestPKI(t, elliptic.P256())
	other := asn1.ObjectIdentifier{1, 2, 3}
	der := buildSigned(t, pki, other, []byte(testContent), oidECDSAWithSHA256, nil)
	if _, err := ParseSigned(der); !errors.Is(err, ErrContentType) {
		t.Errorf("eContentType %v: ParseSigned = %v, want ErrContentType", other, err)
	}
	notSigned, err := asn1.Marshal(contentInfo{ContentType: oidData,
		Content: asn1.RawValue{FullBytes: encodeElement([]byte{0xa0}, []byte{0x04, 0})}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSigned(notSigned); !errors.Is(err, ErrContentType) {
		t.Errorf("ContentInfo id-data: ParseSigned = %v, want ErrContentType", err)
	}
}

func TestParseSignedTwoSigners(t *testing.T) {
	pki := newTestPKI(t, elliptic.P256())
	der, err := Sign([]byte(testContent), pki.leaf, pki.leafKey, &SignOptions{SigningTime: pkiTime})
	if err != nil {
		t.Fatal(err)
	}
	var ci contentInfo
	if err := unmarshalAll(der, &ci); err != nil {
		t.Fatal(err)
	}
	var sd signedData
	if err := unmarshalAll(ci.Content.Bytes, &sd); err != nil {
		t.Fatal(err)
	}
	sd.SignerInfos = append(sd.SignerInfos, sd.SignerInfos[0])
	inner, err := asn1.Marshal(sd)
	if err != nil {
		t.Fatal(err)
	}
	two, err := asn1.Marshal(contentInfo{ContentType: oidSignedData,
		Content: asn1.RawValue{FullBytes: encodeElement([]byte{0xa0}, inner)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSigned(two); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseSigned with two SignerInfos = %v, want ErrMalformed", err)
	}
}

func TestParseSignedInvalidSignerIdentifier(t *testing.T) {
	pki := newTestPKI(t, elliptic.P256())
	sids := map[string]asn1.RawValue{
		"context tag 1":           {Class: asn1.ClassContextSpecific, Tag: 1, Bytes: []byte{1}},
		"integer":                 {Class: asn1.ClassUniversal, Tag: asn1.TagInteger, Bytes: []byte{1}},
		"sequence without serial": {Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true},
	}
	for name, sid := range sids {
		t.Run(name, func(t *testing.T) {
			si := &signerInfo{Version: 1, SID: sid,
				DigestAlgorithm:    pkix.AlgorithmIdentifier{Algorithm: oidSHA256},
				SignatureAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256},
				Signature:          []byte{0}}
			der, err := encodeSignedData(OIDAnimaJSONVoucher, []byte(testContent), si,
				[]*x509.Certificate{pki.leaf})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseSigned(der); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseSigned = %v, want ErrMalformed", err)
			}
		})
	}
}
