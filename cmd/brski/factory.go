package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/brski-eap/brski/masa"
)

func init() {
	register(command{
		Name:    "factory init",
		Summary: "create a virtual factory: factory CA and MASA voucher-signing key",
		Run:     runFactoryInit,
	})
	register(command{
		Name:    "factory mint",
		Summary: "issue an IDevID for a device serial number",
		Run:     runFactoryMint,
	})
}

func runFactoryInit(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("factory init", stderr)
	dir := fs.String("dir", "", "directory to create the factory in (required)")
	name := fs.String("name", "", "manufacturer name, the factory CA organization (required)")
	masaURL := fs.String("masa-url", "", "MASA base URL written into every IDevID, "+
		"such as https://masa.example.com:9443 (required; https:// is added when missing)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *name == "" || *masaURL == "" || fs.NArg() > 0 {
		return &exitError{code: 2, err: errors.New("brski factory init: --dir, --name and " +
			"--masa-url are required and no arguments are allowed; run \"brski factory init -h\"")}
	}
	f, err := masa.InitFactory(*dir, *name, *masaURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "factory CA:          %s\n", filepath.Join(f.Dir, masa.FactoryCAFile))
	fmt.Fprintf(stdout, "voucher signing:     %s\n", filepath.Join(f.Dir, masa.SigningCertFile))
	fmt.Fprintf(stdout, "MASA URL in IDevIDs: %s\n", f.MASAURL)
	return nil
}

func runFactoryMint(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("factory mint", stderr)
	dir := fs.String("dir", "", "factory directory of \"brski factory init\" (required)")
	serial := fs.String("serial", "", "device serial number, the IDevID subject "+
		"serialNumber (required)")
	model := fs.String("model", "", "device model, the IDevID subject commonName")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *serial == "" || fs.NArg() > 0 {
		return &exitError{code: 2, err: errors.New("brski factory mint: --dir and --serial " +
			"are required and no arguments are allowed; run \"brski factory mint -h\"")}
	}
	f, err := masa.OpenFactory(*dir)
	if err != nil {
		return err
	}
	d, err := f.Mint(*serial, *model)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "idevid: %s\nkey:    %s\n", d.CertFile, d.KeyFile)
	return nil
}
