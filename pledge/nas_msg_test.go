package pledge

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/brski-eap/brski/radius"
)

// TestBootstrapEAPNoReply checks that a RADIUS server that never replies,
// as one with another shared secret does (RFC 3579, Section 3.2), ends the
// bootstrap with radius.ErrTimeout rather than an EAP parse error.
func TestBootstrapEAPNoReply(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, _, err := silent.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	client := &radius.Client{Servers: []radius.ServerAddr{{Addr: silent.LocalAddr().String(),
		Secret: []byte("secret")}}, Retries: -1, Timeout: time.Millisecond}
	defer client.Close()
	nas := &NAS{Client: client, CallingStationID: "02-00-00-00-00-01"}
	_, _, err = newTestPKI(t).pledge().BootstrapEAP(t.Context(), nas, EAPConfig{})
	if !errors.Is(err, radius.ErrTimeout) {
		t.Errorf("BootstrapEAP error = %v, want radius.ErrTimeout", err)
	}
	if got := nas.RoundTrips(); got != 0 {
		t.Errorf("RoundTrips = %d, want 0", got)
	}
}

func TestNASString(t *testing.T) {
	client := &radius.Client{Servers: []radius.ServerAddr{{Addr: "127.0.0.1:1812",
		Secret: []byte("secret")}, {Addr: "[::1]:1812", Secret: []byte("secret")}}}
	nas := &NAS{Client: client}
	if got, want := nas.String(), "RADIUS servers 127.0.0.1:1812, [::1]:1812"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
