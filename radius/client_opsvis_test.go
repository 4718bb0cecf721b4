package radius

import (
	"context"
	"errors"
	"sync"
	"testing"

	"layeh.com/radius"
)

func TestClientOnBadResponse(t *testing.T) {
	tests := []struct {
		name  string
		reply func(t *testing.T, req *radius.Packet) []byte
		want  error // nil: the hook is not called
	}{
		{"wrong secret", func(t *testing.T, req *radius.Packet) []byte {
			other := *req
			other.Secret = []byte("not-the-shared-secret")
			return acceptReply(t, &other)
		}, ErrResponseAuthenticatorInvalid},
		{"bad Message-Authenticator", func(t *testing.T, req *radius.Packet) []byte {
			b := acceptReply(t, req)
			b[25] ^= 0xff
			return resign(b, req)
		}, ErrMessageAuthenticatorInvalid},
		{"no Message-Authenticator", func(t *testing.T, req *radius.Packet) []byte {
			b, _ := req.Response(radius.CodeAccessAccept).Encode()
			return b
		}, ErrMessageAuthenticatorMissing},
		{"truncated", func(*testing.T, *radius.Packet) []byte { return []byte{2, 1, 0} },
			ErrMalformedPacket},
		{"other Identifier", func(t *testing.T, req *radius.Packet) []byte {
			b := acceptReply(t, req)
			b[1]++
			return b
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, func(_ int, req *radius.Packet) [][]byte {
				return [][]byte{tt.reply(t, req), acceptReply(t, req)}
			})
			var mu sync.Mutex
			var got []error
			c := &Client{Servers: []ServerAddr{{Addr: f.addr(), Secret: testSecret}},
				OnBadResponse: func(server ServerAddr, err error) {
					mu.Lock()
					defer mu.Unlock()
					if server.Addr != f.addr() {
						t.Errorf("server = %s, want %s", server.Addr, f.addr())
					}
					got = append(got, err)
				}}
			defer c.Close()
			if _, err := c.Exchange(context.Background(), accessRequest(t, testSecret)); err != nil {
				t.Fatal(err)
			}
			// The bad reply was sent first on the same socket, so the reader
			// has handled it before the good one ended Exchange.
			mu.Lock()
			defer mu.Unlock()
			if tt.want == nil {
				if len(got) != 0 {
					t.Errorf("OnBadResponse called with %v, want no call", got)
				}
				return
			}
			if len(got) != 1 || !errors.Is(got[0], tt.want) {
				t.Errorf("OnBadResponse errors = %v, want one that wraps %v", got, tt.want)
			}
			if got := c.Stats().BadResponses; got != 1 {
				t.Errorf("BadResponses = %d, want 1", got)
			}
		})
	}
}
