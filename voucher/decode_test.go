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

func TestDecodeInputBadDER(t *testing.T) {
	der := readCMS(t, voucherName)
	tests := []struct {
		name string
		in   []byte
	}{
		{"truncated", der[:len(der)-1]},
		{"trailing bytes", append(append([]byte{}, der...), 0, 1, 2)},
		{"huge length", []byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeInput(tt.in)
			if !errors.Is(err, ErrEncoding) {
				t.Fatalf("DecodeInput: %v; want ErrEncoding", err)
			}
			if !strings.Contains(err.Error(), "invalid DER or BER") {
				t.Errorf("error %q does not report the DER problem", err)
			}
		})
	}
}

func TestDecodeInputPEMType(t *testing.T) {
	der := readCMS(t, voucherName)
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	_, err := DecodeInput(cert)
	var pe *PEMTypeError
	if !errors.As(err, &pe) || pe.Type != "CERTIFICATE" {
		t.Fatalf("DecodeInput(CERTIFICATE PEM): %v; want a *PEMTypeError", err)
	}
	if !errors.Is(err, ErrEncoding) {
		t.Errorf("error %v is not ErrEncoding", err)
	}
	both := append(cert, pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: der})...)
	got, err := DecodeInput(both)
	if err != nil || !bytes.Equal(got, der) {
		t.Errorf("DecodeInput(CERTIFICATE then CMS) = %d bytes, %v; want the CMS block",
			len(got), err)
	}
}

// FuzzDecodeInput checks that DecodeInput returns an error or bytes, never
// panics, and that DER it accepts is returned unchanged.
func FuzzDecodeInput(f *testing.F) {
	f.Add([]byte("MIIB"))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x05})
	f.Add([]byte{0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00})
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN CMS-----\nMAA=\n-----END CMS-----\n"))
	f.Add([]byte("0A=="))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := DecodeInput(in)
		if err != nil {
			if !errors.Is(err, ErrEncoding) {
				t.Fatalf("error %v is not ErrEncoding", err)
			}
			return
		}
		if len(got) == 0 {
			t.Fatal("DecodeInput returned no bytes and no error")
		}
		if checkBERSequence(in) == nil && !bytes.Equal(got, in) {
			t.Fatal("DecodeInput changed a complete BER SEQUENCE")
		}
	})
}
