package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseExpectedDevicesCSV(t *testing.T) {
	src := "serial,manufacturer,tags\n" +
		"# registered by the orchestrator\n" +
		"A-1,acme,core;lab\n" +
		"\n" +
		"B-2\n" +
		"C-3, printco , ; floor-2 ;\n" +
		"\"D,4\",acme,\n" +
		"  #indented comment\n"
	got, err := ParseExpectedDevicesCSV(strings.NewReader(src))
	if err != nil {
		t.Fatalf("ParseExpectedDevicesCSV: %v", err)
	}
	want := []ExpectedDevice{
		{Serial: "A-1", Manufacturer: "acme", Tags: []string{"core", "lab"}},
		{Serial: "B-2"},
		{Serial: "C-3", Manufacturer: "printco", Tags: []string{"floor-2"}},
		{Serial: "D,4", Manufacturer: "acme"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("devices (-want +got):\n%s", diff)
	}
}

func TestParseExpectedDevicesCSVErrors(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		wantLine int
	}{
		{"empty serial", "A-1\n,acme\n", 2},
		{"too many fields", "serial\nA-1,acme,core,extra\n", 2},
		{"bad tag", "A-1\nB-2\nC-3,acme,a,b\n", 3},
		{"duplicate serial", "A-1\n# comment\nA-1,acme\n", 3},
		{"unterminated quote", "A-1\n\"B-2\n", 2},
		{"control character", "A-1\nB\x01\n", 2},
		{"header not first", "A-1\nserial,manufacturer,tags\nserial\n", 3},
		{"invalid UTF-8 serial", "A-1\n\xff\xfe\n", 2},
		{"invalid UTF-8 manufacturer", "A-1,\xff\n", 1},
		{"invalid UTF-8 tag", "A-1,acme,ok;\xff\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseExpectedDevicesCSV(strings.NewReader(tt.src))
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("error = %v; want an *ImportError", err)
			}
			if ie.Line != tt.wantLine {
				t.Errorf("error line = %d (%v); want %d", ie.Line, err, tt.wantLine)
			}
		})
	}
}

func TestImportExpectedDevices(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	old := ExpectedDevice{Serial: "A-1", Manufacturer: "old"}
	if err := s.AddExpectedDevice(ctx, old); err != nil {
		t.Fatal(err)
	}
	n, err := s.ImportExpectedDevices(ctx, strings.NewReader("A-1,acme,core\nB-2,acme\n"))
	if err != nil {
		t.Fatalf("ImportExpectedDevices: %v", err)
	}
	if n != 2 {
		t.Errorf("ImportExpectedDevices stored %d devices; want 2", n)
	}
	_, err = s.ImportExpectedDevices(ctx, strings.NewReader("C-3\n,bad\n"))
	var ie *ImportError
	if !errors.As(err, &ie) || ie.Line != 2 {
		t.Errorf("ImportExpectedDevices of a bad file = %v; want an *ImportError on line 2", err)
	}
	list, err := s.ExpectedDevices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []ExpectedDevice{
		{Serial: "A-1", Manufacturer: "acme", Tags: []string{"core"}},
		{Serial: "B-2", Manufacturer: "acme"},
	}
	if diff := cmp.Diff(want, list, cmpopts.IgnoreFields(ExpectedDevice{}, "Added")); diff != "" {
		t.Errorf("devices after import (-want +got):\n%s", diff)
	}
}

// FuzzParseExpectedDevicesCSV checks that any input gives devices that
// pass Validate, or an error, and never a panic.
func FuzzParseExpectedDevicesCSV(f *testing.F) {
	f.Add([]byte("serial,manufacturer,tags\nA-1,acme,core;lab\nB-2\n"))
	f.Add([]byte("\"a\"\"b\",x,\n# c\n\n"))
	f.Add([]byte("A\n\"B\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		devices, err := ParseExpectedDevicesCSV(strings.NewReader(string(src)))
		if err != nil {
			return
		}
		for _, d := range devices {
			if err := d.Validate(); err != nil {
				t.Fatalf("parsed device %+v is invalid: %v", d, err)
			}
		}
	})
}

func TestParseExpectedDevicesCSVByteOrderMark(t *testing.T) {
	got, err := ParseExpectedDevicesCSV(strings.NewReader("\uFEFFserial,manufacturer,tags\nA-1\n"))
	if err != nil {
		t.Fatalf("ParseExpectedDevicesCSV: %v", err)
	}
	if diff := cmp.Diff([]ExpectedDevice{{Serial: "A-1"}}, got); diff != "" {
		t.Errorf("devices (-want +got):\n%s", diff)
	}
}

func TestParseExpectedDevicesCSVQuotesShort(t *testing.T) {
	long := strings.Repeat("S", 100000)
	_, err := ParseExpectedDevicesCSV(strings.NewReader(long + "\n"))
	if err == nil {
		t.Fatal("ParseExpectedDevicesCSV accepted a 100000-byte serial")
	}
	if n := len(err.Error()); n > 200 {
		t.Errorf("error is %d bytes long; want the value cut to %d bytes", n, maxQuotedValue)
	}
	if !strings.Contains(err.Error(), "...") {
		t.Errorf("error %q does not mark the cut", err)
	}
}
