package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/brski-eap/brski/masa"
	"github.com/brski-eap/brski/pledge"
	brskiradius "github.com/brski-eap/brski/radius"
)

func init() {
	register(command{
		Name: "bench",
		Summary: "load-test a RADIUS server with EAP-TLS or EAP-EST authentications " +
			"as NAS and supplicant",
		Run: runBench,
	})
}

// Bounds of the bench flags. maxBenchConcurrency stays below the 256 RADIUS
// Identifiers that one client socket has.
const (
	maxBenchCount       = 1_000_000
	maxBenchConcurrency = 200
	minBenchFramedMTU   = 256
	maxBenchFramedMTU   = 9000
	benchMaxRounds      = 100
)

// benchFlags are the flags of "brski bench".
type benchFlags struct {
	server      string
	secretFile  string
	method      string
	count       int
	concurrency int
	framedMTU   int
	timeout     time.Duration
	allowRemote bool
	identity    string
	serverPID   int

	// EAP-TLS credentials: either ldevid or cert and key.
	ldevid     string
	cert       string
	key        string
	ca         string
	serverName string
	tlsMax     string
	group      string
	groupSet   bool // --group was given

	// EAP-EST devices.
	factory   string
	masaTrust string
}

func (f *benchFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.server, "server", "127.0.0.1:1812", "RADIUS server `host:port`; "+
		"only loopback addresses unless --allow-remote")
	fs.StringVar(&f.secretFile, "secret-file", "", "`file` with the RADIUS shared secret")
	fs.StringVar(&f.method, "method", "eap-tls", "EAP method: eap-tls or eap-est")
	fs.IntVar(&f.count, "count", 100, "number of authentications")
	fs.IntVar(&f.concurrency, "concurrency", 1, "authentications in progress at once")
	fs.IntVar(&f.framedMTU, "framed-mtu", 1400, "Framed-MTU in `octets` sent in each "+
		"Access-Request; the supplicant's fragments follow it too")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "limit for one authentication")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow a --server that is not a "+
		"loopback address")
	fs.StringVar(&f.identity, "identity", "", "EAP identity; default the certificate's "+
		"common name for eap-tls and the device's serial number for eap-est")
	fs.IntVar(&f.serverPID, "server-pid", 0, "`pid` of the server process on this host; "+
		"reports its CPU time per authentication")
	fs.StringVar(&f.ldevid, "ldevid", "", "`directory` that brski pledge wrote: "+
		pledge.LDevIDFile+", "+pledge.LDevIDKeyFile+" and "+pledge.DomainCAFile)
	fs.StringVar(&f.cert, "cert", "", "PEM `file` with the client certificate (eap-tls)")
	fs.StringVar(&f.key, "key", "", "PEM `file` with the client private key (eap-tls)")
	fs.StringVar(&f.ca, "ca", "", "PEM `file` with the CA of the server certificate (eap-tls)")
	fs.StringVar(&f.serverName, "server-name", "", "name the server certificate must "+
		"carry; empty checks only the chain, as eapol_test without domain_match does")
	fs.StringVar(&f.tlsMax, "tls-max", "1.3", "highest TLS version offered: 1.2 or 1.3")
	fs.StringVar(&f.group, "group", "p256", "key exchange of the supplicant (eap-tls): "+
		"p256 offers P-256 only, as our pledge does; x25519 offers X25519 and P-256, "+
		"as eapol_test and wpa_supplicant do, so that servers choose X25519")
	fs.StringVar(&f.factory, "factory", "", "factory `directory` whose "+masa.DevicesDir+
		"/*/ hold the IDevIDs (eap-est)")
	fs.StringVar(&f.masaTrust, "masa-trust", "", "PEM `file` with the MASA trust anchors "+
		"(eap-est); default the factory's "+masa.FactoryCAFile)
}

// benchUsageError is a bad flag value, which exits with status 2.
func benchUsageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf("brski bench: "+format, args...)}
}

