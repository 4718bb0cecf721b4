package voucher

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

func TestDecodeInput(t *testing.T) {
	der := readCMS(t, voucherName)
	std := base64.StdEncoding.EncodeToString(der)
	url := base64.RawURLEncoding.EncodeToString(der)
	wrapped := func(s string) string {
		var b strings.Builder
		for len(s) > 64 {
			b.WriteString(s[:64] + "\r\n")
			s = s[64:]
		}
		return b.String() + s + "\n"
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"DER", der},
		{"file as printed", readTestdata(t, voucherName+".cms.b64")},
		{"std padded", []byte(std)},
		{"std unpadded", []byte(strings.TrimRight(std, "="))},
		{"std wrapped", []byte(wrapped(std))},
		{"url unpadded", []byte(url)},
		{"url padded wrapped", []byte(wrapped(base64.URLEncoding.EncodeToString(der)))},
		{"PEM CMS", pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: der})},
		{"PEM PKCS7 with text", append([]byte("voucher:\n"),
			pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: der})...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeInput(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, der) {
				t.Errorf("DecodeInput returned %d bytes that differ from the DER", len(got))
			}
		})
	}
}

func TestDecodeInputBase64StartingWithZero(t *testing.T) {
	// "0A==" starts with the byte of a SEQUENCE tag but is base64 text.
	got, err := DecodeInput([]byte("0A=="))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte{0xd0}) {
		t.Errorf("DecodeInput = %x, want d0", got)
	}
}

func TestDecodeInputInvalid(t *testing.T) {
	for _, in := range []string{"", "  \n", "not base64!", "-----BEGIN CMS-----\nAAA",
		"ab+c-d"} {
		if got, err := DecodeInput([]byte(in)); !errors.Is(err, ErrEncoding) {
			t.Errorf("DecodeInput(%q) = %x, %v; want ErrEncoding", in, got, err)
		}
	}
}
