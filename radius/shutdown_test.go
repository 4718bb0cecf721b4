package radius

import (
	"context"
	"errors"
	"net"
	"testing"
)

// serveManually starts a server without the cleanup of startServer.
func serveManually(t *testing.T, h Handler) (*Server, string, chan error) {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Clients: testClients(t), Handler: h}
	served := make(chan error, 1)
	go func() { served <- s.Serve(conn) }()
	return s, conn.LocalAddr().String(), served
}

func TestShutdownWaitsForInFlightHandler(t *testing.T) {
	h := blockingHandler()
	s, addr, served := serveManually(t, h)
	conn := dialFrom(t, "127.0.0.1", addr)
	b := encodeRequest(t, accessRequest(t, testSecret))
	send(t, conn, b)
	<-h.entered

	shutdown := make(chan error, 1)
	go func() { shutdown <- s.Shutdown(context.Background()) }()
	waitFor(t, "Serve to stop reading", func() bool { return s.closing.Load() })
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned %v while a handler was running", err)
	default:
	}
	close(h.gate)
	checkReply(t, receive(t, conn), b, testSecret)
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
}

func TestShutdownDeadlineCancelsHandlers(t *testing.T) {
	h := blockingHandler()
	s, addr, served := serveManually(t, h)
	conn := dialFrom(t, "127.0.0.1", addr)
	send(t, conn, encodeRequest(t, accessRequest(t, testSecret)))
	<-h.entered

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown: %v, want context.Canceled", err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	waitDropped(t, s, DropHandlerError, 1)
}

func TestServeAfterShutdown(t *testing.T) {
	s := &Server{Clients: testClients(t), Handler: &countingHandler{}}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(conn); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Shutdown: %v, want ErrServerClosed", err)
	}
}

func TestServeNeedsHandlerAndClients(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Server{}).Serve(conn); err == nil || errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve without Handler: %v, want a configuration error", err)
	}
}

func TestListenAndServeShutdown(t *testing.T) {
	s := &Server{Addr: "127.0.0.1:0", Clients: testClients(t), Handler: &countingHandler{}}
	served := make(chan error, 1)
	go func() { served <- s.ListenAndServe() }()
	waitFor(t, "the socket", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.conn != nil
	})
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("ListenAndServe returned %v, want ErrServerClosed", err)
	}
}
