package eapserver_test

import (
	"context"
	"errors"
	"testing"
	"time"

	layeh "layeh.com/radius"

	"github.com/brski-eap/brski/eapserver"
	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/radius"
)

// startConversation sends an EAP-Response/Identity from a new NAS session
// and returns that NAS, whose next request carries the server's State.
func (e *env) startConversation(mac string) *pledge.NAS {
	e.t.Helper()
	nas := e.nas(mac)
	identity := append([]byte{2, 1, 0, 0, 1}, "SN-SWEEP"...)
	identity[3] = byte(len(identity))
	if _, err := nas.Exchange(context.Background(), identity); err != nil {
		e.t.Fatalf("Identity exchange: %v", err)
	}
	return nas
}

// waitFor polls cond until it is true, and fails the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSweepSessionsExpiresIdleConversation(t *testing.T) {
	sessions := &radius.Sessions{TTL: 50 * time.Millisecond}
	e := newEnvServer(t, nil, func(c *eapserver.Config) { c.Sessions = sessions })
	e.startConversation("02-00-00-00-50-01")
	if got := sessions.Len(); got != 1 {
		t.Fatalf("live sessions after the Identity = %d, want 1", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		e.server.SweepSessions(ctx, 10*time.Millisecond)
		close(done)
	}()
	// No request arrives, so only the sweeper can remove the session.
	waitFor(t, "the sweeper removes the abandoned session",
		func() bool { return sessions.Len() == 0 })
	if got := sessions.Stats().Expired; got != 1 {
		t.Errorf("expired sessions = %d, want 1", got)
	}
	cancel()
	<-done
}

func TestSweepSessionsClearsAtEnd(t *testing.T) {
	sessions := &radius.Sessions{TTL: time.Hour}
	e := newEnvServer(t, nil, func(c *eapserver.Config) { c.Sessions = sessions })
	nas := e.startConversation("02-00-00-00-50-02")

	ctx, cancel := context.WithCancel(context.Background())
	closed := make(chan int, 1)
	go func() { closed <- e.server.SweepSessions(ctx, time.Hour) }()
	cancel()
	if n := <-closed; n != 1 {
		t.Errorf("SweepSessions closed %d conversations, want 1", n)
	}
	if got := sessions.Len(); got != 0 {
		t.Errorf("live sessions after SweepSessions returned = %d, want 0", got)
	}
	// The conversation is gone, so its State is unknown now.
	nak := []byte{2, 2, 0, 6, 3, 0}
	if _, err := nas.Exchange(context.Background(), nak); err != nil {
		t.Fatalf("Nak exchange: %v", err)
	}
	if final, _ := nas.Final(); final == nil || final.Code != layeh.CodeAccessReject {
		t.Errorf("reply to the cleared State = %v, want Access-Reject", final)
	}
	if err := e.lastResult().Err; !errors.Is(err, radius.ErrUnknownState) {
		t.Errorf("reject cause = %v, want ErrUnknownState", err)
	}
}
