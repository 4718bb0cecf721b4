# MASA configuration for "brski masa --config examples/masa.hcl".
# Relative paths are relative to this file. docs/masa.md describes each field.

# TCP address of the HTTPS server. The default listens on loopback only.
listen = "127.0.0.1:9443"

# Directory that "brski factory init" created. The MASA serves the devices
# that "brski factory mint" wrote under its devices/ directory.
factory_dir = "../lab/factory"

# Directory of the MASA database (masa.db) and, without a tls block, of the
# server certificate that the MASA issues from the factory CA (tls/).
data_dir = "../lab/masa"

# At most one voucher per device in this interval; a second claim gets 503
# with Retry-After.
rate_interval = "1m"

# Assertion of issued vouchers: "verified", "logged" or "proximity".
assertion = "logged"

# Lifetime of nonceless vouchers, shortened to the expiry of the domain CA
# and of the registrar certificate.
nonceless_voucher_lifetime = "20m"

# How far the created-on of a registrar voucher request may lie in the past
# or the future. Older requests are rejected as replays.
max_clock_skew = "10m"

# Server certificate and key in PEM. Remove the block to let the MASA issue
# its own certificate from the factory CA.
# tls {
#   cert_file = "masa-tls.pem"
#   key_file  = "masa-tls-key.pem"
# }

# Domain CAs that may receive nonceless vouchers, per serial number or "*"
# for every device of the factory.
# owner "SN-0001" {
#   domain_ca_file = "owner-domain-ca.pem"
# }
# owner "*" {
#   domain_ca_file = "reseller-domain-ca.pem"
# }
