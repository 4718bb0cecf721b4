package voucher

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// vector describes one signed object of RFC 8995, Appendix C.2.
type vector struct {
	name    string
	request bool
	root    string // trust anchor file
	signer  string // file of the expected signer; the key must match
	want    *Voucher
}

var urlNonceWarning = []string{"nonce: not padded standard base64 (RFC 4648, Section 4)"}

// vectorNonce is the nonce "-_XE9zK9q8Ll1qylMtLKeg" of the Appendix C objects.
var vectorNonce = []byte{0xfb, 0xf5, 0xc4, 0xf7, 0x32, 0xbd, 0xab, 0xc2, 0xe5, 0xd6,
	0xac, 0xa5, 0x32, 0xd2, 0xca, 0x7a}

func testVector(t *testing.T, vec vector) {
	der := readCMS(t, vec.name)
	obj, err := ParseSigned(der)
	if err != nil {
		t.Fatalf("ParseSigned: %v", err)
	}
	if !obj.ContentType.Equal(oidData) {
		t.Errorf("ContentType = %v, want id-data %v", obj.ContentType, oidData)
	}
	payload := readTestdata(t, vec.name+".payload.json")
	if !bytes.Equal(obj.Content, payload) {
		t.Errorf("Content differs from %s.payload.json:\n%s", vec.name, obj.Content)
	}
	roots := poolOf(readCert(t, vec.root))
	verified, err := obj.Verify(VerifyOptions{Roots: roots, CurrentTime: vectorTime})
	if err != nil {
		t.Fatalf("Verify at %v: %v", vectorTime, err)
	}
	wantKey := readCert(t, vec.signer).PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !wantKey.Equal(verified.Signer.PublicKey) {
		t.Errorf("Signer = %q, want the key of %s", verified.Signer.Subject, vec.signer)
	}
	if len(verified.Chains) == 0 {
		t.Error("Verify returned no chains")
	}

	_, err = obj.Verify(VerifyOptions{Roots: roots})
	if !errors.Is(err, ErrChain) {
		t.Errorf("Verify now = %v, want ErrChain", err)
	}
	var invalid x509.CertificateInvalidError
	if !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
		t.Errorf("Verify now = %v, want x509.CertificateInvalidError with Reason Expired", err)
	}

	parse := ParseVoucher
	if vec.request {
		parse = ParseRequest
	}
	got, err := parse(obj.Content)
	if err != nil {
		t.Fatalf("parse content: %v", err)
	}
	if diff := cmp.Diff(vec.want, got); diff != "" {
		t.Errorf("decoded content (-want +got):\n%s", diff)
	}
}

func TestRFC8995AppendixC2_1PledgeRequest(t *testing.T) {
	testVector(t, vector{
		name:    pledgeRequestName,
		request: true,
		root:    manufacturerCAName,
		signer:  idevidName,
		want: &Voucher{
			CreatedOn: time.Date(2021, 4, 13, 17, 43, 23, 747e6,
				time.FixedZone("", -4*3600)),
			Assertion:              AssertionProximity,
			SerialNumber:           "00-D0-E5-F2-00-02",
			Nonce:                  vectorNonce,
			ProximityRegistrarCert: readCert(t, registrarName).Raw,
			Warnings:               urlNonceWarning,
		},
	})
}

func TestRFC8995AppendixC2_2RegistrarRequest(t *testing.T) {
	testVector(t, vector{
		name:    registrarRequestName,
		request: true,
		root:    ownerCAName,
		signer:  registrarName,
		want: &Voucher{
			CreatedOn:                 time.Date(2021, 4, 13, 21, 43, 23, 787e6, time.FixedZone("", 0)),
			Assertion:                 AssertionProximity,
			SerialNumber:              "00-D0-E5-F2-00-02",
			Nonce:                     vectorNonce,
			PriorSignedVoucherRequest: readCMS(t, pledgeRequestName),
			Warnings:                  urlNonceWarning,
		},
	})
}

func TestRFC8995AppendixC2_3Voucher(t *testing.T) {
	testVector(t, vector{
		name:   voucherName,
		root:   manufacturerCAName,
		signer: masaName,
		want: &Voucher{
			CreatedOn: time.Date(2021, 4, 13, 17, 43, 24, 589e6,
				time.FixedZone("", -4*3600)),
			Assertion:        AssertionLogged,
			SerialNumber:     "00-D0-E5-F2-00-02",
			Nonce:            vectorNonce,
			PinnedDomainCert: readCert(t, registrarName).Raw,
			Warnings:         urlNonceWarning,
		},
	})
}

// allVectors lists the Appendix C.2 objects with their trust anchors.
var allVectors = []struct{ name, root string }{
	{pledgeRequestName, manufacturerCAName},
	{registrarRequestName, ownerCAName},
	{voucherName, manufacturerCAName},
}

func TestRFC8995AppendixC2TamperedContent(t *testing.T) {
	for _, vec := range allVectors {
		t.Run(vec.name, func(t *testing.T) {
			der := readCMS(t, vec.name)
			payload := readTestdata(t, vec.name+".payload.json")
			start := bytes.Index(der, payload)
			if start < 0 {
				t.Fatal("payload not found in the DER")
			}
			opts := VerifyOptions{Roots: poolOf(readCert(t, vec.root)), CurrentTime: vectorTime}
			for i := start; i < start+len(payload); i++ {
				tampered := bytes.Clone(der)
				tampered[i] ^= 0x01
				obj, err := ParseSigned(tampered)
				if err != nil {
					t.Fatalf("byte %d: ParseSigned: %v", i-start, err)
				}
				if _, err := obj.Verify(opts); !errors.Is(err, ErrSignature) {
					t.Fatalf("byte %d of eContent flipped: Verify = %v, want ErrSignature",
						i-start, err)
				}
			}
		})
	}
}

