#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavmctl switch/fdb end to end: three namespaces ("VMs") on veth pairs whose
# host ends are ports of one eBPF switch; ping through it, read the fdb and
# counters back, and check the errors a user sees.
. "$(dirname "$0")/../lib.sh"

require_root
require_cmd ip
require_cmd jq
require_cmd tc
require_cmd busybox
K=$BUILD/kavmctl
[ -x "$K" ] || skip_all "build/kavmctl not built"

netns_new NS
SW=kt-$$-sh
SW2=kt-$$-sh2
# Run before the netns goes (at_exit runs in reverse), and in it.
at_exit "$K -n $NS switch del $SW2 || $K switch del $SW2 --force"
at_exit "$K -n $NS switch del $SW || $K switch del $SW --force"
kc() { "$K" -n "$NS" "$@"; }

i=0
for x in a b c; do
	i=$((i + 1))
	netns_new "N$x"
	n=N$x
	ip -n "$NS" link add "p$x" type veth peer name eth0 netns "${!n}"
	ip -n "${!n}" link set eth0 address "02:00:00:00:00:0$i"
	ip -n "${!n}" addr add "10.9.0.$i/24" dev eth0
	ip -n "${!n}" link set eth0 up
	ip -n "$NS" link set "p$x" up
done
MAC_A=02:00:00:00:00:01 MAC_B=02:00:00:00:00:02 MAC_C=02:00:00:00:00:03
# busybox-static is a build dependency already; iputils may be absent.
# -W 5: under load the first reply (after ARP) can take longer than 2 s.
ping_from() { ip netns exec "$1" busybox ping -c 2 -W 5 "$2"; }

check "switch add" kc switch add "$SW" --ageing 60
for x in a b c; do check "attach p$x" kc switch attach "$SW" "p$x"; done
out=$(kc -j switch show "$SW")
check_eq "show: three ports" "$(jq '.[0].ports | length' <<<"$out")" 3
check_eq "show: mode tc, ageing 60 s" "$(jq -r '.[0] | "\(.mode) \(.ageing_ms)"' <<<"$out")" "tc 60000"
check_match "tc shows our program on pa" "$(tc -n "$NS" filter show dev pa ingress)" "kavm_sw_tc"
check "pins exist (bpftool)" bpftool map show pinned "/sys/fs/bpf/kavm/$SW/fdb"

check "a pings b through the switch" ping_from "$Na" 10.9.0.2
check "a pings c through the switch" ping_from "$Na" 10.9.0.3
fdb=$(kc -j fdb show "$SW")
check_eq "fdb: a learned on pa" "$(jq -r ".[] | select(.mac == \"$MAC_A\") | .dev" <<<"$fdb")" pa
check_eq "fdb: b learned on pb" "$(jq -r ".[] | select(.mac == \"$MAC_B\") | .static" <<<"$fdb")" false
st=$(kc -s -j switch show "$SW")
fwd=$(jq '.[0].ports[] | select(.ifname == "pa") | .stats.forwarded' <<<"$st")
check "counters: pa forwarded unicast ($fwd)" test "$fwd" -ge 4
check "counters: pa flooded the ARP requests" \
	test "$(jq '.[0].ports[] | select(.ifname == "pa") | .stats.flooded' <<<"$st")" -ge 2
check "counters: pb transmitted" \
	test "$(jq '.[0].ports[] | select(.ifname == "pb") | .stats.tx' <<<"$st")" -ge 3
check_match "text counters" "$(kc -s switch show "$SW")" "port pa ifindex [0-9]+"$'\n'" +rx [0-9]+ rx_bytes"

check "fdb add static" kc fdb add "$SW" "$MAC_B" pb
check_eq "fdb: b static" \
	"$(kc -j fdb show "$SW" | jq -r ".[] | select(.mac == \"$MAC_B\") | .static")" true
check_match "fdb text" "$(kc fdb show "$SW")" "$MAC_B dev pb static"
check_fail "fdb add on a non-port is refused" 1 \
	"^kavmctl: switch $SW: fdb add 02:00:00:00:00:99: lo is not a port of this switch\$" \
	kc fdb add "$SW" 02:00:00:00:00:99 lo
check_fail "fdb add, bad MAC: the error first, status 255" 255 \
	'^kavmctl: fdb add: MAC "zz" is not aa:bb:cc:dd:ee:ff$' kc fdb add "$SW" zz pb
check "fdb del" kc fdb del "$SW" "$MAC_B"
# Twice, with a MAC no port sends from: b's own may be learned again in between.
check "fdb add an address nobody uses" kc fdb add "$SW" 02:00:00:00:00:98 pb
check "fdb del it" kc fdb del "$SW" 02:00:00:00:00:98
check_fail "fdb del twice: no such entry" 1 \
	"^kavmctl: switch $SW: fdb del 02:00:00:00:00:98: no such entry\$" \
	kc fdb del "$SW" 02:00:00:00:00:98

