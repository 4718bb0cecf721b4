package radius

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"layeh.com/radius"
)

// serverConn is the socket to one server and the requests waiting on it,
// indexed by Identifier.
type serverConn struct {
	server ServerAddr
	conn   net.Conn
	ids    chan byte // free Identifiers
	bad    *atomic.Uint64
	onBad  func(ServerAddr, error)

	mu      sync.Mutex
	pending [256]*pendingRequest
}

type pendingRequest struct {
	request []byte
	replies chan []byte
}

func dialServer(server ServerAddr, bad *atomic.Uint64,
	onBad func(ServerAddr, error)) (*serverConn, error) {
	conn, err := net.Dial("udp", server.Addr)
	if err != nil {
		return nil, fmt.Errorf("radius: dial %s: %w", server, err)
	}
	sc := &serverConn{server: server, conn: conn, ids: make(chan byte, 256), bad: bad,
		onBad: onBad}
	for i := range 256 {
		sc.ids <- byte(i)
	}
	go sc.read()
	return sc, nil
}

func (sc *serverConn) acquire(ctx context.Context) (byte, error) {
	select {
	case id := <-sc.ids:
		return id, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (sc *serverConn) release(id byte) { sc.ids <- id }

func (sc *serverConn) register(id byte, request []byte) <-chan []byte {
	pr := &pendingRequest{request: request, replies: make(chan []byte, 1)}
	sc.mu.Lock()
	sc.pending[id] = pr
	sc.mu.Unlock()
	return pr.replies
}

func (sc *serverConn) unregister(id byte) {
	sc.mu.Lock()
	sc.pending[id] = nil
	sc.mu.Unlock()
}

// read delivers authentic replies until the socket is closed. ICMP errors
// on the connected socket, such as port unreachable, do not stop it.
func (sc *serverConn) read() {
	buf := make([]byte, radius.MaxPacketLength+1)
	for {
		n, err := sc.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		delivered, err := sc.deliver(buf[:n])
		if !delivered {
			sc.bad.Add(1)
		}
		if err != nil && sc.onBad != nil {
			sc.onBad(sc.server, err)
		}
	}
}

// deliver hands an authentic reply to the request with its Identifier and
// reports false for anything else. The error names the check that a
// reply to a waiting request failed.
func (sc *serverConn) deliver(b []byte) (bool, error) {
	if len(b) < headerLen || len(b) > radius.MaxPacketLength {
		return false, fmt.Errorf("%w: %d octets from %s", ErrMalformedPacket, len(b), sc.server)
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	pr := sc.pending[b[1]]
	if pr == nil {
		return false, nil
	}
	if err := verifyReply(b, pr.request, sc.server); err != nil {
		return false, err
	}
	sc.pending[b[1]] = nil
	pr.replies <- bytes.Clone(b)
	return true, nil
}

// ErrResponseAuthenticatorInvalid reports a reply whose Response
// Authenticator does not match the request and the shared secret (RFC 2865,
// Section 3). A wrong secret makes every reply fail this way.
var ErrResponseAuthenticatorInvalid = errors.New("radius: Response Authenticator invalid")

// verifyReply checks the Response Authenticator (RFC 2865, Section 3) and
// the Message-Authenticator (RFC 3579, Section 3.2) of a reply to request.
// Replies to Access-Request and Status-Server need a Message-Authenticator
// unless the server is Legacy.
func verifyReply(reply, request []byte, server ServerAddr) error {
	scan, err := scanPacket(reply)
	if err != nil {
		return err
	}
	reply = reply[:scan.length]
	if !radius.IsAuthenticResponse(reply, request, server.Secret) {
		return ErrResponseAuthenticatorInvalid
	}
	err = scan.verifyMessageAuthenticator(reply, request[4:headerLen], server.Secret)
	if errors.Is(err, ErrMessageAuthenticatorMissing) {
		// Replies to other codes, such as Accounting-Response, may omit it.
		code := radius.Code(request[0])
		if server.Legacy || (code != radius.CodeAccessRequest && code != radius.CodeStatusServer) {
			return nil
		}
	}
	return err
}
