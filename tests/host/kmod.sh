#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm_switch.ko in the test host: loaded with kavmctl (libkmod), driven
# with kavmctl's kmod engine (generic netlink "kavm").
#
# Three "VMs" are network namespaces on veth pairs whose host ends are
# ports of one switch. They ping each other through it; the fdb and
# counters read back must show who was learned where, the ARP floods, the
# forwarded unicast and, with a wrong --mac --no-spoof, the spoofed frames
# dropped (also seen by the kavm_switch:drop tracepoint). Every refusal is
# checked for its exit status and the kernel's own extack words: a bridge's
# port, a port of another switch, a missing device, an ageing time the
# policy refuses, a change without CAP_NET_ADMIN; and, from a raw client
# (kmod-genl.c), attributes outside the policies, reserved header bits and a
# dump of a missing switch. Frames pinned to their own ingress port are
# dropped; an uplink carries traffic both ways; deleting a port's device
# removes the port; learned entries age out; dumps are flagged
# NLM_F_DUMP_INTR when a change runs between their parts; every change is
# announced on the "events" group; switches are per namespace; unloading
# with ports attached releases them all, and the kernel log stays free of
# "waiting for", WARN and BUG.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-testhost.sh"

require_cmd qemu-system-x86_64
if [ ! -x "$BUILD/kavmctl" ]; then
	not_ok "- build/kavmctl exists (run make)"
	done_testing
fi
KO=$TH_TOP/kmod/kavm_switch.ko
mkdir -p "$TH_LOGDIR"
if ! make -s -C "$TH_TOP" kmod >"$TH_LOGDIR/kmod-build.log" 2>&1 || [ ! -f "$KO" ]; then
	tail -n 20 "$TH_LOGDIR/kmod-build.log" | sed 's/^/# /'
	not_ok "- kmod/kavm_switch.ko builds (make kmod)"
	done_testing
fi
testhost_init || { not_ok "- test host prepared"; done_testing; }
# Raw requests kavmctl never sends, static: the host has only kavmctl's libraries.
if ! ${CC:-cc} -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Werror -static -I"$TH_TOP/include/uapi" \
	"$TH_TOP/tests/host/kmod-genl.c" -o "$TH_TMP/kmod-genl"; then
	not_ok "- tests/host/kmod-genl.c builds"
	done_testing
fi

cat >"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
K=kavmctl
SW=kt
MAC_A=02:00:00:00:00:01 MAC_B=02:00:00:00:00:02 MAC_C=02:00:00:00:00:03

