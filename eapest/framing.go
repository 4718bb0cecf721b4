package eapest

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Flags is the flags octet of an EAP-TLS packet, RFC 5216, Section 3.1. Its
// low three bits carry a method version in EAP-EST, and are reserved in
// EAP-TLS.
type Flags uint8

// Flag bits, RFC 5216, Section 3.1.
const (
	FlagLength Flags = 0x80 // L: the TLS Message Length field is present
	FlagMore   Flags = 0x40 // M: more fragments follow
	FlagStart  Flags = 0x20 // S: EAP-TLS Start
	// VersionMask selects the method version bits.
	VersionMask Flags = 0x07
)

// Version returns the method version bits.
func (f Flags) Version() uint8 { return uint8(f & VersionMask) }

// MaxMessageLen caps a reassembled TLS message. RFC 5216 sets no limit. A
// certificate flight of a few kilobytes fits many times over, and the cap
// bounds the memory a hostile peer can make the server hold.
const MaxMessageLen = 64 << 10

// Errors of fragment parsing and reassembly.
var (
	ErrFragment = errors.New("eapest: invalid fragment")
	ErrTooLarge = errors.New("eapest: TLS message too large")
)

// Fragment is the type data of one EAP-TLS packet: the flags octet, the TLS
// Message Length when FlagLength is set, and a slice of TLS records.
type Fragment struct {
	Flags  Flags
	Length uint32
	Data   []byte
}

// ParseFragment decodes the type data of an EAP-TLS Request or Response.
// Data aliases b.
func ParseFragment(b []byte) (Fragment, error) {
	if len(b) < 1 {
		return Fragment{}, fmt.Errorf("%w: missing flags octet", ErrFragment)
	}
	f := Fragment{Flags: Flags(b[0]), Data: b[1:]}
	if f.Flags&FlagLength != 0 {
		if len(f.Data) < 4 {
			return Fragment{}, fmt.Errorf("%w: L flag without a 4-byte TLS Message Length",
				ErrFragment)
		}
		f.Length = binary.BigEndian.Uint32(f.Data)
		f.Data = f.Data[4:]
	}
	return f, nil
}

// Append appends the encoded fragment to b.
func (f Fragment) Append(b []byte) []byte {
	b = append(b, byte(f.Flags))
	if f.Flags&FlagLength != 0 {
		b = binary.BigEndian.AppendUint32(b, f.Length)
	}
	return append(b, f.Data...)
}

// IsACK reports whether f is an acknowledgement: no data and no M flag,
// RFC 5216, Section 3.2.
func (f Fragment) IsACK() bool {
	return len(f.Data) == 0 && f.Flags&(FlagMore|FlagLength) == 0
}

// Reassembler joins fragments into TLS messages. RFC 5216, Section 3.1
// requires the L flag on the first fragment of a fragmented message and
// allows it on the others. Every later TLS Message Length must repeat the
// first, the fragments must add up to it exactly, and it may not exceed
// MaxMessageLen. The zero value is ready for use. After an error the
// Reassembler is reset.
type Reassembler struct {
	buf    []byte
	want   int
	active bool
}

// InProgress reports whether a fragmented message is incomplete.
func (r *Reassembler) InProgress() bool { return r.active }

// Add consumes one fragment. It returns the whole message and true when the
// fragment completes one, and nil and false when more fragments follow. An
// ACK outside a fragmented message completes an empty message.
func (r *Reassembler) Add(f Fragment) ([]byte, bool, error) {
	msg, done, err := r.add(f)
	if err != nil {
		r.Reset()
	}
	return msg, done, err
}

func (r *Reassembler) add(f Fragment) ([]byte, bool, error) {
	more := f.Flags&FlagMore != 0
	hasLen := f.Flags&FlagLength != 0
	if more && len(f.Data) == 0 {
		return nil, false, fmt.Errorf("%w: M flag on an empty fragment", ErrFragment)
	}
	if !r.active {
		return r.addFirst(f, more, hasLen)
	}
	return r.addNext(f, more, hasLen)
}

