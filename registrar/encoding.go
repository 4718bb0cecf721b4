package registrar

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/smallstep/pkcs7"
)

// Media types of EST (RFC 7030, Sections 4.1.3, 4.2 and 4.5.2).
const (
	mediaPKCS10    = "application/pkcs10"
	mediaCertsOnly = "application/pkcs7-mime; smime-type=certs-only"
	mediaCSRAttrs  = "application/csrattrs"
)

// readBody reads a request body of at most maxBody bytes.
func readBody(req *http.Request) ([]byte, error) {
	body, err := io.ReadAll(req.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, peerError(http.StatusRequestEntityTooLarge,
			"request body exceeds %d bytes", maxBody)
	}
	if err != nil {
		return nil, peerFailure(http.StatusBadRequest, err, "reading the request body "+
			"failed or timed out; send the whole body at once")
	}
	return body, nil
}

// checkMediaType compares the media type of the Content-Type header with
// want and ignores any parameters. An absent header is accepted, because
// some EST clients send none.
func checkMediaType(req *http.Request, want string) error {
	ct := req.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.EqualFold(mt, want) {
		return peerError(http.StatusUnsupportedMediaType,
			"Content-Type %q is not supported; send %s", ct, want)
	}
	return nil
}

// decodeESTBody returns the DER content of an EST request body. RFC 7030,
// Section 4.2.1 sends base64 (with or without line breaks, in the standard
// or URL alphabet, padded or not). With Content-Transfer-Encoding: binary,
// or when the body is no base64 text but starts like a DER SEQUENCE, the body
// is taken as DER.
func decodeESTBody(req *http.Request, body []byte) ([]byte, error) {
	if strings.EqualFold(strings.TrimSpace(req.Header.Get("Content-Transfer-Encoding")),
		"binary") {
		return body, nil
	}
	der, err := decodeBase64(body)
	if err == nil {
		return der, nil
	}
	if len(body) > 0 && body[0] == 0x30 {
		return body, nil
	}
	return nil, peerError(http.StatusBadRequest, "request body is not base64: %v", err)
}

// decodeBase64 decodes base64 text in any of the four RFC 4648 alphabets
// and paddings after removing all white space.
func decodeBase64(text []byte) ([]byte, error) {
	compact := bytes.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, text)
	if len(compact) == 0 {
		return nil, errors.New("empty body")
	}
	s := string(compact)
	encs := []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding}
	var err error
	for _, enc := range encs {
		var der []byte
		if der, err = enc.DecodeString(s); err == nil {
			return der, nil
		}
	}
	return nil, err
}

// encodeBase64Lines encodes der as base64 in lines of 64 characters ended
// by LF. RFC 7030 refers to the MIME form of RFC 2045, Section 6.8, which
// ends lines with CRLF, but LF is used here because common decoders such
// as GNU coreutils "base64 -d" reject CR while every MIME decoder accepts
// LF.
func encodeBase64Lines(der []byte) []byte {
	const lineLen = 64
	enc := base64.StdEncoding.EncodeToString(der)
	var b bytes.Buffer
	for len(enc) > lineLen {
		b.WriteString(enc[:lineLen])
		b.WriteByte('\n')
		enc = enc[lineLen:]
	}
	b.WriteString(enc)
	b.WriteByte('\n')
	return b.Bytes()
}

// writeBase64 sends der as a base64 body with the given media type.
func writeBase64(w http.ResponseWriter, mediaType string, der []byte) {
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Content-Transfer-Encoding", "base64")
	w.WriteHeader(http.StatusOK)
	w.Write(encodeBase64Lines(der))
}

// certsOnly returns a degenerate CMS SignedData that carries certs and no
// signature (RFC 7030, Section 4.1.3).
func certsOnly(certs []*x509.Certificate) ([]byte, error) {
	var raw []byte
	for _, c := range certs {
		raw = append(raw, c.Raw...)
	}
	der, err := pkcs7.DegenerateCertificate(raw)
	if err != nil {
		return nil, fmt.Errorf("registrar: build certs-only CMS: %w", err)
	}
	return der, nil
}
