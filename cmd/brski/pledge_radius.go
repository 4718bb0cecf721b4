package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/brski-eap/brski/pledge"
	"github.com/brski-eap/brski/radius"
)

// registerRADIUS adds the flags of "brski pledge --radius".
func (f *pledgeFlags) registerRADIUS(fs *flag.FlagSet) {
	fs.StringVar(&f.radius, "radius", "", "bootstrap over RADIUS instead of HTTPS: the "+
		"`host:port` of the registrar's RADIUS server, reached through a simulated NAS")
	fs.StringVar(&f.secretFile, "secret-file", "", "`file` with the RADIUS shared secret "+
		"of the simulated NAS (with --radius)")
	fs.StringVar(&f.mac, "mac", "", "Calling-Station-Id of the simulated port (with "+
		"--radius); default: a locally administered MAC derived from --out")
	fs.BoolVar(&f.eapTLS, "eap-tls", false, "with --radius: authenticate with EAP-TLS "+
		"using the LDevID in --out, and print the VLAN, instead of bootstrapping")
	fs.StringVar(&f.identity, "identity", "", "EAP identity (with --radius); default: the "+
		"serial number of the certificate. SERIAL@REALM with a realm of the registrar's "+
		"est_realms starts EAP-EST without a Nak, one round trip less")
}

// flagConflict is a pair of pledge flags that must not be set together,
// because they select different transports or because the transport that
// the first selects ignores the second.
type flagConflict struct {
	first, second string
	set           func(f *pledgeFlags) bool
	advice        string // which flag to drop for which goal
}

var pledgeConflicts = []flagConflict{
	{"--radius", "--interface", func(f *pledgeFlags) bool {
		return f.radius != "" && f.interfaces != ""
	}, "drop --interface to bootstrap over RADIUS through the simulated NAS, or " +
		"drop --radius to bootstrap over 802.1X on the interface"},
	{"--radius", "--registrar", func(f *pledgeFlags) bool {
		return f.radius != "" && f.registrar != ""
	}, "drop --registrar to bootstrap over RADIUS, or drop --radius to bootstrap over HTTPS"},
	{"--eap-tls", "--interface", func(f *pledgeFlags) bool {
		return f.eapTLS && f.radius == "" && f.interfaces != ""
	}, "drop --eap-tls, because with --interface the pledge runs EAP-TLS by itself once " +
		"--out holds an LDevID"},
	{"--eap-tls", "--registrar", func(f *pledgeFlags) bool {
		return f.eapTLS && f.radius == "" && f.registrar != ""
	}, "drop --eap-tls to bootstrap over HTTPS; EAP-TLS runs only over --radius or " +
		"--interface"},
	{"--eap-tls", "--idevid", func(f *pledgeFlags) bool {
		return f.eapTLS && f.radius != "" && f.idevid != ""
	}, eapTLSIgnores("--idevid")},
	{"--eap-tls", "--key", func(f *pledgeFlags) bool {
		return f.eapTLS && f.radius != "" && f.key != ""
	}, eapTLSIgnores("--key")},
	{"--eap-tls", "--masa-trust", func(f *pledgeFlags) bool {
		return f.eapTLS && f.radius != "" && f.masaTrust != ""
	}, eapTLSIgnores("--masa-trust")},
	{"--reset", "--radius", func(f *pledgeFlags) bool {
		return f.reset && f.radius != ""
	}, "drop --reset, because it forgets the enrollment record of --interface, which " +
		"--radius neither reads nor writes"},
}

// eapTLSIgnores is the advice for a bootstrap flag given with --eap-tls.
func eapTLSIgnores(name string) string {
	return "drop " + name + ", because EAP-TLS authenticates with the LDevID and key in " +
		"--out, or drop --eap-tls to bootstrap with the IDevID"
}

