// Command brski is the single binary of the project. It runs the factory,
// the MASA, the registrar with its RADIUS server, the pledge and the tools
// that inspect vouchers. Each subcommand lives in its own file and registers
// itself with register.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand of brski. Name may contain a space for a
// subcommand of a group, such as "factory init".
type command struct {
	Name    string
	Summary string
	Run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

// register adds a subcommand. It panics on a duplicate name, which is a
// programming error.
func register(c command) {
	if _, ok := commands[c.Name]; ok {
		panic("brski: duplicate command " + c.Name)
	}
	commands[c.Name] = c
}

// exitError carries a process exit code for results that are not failures of
// the program itself, such as "voucher verify" rejecting an object.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args to the subcommand with the longest matching name and
// returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	cmd, rest, ok := lookup(args)
	if sub := subcommands(args[0]); !ok && len(sub) > 0 {
		fmt.Fprintf(stderr, "brski: %q needs a subcommand: %s; run \"brski %s -h\" for "+
			"its flags\n", args[0], strings.Join(sub, ", "), sub[0])
		return 2
	}
	if !ok {
		fmt.Fprintf(stderr, "brski: unknown command %q; run \"brski help\" for the list\n",
			strings.Join(args[:min(2, len(args))], " "))
		return 2
	}
	return exitCode(cmd.Name, cmd.Run(rest, stdout, stderr), stderr)
}

// exitCode prints the error of the command name to stderr and returns the
// process exit code. That is 0 without an error, the code of an
// *exitError, and 1 for anything else. An *interruptError gives 128 plus
// the signal number, as shells report a process that a signal ended.
func exitCode(name string, err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		fmt.Fprintf(stderr, "%v\n", ee.err)
		return ee.code
	}
	fmt.Fprintf(stderr, "brski %s: %v\n", name, err)
	var ie *interruptError
	if errors.As(err, &ie) {
		return 128 + int(ie.signal)
	}
	return 1
}

// interruptError reports that a command stopped because of a signal, such
// as SIGINT from Ctrl-C or SIGTERM from a service manager.
type interruptError struct {
	signal syscall.Signal
}

func (e *interruptError) Error() string {
	switch e.signal {
	case syscall.SIGINT:
		return "interrupted by SIGINT"
	case syscall.SIGTERM:
		return "interrupted by SIGTERM"
	}
	return "interrupted by signal " + e.signal.String()
}

func lookup(args []string) (command, []string, bool) {
	if len(args) >= 2 {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			return c, args[2:], true
		}
	}
	if c, ok := commands[args[0]]; ok {
		return c, args[1:], true
	}
	return command{}, nil, false
}

// subcommands returns the sorted names of the two-word commands whose
// first word is group.
func subcommands(group string) []string {
	var names []string
	for n := range commands {
		if strings.HasPrefix(n, group+" ") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: brski COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-22s %s\n", n, commands[n].Summary)
	}
	fmt.Fprintln(w, "\nRun \"brski COMMAND -h\" for the flags of a command.")
}

// newFlagSet returns a flag set that writes its usage to stderr and returns
// errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("brski "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
