package main

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/brski-eap/brski/voucher"
)

func init() {
	register(command{
		Name:    "voucher inspect",
		Summary: "print a signed voucher or voucher request and its certificates",
		Run:     runVoucherInspect,
	})
	register(command{
		Name:    "voucher verify",
		Summary: "verify a signed voucher or voucher request against trust anchors",
		Run:     runVoucherVerify,
	})
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, as in "brski voucher verify FILE --trust CA.pem",
// and returns the positional arguments. Everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 &&
			consumed[len(consumed)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// oneFile returns the single FILE argument or a usage error.
func oneFile(name string, positional []string) (string, error) {
	if len(positional) != 1 {
		return "", &exitError{code: 2, err: fmt.Errorf("brski %s: expected one FILE "+
			"argument, got %d; run \"brski %s -h\"", name, len(positional), name)}
	}
	return positional[0], nil
}

// maxVoucherFileSize is the largest voucher, voucher request or --trust
// file that the voucher commands read. Such files are a few kilobytes.
const maxVoucherFileSize = 1 << 20

// readLimitedFile reads path, which must hold at most maxVoucherFileSize
// bytes.
func readLimitedFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxVoucherFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxVoucherFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes; a voucher, voucher request or "+
			"certificate file is a few kilobytes", path, maxVoucherFileSize)
	}
	return data, nil
}

// readSigned reads a CMS object in DER, PEM or base64 from path.
func readSigned(path string) (*voucher.SignedObject, error) {
	data, err := readLimitedFile(path)
	if err != nil {
		return nil, err
	}
	der, err := voucher.DecodeInput(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	obj, err := voucher.ParseSigned(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return obj, nil
}

// parseContent parses the JSON content by its container and validates it.
// It returns the kind ("voucher" or "voucher request") and the leaves.
func parseContent(content []byte) (string, *voucher.Voucher, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(content, &top); err != nil {
		return "", nil, fmt.Errorf("content is not a JSON object: %w", err)
	}
	if _, ok := top[voucher.ContainerRequest]; ok {
		v, err := voucher.ParseRequest(content)
		if err == nil {
			err = v.ValidateRequest()
		}
		return "voucher request", v, err
	}
	v, err := voucher.ParseVoucher(content)
	if err == nil {
		err = v.Validate()
	}
	return "voucher", v, err
}

func runVoucherInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("voucher inspect", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: brski voucher inspect FILE\n\n"+
			"Prints the JSON content, the content type, the signer and the carried\n"+
			"certificates of a CMS-signed voucher or voucher request. FILE may be\n"+
			"DER, PEM or base64, of at most 1 MiB. Nothing is verified.")
	}
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	path, err := oneFile("voucher inspect", positional)
	if err != nil {
		return err
	}

	obj, err := readSigned(path)
	if err != nil {
		return err
	}
	printContent(stdout, obj)

	if signer, err := obj.SignerCertificate(); err != nil {
		fmt.Fprintf(stdout, "signer: %v\n", err)
	} else {
		fmt.Fprintf(stdout, "signer: %s\n", formatName(signer.RawSubject))
	}
	if !obj.SigningTime.IsZero() {
		fmt.Fprintf(stdout, "signing time: %s (not used for verification)\n",
			obj.SigningTime.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(stdout, "certificates: %d\n", len(obj.Certificates))
	for i, c := range obj.Certificates {
		fmt.Fprintf(stdout, "  [%d] subject:  %s\n", i, formatName(c.RawSubject))
		fmt.Fprintf(stdout, "      issuer:   %s\n", formatName(c.RawIssuer))
		fmt.Fprintf(stdout, "      validity: %s to %s\n",
			c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

func printContent(w io.Writer, obj *voucher.SignedObject) {
	name := "id-data"
	if obj.ContentType.Equal(voucher.OIDAnimaJSONVoucher) {
		name = "id-ct-animaJSONVoucher"
	}
	fmt.Fprintf(w, "content type: %s (%v)\n", name, obj.ContentType)
	var indented bytes.Buffer
	if err := json.Indent(&indented, obj.Content, "", "  "); err != nil {
		fmt.Fprintf(w, "content (not JSON: %v):\n%q\n", err, obj.Content)
		return
	}
	fmt.Fprintf(w, "content:\n%s\n", indented.Bytes())
	kind, v, err := parseContent(obj.Content)
	if err != nil {
		fmt.Fprintf(w, "content is not a valid %s: %v\n", kind, err)
		return
	}
	for _, warning := range v.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
}

func runVoucherVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("voucher verify", stderr)
	trust := fs.String("trust", "", "PEM `file` with the CA certificates trusted to sign")
	at := fs.String("at", "", "verify the chain at this RFC 3339 `time` instead of now")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: brski voucher verify FILE --trust PEM [--at RFC3339]\n\n"+
			"Verifies the signature and the certificate chain of a CMS-signed voucher\n"+
			"or voucher request and checks its leaves. Exits 0 when it is valid and 1\n"+
			"when it is not. FILE may be DER, PEM or base64, of at most 1 MiB.\n\nflags:")
		fs.PrintDefaults()
	}
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	path, err := oneFile("voucher verify", positional)
	if err != nil {
		return err
	}

	if *trust == "" {
		return &exitError{code: 2, err: errors.New("brski voucher verify: --trust is " +
			"required; pass a PEM file of CA certificates")}
	}
	opts := voucher.VerifyOptions{}
	if *at != "" {
		if opts.CurrentTime, err = time.Parse(time.RFC3339, *at); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("brski voucher verify: --at %q "+
				"is not an RFC 3339 time such as 2021-05-01T00:00:00Z", *at)}
		}
	}
	if opts.Roots, err = loadCertPool(*trust); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("brski voucher verify: --trust: %w", err)}
	}

	summary, warnings, err := verifyFile(path, opts)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("invalid: %w", err)}
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	fmt.Fprintf(stdout, "valid: %s\n", summary)
	return nil
}