// radiusOnlyFlags are the flags that only the RADIUS transport reads.
var radiusOnlyFlags = []struct {
	name string
	set  func(f *pledgeFlags) bool
}{
	{"--eap-tls", func(f *pledgeFlags) bool { return f.eapTLS }},
	{"--secret-file", func(f *pledgeFlags) bool { return f.secretFile != "" }},
	{"--mac", func(f *pledgeFlags) bool { return f.mac != "" }},
	{"--identity", func(f *pledgeFlags) bool { return f.identity != "" }},
}

// checkConflicts returns a usage error for the first pair of flags that
// must not be set together, and for a flag that only another transport
// reads.
func (f *pledgeFlags) checkConflicts() error {
	for _, c := range pledgeConflicts {
		if c.set(f) {
			return &exitError{code: 2, err: fmt.Errorf("brski pledge: %s and %s cannot "+
				"be used together; %s", c.first, c.second, c.advice)}
		}
	}
	if f.radius == "" {
		for _, o := range radiusOnlyFlags {
			if o.set(f) {
				return &exitError{code: 2, err: fmt.Errorf("brski pledge: %s requires "+
					"--radius; add --radius HOST:PORT or drop %s", o.name, o.name)}
			}
		}
	}
	if f.reset && f.interfaces == "" {
		return &exitError{code: 2, err: errors.New("brski pledge: --reset requires " +
			"--interface, whose enrollment record it forgets; add --interface or " +
			"drop --reset")}
	}
	return nil
}

func (f *pledgeFlags) validateRADIUS() error {
	req := []struct{ name, value string }{{"--secret-file", f.secretFile}, {"--out", f.out}}
	if !f.eapTLS {
		req = append(req, struct{ name, value string }{"--idevid", f.idevid},
			struct{ name, value string }{"--key", f.key},
			struct{ name, value string }{"--masa-trust", f.masaTrust})
	}
	for _, r := range req {
		if r.value == "" {
			return &exitError{code: 2, err: fmt.Errorf("brski pledge: %s is required "+
				"with --radius", r.name)}
		}
	}
	if err := checkIdentity(f.identity); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("brski pledge: invalid --identity: %w", err)}
	}
	return nil
}

// maxIdentity is the longest EAP identity that brski pledge sends, the
// most that one User-Name attribute carries (RFC 2865, Section 5.1).
const maxIdentity = 253

// checkIdentity rejects an --identity that is too long, not printable
// UTF-8, or an NAI with an empty realm (RFC 7542, Section 2.2). Printable
// means unicode.IsPrint, so the ASCII space is the only space allowed,
// and format characters such as U+202E are rejected. Empty selects the
// default identity.
func checkIdentity(id string) error {
	switch {
	case len(id) > maxIdentity:
		return fmt.Errorf("%d octets, more than %d; use SERIAL or SERIAL@REALM",
			len(id), maxIdentity)
	case !utf8.ValidString(id):
		return errors.New("invalid UTF-8; use SERIAL or SERIAL@REALM")
	case strings.ContainsFunc(id, unicode.IsControl):
		return fmt.Errorf("%q contains a control character; use SERIAL or SERIAL@REALM", id)
	case strings.HasSuffix(id, "@"):
		return fmt.Errorf("%q has an empty realm after \"@\"; use SERIAL or SERIAL@REALM",
			id)
	}
	if i := strings.IndexFunc(id, notPrintable); i >= 0 {
		r, _ := utf8.DecodeRuneInString(id[i:])
		return fmt.Errorf("%q contains %U, which is not printable; use SERIAL or "+
			"SERIAL@REALM", id, r)
	}
	return nil
}

func notPrintable(r rune) bool { return !unicode.IsPrint(r) }

// pledgeRADIUSTimeout is the wait for a reply after each transmission of
// "brski pledge --radius". Tests shorten it.
var pledgeRADIUSTimeout = radius.DefaultTimeout

