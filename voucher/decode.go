package voucher

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
)

// ErrEncoding means DecodeInput found neither DER, PEM nor base64.
var ErrEncoding = errors.New("voucher: unrecognized encoding")

// DecodeInput accepts DER, PEM (any block type) or base64 in the std or URL
// alphabet, with or without padding and line breaks, and returns the DER/BER
// bytes. Input that starts with an ASN.1 SEQUENCE whose length covers all of
// it is returned unchanged. For PEM, the first block is returned.
func DecodeInput(data []byte) ([]byte, error) {
	if isBERSequence(data) {
		return data, nil
	}
	text := bytes.TrimSpace(data)
	if len(text) == 0 {
		return nil, fmt.Errorf("%w: input is empty", ErrEncoding)
	}
	if bytes.Contains(text, []byte("-----BEGIN ")) {
		block, _ := pem.Decode(text)
		if block == nil {
			return nil, fmt.Errorf("%w: PEM header found but the block is invalid",
				ErrEncoding)
		}
		return block.Bytes, nil
	}
	compacted := make([]byte, 0, len(text))
	for _, c := range text {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			compacted = append(compacted, c)
		}
	}
	der, _, err := decodeBase64(string(compacted))
	if err != nil {
		return nil, fmt.Errorf("%w: not DER, PEM or base64: %w", ErrEncoding, err)
	}
	if len(der) == 0 {
		return nil, fmt.Errorf("%w: base64 decodes to nothing", ErrEncoding)
	}
	return der, nil
}

// isBERSequence reports whether data is exactly one BER SEQUENCE element.
func isBERSequence(data []byte) bool {
	if len(data) < 2 || data[0] != 0x30 {
		return false
	}
	r := berReader{data: data}
	if _, err := r.element(0); err != nil {
		return false
	}
	return r.off == len(data)
}
