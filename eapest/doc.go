// Package eapest implements TLS inside EAP. It contains the EAP-TLS
// framing of RFC 5216, Section 3, and an in-memory connection that carries
// TLS records over EAP round trips, so crypto/tls runs unmodified. On top
// of them sit the EAP-TLS method of RFC 5216 and RFC 9190 and the EAP-EST
// method, which serves the HTTP/1.1 requests of a BRSKI pledge (RFC 8995)
// inside the tunnel. Each method has a server side, an eap.Method for the
// RADIUS server, and a peer side.
//
// # Server side
//
// TLSServer and ESTServer are method factories, safe for concurrent use.
// An eap.MethodSelector returns their NewMethod values for each
// conversation. A conversation starts its TLS goroutine when the
// ClientHello arrives and ends it when the method finishes or is closed,
// so a conversation that waits for its Identity Response costs no
// goroutine. Each Process call feeds the reassembled peer message to TLS
// and returns when TLS waits for input, has filled its output buffer, or
// has stopped. When the handshake fails, the alert that crypto/tls wrote
// goes to the peer in a Request, and the Failure follows the peer's ACK.
//
// # EAP-EST
//
// EAP-EST uses the EAP-TLS framing with method version 0 in the low bits
// of the flags octet, and type 255 (Experimental) unless configured
// otherwise. The protocol steps are:
//
//   - The TLS handshake, with the IDevID as client certificate. Under
//     TLS 1.3 the server then sends one application data byte 0x00, the
//     protected success indication of RFC 9190, Section 2.1.1, so the peer
//     learns that its IDevID was accepted before it sends a request.
//   - HTTP/1.1 requests and responses, served in order by the configured
//     http.Handler. Requests carry r.TLS and a TunnelInfo in their
//     context. The peer may pipeline requests (Tunnel.RoundTripBatch), so
//     that several travel in one Response and their responses in one
//     Request.
//   - When a round has waited RoundBudget for the handler, the server
//     sends an empty Request. The peer replies with an empty Response,
//     or with data if it has some. Empty Requests and Responses are ACKs
//     when a fragmented message is in flight, and polls otherwise.
//   - The peer ends with close_notify. The server does not reply to it in
//     TLS and sends EAP-Success with the keys: the exporter with the type
//     code as context under TLS 1.3, and the "client EAP encryption" PRF
//     under TLS 1.2.
//
// # Peer side
//
// TLSPeer is an eap.PeerMethod for EAP-TLS. Dial runs an EAP-EST peer over
// a Transport and returns a Tunnel, an http.RoundTripper for the pledge.
package eapest
