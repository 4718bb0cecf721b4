package voucher

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// pkiTime is inside the validity of every certificate that newTestPKI issues.
var pkiTime = time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)

// testPKI is a root CA, an intermediate CA and a leaf signer.
type testPKI struct {
	root, intermediate, leaf *x509.Certificate
	leafKey                  crypto.Signer
}

func newTestPKI(t *testing.T, curve elliptic.Curve) *testPKI {
	t.Helper()
	rootKey := newECKey(t, curve)
	root := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "test root"}, IsCA: true},
		nil, rootKey, rootKey)
	interKey := newECKey(t, curve)
	inter := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "test intermediate"},
		IsCA: true}, root, interKey, rootKey)
	leafKey := newECKey(t, curve)
	leaf := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "test MASA"},
		SubjectKeyId: []byte{1, 2, 3, 4}}, inter, leafKey, interKey)
	return &testPKI{root: root, intermediate: inter, leaf: leaf, leafKey: leafKey}
}

func newECKey(t *testing.T, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

var serialCounter int64

// issue signs template with issuerKey; a nil parent makes it self-signed.
func issue(t *testing.T, template, parent *x509.Certificate, key, issuerKey crypto.Signer) *x509.Certificate {
	t.Helper()
	serialCounter++
	template.SerialNumber = big.NewInt(serialCounter)
	template.NotBefore = pkiTime.Add(-24 * time.Hour)
	template.NotAfter = pkiTime.Add(24 * time.Hour)
	if template.IsCA {
		template.BasicConstraintsValid = true
		template.KeyUsage = x509.KeyUsageCertSign
	}
	if parent == nil {
		parent = template
	}
	der, err := x509.CreateCertificate(rand.Reader, template, parent, key.Public(), issuerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func (p *testPKI) verifyOptions() VerifyOptions {
	return VerifyOptions{Roots: poolOf(p.root), CurrentTime: pkiTime}
}

const testContent = `{"ietf-voucher:voucher":{"assertion":"logged","serial-number":"A"}}`

func TestSignRoundTrip(t *testing.T) {
	p256 := newTestPKI(t, elliptic.P256())
	p384 := newTestPKI(t, elliptic.P384())
	tests := []struct {
		name      string
		pki       *testPKI
		opts      SignOptions
		verify    func(*testPKI) VerifyOptions
		wantCerts func(*testPKI) []*x509.Certificate
		wantHash  asn1.ObjectIdentifier
	}{{
		name:      "P-256 SHA-256",
		pki:       p256,
		opts:      SignOptions{Certificates: []*x509.Certificate{p256.intermediate}},
		wantCerts: func(p *testPKI) []*x509.Certificate { return []*x509.Certificate{p.leaf, p.intermediate} },
		wantHash:  oidSHA256,
	}, {
		name:      "P-384 SHA-384",
		pki:       p384,
		opts:      SignOptions{Certificates: []*x509.Certificate{p384.intermediate}},
		wantCerts: func(p *testPKI) []*x509.Certificate { return []*x509.Certificate{p.leaf, p.intermediate} },
		wantHash:  oidSHA384,
	}, {
		name: "P-256 SHA-384",
		pki:  p256,
		opts: SignOptions{Hash: crypto.SHA384,
			Certificates: []*x509.Certificate{p256.intermediate}},
		wantCerts: func(p *testPKI) []*x509.Certificate { return []*x509.Certificate{p.leaf, p.intermediate} },
		wantHash:  oidSHA384,
	}, {
		name: "reversed order",
		pki:  p256,
		opts: SignOptions{OmitSigner: true,
			Certificates: []*x509.Certificate{p256.root, p256.intermediate, p256.leaf}},
		wantCerts: func(p *testPKI) []*x509.Certificate {
			return []*x509.Certificate{p.root, p.intermediate, p.leaf}
		},
		wantHash: oidSHA256,
	}, {
		name: "no certificates with opts.Signer",
		pki:  p256,
		opts: SignOptions{OmitSigner: true},
		verify: func(p *testPKI) VerifyOptions {
			opts := p.verifyOptions()
			opts.Signer = p.leaf
			opts.Intermediates = poolOf(p.intermediate)
			return opts
		},
		wantCerts: func(*testPKI) []*x509.Certificate { return nil },
		wantHash:  oidSHA256,
	}, {
		name: "subjectKeyIdentifier",
		pki:  p384,
		opts: SignOptions{SubjectKeyIdentifier: true,
			Certificates: []*x509.Certificate{p384.intermediate}},
		wantCerts: func(p *testPKI) []*x509.Certificate { return []*x509.Certificate{p.leaf, p.intermediate} },
		wantHash:  oidSHA384,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.SigningTime = pkiTime.Add(-48 * time.Hour)
			der, err := Sign([]byte(testContent), tt.pki.leaf, tt.pki.leafKey, &tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := ParseSigned(der)
			if err != nil {
				t.Fatal(err)
			}
			if string(obj.Content) != testContent {
				t.Errorf("Content = %q, want %q", obj.Content, testContent)
			}
			if !obj.ContentType.Equal(OIDAnimaJSONVoucher) {
				t.Errorf("ContentType = %v, want %v", obj.ContentType, OIDAnimaJSONVoucher)
			}
			if !obj.SigningTime.Equal(tt.opts.SigningTime) {
				t.Errorf("SigningTime = %v, want %v", obj.SigningTime, tt.opts.SigningTime)
			}
			if !obj.signer.DigestAlgorithm.Algorithm.Equal(tt.wantHash) {
				t.Errorf("digest algorithm = %v, want %v", obj.signer.DigestAlgorithm.Algorithm,
					tt.wantHash)
			}
			raws := func(certs []*x509.Certificate) [][]byte {
				var out [][]byte
				for _, c := range certs {
					out = append(out, c.Raw)
				}
				return out
			}
			if diff := cmp.Diff(raws(tt.wantCerts(tt.pki)), raws(obj.Certificates)); diff != "" {
				t.Errorf("Certificates (-want +got):\n%s", diff)
			}
			opts := tt.pki.verifyOptions()
			if tt.verify != nil {
				opts = tt.verify(tt.pki)
			}
			verified, err := obj.Verify(opts)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !verified.Signer.Equal(tt.pki.leaf) {
				t.Errorf("Signer = %q, want %q", verified.Signer.Subject, tt.pki.leaf.Subject)
			}
		})
	}
}

func TestSignVerifyFailures(t *testing.T) {
	pki := newTestPKI(t, elliptic.P256())
	other := newTestPKI(t, elliptic.P256())
	sign := func(opts SignOptions) *SignedObject {
		der, err := Sign([]byte(testContent), pki.leaf, pki.leafKey, &opts)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := ParseSigned(der)
		if err != nil {
			t.Fatal(err)
		}
		return obj
	}
	chain := []*x509.Certificate{pki.intermediate}
	tests := []struct {
		name string
		obj  *SignedObject
		opts VerifyOptions
		want error
	}{
		{"no carried signer", sign(SignOptions{OmitSigner: true}), pki.verifyOptions(),
			ErrSignerNotFound},
		{"other root", sign(SignOptions{Certificates: chain}), other.verifyOptions(), ErrChain},
		{"missing intermediate", sign(SignOptions{}), pki.verifyOptions(), ErrChain},
		{"wrong opts.Signer", sign(SignOptions{OmitSigner: true, Certificates: chain}),
			VerifyOptions{Roots: poolOf(other.root), Signer: other.leaf, CurrentTime: pkiTime},
			ErrSignature},
		{"before validity", sign(SignOptions{Certificates: chain}),
			VerifyOptions{Roots: poolOf(pki.root), CurrentTime: pkiTime.AddDate(-1, 0, 0)},
			ErrChain},
		{"wrong key usage", sign(SignOptions{Certificates: chain}),
			VerifyOptions{Roots: poolOf(pki.root), CurrentTime: pkiTime,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.obj.Verify(tt.opts)
			if tt.want == nil {
				// The leaf has no extended key usage, which x509 reads as
				// any usage, so a requested usage passes.
				if err != nil {
					t.Fatalf("Verify = %v, want success", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyNilRoots(t *testing.T) {
	obj, err := ParseSigned(readCMS(t, voucherName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.Verify(VerifyOptions{CurrentTime: vectorTime}); err == nil {
		t.Error("Verify without Roots succeeded, want an error")
	}
}

func TestSignInvalid(t *testing.T) {
	pki := newTestPKI(t, elliptic.P256())
	otherKey := newECKey(t, elliptic.P256())
	if _, err := Sign(nil, pki.leaf, otherKey, nil); err == nil {
		t.Error("Sign with a key of another certificate succeeded")
	}
	if _, err := Sign(nil, nil, pki.leafKey, nil); err == nil {
		t.Error("Sign without a certificate succeeded")
	}
	_, err := Sign(nil, pki.leaf, pki.leafKey, &SignOptions{Hash: crypto.SHA1})
	if !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("Sign with SHA-1 = %v, want ErrUnsupportedAlgorithm", err)
	}
}

func TestSignRFC8995AppendixC1Keys(t *testing.T) {
	masa := readCert(t, masaName)
	der, err := Sign(readTestdata(t, voucherName+".payload.json"), masa,
		readKey(t, masaName), &SignOptions{SigningTime: vectorTime})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := ParseSigned(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := poolOf(readCert(t, manufacturerCAName))
	if _, err := obj.Verify(VerifyOptions{Roots: roots, CurrentTime: vectorTime}); err != nil {
		t.Errorf("Verify at %v: %v", vectorTime, err)
	}
	// Signed with signingTime inside the validity, the object still
	// fails now, because the chain is checked at CurrentTime.
	if _, err := obj.Verify(VerifyOptions{Roots: roots}); !errors.Is(err, ErrChain) {
		t.Errorf("Verify now = %v, want ErrChain", err)
	}
}

func TestSignRSA(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cert := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "rsa"}, IsCA: true},
		nil, key, key)
	der, err := Sign([]byte(testContent), cert, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := ParseSigned(der)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.Verify(VerifyOptions{Roots: poolOf(cert), CurrentTime: pkiTime}); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestSignedAttributesDER(t *testing.T) {
	pki := newTestPKI(t, elliptic.P256())
	der, err := Sign([]byte(testContent), pki.leaf, pki.leafKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	back, err := berToDER(der)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, der) {
		t.Error("Sign output is not DER: berToDER changed it")
	}
}

func TestSignSubjectKeyIdentifierComputed(t *testing.T) {
	key := newECKey(t, elliptic.P256())
	cert := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "no key id"}},
		nil, key, key)
	if len(cert.SubjectKeyId) != 0 {
		t.Fatalf("test certificate has SubjectKeyId %x, want none", cert.SubjectKeyId)
	}
	der, err := Sign([]byte(testContent), cert, key, &SignOptions{SubjectKeyIdentifier: true})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := ParseSigned(der)
	if err != nil {
		t.Fatal(err)
	}
	if obj.signer.Version != 3 {
		t.Errorf("SignerInfo version = %d, want 3", obj.signer.Version)
	}
	if diff := cmp.Diff(keyIdentifier(cert), obj.signer.SID.Bytes); diff != "" {
		t.Errorf("sid (-want +got):\n%s", diff)
	}
	_, err = obj.Verify(VerifyOptions{Roots: poolOf(cert), CurrentTime: pkiTime})
	if err != nil {
		t.Errorf("Verify: %v", err)
	}
}
