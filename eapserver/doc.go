// Package eapserver is the EAP backend authentication server of RFC 3748,
// Section 1.2 behind a RADIUS server: it turns Access-Requests that carry
// EAP-Message (RFC 3579) into EAP conversations and their replies.
//
// Each conversation offers EAP-TLS (RFC 5216, RFC 9190) first and EAP-EST
// second. A device with an LDevID, or any stock supplicant such as
// wpa_supplicant and eapol_test, runs EAP-TLS. A pledge without a domain
// certificate replies to the EAP-TLS Request with a Nak that lists EAP-EST, and
// the conversation switches to it, at the cost of one round trip. By
// default the identity is not used to choose, because supplicants send
// free-form identities. Config.ESTRealms opts NAI realms into EAP-EST
// first, which saves that round trip for pledges that use them.
//
// Inside an EAP-EST tunnel the registrar's http.Handler serves the BRSKI and
// EST routes with one registrar session per tunnel, so that simpleenroll
// follows a voucher exchange of the same tunnel, and with the NAS facts of
// the Access-Request for the acceptance policy. The Access-Accept carries
// the policy's reply attributes: the RFC 3580 VLAN triplet,
// Session-Timeout with Termination-Action, Filter-Id and vendor attributes,
// and MS-MPPE-Send-Key and MS-MPPE-Recv-Key from the method's MSK.
//
// EAP-TLS checks the LDevID against the domain CA during the handshake,
// so an unknown CA gets a TLS alert before the EAP-Failure. A revoked or
// unknown LDevID gets the same. After the handshake, the policy decides
// again from the device's enrollment record and the NAS facts, which gives
// the VLAN.
package eapserver
