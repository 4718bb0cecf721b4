package eapest

import (
	"sync"
	"testing"
	"time"
)

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWorkerPoolReusesWaitingWorker(t *testing.T) {
	p := newWorkerPool(time.Hour)
	const runs = 20
	for range runs {
		// A worker counts as ready just before it blocks on the work
		// channel, so a call at that moment may still start a new worker.
		// This is rare, and the bound below allows for it.
		waitFor(t, "the workers to wait", func() bool { return p.ready.Load() == p.live.Load() })
		done := make(chan struct{})
		p.run(func() { close(done) })
		<-done
	}
	if got := p.live.Load(); got > runs/4 {
		t.Errorf("workers after %d calls one after another = %d, want at most %d",
			runs, got, runs/4)
	}
}

func TestWorkerPoolIdleWorkersExit(t *testing.T) {
	p := newWorkerPool(10 * time.Millisecond)
	const n = 4
	var started, release sync.WaitGroup
	started.Add(n)
	release.Add(1)
	var finished sync.WaitGroup
	finished.Add(n)
	for range n {
		p.run(func() {
			defer finished.Done()
			started.Done()
			release.Wait()
		})
	}
	// All n run at once, so none of them can wait for another's worker.
	started.Wait()
	if got := p.live.Load(); got != n {
		t.Errorf("workers while %d calls block = %d, want %d", n, got, n)
	}
	release.Done()
	finished.Wait()
	waitFor(t, "idle workers to exit", func() bool { return p.live.Load() == 0 })
}