func TestRFC8995AppendixC2TamperedSignature(t *testing.T) {
	for _, vec := range allVectors {
		t.Run(vec.name, func(t *testing.T) {
			der := readCMS(t, vec.name)
			obj, err := ParseSigned(der)
			if err != nil {
				t.Fatal(err)
			}
			sig := obj.signer.Signature
			start := bytes.LastIndex(der, sig)
			if start < 0 {
				t.Fatal("signature not found in the DER")
			}
			opts := VerifyOptions{Roots: poolOf(readCert(t, vec.root)), CurrentTime: vectorTime}
			for i := start; i < start+len(sig); i++ {
				tampered := bytes.Clone(der)
				tampered[i] ^= 0x80
				obj, err := ParseSigned(tampered)
				if err != nil {
					t.Fatalf("byte %d: ParseSigned: %v", i-start, err)
				}
				if _, err := obj.Verify(opts); !errors.Is(err, ErrSignature) {
					t.Fatalf("byte %d of the signature flipped: Verify = %v, want ErrSignature",
						i-start, err)
				}
			}
		})
	}
}

func TestParseSignedTruncated(t *testing.T) {
	for _, vec := range allVectors {
		t.Run(vec.name, func(t *testing.T) {
			der := readCMS(t, vec.name)
			for n := 0; n < len(der); n++ {
				if obj, err := ParseSigned(der[:n]); err == nil {
					t.Fatalf("ParseSigned of the first %d of %d bytes = %v, want an error",
						n, len(der), obj)
				}
			}
		})
	}
}

func TestParseSignedTrailingData(t *testing.T) {
	der := append(readCMS(t, voucherName), 0)
	if _, err := ParseSigned(der); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseSigned with a trailing byte = %v, want ErrMalformed", err)
	}
}

func TestRFC8995AppendixC2_2PriorSignedVoucherRequest(t *testing.T) {
	outer, err := ParseSigned(readCMS(t, registrarRequestName))
	if err != nil {
		t.Fatal(err)
	}
	request, err := ParseRequest(outer.Content)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(request.PriorSignedVoucherRequest, readCMS(t, pledgeRequestName)) {
		t.Fatal("prior-signed-voucher-request differs from the Appendix C.2.1 CMS")
	}
	inner, err := ParseSigned(request.PriorSignedVoucherRequest)
	if err != nil {
		t.Fatal(err)
	}
	opts := VerifyOptions{Roots: poolOf(readCert(t, manufacturerCAName)), CurrentTime: vectorTime}
	if _, err := inner.Verify(opts); err != nil {
		t.Errorf("Verify prior-signed-voucher-request: %v", err)
	}
}

func TestRFC8995AppendixC2_1SignerNotC1_5(t *testing.T) {
	// The IDevID carried in C.2.1 has the key of C.1.5 but another serial
	// number, so C.1.5 passed as opts.Signer must verify once the carried
	// certificate is out of the way.
	obj, err := ParseSigned(readCMS(t, pledgeRequestName))
	if err != nil {
		t.Fatal(err)
	}
	idevid := readCert(t, idevidName)
	if obj.Certificates[0].SerialNumber.Cmp(idevid.SerialNumber) == 0 {
		t.Fatal("carried IDevID has the serial number of C.1.5")
	}
	obj.Certificates = nil
	opts := VerifyOptions{Roots: poolOf(readCert(t, manufacturerCAName)),
		CurrentTime: vectorTime, Signer: idevid}
	verified, err := obj.Verify(opts)
	if err != nil {
		t.Fatalf("Verify with opts.Signer: %v", err)
	}
	if !verified.Signer.Equal(idevid) {
		t.Errorf("Signer = %q, want the C.1.5 certificate", verified.Signer.Subject)
	}
}

func TestParseSignedWithKnownCertificates(t *testing.T) {
	for _, vec := range allVectors {
		t.Run(vec.name, func(t *testing.T) {
			data := readCMS(t, vec.name)
			first, err := ParseSigned(data)
			if err != nil {
				t.Fatalf("ParseSigned: %v", err)
			}
			if len(first.Certificates) == 0 {
				t.Fatal("the vector carries no certificates")
			}
			other := readCert(t, ownerCAName)
			if vec.root == ownerCAName {
				other = readCert(t, manufacturerCAName)
			}
			known := append([]*x509.Certificate{other}, first.Certificates[0])
			again, err := ParseSignedWith(data, known)
			if err != nil {
				t.Fatalf("ParseSignedWith: %v", err)
			}
			if len(again.Certificates) != len(first.Certificates) {
				t.Fatalf("ParseSignedWith returned %d certificates, want %d",
					len(again.Certificates), len(first.Certificates))
			}
			if again.Certificates[0] != first.Certificates[0] {
				t.Error("the known certificate was parsed again, want the element of known")
			}
			for i, c := range again.Certificates {
				if !c.Equal(first.Certificates[i]) {
					t.Errorf("certificate %d differs from ParseSigned's", i)
				}
				if c == other {
					t.Errorf("certificate %d is the unrelated known certificate", i)
				}
			}
			opts := VerifyOptions{Roots: poolOf(readCert(t, vec.root)), CurrentTime: vectorTime}
			if _, err := again.Verify(opts); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}
