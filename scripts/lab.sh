#!/usr/bin/env bash
# Build, use and remove the namespace lab of docs/lab.md.
#   scripts/lab.sh up | pledge | down
# Needs root. LAB_DIR (default /tmp/brski-lab) contains the lab files and the
# server logs; BRSKI (default ./brski) is the binary. LAB_NAME (default lab)
# prefixes the namespace names, so that labs with other names and LAB_DIR
# values run side by side.
set -euo pipefail
LAB_DIR=${LAB_DIR:-/tmp/brski-lab}
BRSKI=$(realpath "${BRSKI:-./brski}")
LAB_NAME=${LAB_NAME:-lab}
SW=$LAB_NAME-sw PL=$LAB_NAME-pl HOST=$LAB_NAME-host

# wait_listen SERVER PROTO PORT waits up to 10 s until a socket listens on
# PORT (tcp or udp) in the switch namespace, and fails at once when SERVER
# exits.
wait_listen() {
	local flag=-ltn
	[[ $2 == udp ]] && flag=-lun
	for _ in $(seq 100); do
		ip netns exec $SW ss -H $flag "sport = :$3" | grep -q . && return 0
		alive "$1" || return 1
		sleep 0.1
	done
	echo "timed out after 10 s waiting for $1 on $2 port $3; see $LAB_DIR/$1.log" >&2
	return 1
}

# wait_ready SERVER waits up to 10 s until the log of SERVER has the line
# "serving:", and fails at once when SERVER exits.
wait_ready() {
	for _ in $(seq 100); do
		grep -q "serving:" "$LAB_DIR/$1.log" && return 0
		alive "$1" || return 1
		sleep 0.1
	done
	echo "timed out after 10 s waiting for $1 to serve; see $LAB_DIR/$1.log" >&2
	return 1
}

# alive SERVER fails with the end of the server's log when it has exited.
alive() {
	kill -0 "$(cat "$LAB_DIR/$1.pid")" 2>/dev/null && return 0
	echo "$1 exited at start; the end of $LAB_DIR/$1.log:" >&2
	tail -n 5 "$LAB_DIR/$1.log" >&2
	return 1
}

up() {
	if [[ -e $LAB_DIR ]]; then
		echo "$LAB_DIR exists; remove it (rm -rf $LAB_DIR) or set LAB_DIR" >&2
		exit 1
	fi
	for ns in $SW $PL $HOST; do
		if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
			echo "namespace $ns exists; run $0 down or set LAB_NAME" >&2
			exit 1
		fi
	done
	"$BRSKI" init "$LAB_DIR" >/dev/null
	trap 'echo "up failed; removing the namespaces" >&2; down' ERR
	for ns in $SW $PL $HOST; do
		ip netns add $ns
		echo $ns >>"$LAB_DIR/namespaces"
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
	start masa
	wait_listen masa tcp 9443
	start registrar
	wait_listen registrar tcp 8443
	wait_listen registrar udp 1812
	start authenticator
	wait_ready authenticator
	trap - ERR
	echo "lab is up; logs in $LAB_DIR/*.log; next: $0 pledge"
}

# start SERVER runs "brski SERVER" in the switch namespace in the background.
start() {
	ip netns exec $SW "$BRSKI" "$1" --config "$LAB_DIR/$1.hcl" >"$LAB_DIR/$1.log" 2>&1 &
	echo $! >"$LAB_DIR/$1.pid"
}

# stop PID sends SIGTERM to PID and waits up to 10 s until it has exited.
stop() {
	kill "$1" 2>/dev/null || return 0
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "process $1 still runs 10 s after SIGTERM" >&2
}

pledge() {
	dev=$(ls "$LAB_DIR/factory/devices" | head -n 1)
	ip netns exec $PL "$BRSKI" pledge --interface eth0 \
		--idevid "$LAB_DIR/factory/devices/$dev/idevid.pem" \
		--key "$LAB_DIR/factory/devices/$dev/key.pem" \
		--masa-trust "$LAB_DIR/masa-trust.pem" --out "$LAB_DIR/pledges/$dev"
	bridge -n $SW -d link show dev swp1 # master br-v100 after an Accept
}

down() {
	for srv in authenticator registrar masa; do
		if [[ -f "$LAB_DIR/$srv.pid" ]]; then
			stop "$(cat "$LAB_DIR/$srv.pid")"
			rm -f "$LAB_DIR/$srv.pid"
		fi
	done
	# Only the namespaces that up recorded, so that a wrong LAB_NAME or
	# LAB_DIR removes nothing of another lab.
	if [[ -f $LAB_DIR/namespaces ]]; then
		while read -r ns; do
			ip netns del "$ns" 2>/dev/null || true
		done <"$LAB_DIR/namespaces"
		rm -f "$LAB_DIR/namespaces"
	fi
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