func (f *benchFlags) validate() error {
	switch {
	case f.secretFile == "":
		return benchUsageError("--secret-file is required")
	case f.method != "eap-tls" && f.method != "eap-est":
		return benchUsageError("invalid --method %q; use eap-tls or eap-est", f.method)
	case f.count < 1 || f.count > maxBenchCount:
		return benchUsageError("--count %d is out of range; use 1 to %d", f.count, maxBenchCount)
	case f.concurrency < 1 || f.concurrency > maxBenchConcurrency:
		return benchUsageError("--concurrency %d is out of range; use 1 to %d", f.concurrency,
			maxBenchConcurrency)
	case f.framedMTU < minBenchFramedMTU || f.framedMTU > maxBenchFramedMTU:
		return benchUsageError("--framed-mtu %d is out of range; use %d to %d", f.framedMTU,
			minBenchFramedMTU, maxBenchFramedMTU)
	case f.timeout <= 0:
		return benchUsageError("--timeout must be positive")
	case f.tlsMax != "1.2" && f.tlsMax != "1.3":
		return benchUsageError("invalid --tls-max %q; use 1.2 or 1.3", f.tlsMax)
	case benchGroups[f.group] == nil:
		return benchUsageError("invalid --group %q; use p256 or x25519", f.group)
	case f.method == "eap-est" && f.groupSet:
		// pledge.BootstrapEAP takes no TLS configuration, so its tunnel
		// offers the peer's default groups.
		return benchUsageError("--group applies to --method eap-tls only; the eap-est " +
			"pledge offers P-256 alone, so remove --group")
	case f.method == "eap-tls" && f.ldevid == "" && (f.cert == "" || f.key == "" || f.ca == ""):
		return benchUsageError("eap-tls needs --ldevid DIR, or --cert, --key and --ca")
	case f.method == "eap-est" && f.factory == "":
		return benchUsageError("eap-est needs --factory DIR")
	}
	return checkBenchTarget(f.server, f.allowRemote)
}

// checkBenchTarget accepts an IP literal or "localhost" with a port, and
// only a loopback address unless allowRemote is set, so that a load test
// never reaches another host by accident.
func checkBenchTarget(server string, allowRemote bool) error {
	host, port, err := net.SplitHostPort(server)
	if err != nil {
		return benchUsageError("invalid --server %q: %v; use host:port", server, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return benchUsageError("invalid port in --server %q; use 1 to 65535", server)
	}
	if host == "localhost" || allowRemote {
		return nil
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return benchUsageError("--server host %q is not an IP address; use 127.0.0.1, ::1 "+
			"or localhost, or pass --allow-remote", host)
	}
	if !addr.IsLoopback() {
		return benchUsageError("--server %s is not a loopback address; pass --allow-remote "+
			"to load-test another host", addr)
	}
	return nil
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	var f benchFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return benchUsageError("unexpected argument %q; run \"brski bench -h\"", fs.Arg(0))
	}
	fs.Visit(func(fl *flag.Flag) { f.groupSet = f.groupSet || fl.Name == "group" })
	if err := f.validate(); err != nil {
		return err
	}
	secret, err := readSecretFile(f.secretFile)
	if err != nil {
		return err
	}
	attempt, err := f.attempter()
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := measureBench(ctx, &f, secret, attempt)
	if err != nil {
		return err
	}
	res.write(stdout, &f)
	if res.failed > 0 {
		return fmt.Errorf("%d of %d authentications failed", res.failed, f.count)
	}
	return nil
}

// measureBench runs the attempts through one RADIUS client and reads the
// server's CPU time around them.
func measureBench(ctx context.Context, f *benchFlags, secret []byte,
	attempt attemptFunc) (*benchResult, error) {
	client := &brskiradius.Client{
		Servers: []brskiradius.ServerAddr{{Addr: f.server, Secret: secret}},
		Timeout: 2 * time.Second,
	}
	defer client.Close()
	cpu0, err := serverCPU(f.serverPID)
	if err != nil {
		return nil, err
	}
	res := runBenchLoop(ctx, f, client, attempt)
	cpu1, err := serverCPU(f.serverPID)
	if err != nil {
		return nil, err
	}
	res.serverCPU = cpu1 - cpu0
	res.retransmissions = client.Stats().Retransmissions
	return res, nil
}

// readSecretFile returns the file's content less one trailing newline, as
// the RADIUS client configuration reads secret_file.
func readSecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read --secret-file: %w", err)
	}
	b = []byte(strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"))
	if len(b) == 0 {
		return nil, fmt.Errorf("--secret-file %s is empty; write the shared secret to it", path)
	}
	return b, nil
}

// attemptFunc runs authentication number i through nas.
type attemptFunc func(ctx context.Context, i int, nas *pledge.NAS) error

