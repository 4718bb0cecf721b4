//go:build linux

package authenticator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/vishvananda/netns"

	"github.com/brski-eap/brski/authenticator/pae"
)

// Hooks receive what a running authenticator reports. Each may be nil.
// They are called from the authenticator's goroutines and must not block.
type Hooks struct {
	// Event receives every event of every port. It runs with the port
	// locked, so it must not call the port.
	Event func(pae.Event)
	// Malformed receives frames that did not parse.
	Malformed func(port string, err *MalformedFrameError)
	// Error receives errors that do not stop the authenticator, such as a
	// failed LinkUp.
	Error func(port string, err error)
	// Ready, when set, is called once every port has its socket and its
	// state machine and Run serves them.
	Ready func()
}

// Run serves every port of s in the network namespace of the calling
// thread until ctx ends or a port's socket fails. It locks each port when
// its link comes up and relays EAPOL to the RADIUS servers. When it
// returns, every session has ended and every port is locked again, so no
// port stays authorized after a shutdown.
//
// NOTE: the RADIUS client opens its sockets on first use, from goroutines
// that are not bound to the caller's thread. A caller that switched only
// its own thread into the namespace reaches the servers from the
// process's initial namespace. Run the whole process in the namespace, as
// "ip netns exec" does, to reach them from there.
func Run(ctx context.Context, s *Setup, hooks Hooks) error {
	// The goroutines below may run on threads of another namespace, so
	// netlink gets the caller's namespace by handle.
	ns, err := netns.Get()
	if err != nil {
		return fmt.Errorf("authenticator: get network namespace: %w", err)
	}
	defer ns.Close()
	unlock, err := lockPorts(ns, s.Ports)
	if err != nil {
		return err
	}
	defer unlock()
	ctl, err := NewPortControl(ns, s.VLANs)
	if err != nil {
		return err
	}
	defer ctl.Close()
	conns, err := listenAll(s)
	if err != nil {
		return err
	}
	ports := make([]*pae.Port, len(s.Ports))
	for i, ps := range s.Ports {
		cfg := ps.PAE
		cfg.Observe = hooks.Event
		p, err := pae.NewPort(ps.Name, conns[i], ctl, s.Backend, cfg)
		if err != nil {
			closeAll(conns, ports)
			return fmt.Errorf("authenticator: port %s: %w", ps.Name, err)
		}
		ports[i] = p
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	failed := make(chan error, 2*len(ports))
	for i, p := range ports {
		name := s.Ports[i].Name
		wg.Go(func() {
			err := Serve(conns[i], p, func(m *MalformedFrameError) {
				if hooks.Malformed != nil {
					hooks.Malformed(name, m)
				}
			})
			if !errors.Is(err, net.ErrClosed) {
				failed <- fmt.Errorf("authenticator: port %s: %w", name, err)
			}
		})
		wg.Go(func() {
			err := WatchLink(ctx, ns, name, p, func(err error) {
				if hooks.Error != nil {
					hooks.Error(name, err)
				}
			})
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				failed <- err
			}
		})
	}
	if hooks.Ready != nil {
		hooks.Ready()
	}
	var result error
	select {
	case <-ctx.Done():
	case result = <-failed:
	}
	cancel()
	closeAll(conns, ports)
	wg.Wait()
	return result
}

// listenAll opens the socket of every port and records its address for the
// Called-Station-Id.
func listenAll(s *Setup) ([]*Conn, error) {
	conns := make([]*Conn, 0, len(s.Ports))
	for _, ps := range s.Ports {
		c, err := Listen(ps.Name)
		if err != nil {
			closeAll(conns, nil)
			return nil, fmt.Errorf("authenticator: listen on %s: %w", ps.Name, err)
		}
		conns = append(conns, c)
		s.SetPortMAC(ps.Name, c.Interface().HardwareAddr)
	}
	return conns, nil
}

// closeAll closes the ports first, which ends their sessions and locks
// them, and then the sockets.
func closeAll(conns []*Conn, ports []*pae.Port) {
	for _, p := range ports {
		if p != nil {
			p.Close()
		}
	}
	for _, c := range conns {
		c.Close()
	}
}
