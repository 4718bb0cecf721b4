package eap

import (
	"context"
	"crypto/x509"
	"errors"
)

// Status is the state of a conversation or method after one step.
type Status int

// Step outcomes. StatusContinue means that another Request follows.
const (
	StatusContinue Status = iota
	StatusSuccess
	StatusFailure
)

// String returns the status name.
func (s Status) String() string {
	switch s {
	case StatusContinue:
		return "continue"
	case StatusSuccess:
		return "success"
	case StatusFailure:
		return "failure"
	}
	return "unknown"
}

// Session contains the facts that a server method receives when it starts.
type Session struct {
	// Identity is the peer's Response/Identity.
	Identity string
	// FramedMTU is the RADIUS Framed-MTU of the supplicant's link
	// (RFC 3580, Section 3.12), or 0 when the NAS did not send one.
	FramedMTU int
	// Facts is the caller's value from Config.Facts, passed through unread.
	Facts any
}

// Outcome is the result that a method reports when it finishes.
type Outcome struct {
	// MSK and EMSK are the Master Session Key and the Extended MSK,
	// RFC 3748, Section 7.10. They are nil for methods without keys.
	MSK  []byte
	EMSK []byte
	// SessionID is the EAP Session-Id, RFC 5247, Section 1.4.
	SessionID []byte
	// PeerCertificates is the peer's certificate chain, leaf first, for
	// certificate-based methods.
	PeerCertificates []*x509.Certificate
	// Detail is a method-specific value.
	Detail any
	// Err is the cause of a failure.
	Err error
}

// MPPEKeys returns MS-MPPE-Recv-Key and MS-MPPE-Send-Key as the server
// sends them in Access-Accept: the first and second 32 bytes of the MSK
// (RFC 5216, Section 2.3, with the attributes of RFC 2548). Both are nil
// when the MSK is shorter than 64 bytes.
func (o *Outcome) MPPEKeys() (recv, send []byte) {
	if len(o.MSK) < 64 {
		return nil, nil
	}
	return o.MSK[:32], o.MSK[32:64]
}

// Step is a method's reply to one Response. For StatusContinue, Data is the
// type data of the next Request. For StatusSuccess and StatusFailure,
// Outcome contains the results.
type Step struct {
	Status  Status
	Data    []byte
	Outcome Outcome
}

// Method is the server side of an EAP method. A Conversation calls Start
// once, then Process for every Response of the method's type, and Close
// when the conversation ends or switches to another method. Methods run
// under the Conversation's lock, so they need no locking of their own.
type Method interface {
	// Type returns the method type that the Requests carry.
	Type() MethodType
	// Start returns the type data of the method's first Request.
	Start(ctx context.Context, s Session) ([]byte, error)
	// Process consumes the type data of a Response. An error ends the
	// conversation with a Failure.
	Process(ctx context.Context, data []byte) (Step, error)
	// Close releases the method's resources. It may be called at any time.
	Close() error
}

// PeerMethod is the peer side of an EAP method.
type PeerMethod interface {
	// Type returns the method type of the Requests that it handles.
	Type() MethodType
	// Process consumes the type data of a Request and returns the type data
	// of the Response.
	Process(ctx context.Context, data []byte) ([]byte, error)
	// Success checks that the method has reached a state where EAP-Success
	// is acceptable (RFC 3748, Section 4.2) and returns its results.
	Success() (Outcome, error)
}

// Result is the end of a conversation, for the RADIUS layer: the keys for
// MS-MPPE-Send-Key and MS-MPPE-Recv-Key, the peer's identity and
// certificates, and the method's own value.
type Result struct {
	Status   Status
	Identity string
	Method   MethodType
	Outcome
	// Rounds is the number of Requests sent, the Identity Request included.
	Rounds int
}

// Conversation failures, matched with errors.Is on Result.Err.
var (
	// ErrDiscard marks a packet that the conversation dropped silently
	// (RFC 3748, Section 4.1): unparsable, not a Response, or with the
	// wrong Identifier. The caller sends nothing back.
	ErrDiscard = errors.New("eap: packet discarded")
	// ErrFinished means the conversation has already ended.
	ErrFinished = errors.New("eap: conversation finished")
	// ErrNoMethod means the peer accepts none of the offered methods.
	ErrNoMethod = errors.New("eap: no acceptable method")
	// ErrRoundLimit means the conversation exceeded Config.MaxRounds.
	ErrRoundLimit = errors.New("eap: round limit exceeded")
	// ErrIdleTimeout means a Response arrived after Config.IdleTimeout.
	ErrIdleTimeout = errors.New("eap: idle timeout")
	// ErrProtocol means the peer broke the conversation rules.
	ErrProtocol = errors.New("eap: protocol violation")
)