// runBenchLoop runs f.count attempts on f.concurrency workers.
func runBenchLoop(ctx context.Context, f *benchFlags, client *brskiradius.Client,
	attempt attemptFunc) *benchResult {
	res := &benchResult{errors: map[string]int{}}
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	start := time.Now()
	for range f.concurrency {
		wg.Go(func() {
			for i := range next {
				nas := &pledge.NAS{Client: client, Identifier: "brski-bench",
					CallingStationID: benchMAC(i), FramedMTU: f.framedMTU}
				actx, cancel := context.WithTimeout(ctx, f.timeout)
				t0 := time.Now()
				err := attempt(actx, i, nas)
				d := time.Since(t0)
				cancel()
				mu.Lock()
				res.add(d, nas.RoundTrips(), err)
				mu.Unlock()
			}
		})
	}
	for i := range f.count {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// benchMAC returns a locally administered MAC address for attempt i, sent as
// Calling-Station-Id in the IEEE 802.1X form (RFC 3580, Section 3.21).
func benchMAC(i int) string {
	return fmt.Sprintf("02-42-00-%02X-%02X-%02X", byte(i>>16), byte(i>>8), byte(i))
}

// benchResult collects the outcome of every attempt.
type benchResult struct {
	latencies       []time.Duration
	rounds          []int
	failed          int
	errors          map[string]int
	elapsed         time.Duration
	serverCPU       time.Duration
	retransmissions uint64
}

func (r *benchResult) add(d time.Duration, rounds int, err error) {
	if err != nil {
		r.failed++
		r.errors[err.Error()]++
		return
	}
	r.latencies = append(r.latencies, d)
	r.rounds = append(r.rounds, rounds)
}

// write prints the report: rates, latency percentiles, round trips and the
// most frequent errors.
func (r *benchResult) write(w io.Writer, f *benchFlags) {
	ok := len(r.latencies)
	fmt.Fprintf(w, "method %s, server %s, count %d, concurrency %d, framed-mtu %d\n",
		f.method, f.server, f.count, f.concurrency, f.framedMTU)
	fmt.Fprintf(w, "succeeded %d, failed %d, elapsed %s, retransmissions %d\n", ok, r.failed,
		r.elapsed.Round(time.Millisecond), r.retransmissions)
	if ok > 0 {
		slices.Sort(r.latencies)
		slices.Sort(r.rounds)
		sum := 0
		for _, n := range r.rounds {
			sum += n
		}
		fmt.Fprintf(w, "rate %.1f authentications/s\n", float64(ok)/r.elapsed.Seconds())
		fmt.Fprintf(w, "latency p50 %s, p99 %s\n", percentile(r.latencies, 50),
			percentile(r.latencies, 99))
		fmt.Fprintf(w, "round trips per authentication: mean %.2f, min %d, max %d\n",
			float64(sum)/float64(ok), r.rounds[0], r.rounds[ok-1])
		if f.serverPID > 0 {
			fmt.Fprintf(w, "server cpu %.3f ms per authentication (pid %d, %s in total)\n",
				float64(r.serverCPU.Microseconds())/1000/float64(ok), f.serverPID, r.serverCPU)
		}
	}
	keys := make([]string, 0, len(r.errors))
	for k := range r.errors {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return r.errors[b] - r.errors[a] })
	for _, k := range keys[:min(5, len(keys))] {
		fmt.Fprintf(w, "error (%d times): %s\n", r.errors[k], k)
	}
}

// percentile returns the p-th percentile of sorted by the nearest-rank
// method, rounded to 10 µs.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1].Round(10 * time.Microsecond)
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat
// (getconf CLK_TCK). It is 100 on the Linux architectures that Go supports.
const clockTicks = 100

// serverCPU returns the user and system CPU time of process pid, or zero
// when pid is zero.
func serverCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of --server-pid %d: %w", pid, err)
	}
	ticks, err := parseProcStatCPU(b)
	if err != nil {
		return 0, fmt.Errorf("read CPU time of --server-pid %d: %w", pid, err)
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// parseProcStatCPU returns utime + stime, fields 14 and 15 of
// /proc/PID/stat (proc(5)). The command name, field 2, is in parentheses
// and may contain spaces and parentheses, so fields are counted after the
// last ')'.
func parseProcStatCPU(b []byte) (uint64, error) {
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat: no command name")
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state), so utime and stime are 11 and 12.
	if len(fields) < 13 {
		return 0, fmt.Errorf("malformed /proc stat: %d fields after the command name",
			len(fields))
	}
	utime, err := strconv.ParseUint(fields[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed /proc stat utime: %w", err)
	}
	stime, err := strconv.ParseUint(fields[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed /proc stat stime: %w", err)
	}
	return utime + stime, nil
}
