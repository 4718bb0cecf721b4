package voucher

import (
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newRSAPKI returns a P-256 root and intermediate with an RSA leaf signer
// of bits.
func newRSAPKI(t *testing.T, bits int) *testPKI {
	t.Helper()
	rootKey := newECKey(t, elliptic.P256())
	root := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "test root"}, IsCA: true},
		nil, rootKey, rootKey)
	interKey := newECKey(t, elliptic.P256())
	inter := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "test intermediate"},
		IsCA: true}, root, interKey, rootKey)
	leafKey, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	leaf := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "RSA MASA"}}, inter,
		leafKey, interKey)
	return &testPKI{root: root, intermediate: inter, leaf: leaf, leafKey: leafKey}
}

// TestSignAlgorithmsByKey checks the SignerInfo algorithms that Sign
// chooses: ECDSA with the hash of the curve's size and no parameters, and
// sha256WithRSAEncryption with NULL parameters and a SHA-256 digest.
func TestSignAlgorithmsByKey(t *testing.T) {
	type algs struct {
		Digest, Signature string
		NullParams        bool
	}
	tests := []struct {
		name string
		pki  *testPKI
		want algs
	}{
		{"P-256", newTestPKI(t, elliptic.P256()),
			algs{oidSHA256.String(), oidECDSAWithSHA256.String(), false}},
		{"P-384", newTestPKI(t, elliptic.P384()),
			algs{oidSHA384.String(), oidECDSAWithSHA384.String(), false}},
		{"P-521", newTestPKI(t, elliptic.P521()),
			algs{oidSHA512.String(), oidECDSAWithSHA512.String(), false}},
		{"RSA-2048", newRSAPKI(t, 2048),
			algs{oidSHA256.String(), oidSHA256WithRSA.String(), true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := Sign([]byte(testContent), tt.pki.leaf, tt.pki.leafKey,
				&SignOptions{Certificates: []*x509.Certificate{tt.pki.intermediate}})
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			obj, err := ParseSigned(der)
			if err != nil {
				t.Fatalf("ParseSigned: %v", err)
			}
			si := obj.signer
			got := algs{si.DigestAlgorithm.Algorithm.String(),
				si.SignatureAlgorithm.Algorithm.String(),
				si.SignatureAlgorithm.Parameters.Tag == asn1.TagNull}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SignerInfo algorithms (-want +got):\n%s", diff)
			}
			if _, err := obj.Verify(tt.pki.verifyOptions()); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// TestVerifyRSASignerInfoForms accepts the two ways that RSA signers name
// their algorithm: sha256WithRSAEncryption, here without the NULL
// parameters that some signers omit, and rsaEncryption with the hash in
// digestAlgorithm.
func TestVerifyRSASignerInfoForms(t *testing.T) {
	pki := newRSAPKI(t, 2048)
	content := []byte(testContent)
	for _, sigAlg := range []asn1.ObjectIdentifier{oidSHA256WithRSA, oidRSAEncryption} {
		t.Run(sigAlg.String(), func(t *testing.T) {
			der := buildSigned(t, pki, OIDAnimaJSONVoucher, content, sigAlg, nil)
			obj, err := ParseSigned(der)
			if err != nil {
				t.Fatalf("ParseSigned: %v", err)
			}
			if _, err := obj.Verify(pki.verifyOptions()); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func TestShortRSAKeyRejected(t *testing.T) {
	pki := newRSAPKI(t, 1024)
	_, err := Sign([]byte(testContent), pki.leaf, pki.leafKey, nil)
	checkShortRSA(t, "Sign", err)

	der := buildSigned(t, pki, OIDAnimaJSONVoucher, []byte(testContent), oidSHA256WithRSA,
		nil)
	obj, err := ParseSigned(der)
	if err != nil {
		t.Fatalf("ParseSigned: %v", err)
	}
	_, err = obj.Verify(pki.verifyOptions())
	checkShortRSA(t, "Verify", err)
}

func checkShortRSA(t *testing.T, call string, err error) {
	t.Helper()
	if !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Fatalf("%s error = %v, want ErrUnsupportedAlgorithm", call, err)
	}
	for _, want := range []string{"1024-bit RSA key", "RSA of at least 2048 bits"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s error %q does not contain %q", call, err, want)
		}
	}
}
