//go:build !linux

package authenticator

import (
	"net"
	"time"

	"github.com/brski-eap/brski/authenticator/eapol"
)

// Conn is an AF_PACKET socket for EAPOL frames. It exists only on Linux;
// elsewhere Listen returns ErrUnsupportedOS.
type Conn struct{}

// Listen returns ErrUnsupportedOS because AF_PACKET needs Linux.
func Listen(ifName string) (*Conn, error) { return nil, ErrUnsupportedOS }

// Interface returns nil.
func (c *Conn) Interface() *net.Interface { return nil }

// ReadFrame returns ErrUnsupportedOS.
func (c *Conn) ReadFrame() (Frame, error) { return Frame{}, ErrUnsupportedOS }

// WriteFrame returns ErrUnsupportedOS.
func (c *Conn) WriteFrame(dst net.HardwareAddr, p *eapol.PDU) error { return ErrUnsupportedOS }

// SetReadDeadline returns ErrUnsupportedOS.
func (c *Conn) SetReadDeadline(t time.Time) error { return ErrUnsupportedOS }

// SetWriteDeadline returns ErrUnsupportedOS.
func (c *Conn) SetWriteDeadline(t time.Time) error { return ErrUnsupportedOS }

// Close returns nil.
func (c *Conn) Close() error { return nil }

func isLinkDown(error) bool { return false }
