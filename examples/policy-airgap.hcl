# Policy for a site behind an air gap: the orchestrator fetched nonceless
# vouchers from the MASA in advance, and the registrar never contacts it.

rule "plant-sensors" {
  manufacturer = "sensorworks"
  expected     = true
  not_before   = "2026-01-01T00:00:00Z"
  not_after    = "2027-01-01T00:00:00Z"

  voucher = "nonceless-cached"
  outcome = "accept"
  vlan    = 40
}

# Legacy controllers have no IDevID and their vendor runs no MASA. Each
# is registered by serial number, and both reduced-security modes are
# reported with every decision.
rule "legacy-controllers" {
  serial          = ["PLC-0001", "PLC-0002", "PLC-0003"]
  expected        = true
  allow_no_idevid = true
  voucher         = "skip"

  outcome = "accept"
  vlan    = 41
  reason  = "legacy controller without IDevID, registered by serial"
}

default {
  outcome = "reject"
  reason  = "device is not registered for this site"
}