// addFirst handles the first fragment of a message.
func (r *Reassembler) addFirst(f Fragment, more, hasLen bool) ([]byte, bool, error) {
	if hasLen {
		if f.Length > MaxMessageLen {
			return nil, false, fmt.Errorf("%w: TLS Message Length %d exceeds %d",
				ErrTooLarge, f.Length, MaxMessageLen)
		}
		if !more && int(f.Length) != len(f.Data) {
			return nil, false, fmt.Errorf("%w: TLS Message Length %d, got %d bytes",
				ErrFragment, f.Length, len(f.Data))
		}
	}
	if !more {
		if len(f.Data) > MaxMessageLen {
			return nil, false, fmt.Errorf("%w: %d bytes exceed %d", ErrTooLarge,
				len(f.Data), MaxMessageLen)
		}
		return f.Data, true, nil
	}
	if !hasLen {
		return nil, false, fmt.Errorf("%w: first fragment without the L flag", ErrFragment)
	}
	if len(f.Data) >= int(f.Length) {
		return nil, false, fmt.Errorf("%w: M flag, but %d bytes fill TLS Message Length %d",
			ErrFragment, len(f.Data), f.Length)
	}
	r.active, r.want = true, int(f.Length)
	r.buf = append(make([]byte, 0, r.want), f.Data...)
	return nil, false, nil
}

// addNext handles a later fragment of a message.
func (r *Reassembler) addNext(f Fragment, more, hasLen bool) ([]byte, bool, error) {
	if hasLen && int(f.Length) != r.want {
		return nil, false, fmt.Errorf("%w: TLS Message Length %d changed from %d",
			ErrFragment, f.Length, r.want)
	}
	got := len(r.buf) + len(f.Data)
	switch {
	case got > r.want:
		return nil, false, fmt.Errorf("%w: %d bytes exceed TLS Message Length %d",
			ErrFragment, got, r.want)
	case more && got == r.want:
		return nil, false, fmt.Errorf("%w: M flag, but TLS Message Length %d is reached",
			ErrFragment, r.want)
	case !more && got < r.want:
		return nil, false, fmt.Errorf("%w: last fragment ends at %d of %d bytes",
			ErrFragment, got, r.want)
	}
	r.buf = append(r.buf, f.Data...)
	if more {
		return nil, false, nil
	}
	msg := r.buf
	r.Reset()
	return msg, true, nil
}

// Reset drops a partial message.
func (r *Reassembler) Reset() {
	r.buf, r.want, r.active = nil, 0, false
}

// fragmenter cuts one outgoing TLS message into fragments. The L flag is
// set on the first fragment of a fragmented message only, which RFC 5216,
// Section 3.1 allows, and keeps unfragmented messages 4 bytes shorter.
type fragmenter struct {
	msg  []byte
	off  int
	size int
}

func (s *fragmenter) load(msg []byte, size int) {
	s.msg, s.off, s.size = msg, 0, size
}

// pending reports whether fragments of the loaded message remain.
func (s *fragmenter) pending() bool { return s.off < len(s.msg) }

// next returns the next fragment with the base flags (version bits) added.
func (s *fragmenter) next(base Flags) Fragment {
	f := Fragment{Flags: base}
	n := min(s.size, len(s.msg)-s.off)
	if s.off == 0 && n < len(s.msg) {
		f.Flags |= FlagLength
		f.Length = uint32(len(s.msg))
	}
	f.Data = s.msg[s.off : s.off+n]
	s.off += n
	if s.off < len(s.msg) {
		f.Flags |= FlagMore
	} else {
		s.msg, s.off = nil, 0
	}
	return f
}

// Fragment sizes.
const (
	// DefaultFragmentSize is the TLS data per fragment, the default
	// fragment_size of wpa_supplicant (1398). With the 10 header bytes an
	// EAP-TLS packet of 1408 bytes fits a 1500-byte Ethernet frame.
	DefaultFragmentSize = 1398
	// MinFragmentSize is the smallest fragment size used, whatever the
	// configuration or Framed-MTU, so that a handshake stays within the
	// conversation's round limit.
	MinFragmentSize = 64
	// headerOverhead is what Framed-MTU loses per fragment: the EAPOL
	// header (4), the EAP header (4), the type (1), the flags (1) and the
	// TLS Message Length (4).
	headerOverhead = 14
	// expandedOverhead is the extra Vendor-Id and Vendor-Type of type 254.
	expandedOverhead = 7
)

// fragmentSize returns min(configured, framedMTU - header overhead), where
// configured 0 means DefaultFragmentSize and framedMTU 0 means unknown.
func fragmentSize(configured, framedMTU int, expanded bool) int {
	size := configured
	if size <= 0 {
		size = DefaultFragmentSize
	}
	if framedMTU > 0 {
		limit := framedMTU - headerOverhead
		if expanded {
			limit -= expandedOverhead
		}
		size = min(size, limit)
	}
	return max(size, MinFragmentSize)
}
