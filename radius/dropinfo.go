package radius

import (
	"fmt"
	"net/netip"
)

// dropDescriptions are the drop reasons in words, for operators.
var dropDescriptions = [numDropReasons]string{
	DropUnknownClient:                 "source address matches no client block",
	DropQueueFull:                     "all workers busy and the queue full",
	DropTooLarge:                      "datagram larger than 4096 octets",
	DropMalformed:                     "malformed RADIUS packet",
	DropUnsupportedCode:               "packet code not served on this port",
	DropMessageAuthenticatorMissing:   "Message-Authenticator missing",
	DropMessageAuthenticatorZero:      "Message-Authenticator is all zeros",
	DropMessageAuthenticatorInvalid:   "Message-Authenticator invalid",
	DropMessageAuthenticatorLength:    "Message-Authenticator has the wrong length",
	DropMessageAuthenticatorDuplicate: "more than one Message-Authenticator",
	DropEAPMessageNotConsecutive:      "EAP-Message attributes not consecutive",
	DropDuplicateInProgress:           "retransmission of a request still in progress",
	DropNoReply:                       "handler sent no reply",
	DropHandlerError:                  "handler failed",
	DropReplyTooLarge:                 "reply larger than 4096 octets",
	DropWriteFailed:                   "reply could not be sent",
	DropShutdown:                      "server shutting down",
}

// Description returns the reason in words, such as "Message-Authenticator
// invalid", for a log message.
func (r DropReason) Description() string {
	if r < numDropReasons {
		return dropDescriptions[r]
	}
	return "unknown drop reason"
}

// Routine reports whether drops of this reason happen in normal operation,
// so they need no operator. These are a retransmission while the first
// copy is still being served, a request that the handler chose not to
// reply to, and datagrams still queued at shutdown. Every other reason points at a NAS
// or client block that is misconfigured, a broken peer, an overloaded
// server or a fault of our own.
func (r DropReason) Routine() bool {
	switch r {
	case DropDuplicateInProgress, DropNoReply, DropShutdown:
		return true
	}
	return false
}

// Fix returns what an operator can do about drops of this reason from
// source, or "" for routine reasons. client is the name of the client block
// that source matched, empty when none did.
func (r DropReason) Fix(client string, source netip.Addr) string {
	name := "client " + client
	switch r {
	case DropUnknownClient:
		return fmt.Sprintf("add a client block whose address or CIDR covers %s", source)
	case DropMessageAuthenticatorInvalid:
		return fmt.Sprintf("check the shared secret of %s; a wrong secret makes every "+
			"Message-Authenticator fail", name)
	case DropMessageAuthenticatorMissing:
		return fmt.Sprintf("make %s send Message-Authenticator (RFC 3579, Section 3.2); "+
			"legacy = true accepts only Access-Requests without EAP-Message that lack "+
			"it, never Status-Server or EAP", name)
	case DropMessageAuthenticatorZero:
		return fmt.Sprintf("make %s compute Message-Authenticator with the shared secret "+
			"instead of sending zeros", name)
	case DropMessageAuthenticatorLength, DropMessageAuthenticatorDuplicate,
		DropMalformed, DropTooLarge, DropEAPMessageNotConsecutive:
		return fmt.Sprintf("%s sends packets that break RFC 2865 or RFC 3579; "+
			"capture one and report it to the NAS vendor", name)
	case DropUnsupportedCode:
		return fmt.Sprintf("point only authentication (Access-Request, Status-Server) "+
			"of %s at this port; accounting and CoA go elsewhere", name)
	case DropQueueFull:
		return "requests arrive faster than the workers serve them; reduce the load " +
			"or add registrars"
	case DropHandlerError, DropReplyTooLarge, DropWriteFailed:
		return "see the error; the NAS retransmits, so a single drop is harmless"
	}
	return ""
}