check "second switch add" kc switch add "$SW2"
check_fail "attach elsewhere is refused, naming the owner" 1 \
	"^kavmctl: switch $SW2: attach pa: already attached to switch $SW\$" kc switch attach "$SW2" pa
check_fail "unknown switch" 1 \
	"^kavmctl: switch kt-$$-none: no such switch \\(see \"kavmctl switch show\"\\)\$" \
	kc switch attach kt-$$-none pa
check_fail "unknown device" 1 "^kavmctl: switch $SW: attach nodev0: no such device\$" \
	kc switch attach "$SW" nodev0
check_fail "add twice" 1 "^kavmctl: switch $SW: already exists\$" kc switch add "$SW"
# ifindexes name other devices in another netns: refused before anything is touched.
check_fail "attach from another netns" 1 \
	"^kavmctl: switch $SW: attach lo: belongs to another network namespace \\(use kavmctl -n NETNS\\)\$" \
	"$K" switch attach "$SW" lo
check_fail "del from another netns" 1 \
	"^kavmctl: switch $SW: belongs to another network namespace \\(use kavmctl -n NETNS\\)\$" \
	"$K" switch del "$SW"
check "the switch is still there" test -e "/sys/fs/bpf/kavm/$SW/prog_tc"
out=$("$K" switch show "$SW" 2>&1)
check_match "show from another netns says so" "$out" "another network namespace"
check_match "... and names no device of this one" "$out" "port \(other netns\) ifindex"
check "switch del --force removes only the pins" kc switch del "$SW2" --force
check "$SW2's pins are gone" test ! -e "/sys/fs/bpf/kavm/$SW2"
check_fail "bad name" 1 "^kavmctl: switch bad/name: bad name \\(letters, digits, '-', '_', '.'; at most [0-9]+\\)\$" \
	kc switch add "bad/name"

# An uplink (here a veth to a "LAN" namespace, as a NIC would be).
netns_new Nd
ip -n "$NS" link add pu type veth peer name eth0 netns "$Nd"
ip -n "$Nd" addr add 10.9.0.4/24 dev eth0
ip -n "$Nd" link set eth0 up
ip -n "$NS" link set pu up
check "attach the uplink" kc switch attach "$SW" pu --uplink
check_eq "show: pu is the uplink" \
	"$(kc -j switch show "$SW" | jq -r '.[0].ports[] | select(.uplink) | .ifname')" pu
check "a reaches the LAN through the uplink" ping_from "$Na" 10.9.0.4
check "the LAN reaches c" ping_from "$Nd" 10.9.0.3

check "detach pc" kc switch detach "$SW" pc
check_fail "a no longer reaches c: pings lost" 1 ' 0 packets received' ping_from "$Na" 10.9.0.3
check "a still reaches b" ping_from "$Na" 10.9.0.2
check_eq "pc has no filter left" "$(tc -n "$NS" filter show dev pc ingress)" ""
check_fail "detach twice" 1 "^kavmctl: switch $SW: detach pc: not a port of this switch\$" \
	kc switch detach "$SW" pc

check "attach pc with a wrong MAC, --no-spoof" \
	kc switch attach "$SW" pc --mac 02:00:00:00:00:77 --no-spoof
check_fail "spoofed frames from c are dropped: pings lost" 1 ' 0 packets received' \
	ping_from "$Na" 10.9.0.3
drops=$(kc -s -j switch show "$SW" | jq '.[0].ports[] | select(.ifname == "pc") | .stats.drop_spoof')
check "drop_spoof counted ($drops)" test "$drops" -ge 1
check "reattach pc with its MAC" kc switch detach "$SW" pc
check "attach pc --mac $MAC_C --no-spoof" kc switch attach "$SW" pc --mac "$MAC_C" --no-spoof
# Neighbour entries the spoofing phase left FAILED would only add delay.
ip -n "$Na" neigh flush all
ip -n "$Nc" neigh flush all
check_eq "fdb: a port's --mac is a static entry" \
	"$(kc -j fdb show "$SW" | jq -r ".[] | select(.mac == \"$MAC_C\") | \"\(.dev) \(.static)\"")" \
	"pc true"
check "c reachable with anti-spoofing on" ping_from "$Na" 10.9.0.3

check "switch del" kc switch del "$SW"
check "pins removed" test ! -e "/sys/fs/bpf/kavm/$SW"
check_eq "pa has no filter left" "$(tc -n "$NS" filter show dev pa ingress)" ""
check_fail "a no longer reaches b: pings lost" 1 ' 0 packets received' ping_from "$Na" 10.9.0.2
check_fail "show after del" 1 "^kavmctl: switch $SW: no such switch" kc switch show "$SW"
done_testing
