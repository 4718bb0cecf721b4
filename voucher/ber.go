package voucher

import (
	"errors"
	"fmt"
)

// ErrMalformed means the input is not a well-formed CMS object: truncated,
// not BER, or not the ASN.1 structure of RFC 5652.
var ErrMalformed = errors.New("voucher: malformed CMS")

// maxBERDepth bounds the nesting of constructed elements. SignedData with
// certificates nests about 12 deep, so 64 leaves room while keeping hostile
// input from exhausting the stack.
const maxBERDepth = 64

// berToDER converts one BER element (X.690, Section 8) to DER (X.690,
// Section 10): indefinite lengths become definite, lengths become minimal,
// and constructed OCTET STRINGs and character strings become primitive.
// Input that is already DER is returned as is, without a copy. SET OF order
// is kept, because re-sorting would change signed bytes that a peer sent.
func berToDER(data []byte) ([]byte, error) {
	if isDERElement(data) {
		return data, nil
	}
	return convertBER(data)
}

// convertBER is berToDER without the check for input that is DER already.
func convertBER(data []byte) ([]byte, error) {
	r := berReader{data: data}
	der, err := r.element(0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if r.off != len(data) {
		return nil, fmt.Errorf("%w: %d bytes after the outer element", ErrMalformed,
			len(data)-r.off)
	}
	return der, nil
}

// isDERElement reports whether data is exactly one element that berToDER
// would return unchanged. It allocates nothing, so DER input, which this
// project's pledge, registrar and MASA send, skips the conversion.
func isDERElement(data []byte) bool {
	r := berReader{data: data}
	return r.skipDER(0) && r.off == len(data)
}

// berReader reads BER elements from data, starting at off.
type berReader struct {
	data []byte
	off  int
}

// element reads the element at r.off and returns its DER encoding.
func (r *berReader) element(depth int) ([]byte, error) {
	if depth > maxBERDepth {
		return nil, fmt.Errorf("elements nested deeper than %d", maxBERDepth)
	}
	start := r.off
	tag, err := r.identifier()
	if err != nil {
		return nil, err
	}
	length, indefinite, err := r.length()
	if err != nil {
		return nil, fmt.Errorf("element at offset %d: %w", start, err)
	}

	constructed := tag[0]&0x20 != 0
	if !constructed {
		if indefinite {
			return nil, fmt.Errorf("primitive element at offset %d has an indefinite length",
				start)
		}
		content := r.data[r.off : r.off+length]
		r.off += length
		return encodeElement(tag, content), nil
	}

	children, err := r.children(length, indefinite, depth)
	if err != nil {
		return nil, err
	}
	if isStringTag(tag) {
		return flattenString(tag, children)
	}
	var content []byte
	for _, c := range children {
		content = append(content, c...)
	}
	return encodeElement(tag, content), nil
}

// skipDER moves r.off past the element at r.off and returns true when the
// element is valid DER: definite lengths in their shortest form and no
// constructed strings, all the way down. For any other input, valid BER
// or not, it returns false and leaves r.off undefined, so that the caller
// falls back to element, which converts BER and reports the problem.
func (r *berReader) skipDER(depth int) bool {
	if depth > maxBERDepth {
		return false
	}
	tag, err := r.identifier()
	if err != nil {
		return false
	}
	lengthStart := r.off
	length, indefinite, err := r.length()
	if err != nil || indefinite || !shortestLength(r.data[lengthStart:r.off], length) {
		return false
	}
	if tag[0]&0x20 == 0 {
		r.off += length
		return true
	}
	if isStringTag(tag) {
		return false
	}
	end := r.off + length
	sub := berReader{data: r.data[:end], off: r.off}
	for sub.off < end {
		if !sub.skipDER(depth + 1) {
			return false
		}
	}
	r.off = end
	return true
}

// shortestLength reports whether the length octets encode n as DER
// requires (X.690, Section 10.1): the short form below 128, and otherwise
// the long form without leading zero octets.
func shortestLength(octets []byte, n int) bool {
	if len(octets) == 1 {
		return true // the short form
	}
	return n >= 0x80 && octets[1] != 0
}

// children reads the elements inside a constructed element, up to its end
// or, for an indefinite length, up to the end-of-contents octets.
func (r *berReader) children(length int, indefinite bool, depth int) ([][]byte, error) {
	var out [][]byte
	if indefinite {
		for {
			if r.off+2 <= len(r.data) && r.data[r.off] == 0 && r.data[r.off+1] == 0 {
				r.off += 2
				return out, nil
			}
			if r.off >= len(r.data) {
				return nil, errors.New("truncated: end-of-contents missing")
			}
			child, err := r.element(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, child)
		}
	}
	end := r.off + length
	sub := berReader{data: r.data[:end], off: r.off}
	for sub.off < end {
		child, err := sub.element(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, child)
	}
	r.off = end
	return out, nil
}

// identifier reads the identifier octets (X.690, Section 8.1.2).
func (r *berReader) identifier() ([]byte, error) {
	start := r.off
	if start >= len(r.data) {
		return nil, errors.New("truncated: tag missing")
	}
	if r.data[start] == 0 {
		return nil, fmt.Errorf("unexpected end-of-contents at offset %d", start)
	}
	r.off++
	if r.data[start]&0x1f == 0x1f {
		// High tag number form: base-128 digits, the last without bit 8.
		for {
			if r.off >= len(r.data) || r.off-start > 4 {
				return nil, fmt.Errorf("invalid tag number at offset %d", start)
			}
			b := r.data[r.off]
			r.off++
			if b&0x80 == 0 {
				break
			}
		}
	}
	return r.data[start:r.off], nil
}

// length reads the length octets (X.690, Section 8.1.3) and checks that the
// content fits in the remaining input.
func (r *berReader) length() (n int, indefinite bool, err error) {
	if r.off >= len(r.data) {
		return 0, false, errors.New("truncated: length missing")
	}
	b := r.data[r.off]
	r.off++
	switch {
	case b < 0x80:
		n = int(b)
	case b == 0x80:
		return 0, true, nil
	case b == 0xff || b&0x7f > 4:
		return 0, false, fmt.Errorf("unsupported length octet 0x%02x", b)
	default:
		size := int(b & 0x7f)
		if r.off+size > len(r.data) {
			return 0, false, errors.New("truncated: length octets missing")
		}
		for _, d := range r.data[r.off : r.off+size] {
			n = n<<8 | int(d)
		}
		r.off += size
	}
	if n < 0 || n > len(r.data)-r.off {
		return 0, false, fmt.Errorf("truncated: length %d exceeds the %d bytes left",
			n, len(r.data)-r.off)
	}
	return n, false, nil
}

// isStringTag reports whether tag is a constructed universal OCTET STRING or
// character string, which DER requires in primitive form (X.690,
// Section 10.2). BIT STRING is left out: its segments carry unused-bit
// counts, and CMS does not use it in constructed form.
func isStringTag(tag []byte) bool {
	if len(tag) != 1 || tag[0]&0xc0 != 0 {
		return false
	}
	switch tag[0] & 0x1f {
	case 4, 12, 19, 20, 22, 26, 28, 30:
		return true
	}
	return false
}

// flattenString joins the segments of a constructed string into one
// primitive element (X.690, Section 8.7.3). Each segment must be a
// primitive element of the same type.
func flattenString(tag []byte, segments [][]byte) ([]byte, error) {
	primitive := tag[0] &^ 0x20
	var content []byte
	for _, seg := range segments {
		if seg[0] != primitive {
			return nil, fmt.Errorf("constructed string of tag 0x%02x contains tag 0x%02x",
				tag[0], seg[0])
		}
		r := berReader{data: seg, off: 1}
		n, _, err := r.length()
		if err != nil {
			return nil, err
		}
		content = append(content, seg[r.off:r.off+n]...)
	}
	return encodeElement([]byte{primitive}, content), nil
}

// encodeElement returns tag, the minimal DER length of content, and content.
func encodeElement(tag, content []byte) []byte {
	out := make([]byte, 0, len(tag)+5+len(content))
	out = append(out, tag...)
	n := len(content)
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	default:
		var digits []byte
		for v := n; v > 0; v >>= 8 {
			digits = append([]byte{byte(v)}, digits...)
		}
		out = append(out, 0x80|byte(len(digits)))
		out = append(out, digits...)
	}
	return append(out, content...)
}
