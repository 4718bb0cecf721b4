package eapest

import (
	"sync/atomic"
	"time"
)

// workerIdle is how long an idle tunnel worker waits for the next tunnel
// before it exits.
const workerIdle = 30 * time.Second

// workerPool runs the goroutines of TLS tunnels on reused goroutines. A
// TLS handshake needs a deeper stack than a new goroutine starts with, and
// growing it by copying took about 5 % of the server's CPU per EAP-TLS
// authentication in a profile. A worker that finished a tunnel keeps its
// grown stack for the next one, until the garbage collector shrinks it.
// The pool holds no more workers than tunnels ran at once, and each exits
// after idle without work.
type workerPool struct {
	idle  time.Duration
	work  chan func()
	live  atomic.Int32 // workers that exist
	ready atomic.Int32 // workers waiting for work
}

func newWorkerPool(idle time.Duration) *workerPool {
	return &workerPool{idle: idle, work: make(chan func())}
}

// tunnelWorkers runs every tunnel of the process.
var tunnelWorkers = newWorkerPool(workerIdle)

// run calls f on a waiting worker, or on a new one when none waits.
func (p *workerPool) run(f func()) {
	select {
	case p.work <- f:
	default:
		p.live.Add(1)
		go p.worker(f)
	}
}

func (p *workerPool) worker(f func()) {
	defer p.live.Add(-1)
	timer := time.NewTimer(p.idle)
	defer timer.Stop()
	for {
		f()
		f = nil // let the finished tunnel be collected while idle
		timer.Reset(p.idle)
		p.ready.Add(1)
		select {
		case f = <-p.work:
			p.ready.Add(-1)
		case <-timer.C:
			p.ready.Add(-1)
			return
		}
	}
}
