package pae

import (
	"fmt"
	"time"

	"github.com/brski-eap/brski/authenticator/eapol"
)

// HostMode is the number of supplicants that a port authenticates.
type HostMode int

// Host modes. The names follow the usual switch configuration terms.
const (
	// SingleHost authenticates one MAC on the port and forwards only its
	// frames. Frames of other MACs are dropped while that session lasts.
	SingleHost HostMode = iota

	// MultiHost authenticates one MAC and then opens the whole port, so
	// hosts behind the supplicant pass without their own authentication.
	MultiHost

	// MultiAuth authenticates every MAC on the port on its own, up to
	// Config.MaxSessions.
	MultiAuth
)

// String returns the configuration name of m.
func (m HostMode) String() string {
	switch m {
	case SingleHost:
		return "single-host"
	case MultiHost:
		return "multi-host"
	case MultiAuth:
		return "multi-auth"
	}
	return fmt.Sprintf("host mode %d", int(m))
}

// Config holds the timers and limits of a Port. The zero value of each
// field selects the default in its comment. The timer names and defaults
// are those of the IEEE 802.1X-2004 state machines.
type Config struct {
	Mode HostMode

	// TxPeriod is the wait between EAP-Request/Identity transmissions,
	// txPeriod. Default 30 s.
	TxPeriod time.Duration

	// SupplicantTimeout is the wait for the EAP-Response to a request of
	// the server before it is sent again, suppTimeout. Default 30 s.
	SupplicantTimeout time.Duration

	// ServerTimeout bounds one Backend.Exchange, retransmissions to the
	// server included, serverTimeout. Default 30 s. It is a context
	// deadline, so it runs on the system clock and not on Clock.
	ServerTimeout time.Duration

	// MaxRequests is how many times one EAP-Request is sent again before the
	// PAE gives up on the supplicant, maxReq. Default 2.
	MaxRequests int

	// QuietPeriod is how long the PAE ignores a supplicant after a failed
	// authentication, quietPeriod. Default 60 s.
	QuietPeriod time.Duration

	// ReauthPeriod is the reauthentication interval of sessions whose
	// Accept carries no Session-Timeout, reAuthPeriod. Default 0, which
	// disables it.
	ReauthPeriod time.Duration

	// StartInterval is the shortest time between two EAPOL-Start PDUs of a
	// supplicant that the PAE acts on. Later ones are dropped, so a
	// supplicant cannot make the PAE flood it or the server. Default 1 s.
	StartInterval time.Duration

	// MaxSessions caps the sessions of a MultiAuth port. Default 16.
	MaxSessions int

	// Version is the EAPOL protocol version of transmitted PDUs. Default
	// eapol.DefaultVersion.
	Version eapol.Version

	// Clock supplies time and timers. Default the system clock.
	Clock Clock

	// Observe, when set, is called with each event of the port. It runs
	// with the port locked, so it must return quickly and must not call
	// the Port.
	Observe func(Event)
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	setDuration(&c.TxPeriod, 30*time.Second)
	setDuration(&c.SupplicantTimeout, 30*time.Second)
	setDuration(&c.ServerTimeout, 30*time.Second)
	setDuration(&c.QuietPeriod, 60*time.Second)
	setDuration(&c.StartInterval, time.Second)
	if c.MaxRequests == 0 {
		c.MaxRequests = 2
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = 16
	}
	if c.Version == 0 {
		c.Version = eapol.DefaultVersion
	}
	if c.Clock == nil {
		c.Clock = systemClock{}
	}
	return c
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// Validate reports the first field of c that is out of range.
func (c Config) Validate() error {
	if c.Mode < SingleHost || c.Mode > MultiAuth {
		return fmt.Errorf("pae: Mode %d is not single-host, multi-host or multi-auth", c.Mode)
	}
	timers := []struct {
		name  string
		value time.Duration
	}{
		{"TxPeriod", c.TxPeriod}, {"SupplicantTimeout", c.SupplicantTimeout},
		{"ServerTimeout", c.ServerTimeout}, {"QuietPeriod", c.QuietPeriod},
		{"ReauthPeriod", c.ReauthPeriod}, {"StartInterval", c.StartInterval},
	}
	for _, timer := range timers {
		if timer.value < 0 {
			return fmt.Errorf("pae: %s is %v; use 0 for the default or a positive duration",
				timer.name, timer.value)
		}
	}
	if c.MaxRequests < 0 || c.MaxSessions < 0 {
		return fmt.Errorf("pae: MaxRequests %d and MaxSessions %d must not be negative",
			c.MaxRequests, c.MaxSessions)
	}
	if c.Version > eapol.Version2010 {
		return fmt.Errorf("pae: EAPOL Version %d is not 1, 2 or 3", c.Version)
	}
	return nil
}
