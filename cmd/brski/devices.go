package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/brski-eap/brski/store"
)

// defaultDataDir is where the registrar keeps its stores unless --data
// sets another directory. It is relative to the working directory, so commands run
// inside a lab directory made by "brski init DIR" find DIR/data.
const defaultDataDir = "data"

// registrarStoreName is the file name of the registrar store in the data
// directory.
const registrarStoreName = "registrar.db"

func init() {
	register(command{Name: "devices add", Summary: "register an expected device by serial",
		Run: runDevicesAdd})
	register(command{Name: "devices list", Summary: "list the expected devices",
		Run: runDevicesList})
	register(command{Name: "devices remove", Summary: "remove an expected device",
		Run: runDevicesRemove})
	register(command{Name: "devices import",
		Summary: "register expected devices from CSV rows of serial,manufacturer,tags",
		Run:     runDevicesImport})
}

// storeFlags are the flags that select the registrar store.
type storeFlags struct {
	data string
	path string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", defaultDataDir,
		"data directory; the store is DIR/"+registrarStoreName)
	fs.StringVar(&f.path, "store", "", "path of the registrar store (overrides --data)")
}

// open opens the selected store for writing. Unless create is set, the
// store must exist, so that a mistyped --data does not list an empty new
// store.
func (f *storeFlags) open(ctx context.Context, create bool) (*store.Store, error) {
	path := f.storePath()
	if !create {
		if err := checkStoreExists(path); err != nil {
			return nil, err
		}
	}
	return store.Open(ctx, path)
}

// openReadOnly opens the selected store for the listing commands, which
// need only read access to it (see store.OpenReadOnly).
func (f *storeFlags) openReadOnly(ctx context.Context) (*store.Store, error) {
	path := f.storePath()
	if err := checkStoreExists(path); err != nil {
		return nil, err
	}
	return store.OpenReadOnly(ctx, path)
}

func (f *storeFlags) storePath() string {
	if f.path != "" {
		return f.path
	}
	return filepath.Join(f.data, registrarStoreName)
}

func checkStoreExists(path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no registrar store at %s; pass --data DIR or --store PATH", path)
	}
	return nil
}

// usageError is a wrong invocation, which exits with code 2.
func usageError(fs *flag.FlagSet, format string, args ...any) error {
	fs.Usage()
	return &exitError{code: 2, err: fmt.Errorf(fs.Name()+": "+format, args...)}
}

// parseFlagsOnly parses args for a command that takes no positional
// arguments. An invalid flag is a usage error, which exits with code 2.
func parseFlagsOnly(fs *flag.FlagSet, args []string) error {
	rest, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("%s: %w", fs.Name(), err)}
	}
	if len(rest) > 0 {
		if fs.Lookup("serial") != nil {
			return usageError(fs, "unexpected argument %q; name a device with --serial %s",
				rest[0], rest[0])
		}
		return usageError(fs, "unexpected argument %q", rest[0])
	}
	return nil
}

func runDevicesAdd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("devices add", stderr)
	var sf storeFlags
	sf.register(fs)
	serial := fs.String("serial", "", "serialNumber of the device's IDevID subject (required)")
	manufacturer := fs.String("manufacturer", "", "colloquial manufacturer name, such as acme")
	tags := fs.String("tags", "", "comma-separated tags for policies, such as core,floor-2")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if *serial == "" {
		return usageError(fs, "--serial is required")
	}
	d := store.ExpectedDevice{Serial: *serial, Manufacturer: *manufacturer,
		Tags: splitTags(*tags)}
	ctx := context.Background()
	s, err := sf.open(ctx, true)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.AddExpectedDevice(ctx, d); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s\n", d.Serial)
	return nil
}

func splitTags(s string) []string {
	var tags []string
	for _, tag := range strings.Split(s, ",") {
		if tag = strings.TrimSpace(tag); tag != "" {
			tags = append(tags, tag)
		}
	}
	return tags
}

func runDevicesList(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("devices list", stderr)
	var sf storeFlags
	sf.register(fs)
	asCSV := fs.Bool("csv", false, "print CSV that \"brski devices import\" reads back")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sf.openReadOnly(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	devices, err := s.ExpectedDevices(ctx)
	if err != nil {
		return err
	}
	if *asCSV {
		return writeDevicesCSV(stdout, devices)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIAL\tMANUFACTURER\tTAGS\tADDED")
	for _, d := range devices {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Serial, d.Manufacturer,
			strings.Join(d.Tags, ","), d.Added.Format(time.RFC3339))
	}
	return tw.Flush()
}

func writeDevicesCSV(w io.Writer, devices []store.ExpectedDevice) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"serial", "manufacturer", "tags"})
	for _, d := range devices {
		cw.Write([]string{d.Serial, d.Manufacturer, strings.Join(d.Tags, ";")})
	}
	cw.Flush()
	return cw.Error()
}

func runDevicesRemove(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("devices remove", stderr)
	var sf storeFlags
	sf.register(fs)
	serial := fs.String("serial", "", "serial of the device to remove (required)")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if *serial == "" {
		return usageError(fs, "--serial is required")
	}
	ctx := context.Background()
	s, err := sf.open(ctx, false)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.RemoveExpectedDevice(ctx, *serial); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed %s\n", *serial)
	return nil
}

func runDevicesImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("devices import", stderr)
	var sf storeFlags
	sf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: brski devices import [--data DIR | --store PATH] FILE.csv")
		fmt.Fprintln(stderr, "Rows are serial,manufacturer,tags with tags separated by ';'; "+
			"a header row is optional.")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	path, err := oneFile("devices import", rest)
	if err != nil {
		return err
	}

	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx := context.Background()
	s, err := sf.open(ctx, true)
	if err != nil {
		return err
	}
	defer s.Close()

	n, err := s.ImportExpectedDevices(ctx, f)
	var ie *store.ImportError
	if errors.As(err, &ie) {
		return fmt.Errorf("%s:%d: %w; nothing was imported", path, ie.Line, ie.Err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d %s from %s\n", n, plural(n, "device"), path)
	return nil
}

// plural returns noun, with an "s" unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}
