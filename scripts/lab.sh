#!/usr/bin/env bash
# Build, use and remove the namespace lab of docs/lab.md.
#   scripts/lab.sh up | pledge | down
# Needs root. LAB_DIR (default /tmp/brski-lab) contains the lab files and the
# server logs; BRSKI (default ./brski) is the binary.
set -euo pipefail
LAB_DIR=${LAB_DIR:-/tmp/brski-lab}
BRSKI=$(realpath "${BRSKI:-./brski}")
SW=lab-sw PL=lab-pl HOST=lab-host

up() {
	for ns in $SW $PL $HOST; do
		ip netns add $ns
		ip -n $ns link set lo up
	done
	for br in br-unauth br-v100; do
		ip -n $SW link add $br type bridge
		ip -n $SW link set $br up
	done
	ip -n $SW link add swp1 type veth peer name eth0 netns $PL
	ip -n $SW link set swp1 master br-unauth up
	ip -n $PL addr add 192.0.2.10/24 dev eth0
	ip -n $PL link set eth0 up
	ip -n $SW link add hp1 type veth peer name eth0 netns $HOST
	ip -n $SW link set hp1 master br-v100 up
	ip -n $HOST addr add 192.0.2.2/24 dev eth0
	ip -n $HOST link set eth0 up

	"$BRSKI" init "$LAB_DIR"
	cat >"$LAB_DIR/authenticator.hcl" <<-HCL
	nas_identifier         = "lab-switch"
	unauthenticated_bridge = "br-unauth"
	radius {
	  server "registrar" {
	    address     = "127.0.0.1:1812"
	    secret_file = "radius-secret"
	  }
	}
	vlan "100" {
	  bridge = "br-v100"
	}
	interface "swp1" {}
	HCL
	for srv in masa registrar authenticator; do
		ip netns exec $SW "$BRSKI" $srv --config "$LAB_DIR/$srv.hcl" \
			>"$LAB_DIR/$srv.log" 2>&1 &
		echo $! >"$LAB_DIR/$srv.pid"
		sleep 1 # let each server bind before the next one connects to it
	done
	echo "lab is up; logs in $LAB_DIR/*.log; next: $0 pledge"
}

pledge() {
	dev=$(ls "$LAB_DIR/factory/devices" | head -n 1)
	ip netns exec $PL "$BRSKI" pledge --interface eth0 \
		--idevid "$LAB_DIR/factory/devices/$dev/idevid.pem" \
		--key "$LAB_DIR/factory/devices/$dev/key.pem" \
		--masa-trust "$LAB_DIR/masa-trust.pem" --out "$LAB_DIR/pledges/$dev"
	ip -n $SW -br link show swp1
}

down() {
	for srv in authenticator registrar masa; do
		if [[ -f "$LAB_DIR/$srv.pid" ]]; then
			kill "$(cat "$LAB_DIR/$srv.pid")" 2>/dev/null || true
			rm -f "$LAB_DIR/$srv.pid"
		fi
	done
	for ns in $SW $PL $HOST; do
		ip netns del $ns 2>/dev/null || true
	done
}

case "${1:-}" in
up) up ;;
pledge) pledge ;;
down) down ;;
*)
	echo "usage: $0 up | pledge | down" >&2
	exit 2
	;;
esac
