#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm-trace on this machine's kernel, without KVM: a tap in a private netns
# belongs to a "VM" through a registry file (KAVM_RUN_DIR) naming a process of
# that netns, as kavm would write it. Frames written into the tap while it is
# down must show up in `drops` with the kernel's reason, tun_get_user as the
# place and the frame's protocol and length; `net` must count exactly what
# was sent each way; every JSON line must parse and carry its documented
# fields; bad command lines and unknown VMs are one line and a set status.
. "$(dirname "$0")/../lib.sh"

require_root
TRACE=$BUILD/kavm-trace
HELPER=$BUILD/tests/bench/kavm-trace-net
[ -x "$TRACE" ] && [ -x "$HELPER" ] || { not_ok "- $TRACE and $HELPER exist (make)"; done_testing; }
require_cmd jq
T=$(mktemp -d /tmp/kavm-trace.XXXXXX)
at_exit rm -rf "$T"
export KAVM_RUN_DIR=$T/run
mkdir -p "$KAVM_RUN_DIR"

# --- the command line: one line, status 2 for usage, 1 for no such VM
check_fail "unknown option: status 2, named" 2 '^kavm-trace: --bogus: unknown option \(try --help\)$' \
	"$TRACE" --bogus exits
check_fail "no command: status 2" 2 '^kavm-trace: no command: expected exits, irq, net or drops \(try --help\)$' \
	"$TRACE"
check_fail "unknown command: status 2" 2 '^kavm-trace: frob: unknown command' "$TRACE" frob
check_fail "-i 0: status 2" 2 '^kavm-trace: -i 0: expected seconds from 0.1 to 3600 \(try --help\)$' \
	"$TRACE" exits -i 0
check_fail "--vm without a name: status 2" 2 '^kavm-trace: --vm: missing argument \(try --help\)$' \
	"$TRACE" exits --vm
check_fail "unknown VM: status 1, one line" 1 \
	'^kavm-trace: --vm nosuch: no running kavm VM has this name or pid$' "$TRACE" exits --vm nosuch
out=$("$TRACE" --help)
check_eq "--help: status 0" "$?" 0
check_match "--help names the overhead figure" "$out" 'Overhead: kavm-trace net costs'

# --- a fake VM: a process in the netns, its tap in the registry
netns_new NS
ip -n "$NS" tuntap add kt0 mode tap
ip netns exec "$NS" sysctl -qw net.ipv6.conf.kt0.disable_ipv6=1
ip netns exec "$NS" sleep 300 &
vmpid=$!
at_exit kill $vmpid
register() {	# name pid file [start time delta]
	local st ns ifx
	st=$(($(sed 's/.*) //' "/proc/$2/stat" | cut -d' ' -f20) + ${4:-0}))
	ns=$(stat -Lc %i "/proc/$2/ns/net")
	ifx=$(ip netns exec "$NS" cat /sys/class/net/kt0/ifindex)
	printf '{"version":1,"name":"%s","pid":%s,"start_time":%s,"netns":%s,"vcpus":[],"taps":[{"ifname":"kt0","ifindex":%s}]}\n' \
		"$1" "$2" "$st" "$ns" "$ifx" >"$3"
}
register tvm $vmpid "$KAVM_RUN_DIR/tvm.json"
# A file left by a kavm that died, its pid now another process's, is not a VM.
register stale $vmpid "$KAVM_RUN_DIR/stale.json" 1
check_fail "a stale registry file is no VM: status 1" 1 'no running kavm VM has this name' \
	"$TRACE" net --vm stale

tracer() {	# out args...: start kavm-trace, return once it is attached
	local out=$1 i
	shift
	"$TRACE" "$@" >"$out" 2>"$out.err" &
	TPID=$!
	for i in $(seq 100); do
		grep -q '"type":"start"' "$out" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# --- drops: frames written into a tap that is down
tracer "$T/drops" drops --vm tvm -j -i 3 --once
check_eq "drops: attached" "$?" 0
sent=$(ip netns exec "$NS" "$HELPER" send kt0 5 60 0x0800)
check_eq "the tap refused all 5 frames (it is down)" "$sent" "sent 0 failed 5"
wait $TPID
check_eq "drops: --once ends with status 0" "$?" 0
check_eq "drops: exactly 5 drop events" "$(jq -c 'select(.type == "drop")' "$T/drops" | wc -l)" 5
# tun says why since Linux 6.8 (SKB_DROP_REASON_DEV_READY); earlier kernels give none.
want=DEV_READY
[ "$(printf '%s\n' "$(uname -r)" 6.8 | sort -V | head -1)" = 6.8 ] || want=NOT_SPECIFIED
check_eq "drops: the kernel's reason, device, protocol, length, place" \
	"$(jq -r 'select(.type == "drop") | [.vm, .ifname, .reason, .protocol, .len,
		(.location | sub("\\+0x[0-9a-f]+$"; ""))] | join(" ")' "$T/drops" | sort -u)" \
	"tvm kt0 $want IPv4 60 tun_get_user"
