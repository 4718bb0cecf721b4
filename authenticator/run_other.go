//go:build !linux

package authenticator

import (
	"context"

	"github.com/brski-eap/brski/authenticator/pae"
)

// Hooks receive what a running authenticator reports. Each may be nil.
type Hooks struct {
	Event     func(pae.Event)
	Malformed func(port string, err *MalformedFrameError)
	Error     func(port string, err error)
	Ready     func()
}

// Run returns ErrUnsupportedOS because AF_PACKET and bridge port control
// need Linux.
func Run(ctx context.Context, s *Setup, hooks Hooks) error { return ErrUnsupportedOS }
