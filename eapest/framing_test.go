package eapest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func frag(flags Flags, length uint32, data string) Fragment {
	return Fragment{Flags: flags, Length: length, Data: []byte(data)}
}

func TestReassembler(t *testing.T) {
	const L, M, S = FlagLength, FlagMore, FlagStart
	tests := []struct {
		name    string
		frags   []Fragment
		want    []string // completed messages, in order
		wantErr error    // error of the last fragment
	}{
		{"unfragmented", []Fragment{frag(0, 0, "abc")}, []string{"abc"}, nil},
		{"unfragmented with L", []Fragment{frag(L, 3, "abc")}, []string{"abc"}, nil},
		{"ACK", []Fragment{frag(0, 0, "")}, []string{""}, nil},
		{"ACK with version bits", []Fragment{frag(3, 0, "")}, []string{""}, nil},
		{"two fragments", []Fragment{frag(L|M, 5, "abc"), frag(0, 0, "de")},
			[]string{"abcde"}, nil},
		{"L on every fragment", []Fragment{frag(L|M, 6, "ab"), frag(L|M, 6, "cd"),
			frag(L, 6, "ef")}, []string{"abcdef"}, nil},
		{"two messages", []Fragment{frag(L|M, 2, "a"), frag(0, 0, "b"), frag(0, 0, "c")},
			[]string{"ab", "c"}, nil},
		{"start flag ignored", []Fragment{frag(S, 0, "")}, []string{""}, nil},
		{"first fragment without L", []Fragment{frag(M, 0, "abc")}, nil, ErrFragment},
		{"unfragmented L mismatch", []Fragment{frag(L, 4, "abc")}, nil, ErrFragment},
		{"M on empty fragment", []Fragment{frag(L|M, 4, "")}, nil, ErrFragment},
		{"over 64 KiB declared", []Fragment{frag(L|M, MaxMessageLen+1, "a")}, nil, ErrTooLarge},
		{"over 64 KiB unfragmented", []Fragment{{Data: make([]byte, MaxMessageLen+1)}}, nil,
			ErrTooLarge},
		{"first fragment fills length", []Fragment{frag(L|M, 3, "abc")}, nil, ErrFragment},
		{"over-declared, ends early", []Fragment{frag(L|M, 9, "abc"), frag(0, 0, "de")}, nil,
			ErrFragment},
		{"fragments exceed length", []Fragment{frag(L|M, 4, "abc"), frag(0, 0, "de")}, nil,
			ErrFragment},
		{"M after length reached", []Fragment{frag(L|M, 5, "abc"), frag(M, 0, "de")}, nil,
			ErrFragment},
		{"length changed", []Fragment{frag(L|M, 5, "abc"), frag(L, 6, "de")}, nil,
			ErrFragment},
		{"ACK inside a message", []Fragment{frag(L|M, 5, "abc"), frag(0, 0, "")}, nil,
			ErrFragment},
		{"exact 64 KiB", []Fragment{{Flags: L | M, Length: MaxMessageLen,
			Data: make([]byte, MaxMessageLen-1)}, frag(0, 0, "x")},
			[]string{string(make([]byte, MaxMessageLen-1)) + "x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Reassembler
			var got []string
			var err error
			for i, f := range tt.frags {
				var msg []byte
				var done bool
				msg, done, err = r.Add(f)
				if err != nil && i != len(tt.frags)-1 {
					t.Fatalf("fragment %d: %v", i, err)
				}
				if done {
					got = append(got, string(msg))
				}
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil && r.InProgress() {
				t.Error("reassembler not reset after an error")
			}
		})
	}
}

func TestParseFragment(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Fragment
		wantErr bool
	}{
		{"flags only", []byte{0x20}, Fragment{Flags: FlagStart, Data: []byte{}}, false},
		{"with length", []byte{0xc0, 0, 0, 1, 0, 'x'},
			Fragment{Flags: FlagLength | FlagMore, Length: 256, Data: []byte("x")}, false},
		{"empty", nil, Fragment{}, true},
		{"truncated length", []byte{0x80, 0, 0}, Fragment{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFragment(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				if !errors.Is(err, ErrFragment) {
					t.Errorf("error = %v, want ErrFragment", err)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseFragment (-want +got):\n%s", diff)
			}
			if out := got.Append(nil); !bytes.Equal(out, tt.in) {
				t.Errorf("Append = %x, want %x", out, tt.in)
			}
		})
	}
}

// TestFragmenterRoundTrip cuts messages and reassembles them.
func TestFragmenterRoundTrip(t *testing.T) {
	for _, size := range []int{1, 7, 64, 1386} {
		for _, n := range []int{1, 63, 64, 65, 5000} {
			msg := bytes.Repeat([]byte{0x5a}, n)
			var s fragmenter
			var r Reassembler
			s.load(msg, size)
			count := 0
			for {
				f := s.next(Flags(Version))
				count++
				if len(f.Data) > size {
					t.Fatalf("size %d: fragment of %d bytes", size, len(f.Data))
				}
				if count == 1 && s.pending() && f.Flags&FlagLength == 0 {
					t.Fatalf("size %d: first of several fragments without L", size)
				}
				wire := f.Append(nil)
				parsed, err := ParseFragment(wire)
				if err != nil {
					t.Fatal(err)
				}
				got, done, err := r.Add(parsed)
				if err != nil {
					t.Fatalf("size %d, length %d: %v", size, n, err)
				}
				if done {
					if !bytes.Equal(got, msg) || s.pending() {
						t.Fatalf("size %d, length %d: reassembly differs", size, n)
					}
					break
				}
			}
			if want := (n + size - 1) / size; count != want {
				t.Errorf("size %d, length %d: %d fragments, want %d", size, n, count, want)
			}
		}
	}
}

func TestFragmentSize(t *testing.T) {
	tests := []struct {
		name       string
		configured int
		framedMTU  int
		expanded   bool
		want       int
	}{
		{"defaults", 0, 0, false, DefaultFragmentSize},
		{"Framed-MTU 1400", 0, 1400, false, 1386},
		{"Framed-MTU 1400 expanded", 0, 1400, true, 1379},
		{"configured below MTU", 1000, 1400, false, 1000},
		{"large MTU", 0, 9000, false, DefaultFragmentSize},
		{"tiny MTU", 0, 20, false, MinFragmentSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fragmentSize(tt.configured, tt.framedMTU, tt.expanded); got != tt.want {
				t.Errorf("fragmentSize = %d, want %d", got, tt.want)
			}
		})
	}
}

