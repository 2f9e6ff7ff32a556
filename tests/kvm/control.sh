#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm's control socket (--control) on a running VM: a fake kernel spins on
# two vCPUs with a tap NIC in a private netns, the sandbox on. Each command
# and event, then a matrix of malformed and oversized requests, each of
# which must get its error object (class and message asserted) or a clean
# close while kavm and the guest carry on. Client: tests/lib/ctl.py.
. "$(dirname "$0")/../lib.sh"

KAVM=${KAVM:-$BUILD/kavm}
[ -x "$KAVM" ] || { not_ok "$KAVM exists (make)"; done_testing; }
require_root
require_dev /dev/net/tun
require_cmd python3
T=$(mktemp -d /tmp/kavm-control.XXXXXX)
at_exit rm -rf "$T"
CTL=(python3 "$TOP/tests/lib/ctl.py")
S=$T/c.sock

. "$(dirname "$0")/../lib-kernels.sh"
mkkernels "$T"
netns_new NS

start_kavm() {	# args...: kavm on the spinning kernel, PID set, socket served
	ip netns exec "$NS" "$KAVM" --kernel "$T/spin.bz" --cpus 2 --serial none \
		--control "$S" "$@" >"$T/out" 2>"$T/err" </dev/null &
	PID=$!
	for _ in $(seq 100); do
		[ -S "$S" ] && break
		sleep 0.05
	done
	at_exit kill -KILL "$PID"
}

# A client that only listens: events_start N, then events_wait puts the
# N lines it got in EVENTS (one per line).
events_start() {
	"${CTL[@]}" "$S" events "$1" >"$T/events" &
	EVPID=$!
	for _ in $(seq 100); do
		grep -q CONNECTED "$T/events" && break
		sleep 0.05
	done
}
events_wait() {
	wait "$EVPID"
	EVENTS=$(tail -n +2 "$T/events")
}

# A client that stays connected: one request in, its reply out.
open_client() {
	coproc CLIENT { "${CTL[@]}" "$S"; }
}
req() {	# line: send it, the reply in REPLY_LINE
	printf '%s\n' "$1" >&"${CLIENT[1]}"
	REPLY_LINE=TIMEOUT
	read -r -t 10 REPLY_LINE <&"${CLIENT[0]}"
}
check_reply() {	# desc request reply
	req "$2"
	check_eq "$1" "$REPLY_LINE" "$3"
}
err_reply() {	# id class desc: the error object kavm sends
	if [ -n "$1" ]; then
		printf '{"id":%s,"error":{"class":"%s","desc":"%s"}}' "$1" "$2" "$3"
	else
		printf '{"error":{"class":"%s","desc":"%s"}}' "$2" "$3"
	fi
}
check_err() {	# desc request id class desc
	check_reply "$1" "$2" "$(err_reply "$3" "$4" "$5")"
}

# CPU time (ticks) of vCPU 0's thread: it grows while the guest spins.
vcpu_ticks() {
	local t
	for t in /proc/"$PID"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = kavm-vcpu0 ] || continue
		awk '{ print $14 + $15 }' "$t/stat"
		return
	done
	echo 0
}
vcpu_runs() {	# does vCPU 0 use CPU time over half a second?
	local a b
	a=$(vcpu_ticks)
	sleep 0.5
	b=$(vcpu_ticks)
	[ "$b" -gt "$a" ]
}
vcpu_stopped() { ! vcpu_runs; }

# No IPv6 on the tap: no router solicitations among the frames the test counts.
ip netns exec "$NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
start_kavm --netdev tap,id=n0,ifname=kt0 --device virtio-net-pci,netdev=n0
for _ in $(seq 50); do
	ip -n "$NS" link set kt0 up 2>/dev/null && break
	sleep 0.1
done
check_eq "the socket is mode 0600" "$(stat -c %a "$S")" 600
events_start 6
open_client

# --- commands
req '{"execute":"query-status","id":1}'
check_match "query-status: running, 2 vCPUs" "$REPLY_LINE" \
	'^\{"id":1,"return":\{"status":"running","running":true,"name":null,"pid":[0-9]+,"uptime-ms":[0-9]+,"vcpus":2,"memory-mib":512,"nics":1\}\}$'
