package main

import (
	"os"
	"runtime/debug"
)

// Garbage collector settings of brski registrar when the environment sets
// neither GOGC nor GOMEMLIMIT. The registrar's live heap is small (the
// policy, caches and pending conversations, about 30 KB each), and every
// EAP-TLS handshake allocates about 90 KB that dies with it. At Go's
// default GOGC of 100 the collector then runs every few hundred
// authentications and takes about a tenth of the CPU. A target of 400
// lets the heap grow to five times the live data between collections,
// and the soft limit makes the collector run earlier when the whole
// process nears 1 GiB, which 10,000 pending conversations stay far below.
const (
	registrarGCPercent   = 400
	registrarMemoryLimit = 1 << 30
)

// tuneRegistrarGC applies the registrar's collector settings for each of
// GOGC and GOMEMLIMIT that the environment leaves unset. It returns the
// settings in effect: the GC percent (negative when off) and the memory
// limit in bytes.
func tuneRegistrarGC() (percent int, limit int64) {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(registrarGCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(registrarMemoryLimit)
	}
	percent = debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}
