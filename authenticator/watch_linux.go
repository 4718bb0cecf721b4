//go:build linux

package authenticator

import (
	"context"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/brski-eap/brski/authenticator/pae"
)

// WatchLink follows the link of the interface named ifName in the network
// namespace ns, or the calling thread's namespace for netns.None(). It calls
// port.LinkUp when the interface is up with carrier and port.LinkDown when
// it loses either or is deleted. Errors of LinkUp go to onError, when it is
// set. WatchLink returns the error of ctx when ctx ends, or an error when
// the netlink subscription fails.
func WatchLink(ctx context.Context, ns netns.NsHandle, ifName string, port *pae.Port,
	onError func(error)) error {
	updates := make(chan netlink.LinkUpdate, 16)
	done := make(chan struct{})
	defer close(done)
	failures := make(chan error, 1)
	err := netlink.LinkSubscribeWithOptions(updates, done, netlink.LinkSubscribeOptions{
		Namespace:    &ns,
		ListExisting: true,
		ErrorCallback: func(err error) {
			select {
			case failures <- err:
			default:
			}
		},
	})
	if err != nil {
		return fmt.Errorf("authenticator: subscribe to link updates: %w", err)
	}
	up := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case u, ok := <-updates:
			if !ok {
				return fmt.Errorf("authenticator: link updates for %q ended: %w",
					ifName, receiveFailure(failures))
			}
			if u.Link.Attrs().Name != ifName || u.Family == unix.AF_BRIDGE {
				// A port that moves to another bridge gets an AF_BRIDGE
				// RTM_DELLINK from the old one, but its link stays up.
				continue
			}
			now := u.Header.Type != unix.RTM_DELLINK && linkIsUp(u.Link.Attrs().RawFlags)
			if now == up {
				continue
			}
			up = now
			if !up {
				port.LinkDown()
				continue
			}
			if err := port.LinkUp(); err != nil {
				up = false // the next update of the link tries again
				if onError != nil {
					onError(err)
				}
			}
		}
	}
}

// linkIsUp reports whether an interface is administratively up and has
// carrier (IFF_LOWER_UP).
func linkIsUp(flags uint32) bool {
	return flags&unix.IFF_UP != 0 && flags&unix.IFF_LOWER_UP != 0
}

func receiveFailure(failures <-chan error) error {
	select {
	case err := <-failures:
		return err
	default:
		return errors.New("subscription closed")
	}
}
