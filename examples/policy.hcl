# Acceptance policy for a campus network. Rules are tried from top to
# bottom, the first rule whose criteria all match decides, and the default
# block decides when no rule matches.

# Devices that the orchestrator registered in advance, with a clean
# history at the MASA, join the infrastructure VLAN.
rule "registered-switches" {
  manufacturer = ["acme", "4a:6f:1c:9e:22:01:77:ab:cd:ef:10:20:30:40:50:60:70:80:90:a0"]
  model        = "EX-*"
  expected     = true
  tags         = ["access-switch"]

  assertion = ["verified", "logged"]
  audit_log {
    other_domains       = 0
    nonceless_by_others = false
  }

  outcome            = "accept"
  vlan               = 120
  session_timeout    = "8h"
  termination_action = "radius-request"
  reason             = "registered access switch"
}

# Resold printers may carry one earlier owner, if that owner claimed the
# device more than 30 days ago. History older than three years is ignored.
rule "resold-printers" {
  manufacturer = "printco"
  serial       = ["PRN-2025-*", "PRN-2026-*"]

  audit_log {
    other_domains       = 1
    nonceless_by_others = false
    min_age             = "30d"
    max_age             = "1095d"
  }

  outcome   = "accept"
  vlan      = "printers"
  filter_id = "printers.in"

  attribute "Cisco-AVPair" {
    value = "subscriber:command=reauthenticate"
  }
}

# Lab ports accept any device of the lab vendor during working hours.
# This rule names no single device, so decisions report "any-device".
rule "lab-bench" {
  manufacturer = "acme"
  nas_client   = "lab-*"
  nas_port     = ["Gi1/0/1?", "Gi1/0/2?"]
  weekdays     = ["mon", "tue", "wed", "thu", "fri"]
  hours        = "07:00-19:00"
  time_zone    = "Europe/Berlin"

  outcome = "accept"
  vlan    = 300
}

# Everything else that has an IDevID waits in quarantine.
default {
  outcome = "quarantine"
  vlan    = "quarantine"
  reason  = "no rule accepted the device"
}