// verifyFile verifies the object in path and returns a one-line summary
// and the warnings of the JSON parser.
func verifyFile(path string, opts voucher.VerifyOptions) (string, []string, error) {
	obj, err := readSigned(path)
	if err != nil {
		return "", nil, err
	}
	verified, err := obj.Verify(opts)
	if err != nil {
		return "", nil, nameSigner(obj, err)
	}
	kind, v, err := parseContent(obj.Content)
	if err != nil {
		return "", nil, fmt.Errorf("signature valid, but the %s is not: %w", kind, err)
	}
	at := opts.CurrentTime
	if at.IsZero() {
		at = time.Now()
	}
	summary := fmt.Sprintf("%s for serial-number %q", kind, v.SerialNumber)
	if v.Assertion != "" {
		summary += fmt.Sprintf(", assertion %s", v.Assertion)
	}
	summary += fmt.Sprintf(", signed by %q, chain valid at %s",
		formatName(verified.Signer.RawSubject),
		at.UTC().Format(time.RFC3339))
	return summary, v.Warnings, nil
}

// signerError is a verification error whose text names the signer with
// formatName.
type signerError struct {
	text string
	err  error
}

func (e *signerError) Error() string { return e.text }
func (e *signerError) Unwrap() error { return e.err }

// nameSigner rewrites the signer subject in err, which the voucher package
// prints with pkix.Name.String and so with domainComponent as a dotted OID,
// to the names of formatName.
func nameSigner(obj *voucher.SignedObject, err error) error {
	signer, certErr := obj.SignerCertificate()
	if certErr != nil {
		return err
	}
	raw := strconv.Quote(signer.Subject.String())
	text := strings.ReplaceAll(err.Error(), raw, strconv.Quote(formatName(signer.RawSubject)))
	return &signerError{text: text, err: err}
}

// loadCertPool reads every CERTIFICATE block of a PEM file into a pool.
func loadCertPool(path string) (*x509.CertPool, error) {
	data, err := readLimitedFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	n := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", path, n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no CERTIFICATE PEM block", path)
	}
	return pool, nil
}

// attributeNames maps attribute types to the short names of RFC 4514,
// Section 3 and SERIALNUMBER, because pkix.Name.String prints
// domainComponent, which the RFC 8995 examples use, as a dotted OID.
var attributeNames = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.5":                    "SERIALNUMBER",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.9":                    "STREET",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"0.9.2342.19200300.100.1.1":  "UID",
	"0.9.2342.19200300.100.1.25": "DC",
}

// formatName returns a DER Name as text, most specific attribute first as
// RFC 4514 does, with the short names of attributeNames.
func formatName(der []byte) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdns); err != nil || len(rest) != 0 {
		return fmt.Sprintf("(invalid name %x)", der)
	}
	var parts []string
	for i := len(rdns) - 1; i >= 0; i-- {
		for _, atv := range rdns[i] {
			name, ok := attributeNames[atv.Type.String()]
			if !ok {
				name = atv.Type.String()
			}
			parts = append(parts, fmt.Sprintf("%s=%v", name, atv.Value))
		}
	}
	return strings.Join(parts, ",")
}