# A network namespace held by a sleeping process; prints its pid.
netns_new() {
	unshare -n sleep 100000 >/dev/null 2>&1 &
	echo $!
}
inns() {	# pid cmd...
	_p=$1
	shift
	nsenter -t "$_p" -n "$@"
}
# The name of a veth's peer (busybox ip cannot name it).
veth_peer() {
	_i=$(cat "/sys/class/net/$1/iflink")
	for _d in /sys/class/net/*; do
		[ "$(cat "$_d/ifindex")" = "$_i" ] && echo "${_d##*/}" && return
	done
}
# "VM" N on the host end HOSTDEV: eth0 with MAC and 10.9.0.N in its own netns.
vm_new() {	# hostdev n mac
	ip link add "$1" type veth peer "kvp$2" || return 1
	_peer=$(veth_peer "$1")
	_ns=$(netns_new)
	sleep 1
	ip link set "$_peer" netns "$_ns" || return 1
	inns "$_ns" ip link set "$_peer" name eth0
	inns "$_ns" ip link set eth0 address "$3"
	inns "$_ns" ip addr add "10.9.0.$2/24" dev eth0
	inns "$_ns" ip link set eth0 up
	inns "$_ns" ip link set lo up
	ip link set "$1" up
	echo "$_ns"
}
ping_from() { inns "$1" ping -c 2 -W 5 "$2"; }
# A counter of a port (or "total") from the text of kavmctl -s switch show.
stat_of() {	# port key
	$K -s switch show "$SW" | awk -v p="$1" -v k="$2" '
		$1 == "port" { in_port = ($2 == p); next }
		$1 == "total" { in_port = (p == "total"); $1 = "" }
		in_port { for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}
nports() { $K switch show "$SW" | grep -c '^    port '; }

# Only what happens from here on counts (boot has its own WARNING lines).
dmesg -c >/dev/null
check "module load from a path (libkmod)" $K module load /test/kavm_switch.ko
check_match "module status: loaded, version 1.0" "$($K module status)" \
	'^kavm_switch loaded version 1.0 refcount [0-9]+ switches 0 ports 0$'
check_fail "module load twice: refused" 1 'kavm_switch: already loaded' \
	$K module load /test/kavm_switch.ko
# Every change from here on, as the "events" group announces it.
$K switch monitor >/tmp/events 2>&1 &
MON=$!
check "the kavm_switch tracepoints exist" test -d /sys/kernel/tracing/events/kavm_switch/kavm_drop

NA=$(vm_new pa 1 $MAC_A) && NB=$(vm_new pb 2 $MAC_B) && NC=$(vm_new pc 3 $MAC_C) ||
	not_ok "three VMs on veth pairs"
check "switch add --engine kmod" $K switch add $SW --engine kmod --ageing 4
check_match "switch show says the engine" "$($K switch show $SW)" \
	"^switch $SW engine kmod ageing 4s fdb 0/4096\$"
check_match "-j switch show says the engine" "$($K -j switch show)" \
	"\"name\":\"$SW\",\"engine\":\"kmod\",\"ageing_ms\":4000"
for p in pa pb pc; do check "attach $p" $K switch attach $SW $p; done
check_eq "three ports" "$(nports)" 3

check "a pings b through the switch" ping_from "$NA" 10.9.0.2
check "a pings c through the switch" ping_from "$NA" 10.9.0.3
fdb=$($K fdb show $SW)
echo "$fdb" | sed 's/^/# fdb: /'
check_match "fdb: a learned on pa" "$fdb" "^$MAC_A dev pa age [0-9.]+s\$"
check_match "fdb: b learned on pb" "$fdb" "^$MAC_B dev pb age [0-9.]+s\$"
check_match "fdb: c learned on pc" "$fdb" "^$MAC_C dev pc age [0-9.]+s\$"
$K -s switch show $SW | sed 's/^/# /'
check "counters: pa flooded its ARP requests ($(stat_of pa flooded))" \
	test "$(stat_of pa flooded)" -ge 2
check "counters: pa forwarded its pings ($(stat_of pa forwarded))" \
	test "$(stat_of pa forwarded)" -ge 4
check "counters: pb sent frames out ($(stat_of pb tx))" test "$(stat_of pb tx)" -ge 3
check "counters: pa learned its MAC ($(stat_of pa learned))" test "$(stat_of pa learned)" -ge 1
check_eq "counters: nothing dropped yet" \
	"$(stat_of total drop_spoof) $(stat_of total drop_invalid) $(stat_of total drop_loop)" "0 0 0"

check "fdb add static" $K fdb add $SW 02:00:00:00:00:99 pb
check_match "fdb: the static entry" "$($K fdb show $SW)" '^02:00:00:00:00:99 dev pb static$'
check_fail "fdb add on a non-port: refused, kernel says why" 1 \
	"fdb add 02:00:00:00:00:98 dev lo: No such file or directory: lo is not a port of switch $SW\$" \
	$K fdb add $SW 02:00:00:00:00:98 lo
check "fdb del" $K fdb del $SW 02:00:00:00:00:99
check_fail "fdb del twice: refused, kernel says why" 1 \
	"No such file or directory: switch $SW: no fdb entry for 02:00:00:00:00:99\$" \
	$K fdb del $SW 02:00:00:00:00:99
# b's MAC pinned on a's own port: a's frames to b would go back where they
# came from, and are dropped instead.
check "fdb add b's MAC on pa" $K fdb add $SW $MAC_B pa
check_fail "frames never go back to their ingress port: pings lost" 1 ' 0 packets received' \
	ping_from "$NA" 10.9.0.2
check "drop_loop counted on pa ($(stat_of pa drop_loop))" test "$(stat_of pa drop_loop)" -ge 1
check "fdb del b's MAC" $K fdb del $SW $MAC_B
check "a pings b again" ping_from "$NA" 10.9.0.2

# Refusals, each with the kernel's words.
$K bridge add br0 >/dev/null && ip link add pd type veth peer kvpd &&
	$K link attach pd --bridge br0 >/dev/null || not_ok "pd made a port of br0"
check_fail "a bridge's port is refused: EBUSY, naming the bridge" 1 \
	"switch $SW: attach pd: Device or resource busy: pd is already a port of br0\$" \
	$K switch attach $SW pd
check "second kmod switch" $K switch add kt2 --engine kmod
check_fail "a port of another switch is refused: EBUSY, naming it" 1 \
	"switch kt2: attach pa: Device or resource busy: pa is already a port of switch $SW\$" \
	$K switch attach kt2 pa
check_fail "attaching twice: EEXIST" 1 \
	"attach pa: File exists: pa is already a port of switch $SW\$" $K switch attach $SW pa
check_fail "a missing device: ENODEV" 1 "attach nodev0: No such device: no device nodev0\$" \
	$K switch attach $SW nodev0
check_fail "detach a non-port: ENOENT" 1 \
	"detach pd: No such file or directory: pd is not a port of switch $SW\$" \
	$K switch detach $SW pd
check_fail "add twice: EEXIST" 1 "switch $SW: add: File exists: switch $SW exists already\$" \
	$K switch add $SW --engine kmod
check_fail "an ageing time below the policy's range: ERANGE from the policy" 1 \
	"switch kt3: add: Numerical result out of range: integer out of range\$" \
	$K switch add kt3 --engine kmod --ageing 0.001
check_fail "--no-spoof without --mac: refused by kavmctl" 1 "needs --mac|needs the port's MAC" \
	$K switch attach kt2 pd --no-spoof
check_fail "a change without CAP_NET_ADMIN: EPERM" 1 \
	"switch kt4: add: Operation not permitted" unshare -r $K switch add kt4 --engine kmod
check "switch del kt2" $K switch del kt2

# Anti-spoofing: c declared with a MAC that is not its own.
echo 1 >/sys/kernel/tracing/events/kavm_switch/enable
check "detach pc" $K switch detach $SW pc
check_eq "two ports" "$(nports)" 2
check "attach pc --mac (wrong) --no-spoof" \
	$K switch attach $SW pc --mac 02:00:00:00:00:77 --no-spoof
# a asks for c's MAC again: a broadcast to flood.
inns "$NA" ip neigh flush all >/dev/null 2>&1
check_fail "spoofed frames from c are dropped: pings lost" 1 ' 0 packets received' \
	ping_from "$NA" 10.9.0.3
check "drop_spoof counted on pc ($(stat_of pc drop_spoof))" test "$(stat_of pc drop_spoof)" -ge 1
check "a still pings b" ping_from "$NA" 10.9.0.2
echo 0 >/sys/kernel/tracing/events/kavm_switch/enable
tr=$(cat /sys/kernel/tracing/trace)
check_match "tracepoint kavm_drop: the spoofed frame, with its reason" "$tr" \
	"kavm_drop: switch $SW dev pc len [0-9]+ src $MAC_C dst .* reason spoof"
check_match "tracepoint kavm_forward: a to b" "$tr" \
	"kavm_forward: switch $SW in pa out pb len [0-9]+ src $MAC_A dst $MAC_B"
check_match "tracepoint kavm_flood: a's ARP request" "$tr" \
	"kavm_flood: switch $SW in pa len [0-9]+ src $MAC_A dst ff:ff:ff:ff:ff:ff"
check "reattach pc with its own MAC" $K switch detach $SW pc
check "attach pc --mac $MAC_C --no-spoof" $K switch attach $SW pc --mac $MAC_C --no-spoof
check_match "fdb: a port's --mac is a static entry" "$($K fdb show $SW)" "^$MAC_C dev pc static\$"
check_fail "fdb del of a port's MAC: EBUSY" 1 \
	"Device or resource busy: $MAC_C is the declared MAC of port pc: detach the port instead\$" \
	$K fdb del $SW $MAC_C
inns "$NA" ip neigh flush all >/dev/null 2>&1
inns "$NC" ip neigh flush all >/dev/null 2>&1
check "c reachable with anti-spoofing on" ping_from "$NA" 10.9.0.3

# Learned entries age out (4 s here); the static one stays. The VMs go
# quiet first: their neighbour probes would refresh a's entry.
for n in "$NA" "$NB" "$NC"; do inns "$n" ip link set eth0 down; done
sleep 7
fdb=$($K fdb show $SW)
check_eq "after 7 s of silence only the static entry is left" "$fdb" "$MAC_C dev pc static"
for n in "$NA" "$NB" "$NC"; do inns "$n" ip link set eth0 up; done

# A port whose device goes away leaves the switch.
check "delete pb's device" ip link del pb
check_eq "pb is no longer a port" "$($K switch show $SW | grep -c ' port pb ')" 0
check_eq "two ports left" "$(nports)" 2
check "a still pings c" ping_from "$NA" 10.9.0.3

# An uplink: a veth to a "LAN" namespace, as a NIC would be.
NL=$(vm_new pu 4 02:00:00:00:00:04) || not_ok "a LAN namespace behind pu"
check "attach the uplink" $K switch attach $SW pu --uplink
check_match "show: pu is the uplink" "$($K switch show $SW)" '    port pu ifindex [0-9]+ uplink$'
check "a reaches the LAN through the uplink" ping_from "$NA" 10.9.0.4
check "the LAN reaches c" ping_from "$NL" 10.9.0.3

# Switches belong to their network namespace.
ND=$(netns_new)
sleep 1
check "a switch in another namespace" inns "$ND" $K switch add kns --engine kmod
inns "$ND" ip link add px type veth peer kvpx
check "... with a port there" inns "$ND" $K switch attach kns px
check_match "that namespace sees its switch" "$(inns "$ND" $K switch show)" \
	'^switch kns engine kmod'
check_eq "... and not ours" "$(inns "$ND" $K switch show | grep -c "^switch $SW ")" 0
check_eq "we do not see its switch" "$($K switch show | grep -c '^switch kns ')" 0
kill "$ND"
sleep 2

kill "$MON"
ev=$(cat /tmp/events)
printf '%s\n' "$ev" | head -n 40 | sed 's/^/# event: /'
for e in "switch-new $SW" "port-add $SW pa" "fdb-add $SW $MAC_A dev pa" \
	"fdb-add $SW 02:00:00:00:00:99 dev pb static" "fdb-del $SW 02:00:00:00:00:99 dev pb static" \
	"fdb-add $SW $MAC_C dev pc static" "fdb-del $SW $MAC_A dev pa" "port-del $SW pb" \
	"switch-new kt2" "switch-del kt2"; do
	check "event: $e" test "$(printf '%s\n' "$ev" | grep -c -x -F "$e")" -ge 1
done
check_eq "no event from the other namespace" "$(printf '%s\n' "$ev" | grep -c kns)" 0

# What only a raw client can send: the policies refuse it, saying why.
G=/test/kmod-genl
check_match "an attribute outside the command's policy: EINVAL" "$($G unknown-attr kt5)" \
	'^error 22 Invalid argument: Unsupported attribute$'
check_match "an attribute above the family's: EINVAL" "$($G above-max kt5)" \
	'^error 22 Invalid argument: Unknown attribute type$'
check_match "reserved header bits set: EINVAL" "$($G reserved kt5)" \
	'^error 22 Invalid argument: genlmsghdr.reserved field is not 0$'
check_match "a name over 31 bytes: refused by the policy" "$($G long-name)" \
	'^error 22 Invalid argument: Attribute failed policy validation$'
check_match "a port dump of a missing switch: ENOENT, in the dump's DONE" \
	"$($G port-dump nosuch)" \
	'^error 2 No such file or directory: no switch nosuch in this network namespace$'
check_eq "none of them made a switch" "$($K switch show | grep -c '^switch kt5 ')" 0
# Dumps: 600 static entries on pa come in many parts; one more entry added
# between two parts marks the later ones NLM_F_DUMP_INTR.
out=$($G dump $SW pa 600)
echo "# quiet dump: $out"
check_match "a dump left alone: every entry, not interrupted" "$out" '^messages 60[0-9] intr 0 '
out=$($G dump $SW pa 0 change)
echo "# changed dump: $out"
check_match "a dump with a change in its middle: NLM_F_DUMP_INTR" "$out" '^messages [0-9]+ intr [1-9]'
check_match "kavmctl fdb show reads it whole (redone when interrupted)" \
	"$($K fdb show $SW | grep -c '^02:00:00:01:')" '^60[0-9]$'

# rmmod with ports attached: pa and pc are still ports of kt.
check_match "module status counts this namespace's switch and ports" "$($K module status)" \
	'switches 1 ports 3$'
check "module unload with ports attached" $K module unload
check_match "module status: not loaded" "$($K module status)" '^kavm_switch not loaded$'
check "pa is free again: it can join a bridge" $K link attach pa --bridge br0
sleep 2
bad=$(dmesg | grep -E 'waiting for .* to become free|WARNING:|BUG:|Call Trace|refcount_t' |
	head -n 5)
check_eq "the kernel log has no 'waiting for', WARN or BUG" "$bad" ""
[ -n "$bad" ] && dmesg | tail -n 60 | sed 's/^/# dmesg: /'
finish
EOF
testhost_check --name kmod "$TH_TMP/inside.sh" "$KO" "$TH_TMP/kmod-genl"
done_testing
