# Registrar configuration: brski registrar --config examples/registrar.hcl
# Relative paths are relative to this file. docs/configuration.md describes
# every field.

listen   = "127.0.0.1:8443"
data_dir = "registrar-data"

# Names in the generated registrar certificate (the TLS server certificate
# and the id-kp-cmcRA signer of registrar voucher requests).
hostnames = ["localhost", "127.0.0.1", "::1"]

# Answer 202 with Retry-After when the MASA has not answered in this time.
voucher_wait = "2s"
retry_after  = "5s"

ldevid_validity = "8760h"

# Without a domain_ca block the registrar generates an ECDSA P-256 CA in data_dir.
# domain_ca {
#   cert = "/etc/brski/domain-ca.pem"
#   key  = "/etc/brski/domain-ca.key"
# }

manufacturer "acme" {
  ca         = "factory/ca.crt.pem"
  masa_trust = "factory/ca.crt.pem"
  # masa_url = "masa.acme.example:9443"
}

masa_client {
  # trust      = "masa-tls-ca.pem"
  timeout      = "30s"
  max_attempts = 3
}

# Expected devices without a prior owner get VLAN 20.
rule "expected-devices" {
  expected = true
  outcome  = "accept"
  vlan     = 20
  reason   = "device is in the expected-devices list"
  audit_log {
    other_domains = 0
  }
}

# Any other acme router goes to the quarantine VLAN.
rule "acme-routers" {
  manufacturer = ["acme"]
  model        = ["router*"]
  outcome      = "quarantine"
  vlan         = 999
}

default {
  outcome = "reject"
  reason  = "device is not in the expected-devices list"
}
