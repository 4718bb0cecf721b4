package pae

import (
	"fmt"
	"net"
)

// EventKind is the kind of an Event.
type EventKind int

// Event kinds.
const (
	EventSessionStarted   EventKind = iota + 1 // first frame of a new supplicant
	EventAuthorized                            // Access-Accept, the port is open
	EventRejected                              // Access-Reject, quiet period begins
	EventReauthenticating                      // EAPOL-Start or timer on an open session
	EventSessionEnded                          // see Reason and Err
	EventFrameDropped                          // see Reason
	EventSendError                             // Sender failed, see Err
	EventPortError                             // PortController failed, see Err
)

var eventNames = map[EventKind]string{
	EventSessionStarted:   "session started",
	EventAuthorized:       "authorized",
	EventRejected:         "rejected",
	EventReauthenticating: "reauthenticating",
	EventSessionEnded:     "session ended",
	EventFrameDropped:     "frame dropped",
	EventSendError:        "send failed",
	EventPortError:        "port control failed",
}

// String returns a short description of k for logs.
func (k EventKind) String() string {
	if name, ok := eventNames[k]; ok {
		return name
	}
	return fmt.Sprintf("event %d", int(k))
}

// Reasons of EventSessionEnded.
const (
	ReasonLogoff            = "EAPOL-Logoff"
	ReasonSupplicantTimeout = "supplicant timeout"
	ReasonSessionTimeout    = "Session-Timeout"
	ReasonLinkDown          = "link down"
	ReasonShutdown          = "authenticator shutdown"
	ReasonBackendError      = "backend error"
	ReasonPortError         = "port control error"
)

// Event is something that happened on a port, for logs and counters.
type Event struct {
	Kind EventKind
	Port string
	MAC  net.HardwareAddr
	// SessionID is the Acct-Session-Id of the session that the event
	// belongs to, or "" for events of the port or of dropped frames.
	SessionID string
	VLAN      string // of EventAuthorized
	Reason    string // of EventSessionEnded and EventFrameDropped
	Err       error
}
