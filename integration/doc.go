// Package integration holds end-to-end tests that run the brski binary
// against real peers: eapol_test as the supplicant, FreeRADIUS as a proxy
// in front of the registrar's RADIUS server, and radclient.
//
// Each test builds its own lab under t.TempDir() with its own loopback
// ports and stops every process it started. Tests that need an outside
// program skip when it is missing, unless CI=true, where they fail.
package integration