check_reply "query-netdevs: the tap, its peer, link, vhost, queues" \
	'{"execute":"query-netdevs","id":"nd"}' \
	'{"id":"nd","return":[{"id":"n0","type":"tap","peer":"n0","driver":"virtio-net-pci","ifname":"kt0","link":"up","link-set":"up","backend-link":"up","vhost":"off","queued":{"to-guest":0,"to-backend":0}}]}'
req '{"execute":"query-counters","id":2}'
check_match "query-counters: NIC, backend, virtio-net and per-pair counters" "$REPLY_LINE" \
	'^\{"id":2,"return":\[\{"id":"n0","netdev":"n0","nic":\{"tx_packets":0,.*"rx_errors":0\},"backend":\{"tx_packets":0,.*\},"virtio-net":\{"tx_frames":0,.*"ring_damage":0\},"queue_pairs":1,"queue_pairs_in_use":1,"queues":\[\{"rx_frames":0,"tx_frames":0,"rx_no_buf":0,"tx_paused":0\}\]\}\]\}$'

check_reply "set-link down" \
	'{"execute":"set-link","id":3,"arguments":{"name":"n0","up":false}}' '{"id":3,"return":{}}'
req '{"execute":"query-netdevs","id":4}'
check_match "set-link down: the link is down, the tap still up" "$REPLY_LINE" \
	'"link":"down","link-set":"down","backend-link":"up"'
