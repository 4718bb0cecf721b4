package eapest

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/brski-eap/brski/eap"
)

// FuzzTLSServerProcess feeds a sequence of Response type data, each
// prefixed by a 2-byte length, into a fresh EAP-TLS server method. The
// method must return errors or steps, never panic or hang.
func FuzzTLSServerProcess(f *testing.F) {
	p := newPKI(f)
	srv, err := NewTLSServer(TLSServerConfig{TLS: p.serverTLS(0), FragmentSize: 200})
	if err != nil {
		f.Fatal(err)
	}
	_, hello := clientHelloFor(f, p.clientTLS(0))
	pkt, err := eap.Parse(hello)
	if err != nil {
		f.Fatal(err)
	}
	seq := func(frags ...[]byte) []byte {
		var b []byte
		for _, fr := range frags {
			b = binary.BigEndian.AppendUint16(b, uint16(len(fr)))
			b = append(b, fr...)
		}
		return b
	}
	f.Add(seq(pkt.Data, []byte{0}, []byte{0}))
	f.Add(seq(pkt.Data[:40]))
	f.Add(seq([]byte{0xc0, 0, 0, 0, 9, 22, 3, 1}, []byte{0x00, 0, 1}))
	f.Add(seq([]byte{0x00, 22, 3, 3, 0, 1, 1}))
	f.Add(seq([]byte{0x20}))
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx := context.Background()
		m := srv.NewMethod()
		defer m.Close()
		if _, err := m.Start(ctx, eap.Session{FramedMTU: 300}); err != nil {
			t.Fatal(err)
		}
		for len(b) >= 2 {
			n := min(int(binary.BigEndian.Uint16(b)), len(b)-2)
			data := b[2 : 2+n]
			b = b[2+n:]
			step, err := m.Process(ctx, data)
			if err != nil || step.Status != eap.StatusContinue {
				return
			}
		}
	})
}

// FuzzTLSPeerProcess feeds a Start and then a sequence of Request type
// data, as a hostile authenticator could send them, into an EAP-TLS peer.
func FuzzTLSPeerProcess(f *testing.F) {
	p := newPKI(f)
	seq := func(frags ...[]byte) []byte {
		var b []byte
		for _, fr := range frags {
			b = binary.BigEndian.AppendUint16(b, uint16(len(fr)))
			b = append(b, fr...)
		}
		return b
	}
	f.Add(seq([]byte{0x00, 22, 3, 3, 0, 4, 2, 0, 0, 0}))
	f.Add(seq([]byte{0xc0, 0, 0, 0, 9, 22, 3, 3}, []byte{0x00, 0, 2, 2, 0, 0}))
	f.Add(seq([]byte{0x00, 21, 3, 3, 0, 2, 2, 40}, []byte{0x00}))
	f.Add(seq([]byte{0x20}))
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx := context.Background()
		m, err := NewTLSPeer(ctx, TLSPeerConfig{TLS: p.clientTLS(0), Hold: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if _, err := m.Process(ctx, []byte{byte(FlagStart)}); err != nil {
			t.Fatal(err)
		}
		for len(b) >= 2 {
			n := min(int(binary.BigEndian.Uint16(b)), len(b)-2)
			data := b[2 : 2+n]
			b = b[2+n:]
			if _, err := m.Process(ctx, data); err != nil {
				return
			}
		}
		m.Success()
	})
}