check_eq "drops: nothing on stderr" "$(cat "$T/drops.err")" ""

# --- net: exact counts each way on a tap that is up
ip -n "$NS" link set kt0 up
tracer "$T/net" net --vm tvm -j -i 3 --once
check_eq "net: attached" "$?" 0
check_eq "7 frames of 100 bytes from the guest side" \
	"$(ip netns exec "$NS" "$HELPER" send kt0 7 100)" "sent 7 failed 0"
check_eq "4 frames of 80 bytes to the guest side" \
	"$(ip netns exec "$NS" "$HELPER" xmit kt0 4 80)" "xmit 4 read 4"
wait $TPID
check_eq "net: --once ends with status 0" "$?" 0
check_eq "net: kt0 counted exactly what was sent (rx to the guest, tx from it)" \
	"$(jq -r 'select(.type == "net" and .ifname == "kt0") |
		"\(.rx_packets) \(.rx_bytes) \(.tx_packets) \(.tx_bytes)"' "$T/net")" "4 320 7 700"
check_eq "net: the 7 frames nobody handles are drops, by reason" \
	"$(jq -r 'select(.type == "drop_reason") | "\(.ifname) \(.reason) \(.count)"' "$T/net")" \
	"kt0 UNHANDLED_PROTO 7"

# --- the JSON lines: each parses, each type has its documented fields
check "every line of both runs parses" jq -e . "$T/drops" "$T/net"
# Slurped: jq -e then judges one value for the whole file.
has_fields() {	# file type jq-array-of-fields
	jq -s -e "[.[] | select(.type == \"$2\")] | length > 0 and
		all(.[]; $3 | all(. != null))" "$1"
}
check "every line has type, ts (a number) and interval_s" jq -s -e \
	'all(.[]; (.type | type == "string") and (.ts | type == "number") and
		(.type == "drop" or (.interval_s | type == "number")))' "$T/drops" "$T/net"
check "start: command, vms, missing" jq -s -e '[.[] | select(.type == "start")] |
	length == 1 and (.[0].command == "net") and (.[0].vms == ["tvm"]) and
	(.[0].missing | type == "array")' "$T/net"
check "net: every documented field" has_fields "$T/net" net \
	'[.vm, .pid, .ifname, .ifindex, .rx_packets, .rx_bytes, .tx_packets, .tx_bytes, .drops,
	 .vhost_rx_packets, .vhost_tx_packets, .rx_pps, .tx_pps, .total.rx_packets,
	 .total.tx_bytes]'
check "drop_reason: every documented field" has_fields "$T/net" drop_reason \
	'[.vm, .pid, .ifname, .ifindex, .reason, .reason_code, .count, .total]'
check "drop: every documented field" has_fields "$T/drops" drop \
	'[.ts, .vm, .pid, .ifname, .ifindex, .reason, .reason_code, .protocol, .protocol_code,
	 .len, .location, .location_addr, .comm, .task_pid]'


# --- scoping: another VM's tap is not counted under tvm
ip -n "$NS" tuntap add kt1 mode tap
ip -n "$NS" link set kt1 up
tracer "$T/scope" net --vm tvm -j -i 2 --once
ip netns exec "$NS" "$HELPER" send kt1 9 100 >/dev/null
wait $TPID
check_eq "net --vm tvm: a tap that is not tvm's is not shown" \
	"$(jq -r 'select(.type == "net") | .ifname' "$T/scope")" "kt0"
check_eq "net --vm tvm: and its frames are not counted on kt0" \
	"$(jq -r 'select(.type == "net") | .tx_packets' "$T/scope")" 0

done_testing