# Frames the host sends into the tap while the link is down go nowhere, counted.
ip netns exec "$NS" python3 -c '
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("kt0", 0))
for _ in range(5):
    s.send(b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" + b"kavm" * 20)'
sleep 0.3
req '{"execute":"query-counters","id":5}'
check_match "link down: the tap's frames are counted in tx_link_down" "$REPLY_LINE" \
	'"backend":\{"tx_packets":0,"tx_bytes":0,"rx_packets":0,"rx_bytes":0,"tx_link_down":5,'
check_reply "set-link up by the netdev's id" \
	'{"execute":"set-link","id":6,"arguments":{"name":"n0","up":true}}' '{"id":6,"return":{}}'
ip -n "$NS" link set kt0 down
sleep 0.3
req '{"execute":"query-netdevs","id":7}'
check_match "the tap set down on the host: the link is down" "$REPLY_LINE" \
	'"link":"down","link-set":"up","backend-link":"down"'
ip -n "$NS" link set kt0 up
sleep 0.3

check "the guest runs" vcpu_runs
check_reply "stop" '{"execute":"stop","id":8}' '{"id":8,"return":{}}'
req '{"execute":"query-status","id":9}'
check_match "stop: paused" "$REPLY_LINE" '"status":"paused","running":false'
check "stop: vCPU 0 uses no CPU time" vcpu_stopped
sleep 1.2 # a halt check (once a second) must not resume it
check "stop: still stopped after a halt check" vcpu_stopped
check_reply "cont" '{"execute":"cont","id":10}' '{"id":10,"return":{}}'
check "cont: the guest runs again" vcpu_runs
check_err "system-powerdown: a guest without ACPI is told so" '{"execute":"system-powerdown","id":11}' 11 \
	GenericError "system-powerdown: the guest has not enabled ACPI (acpi=off, --no-acpi or still booting): quit stops the VM at once"

# Events, in order, to a client that only listens.
for want in '"event":"LINK_CHANGED","data":{"id":"n0","netdev":"n0","link":"down","link-set":"down","backend-link":"up"}' \
	'"event":"LINK_CHANGED","data":{"id":"n0","netdev":"n0","link":"up","link-set":"up","backend-link":"up"}' \
	'"event":"LINK_CHANGED","data":{"id":"n0","netdev":"n0","link":"down","link-set":"up","backend-link":"down"}' \
	'"event":"LINK_CHANGED","data":{"id":"n0","netdev":"n0","link":"up","link-set":"up","backend-link":"up"}' \
	'"event":"STOP"' '"event":"RESUME"'; do
	[ -n "$EVENTS" ] || events_wait
	line=$(printf '%s\n' "$EVENTS" | sed -n 1p)
	EVENTS=$(printf '%s\n' "$EVENTS" | sed 1d)
	[ -n "$EVENTS" ] || EVENTS=done
	check_match "event: ${want:9:40}..." "$line" "^\{$(printf '%s' "$want" | sed 's/[][{}.*]/\\&/g'),\"timestamp\":\{\"seconds\":[0-9]+,\"microseconds\":[0-9]+\}\}$"
done

# --- malformed requests: an error object each, the connection stays usable
G=GenericError
check_err "bad JSON" 'garbage' "" $G "JSON parse error: unexpected character"
check_err "an unfinished object" '{' "" $G "JSON parse error: unexpected end of data"
check_err "a request cut short" '{"execute":"query-status","id":1' "" $G \
	"JSON parse error: unexpected end of data"
check_err "a stray brace after the object" '{"execute":"query-status","id":1}}' "" $G \
	"JSON parse error: more after the request object"
check_err "two requests on one line: neither runs" \
	'{"execute":"query-status","id":1}{"execute":"quit","id":2}' "" $G \
	"JSON parse error: more after the request object"
check_err "an array" '[]' "" $G "request: expected a JSON object, not array"
check_err "a number" '42' "" $G "request: expected a JSON object, not int"
check_err "a string" '"query-status"' "" $G "request: expected a JSON object, not string"
check_err "null" 'null' "" $G "request: expected a JSON object, not null"
check_err "true" 'true' "" $G "request: expected a JSON object, not boolean"
check_err "an empty object" '{}' "" $G "request without an id"
check_err "a command without an id" '{"execute":"quit"}' "" $G "request without an id"
check_err "id null" '{"execute":"query-status","id":null}' "" $G \
	"id: expected a string or an integer, not null"
check_err "id an array" '{"execute":"query-status","id":[1]}' "" $G \
	"id: expected a string or an integer, not array"
check_err "id a fraction" '{"execute":"query-status","id":1.5}' "" $G \
	"id: expected a string or an integer, not double"
check_err "id an object" '{"execute":"query-status","id":{"a":1}}' "" $G \
	"id: expected a string or an integer, not object"
check_err "no execute" '{"id":7}' 7 $G 'request without \"execute\"'
check_err "execute a number" '{"id":8,"execute":42}' 8 $G "execute: expected a string, not int"
check_err "an unknown command" '{"id":9,"execute":"reboot-the-world"}' 9 CommandNotFound \
	'unknown command \"reboot-the-world\"'
check_err "an empty command" '{"id":10,"execute":""}' 10 CommandNotFound 'unknown command \"\"'
long=$(head -c 300 /dev/zero | tr '\0' a)
check_err "a 300-character command: named, cut to 64" "{\"id\":23,\"execute\":\"$long\"}" 23 \
	CommandNotFound "unknown command \\\"${long:0:64}\\\""
check_err "arguments an array" '{"id":11,"execute":"query-status","arguments":[]}' 11 $G \
	"arguments: expected an object, not array"
check_err "an argument a command does not take" \
	'{"id":12,"execute":"query-status","arguments":{"verbose":true}}' 12 $G \
	'query-status: unexpected argument \"verbose\"'
check_err "set-link without arguments" '{"id":13,"execute":"set-link"}' 13 $G \
	'set-link: missing argument \"name\"'
check_err "set-link without up" '{"id":14,"execute":"set-link","arguments":{"name":"n0"}}' 14 $G \
	'set-link: missing argument \"up\"'
check_err "set-link up a string" \
	'{"id":15,"execute":"set-link","arguments":{"name":"n0","up":"yes"}}' 15 $G \
	'set-link: argument \"up\": expected boolean, not string'
check_err "set-link name a number" \
	'{"id":16,"execute":"set-link","arguments":{"name":5,"up":true}}' 16 $G \
	'set-link: argument \"name\": expected string, not int'
check_err "set-link on an unknown NIC" \
	'{"id":17,"execute":"set-link","arguments":{"name":"nope","up":true}}' 17 DeviceNotFound \
	'set-link: no NIC or netdev \"nope\"'
check_err "set-link with an extra argument" \
	'{"id":18,"execute":"set-link","arguments":{"name":"n0","up":true,"extra":1}}' 18 $G \
	'set-link: unexpected argument \"extra\"'
check_err "an unknown key" '{"id":19,"execute":"query-status","colour":"red"}' 19 $G \
	'unexpected key \"colour\" in the request'
check_err "a NUL byte: nothing runs" '{"id":20,"execute":"quit"\x00}' "" $G \
	"JSON parse error: a NUL byte in the request"
deep=$(printf '%.0s[' $(seq 40))$(printf '%.0s]' $(seq 40))
check_err "nesting 40 deep" "$deep" "" $G "JSON parse error: nesting too deep"
check_err "a string with a bad escape" '{"id":"\\q","execute":"query-status"}' "" $G \
	"JSON parse error: invalid string sequence"
req '\n \t \r\n{"execute":"query-status","id":21}\r'
check_match "blank lines are skipped, CR LF is taken" "$REPLY_LINE" '^\{"id":21,"return":\{"status":"running"'
pad=$(printf '%*s' $((65535 - 34)) '')
req "{\"execute\":\"query-status\",\"id\":22}$pad"
check_match "a request of 65535 bytes and its newline: served" "$REPLY_LINE" '^\{"id":22,"return"'
req "{\"execute\":\"query-status\",\"id\":23} $pad"
check_eq "a request of 65536 bytes and its newline: too long" "$REPLY_LINE" \
	"$(err_reply "" $G "request longer than 65536 bytes")"
check_reply "and the next request is served" '{"execute":"query-netdevs","id":24}' \
	'{"id":24,"return":[{"id":"n0","type":"tap","peer":"n0","driver":"virtio-net-pci","ifname":"kt0","link":"up","link-set":"up","backend-link":"up","vhost":"off","queued":{"to-guest":0,"to-backend":0}}]}'

# --- oversized, never-reading, half-closed and too many clients
out=$("${CTL[@]}" "$S" big $((1 << 20)))
check_eq "a 1 MiB line: one error" "$(printf '%s\n' "$out" | sed -n 1p)" \
	"$(err_reply "" $G "request longer than 65536 bytes")"
check_match "a 1 MiB line: the next request is served" "$(printf '%s\n' "$out" | sed -n 2p)" \
	'^\{"id":"after","return":\{"status":"running"'
check_eq "the last request without a newline, then EOF: answered, then closed" \
	"$("${CTL[@]}" "$S" eof '{"execute":"system-powerdown","id":"last"}' | tr '\n' ' ')" \
	"$(err_reply '"last"' $G "system-powerdown: the guest has not enabled ACPI (acpi=off, --no-acpi or still booting): quit stops the VM at once") EOF "
check_eq "a client gone halfway through a request: nothing runs" \
	"$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"{\"execute\":\"quit\",\"id\":1"); s.close()' "$S"; echo $?)" 0
# The first client reads only replies: the 3000 events below would overflow
# it too, and it would take one of the 64 places.
exec {CLIENT[1]}>&- {CLIENT[0]}<&-
wait "$CLIENT_PID" 2>/dev/null
check_eq "100 clients at once: 64 served, 36 told why and closed" \
	"$("${CTL[@]}" "$S" many 100)" "served 64 refused 36 other 0"
check_eq "a client that never reads: closed once its events fill 128 KiB; others served" \
	"$("${CTL[@]}" "$S" noread 3000)" "noread: closed; other: 3000 replies"
check_match "a client that never reads: one line says so" "$(cat "$T/err")" \
	'^kavm: warning: control: client [0-9]+ does not read what kavm sends: disconnected$'
open_client

req '{"execute":"query-status","id":"still"}'
check_match "after all that: the first client is served, the VM runs" "$REPLY_LINE" \
	'^\{"id":"still","return":\{"status":"running"'
check "after all that: the guest still runs" vcpu_runs
check "after all that: kavm is alive" kill -0 "$PID"

# --- a second kavm on the same socket is refused; quit ends the first with status 0
ip netns exec "$NS" "$KAVM" --kernel "$T/spin.bz" --serial none --control "$S" \
	>"$T/out2" 2>"$T/err2" </dev/null
check_eq "a second kavm on a live socket: status 1, one line" "$?:$(cat "$T/err2")" \
	"1:kavm: control $S: another kavm is listening there"
events_start 1
check_reply "quit" '{"execute":"quit","id":"bye"}' '{"id":"bye","return":{}}'
wait "$PID"
check_eq "quit: status 0, one line" "$?:$(grep -v 'control: client\|tap kt0' "$T/err")" \
	"0:kavm: quit on the control socket"
events_wait
check_match "quit: a SHUTDOWN event" "$EVENTS" \
	'^\{"event":"SHUTDOWN","data":\{"guest":false,"reason":"host-qmp-quit","message":"quit on the control socket"\},"timestamp":'

# --- the socket file of a kavm that is gone is replaced; other files are not
start_kavm
events_start 1
check_match "a stale socket file is replaced" "$(printf '%s\n' '{"execute":"query-status","id":1}' |
	"${CTL[@]}" "$S")" '^\{"id":1,"return":\{"status":"running"'