// runPledgeRADIUS runs "brski pledge --radius": a bootstrap over EAP-EST,
// or with --eap-tls an EAP-TLS authentication, through a simulated NAS.
func runPledgeRADIUS(ctx context.Context, f *pledgeFlags, stdout, stderr io.Writer) error {
	secret, err := readSecret(f.secretFile)
	if err != nil {
		return err
	}
	client := &radius.Client{Servers: []radius.ServerAddr{{Addr: f.radius, Secret: secret}},
		Timeout: pledgeRADIUSTimeout}
	defer client.Close()
	nas := newPledgeNAS(client, f.out)
	if f.mac != "" {
		nas.CallingStationID = f.mac
	}
	start := time.Now()
	if f.eapTLS {
		err := authenticateLDevID(ctx, nas, f.out, f.identity)
		return printRADIUSOutcome(stdout, nas, "EAP-TLS", noReply(err, nas, f.radius, start))
	}
	p, err := f.load()
	if err != nil {
		return err
	}
	p.Trace = progress(stdout, hclog.New(&hclog.LoggerOptions{Name: "pledge",
		Output: stderr}))
	res, _, err := p.BootstrapEAP(ctx, nas, pledge.EAPConfig{Identity: f.identity})
	if err == nil {
		err = res.WriteFiles(f.out)
	}
	if err == nil {
		fmt.Fprintf(stdout, "wrote %s, %s and %s\n", filepath.Join(f.out, pledge.LDevIDFile),
			filepath.Join(f.out, pledge.LDevIDKeyFile), filepath.Join(f.out, pledge.DomainCAFile))
	}
	return printRADIUSOutcome(stdout, nas, "EAP-EST", noReply(err, nas, f.radius, start))
}

// noReplyError is a RADIUS exchange of the pledge that got no reply. It
// names the likely causes, because a server drops a request with a wrong
// Message-Authenticator without a reply (RFC 3579, Section 3.2), so a wrong
// secret looks the same as a wrong address.
type noReplyError struct {
	server string
	sends  int
	took   time.Duration
	trips  int // round trips before the one without a reply
	err    error
}

func (e *noReplyError) Error() string {
	if e.trips == 0 {
		return fmt.Sprintf("no reply from %s after %d transmissions in %s; check --radius and "+
			"--secret-file (a server drops requests with a wrong secret without answering)",
			e.server, e.sends, e.took.Round(100*time.Millisecond))
	}
	return fmt.Sprintf("RADIUS server %s stopped replying after %d round trips: no reply "+
		"to %d transmissions; check the registrar's log", e.server, e.trips, e.sends)
}

func (e *noReplyError) Unwrap() error { return e.err }

// noReply returns err as a *noReplyError when the RADIUS server of nas
// sent no reply, and err unchanged otherwise.
//
// NOTE: radius.Client ignores the ICMP port unreachable of a closed port
// and waits for every retransmission, so a closed port also reports
// "no reply" rather than "connection refused".
func noReply(err error, nas *pledge.NAS, server string, start time.Time) error {
	if !errors.Is(err, radius.ErrTimeout) {
		return err
	}
	return &noReplyError{server: server, sends: radius.DefaultRetries + 1,
		took: time.Since(start), trips: nas.RoundTrips(), err: err}
}

// printRADIUSOutcome prints the final RADIUS reply of nas, if one came. A
// reject is an error with exit code 1.
func printRADIUSOutcome(w io.Writer, nas *pledge.NAS, method string, err error) error {
	outcome, vlan, trips := finalOutcome(nas)
	if outcome == "none" {
		if err == nil {
			err = fmt.Errorf("%s ended after %d RADIUS round trips without Access-Accept "+
				"or Access-Reject", method, trips)
		}
		return err
	}
	if vlan == "" {
		vlan = "none"
	}
	fmt.Fprintf(w, "%s: Access-%s, VLAN %s, %d RADIUS round trips\n", method,
		strings.ToUpper(outcome[:1])+outcome[1:], vlan, trips)
	if err != nil {
		return err
	}
	if outcome != "accept" {
		return fmt.Errorf("%s ended with Access-%s", method, outcome)
	}
	return nil
}
