package pledge

import (
	"encoding/base64"
	"testing"

	"github.com/smallstep/pkcs7"
)

func FuzzParseCertsOnly(f *testing.F) {
	ca := newRootCA(f, "fuzz CA")
	der, err := pkcs7.DegenerateCertificate(ca.cert.Raw)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(base64.StdEncoding.EncodeToString(der)))
	f.Add(der)
	f.Add([]byte("MIIB"))
	f.Fuzz(func(t *testing.T, body []byte) {
		resp := &response{status: 200, contentType: mediaPKCS7, body: body}
		certs, err := parseCertsOnly(pathCACerts, resp)
		if err == nil && len(certs) == 0 {
			t.Fatal("parseCertsOnly returned no certificates and no error")
		}
	})
}
