// Package radius implements a RADIUS authentication server and client on top
// of the layeh.com/radius codec.
//
// The codec parses and encodes packets. This package adds what a home server
// for 802.1X needs and the codec lacks:
//
//   - Message-Authenticator checks on every Access-Request and Status-Server
//     and on every reply (RFC 3579, Section 3.2), which also defends against
//     the BlastRADIUS attack (CVE-2024-3596);
//   - EAP-Message reassembly and splitting (RFC 3579, Section 3.1);
//   - a duplicate cache that replays the cached reply to a retransmission
//     (RFC 5080, Section 2.2.2);
//   - Status-Server (RFC 5997) and Proxy-State (RFC 2865, Section 5.33);
//   - a State table bound to the client and Calling-Station-Id;
//   - a fixed worker pool with a bounded queue, so a flood of datagrams
//     costs a counter and never a goroutine;
//   - reply attribute helpers for VLAN assignment (RFC 3580, Section 3.31),
//     MS-MPPE keys (RFC 2548, Section 2.4.2) and vendor attributes.
//
// Client sends requests with retransmission, failover and failback.
//
// The package never logs. Servers report dropped packets through counters
// and a rate-limited hook.
package radius
