package voucher

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
)

// ErrEncoding means DecodeInput found neither DER, PEM nor base64.
var ErrEncoding = errors.New("voucher: unrecognized encoding")

// PEMTypeError is the error of DecodeInput for PEM input without a CMS or
// PKCS7 block, such as a certificate.
type PEMTypeError struct {
	// Type is the type of the first PEM block, such as "CERTIFICATE".
	Type string
}

// Error names the block type and the expected ones.
func (e *PEMTypeError) Error() string {
	return fmt.Sprintf("voucher: the input holds a %s PEM block, not a CMS signed object "+
		"(BEGIN CMS or BEGIN PKCS7)", e.Type)
}

// Unwrap returns ErrEncoding.
func (e *PEMTypeError) Unwrap() error { return ErrEncoding }

// DecodeInput accepts DER, PEM or base64 in the std or URL alphabet, with
// or without padding and line breaks, and returns the DER/BER bytes. Input
// that starts with an ASN.1 SEQUENCE whose length covers all of it is
// returned unchanged. For PEM, the first block of type CMS or PKCS7, the
// labels of RFC 7468, Section 10, is returned. A PEM input without such a
// block gets a *PEMTypeError. Input that starts with the SEQUENCE tag and is
// not base64 either gets the BER error.
func DecodeInput(data []byte) ([]byte, error) {
	berErr := checkBERSequence(data)
	if berErr == nil {
		return data, nil
	}
	text := bytes.TrimSpace(data)
	if len(text) == 0 {
		return nil, fmt.Errorf("%w: input is empty", ErrEncoding)
	}
	if bytes.Contains(text, []byte("-----BEGIN ")) {
		return decodePEM(text)
	}
	compacted := make([]byte, 0, len(text))
	for _, c := range text {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			compacted = append(compacted, c)
		}
	}
	der, _, err := decodeBase64(string(compacted))
	if err != nil && len(data) > 0 && data[0] == 0x30 {
		return nil, fmt.Errorf("%w: invalid DER or BER: %w", ErrEncoding, berErr)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: not DER, PEM or base64: %w", ErrEncoding, err)
	}
	if len(der) == 0 {
		return nil, fmt.Errorf("%w: base64 decodes to nothing", ErrEncoding)
	}
	return der, nil
}

// decodePEM returns the bytes of the first CMS or PKCS7 block in text.
func decodePEM(text []byte) ([]byte, error) {
	firstType := ""
	for rest := text; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if (block.Type == "CMS" || block.Type == "PKCS7") && len(block.Bytes) == 0 {
			return nil, fmt.Errorf("%w: the %s PEM block is empty", ErrEncoding, block.Type)
		}
		if block.Type == "CMS" || block.Type == "PKCS7" {
			return block.Bytes, nil
		}
		if firstType == "" {
			firstType = block.Type
		}
	}
	if firstType != "" {
		return nil, &PEMTypeError{Type: firstType}
	}
	return nil, fmt.Errorf("%w: PEM header found but the block is invalid", ErrEncoding)
}

// checkBERSequence returns nil when data is exactly one BER SEQUENCE
// element, and the problem otherwise.
func checkBERSequence(data []byte) error {
	if len(data) < 2 || data[0] != 0x30 {
		return errors.New("not a SEQUENCE")
	}
	if isDERElement(data) {
		return nil
	}
	r := berReader{data: data}
	if _, err := r.element(0); err != nil {
		return err
	}
	if r.off != len(data) {
		return fmt.Errorf("%d bytes after the SEQUENCE", len(data)-r.off)
	}
	return nil
}