kill -TERM "$PID"
wait "$PID"
check_eq "SIGTERM: status 1 as before" "$?:$(cat "$T/err")" "1:kavm: terminated by SIGTERM"
events_wait
check_match "SIGTERM: a SHUTDOWN event" "$EVENTS" \
	'^\{"event":"SHUTDOWN","data":\{"guest":false,"reason":"host-signal","message":"terminated by SIGTERM"\}'
: >"$T/file"
"$KAVM" --kernel "$T/spin.bz" --serial none --control "$T/file" >"$T/out" 2>"$T/err" </dev/null
check_eq "--control on a regular file: status 1, one line" "$?:$(cat "$T/err")" \
	"1:kavm: control $T/file: exists and is not a socket"
"$KAVM" --kernel "$T/spin.bz" --serial none --control "$T/no/such/c.sock" \
	>"$T/out" 2>"$T/err" </dev/null
check_eq "--control in a missing directory: status 1, one line" "$?:$(cat "$T/err")" \
	"1:kavm: control $T/no/such/c.sock: No such file or directory"

# --- kavmctl vm: the client, finding the VM by --name in KAVM_RUNDIR
KAVMCTL=${KAVMCTL:-$BUILD/kavmctl}
export KAVM_RUNDIR=$T/run
S=$KAVM_RUNDIR/web1.sock
start_kavm --name web1 --control "$S" --netdev tap,id=n0,ifname=kt0 \
	--device virtio-net-pci,netdev=n0,id=nic0
