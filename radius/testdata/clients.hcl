client "switch-1" {
  address     = "127.0.0.1"
  secret_file = "switch.secret"
  tunnel_tag  = 1
}

client "lab" {
  address = "127.0.0.0/8"
  secret  = "lab-secret"
  legacy  = true
}