// FuzzReassemble feeds a sequence of fragments, each prefixed on the wire
// by a 2-byte length, into one Reassembler.
func FuzzReassemble(f *testing.F) {
	seq := func(frags ...[]byte) []byte {
		var b []byte
		for _, fr := range frags {
			b = binary.BigEndian.AppendUint16(b, uint16(len(fr)))
			b = append(b, fr...)
		}
		return b
	}
	f.Add(seq([]byte{0x00, 'a'}))
	f.Add(seq([]byte{0xc0, 0, 0, 0, 5, 'a', 'b', 'c'}, []byte{0x00, 'd', 'e'}))
	f.Add(seq([]byte{0xc0, 0, 1, 0, 1, 'a'}, []byte{0x40, 'b'}))
	f.Add(seq([]byte{0xc0, 0xff, 0xff, 0xff, 0xff, 'a'}))
	f.Add(seq([]byte{0x80, 0, 0, 0, 2, 'a'}, []byte{0x20}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Reassembler
		for len(b) >= 2 {
			n := int(binary.BigEndian.Uint16(b))
			b = b[2:]
			if n > len(b) {
				n = len(b)
			}
			fr, err := ParseFragment(b[:n])
			b = b[n:]
			if err != nil {
				continue
			}
			msg, done, err := r.Add(fr)
			if err != nil {
				if r.InProgress() {
					t.Fatal("reassembler in progress after an error")
				}
				continue
			}
			if len(msg) > MaxMessageLen {
				t.Fatalf("message of %d bytes exceeds the cap", len(msg))
			}
			if done && r.InProgress() {
				t.Fatal("message done but reassembler in progress")
			}
		}
	})
}