check_match "vm list: the VM by name, running" "$("$KAVMCTL" vm list)" \
	"^web1: running, 2 vCPUs, 512 MiB, up [0-9]+\.[0-9] s, pid $PID, 1 NICs, $S\$"
check_match "vm -j list: an array of statuses with their socket" "$("$KAVMCTL" -j vm list)" \
	"^\[\{\"status\":\"running\",\"running\":true,\"name\":\"web1\",\"pid\":$PID,.*\"socket\":\"$S\"\}\]\$"
check_eq "vm show: the netdev and its NIC" "$("$KAVMCTL" vm show web1 | sed -n 2p)" \
	"  n0: tap kt0 -> nic0 (virtio-net-pci) link down (set up, backend down) vhost off queued to-guest 0 to-backend 0"
check "vm link web1 nic0 down" "$KAVMCTL" vm link web1 nic0 down
check_match "vm -j show by path: the link set down" "$("$KAVMCTL" -j vm show "$S")" \
	'"netdevs":\[\{"id":"n0",.*"link-set":"down",'
check_match "vm counters: three groups per NIC" "$("$KAVMCTL" vm counters web1 | tr '\n' '|')" \
	'^  nic0 \(netdev n0\):\|    nic:        tx_packets 0 .*\|    backend:    tx_packets 0 .*\|    virtio-net: tx_frames 0 .*\|$'
check "vm stop" "$KAVMCTL" vm stop web1
check_match "vm stop: paused" "$("$KAVMCTL" vm list)" "^web1: paused,"
check "vm cont" "$KAVMCTL" vm cont web1
check_fail "vm powerdown: a guest without ACPI, status 1" 1 \
	'^kavmctl: vm web1: system-powerdown: the guest has not enabled ACPI \(acpi=off, --no-acpi or still booting\): quit stops the VM at once$' \
	"$KAVMCTL" vm powerdown web1
check_fail "vm link on an unknown NIC: kavm's message, status 1" 1 \
	'^kavmctl: vm web1: set-link: no NIC or netdev "nic9"$' "$KAVMCTL" vm link web1 nic9 down
check_fail "vm show of a VM that does not exist" 1 \
	"^kavmctl: vm nope: $KAVM_RUNDIR/nope.sock: No such file or directory\$" "$KAVMCTL" vm show nope
check "vm quit" "$KAVMCTL" vm quit web1
wait "$PID"
check_eq "vm quit: kavm exits 0" "$?" 0
check_eq "vm list: a dead kavm's socket is left out" "$("$KAVMCTL" vm list)" ""
check_fail "vm show of a kavm that exited" 1 \
	"^kavmctl: vm web1: $S: Connection refused \(no kavm answers: it has exited\)\$" \
	"$KAVMCTL" vm show web1

done_testing
