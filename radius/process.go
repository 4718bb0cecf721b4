package radius

import (
	"errors"
	"fmt"

	"layeh.com/radius"
)

// maDropReasons maps Message-Authenticator errors to their drop reasons.
var maDropReasons = map[error]DropReason{
	ErrMessageAuthenticatorMissing:   DropMessageAuthenticatorMissing,
	ErrMessageAuthenticatorZero:      DropMessageAuthenticatorZero,
	ErrMessageAuthenticatorInvalid:   DropMessageAuthenticatorInvalid,
	ErrMessageAuthenticatorLength:    DropMessageAuthenticatorLength,
	ErrMessageAuthenticatorDuplicate: DropMessageAuthenticatorDuplicate,
}

// parseRequest checks a datagram from nas and parses it: the header and
// attribute lengths, the code, the Message-Authenticator and the order of
// EAP-Message attributes. On failure it returns the drop reason.
func parseRequest(b []byte, nas *NAS) (*Request, DropReason, error) {
	scan, err := scanPacket(b)
	if err != nil {
		if errors.Is(err, ErrPacketTooLarge) {
			return nil, DropTooLarge, err
		}
		return nil, DropMalformed, err
	}
	b = b[:scan.length]

	code := radius.Code(b[0])
	if code != radius.CodeAccessRequest && code != radius.CodeStatusServer {
		return nil, DropUnsupportedCode,
			fmt.Errorf("radius: %v from %s not served", code, nas.Name)
	}
	legacy := code == radius.CodeAccessRequest && nas.Legacy &&
		scan.eapCount == 0 && scan.maCount == 0
	if !legacy {
		if err := scan.verifyMessageAuthenticator(b, nil, nas.Secret); err != nil {
			return nil, maDropReasons[err], fmt.Errorf("%w in %v from %s", err, code, nas.Name)
		}
	}
	if !scan.eapConsecutive {
		return nil, DropEAPMessageNotConsecutive,
			fmt.Errorf("%w in %v from %s", ErrEAPMessageNotConsecutive, code, nas.Name)
	}

	p, err := radius.Parse(b, nas.Secret)
	if err != nil {
		return nil, DropMalformed, fmt.Errorf("radius: parse %v from %s: %w", code, nas.Name, err)
	}
	req := &Request{Packet: p, Raw: b, NAS: nas}
	if scan.eapCount > 0 {
		if req.eap, err = EAPMessage(p); err != nil {
			return nil, DropEAPMessageNotConsecutive, err
		}
	}
	return req, 0, nil
}

// handle processes one datagram on a worker.
func (s *Server) handle(d datagram) {
	if s.closing.Load() {
		s.drop(DropShutdown, d.addr, nil)
		return
	}
	req, reason, err := parseRequest(d.data, d.nas)
	if err != nil {
		s.drop(reason, d.addr, err)
		return
	}
	req.RemoteAddr = d.addr
	if req.Packet.Code == radius.CodeStatusServer {
		s.answerStatusServer(req)
		return
	}

	key := dupKey{src: addrPort(d.addr), id: req.Packet.Identifier, auth: req.Packet.Authenticator}
	state, cached := s.dups.begin(key)
	switch state {
	case dupInProgress:
		s.drop(DropDuplicateInProgress, d.addr, nil)
		return
	case dupAnswered:
		if s.write(cached, req) {
			s.counters.duplicateReplies.Add(1)
		}
		return
	}

	b, reason, err := s.serve(req)
	if b == nil {
		s.dups.forget(key)
		s.drop(reason, d.addr, err)
		return
	}
	s.dups.finish(key, b)
	if s.write(b, req) {
		s.counters.replied.Add(1)
	}
}

// serve calls the handler and encodes its reply. A nil result comes with
// the drop reason.
func (s *Server) serve(req *Request) (b []byte, reason DropReason, err error) {
	defer func() {
		if v := recover(); v != nil {
			b, reason, err = nil, DropHandlerError, fmt.Errorf("radius: handler panic: %v", v)
		}
	}()
	reply, err := s.Handler.ServeRADIUS(s.ctx, req)
	switch {
	case err != nil:
		return nil, DropHandlerError, err
	case reply == nil:
		return nil, DropNoReply, nil
	}
	switch reply.Code {
	case radius.CodeAccessAccept, radius.CodeAccessReject, radius.CodeAccessChallenge:
	default:
		return nil, DropHandlerError,
			fmt.Errorf("radius: handler replied %v to an Access-Request", reply.Code)
	}
	b, err = EncodeResponse(reply, req.Packet)
	if err != nil {
		if errors.Is(err, ErrPacketTooLarge) {
			return nil, DropReplyTooLarge, err
		}
		return nil, DropHandlerError, err
	}
	return b, 0, nil
}

// answerStatusServer replies Access-Accept to a Status-Server (RFC 5997),
// touching neither the handler nor the duplicate cache.
func (s *Server) answerStatusServer(req *Request) {
	b, err := EncodeResponse(req.Reply(radius.CodeAccessAccept), req.Packet)
	if err != nil {
		s.drop(DropReplyTooLarge, req.RemoteAddr, err)
		return
	}
	if s.write(b, req) {
		s.counters.statusServer.Add(1)
	}
}

func (s *Server) write(b []byte, req *Request) bool {
	if _, err := s.conn.WriteTo(b, req.RemoteAddr); err != nil {
		err = fmt.Errorf("radius: reply to %s: %w", req.NAS.Name, err)
		s.drop(DropWriteFailed, req.RemoteAddr, err)
		return false
	}
	return true
}
