#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavmctl bridge/tap/link against the kernel's own view (ip -j -d link, bridge -j link),
# every error message exactly, and -j output carrying the same facts as the text;
# switch pins only where they outlive kavmctl (-n, never "ip netns exec").
. "$(dirname "$0")/../lib.sh"

require_root
require_cmd jq
require_cmd ip
require_cmd bridge
K=$BUILD/kavmctl
[ -x "$K" ] || skip_all "build $K first"
netns_new NS
# No IPv6 chatter (DAD, MLD, RS): br0 would count the frames it drops between two reads.
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

k() { "$K" -n "$NS" "$@"; }
ipd() { ip -n "$NS" -j -d link show "$@" 2>/dev/null; }
info() { ipd "$1" | jq -c ".[0].linkinfo.info_data.$2"; }   # DEV FIELD

expect_err() {	# desc want-stderr cmd...: must exit 1 with exactly that message
	local desc=$1 want=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 1 ] && [ "$out" = "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc"
		echo "# rc=$rc"
		echo "# got:  $out"
		echo "# want: $want"
	fi
}

# Text lines "N: NAME: key value ..." (+ indented "key value ..." counters) as JSON
# objects of strings, and -j output flattened to the same shape.
text_facts() {
	awk 'BEGIN { printf "[" }
	     /^[0-9]+: / { if (o) printf "}"; if (n++) printf ",";
			   sub(/:$/, "", $1); sub(/:$/, "", $2);
			   printf "{\"ifindex\":\"%s\",\"ifname\":\"%s\"", $1, $2;
			   for (i = 3; i < NF; i += 2) printf ",\"%s\":\"%s\"", $i, $(i + 1);
			   o = 1; next }
	     /^ / { for (i = 1; i < NF; i += 2) printf ",\"%s\":\"%s\"", $i, $(i + 1) }
	     END { if (o) printf "}"; print "]" }' | jq -S -c .
}
json_facts() {
	jq -S -c '[.[] | (. + ((.stats64 // {}) | [to_entries[] | .key as $d | .value | to_entries[] |
			{key: ($d + "_" + .key), value}] | from_entries)) | del(.stats64) | with_entries(.value |=
		(if type == "boolean" then (if . then "on" else "off" end)
		 elif type == "array" then (if length == 0 then "-" else join(",") end)
		 else tostring end))]'
}
# Counters move between the two reads (br0's STP sends a BPDU every 2 s
# and counts it dropped while no port is up): the two outputs must agree
# exactly on one of three tries.
same_facts() {	# desc show-args...: text and -j output agree, and the JSON parses
	local desc=$1 t j try
	shift
	for try in 1 2 3; do
		t=$(k "$@" | text_facts)
		j=$(k -j "$@" | json_facts)
		[ "$t" = "$j" ] && break
	done
	if [ -n "$j" ] && [ "$j" != "[]" ] && [ "$t" = "$j" ]; then
		ok "$desc"
	else
		not_ok "$desc"
		echo "# text: $t"
		echo "# json: $j"
	fi
}

# ---- bridge
check "bridge add br0 stp on forward_delay 400" k bridge add br0 stp on forward_delay 400
check_eq "br0 is a bridge for the kernel" "$(ipd br0 | jq -r '.[0].linkinfo.info_kind')" bridge
check_eq "br0 stp_state" "$(info br0 stp_state)" 1
check_eq "br0 forward_delay" "$(info br0 forward_delay)" 400
check "bridge add br1 (defaults)" k bridge add br1
check_eq "br1 stp off by default" "$(info br1 stp_state)" 0
check "bridge set br1 stp on forward_delay 300" k bridge set br1 stp on forward_delay 300
check_eq "br1 stp_state after set" "$(info br1 stp_state)" 1
check_eq "br1 forward_delay after set" "$(info br1 forward_delay)" 300
check "bridge set br1 stp off" k bridge set br1 stp off
check_eq "br1 stp_state off again" "$(info br1 stp_state)" 0
# vlan filtering is a kernel build option: either it is set, or the error says so.
if ip -n "$NS" link add vfprobe type bridge vlan_filtering 1 2>/dev/null; then
	ip -n "$NS" link del vfprobe
	check "bridge add br2 vlan_filtering on" k bridge add br2 vlan_filtering on
	check_eq "br2 vlan_filtering" "$(info br2 vlan_filtering)" 1
	check "bridge del br2" k bridge del br2
else
	expect_err "vlan_filtering on without kernel support" \
		"kavmctl: bridge br2: add: Operation not supported: this kernel has no bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)" \
		k bridge add br2 vlan_filtering on
	check_no_link "no br2 left behind" "$NS" br2
fi
expect_err "bridge add duplicate" \
	"kavmctl: bridge br0: add: File exists: a device named br0 already exists" k bridge add br0
expect_err "bridge add name over 15 bytes" \
	"kavmctl: bridge br0123456789abcd: add: File name too long: interface names are at most 15 bytes" \
	k bridge add br0123456789abcd
check "a 15-byte name is fine" k bridge add br0123456789abc
check_eq "kernel has the 15-byte bridge" "$(ipd br0123456789abc | jq -r '.[0].ifname')" br0123456789abc
check "bridge del br0123456789abc" k bridge del br0123456789abc
check_no_link "deleted bridge is gone" "$NS" br0123456789abc
expect_err "bridge del missing" "kavmctl: bridge nobr: del: No such device: no device named nobr" \
	k bridge del nobr
expect_err "bridge del of a non-bridge" "kavmctl: bridge lo: del: Wrong medium type: lo is not a bridge" \
	k bridge del lo
# show says what del says: the same cause for the same NAME.
expect_err "bridge show missing" "kavmctl: bridge nobr: show: No such device: no device named nobr" \
	k bridge show nobr
expect_err "bridge show of a non-bridge" "kavmctl: bridge lo: show: Wrong medium type: lo is not a bridge" \
	k bridge show lo
check_eq "bridge show -j of a non-bridge: no JSON on stdout" "$(k -j bridge show lo 2>/dev/null)" ""
check_fail "bridge with bad stp value fails" 255 '^kavmctl: bridge: stp: "maybe" is not on or off$' k bridge add br9 stp maybe
check_no_link "no br9 after a usage error" "$NS" br9

# ---- tap
check "tap add tap0 --owner 4321 --vnet-hdr" k tap add tap0 --owner 4321 --vnet-hdr
check_eq "tap0 is a tap" "$(info tap0 type)" '"tap"'
check_eq "tap0 outlived kavmctl (persist)" "$(info tap0 persist)" true
check_eq "tap0 vnet_hdr" "$(info tap0 vnet_hdr)" true
check_eq "tap0 not multi-queue" "$(info tap0 multi_queue)" false
check_eq "tap0 owner" "$(info tap0 user)" 4321
check_eq "tap0 no packet info header" "$(info tap0 pi)" false
check "tap add tapm --multi-queue --persist" k tap add tapm --multi-queue --persist
check_eq "tapm multi-queue" "$(info tapm multi_queue)" true
check_eq "tapm has no owner" "$(info tapm user)" null
check "tap add tap1" k tap add tap1
# As ip tuntap: a user or group by name (getpwnam/getgrnam) as well as by number.
NOGRP=$(id -gn nobody)
check "tap add tapu --owner nobody --group $NOGRP" k tap add tapu --owner nobody --group "$NOGRP"
check_eq "kernel: tapu's user and group" "$(ipd tapu | jq -c '.[0].linkinfo.info_data | [.user, .group]')" "[\"nobody\",\"$NOGRP\"]"
check_eq "tap show: tapu's owner by number" "$(k -j tap show tapu | jq -r '.[0].owner')" "$(id -u nobody)"
check_fail "tap add --owner: no such user, status 255" 255 \
	'^kavmctl: tap add: --owner: no user named "kavm-no-such-user"$' k tap add tapx --owner kavm-no-such-user
check_fail "tap add --group: no such group, status 255" 255 \
	'^kavmctl: tap add: --group: no group named "kavm-no-such-grp"$' k tap add tapx --group kavm-no-such-grp
check_fail "tap add --owner without a value, status 255" 255 '^kavmctl: tap add: --owner needs a user$' \
	k tap add tapx --owner
check_no_link "no tapx after the usage errors" "$NS" tapx
check "tap del tapu" k tap del tapu
expect_err "tap add duplicate" \
	"kavmctl: tap tap0: add: File exists: a device with that name already exists" k tap add tap0
expect_err "tap add over a bridge's name" \
	"kavmctl: tap br0: add: File exists: a device with that name already exists" k tap add br0
expect_err "tap add name over 15 bytes" \
	"kavmctl: tap tap0123456789abcd: add: File name too long: interface names are at most 15 bytes" \
	k tap add tap0123456789abcd
expect_err "tap del of a bridge" "kavmctl: tap br0: del: Wrong medium type: br0 is not a tap" \
	k tap del br0
expect_err "tap del missing" "kavmctl: tap notap: del: No such device: no device named notap" \
	k tap del notap
tj=$(k -j tap show)
check_eq "tap show -j lists the three taps" "$(jq -r '[.[].ifname] | sort | join(",")' <<<"$tj")" \
	"tap0,tap1,tapm"
check_eq "tap show -j owner/vnet_hdr/multi_queue/persist of tap0" \
	"$(jq -c '.[] | select(.ifname == "tap0") | [.owner, .vnet_hdr, .multi_queue, .persist]' <<<"$tj")" \
	"[4321,true,false,true]"
check_eq "tap show -j of tapm matches the kernel" \
	"$(jq -c '.[] | select(.ifname == "tapm") | [.multi_queue, .vnet_hdr, .persist]' <<<"$tj")" \
	"$(ipd tapm | jq -c '.[0].linkinfo.info_data | [.multi_queue, .vnet_hdr, .persist]')"
check_eq "tap show: a single-queue tap has its one queue, held or not" \
	"$(jq -c '.[] | select(.ifname == "tap0") | .queues' <<<"$tj")" 1
check_match "tap show text: queues 1 for tap0" "$(k tap show tap0)" ' queues 1$'
check_eq "tap show: a multi-queue tap counts the queues attached (none)" \
	"$(jq -c '.[] | select(.ifname == "tapm") | .queues' <<<"$tj")" 0
same_facts "tap show: text and JSON agree" tap show

# ---- link attach/detach
check "link attach tap0 --bridge br0" k link attach tap0 --bridge br0
check_eq "kernel: tap0's master is br0" "$(ipd tap0 | jq -r '.[0].master')" br0
check_eq "bridge link: tap0 on br0" \
	"$(bridge -n "$NS" -j link show | jq -r '.[] | select(.ifname == "tap0") | .master')" br0
check "link attach again to the same bridge is a no-op" k link attach tap0 --bridge br0
check "link attach tap1 --bridge br0" k link attach tap1 --bridge br0
expect_err "attach a device that has another master" \
	"kavmctl: bridge br1: attach tap0: Device or resource busy: tap0 is already attached to br0" \
	k link attach tap0 --bridge br1
check_eq "tap0 still on br0" "$(ipd tap0 | jq -r '.[0].master')" br0
expect_err "attach a bridge to itself" \
	"kavmctl: bridge br0: attach br0: Invalid argument: a bridge cannot be attached to itself" \
	k link attach br0 --bridge br0
expect_err "attach a bridge to a bridge (kernel extack)" \
	"kavmctl: bridge br0: attach br1: Too many levels of symbolic links: Can not enslave a bridge to a bridge" \
	k link attach br1 --bridge br0
expect_err "attach a missing device" \
	"kavmctl: bridge br0: attach nodev: No such device: no device named nodev" \
	k link attach nodev --bridge br0
expect_err "attach to a missing bridge" \
	"kavmctl: bridge nobr: attach tapm: No such device: no device named nobr" \
	k link attach tapm --bridge nobr
expect_err "attach to a non-bridge" \
	"kavmctl: bridge tap1: attach tapm: Wrong medium type: tap1 is not a bridge" \
	k link attach tapm --bridge tap1
expect_err "attach a name over 15 bytes" \
	"kavmctl: bridge br0: attach tap0123456789abcd: File name too long: interface names are at most 15 bytes" \
	k link attach tap0123456789abcd --bridge br0
bt=$(k bridge show br0)
check_match "bridge show lists br0's ports" "$bt" ' ports tap0,tap1$'
bj=$(k -j bridge show br0)
check_eq "bridge show -j ports = bridge link's" "$(jq -r '.[0].ports | join(",")' <<<"$bj")" \
	"$(bridge -n "$NS" -j link show | jq -r '[.[] | select(.master == "br0") | .ifname] | join(",")')"
check_eq "bridge show -j stp/forward_delay = kernel's" "$(jq -c '.[0] | [.stp, .forward_delay]' <<<"$bj")" \
	"$(ipd br0 | jq -c '.[0].linkinfo.info_data | [.stp_state == 1, .forward_delay]')"
check_eq "bridge show -j vlan_filtering = kernel's" "$(jq -c '.[0].vlan_filtering' <<<"$bj")" \
	"$(ipd br0 | jq -c '.[0].linkinfo.info_data.vlan_filtering == 1')"
same_facts "bridge show: text and JSON agree" bridge show
same_facts "bridge show -s: text and JSON agree" -s bridge show
check "link detach tap1" k link detach tap1
check_eq "kernel: tap1 has no master" "$(ipd tap1 | jq -r '.[0].master')" null
# Like attach (and ip link set nomaster): a device with no master is detached already.
out=$(k link detach tap1 2>&1)
check_eq "detach a device without master: done already, status 0, silent" "$?:$out" "0:"
out=$(k link set tap1 nomaster 2>&1)
check_eq "link set nomaster without master: status 0, silent" "$?:$out" "0:"
check_eq "kernel: tap1 still has no master" "$(ipd tap1 | jq -r '.[0].master')" null
expect_err "detach a missing device" "kavmctl: link nodev: detach: No such device: no device named nodev" \
	k link detach nodev

# ---- link set
check "link set tap0 up" k link set tap0 up
check_match "kernel: tap0 UP" "$(ipd tap0 | jq -r '.[0].flags | join(",")')" '(^|,)UP(,|$)'
check "link set br0 mtu 1400 address 02:11:22:33:44:55 up" \
	k link set br0 mtu 1400 address 02:11:22:33:44:55 up
check_eq "kernel: br0 mtu" "$(ipd br0 | jq -r '.[0].mtu')" 1400
check_eq "kernel: br0 address" "$(ipd br0 | jq -r '.[0].address')" 02:11:22:33:44:55
check "link set tap0 down" k link set tap0 down
check_match "kernel: tap0 not UP" "$(ipd tap0 | jq -r '.[0].flags | join(",")')" '^([^U]|U[^P])*$'
# ip's grammar: "dev DEV" anywhere, master/nomaster.
check "link set dev tap0 mtu 1300" k link set dev tap0 mtu 1300
check_eq "kernel: tap0 mtu 1300" "$(ipd tap0 | jq -r '.[0].mtu')" 1300
check "link set up dev tap1 (dev after the keys)" k link set up dev tap1
check_match "kernel: tap1 UP" "$(ipd tap1 | jq -r '.[0].flags | join(",")')" '(^|,)UP(,|$)'
check "link set tap1 master br0" k link set tap1 master br0
check_eq "kernel: tap1's master is br0" "$(ipd tap1 | jq -r '.[0].master')" br0
check "link set dev tap1 nomaster down" k link set dev tap1 nomaster down
check_eq "kernel: tap1 has no master again" "$(ipd tap1 | jq -r '.[0].master')" null
check_match "kernel: tap1 down again" "$(ipd tap1 | jq -r '.[0].flags | join(",")')" '^([^U]|U[^P])*$'
expect_err "link set master: a missing bridge" \
	"kavmctl: link tap1: set master nobr: No such device: no device named nobr" \
	k link set tap1 master nobr
expect_err "link set master: another master already" \
	"kavmctl: link tap0: set master br1: Device or resource busy: tap0 is already attached to br0" \
	k link set tap0 master br1
check_fail "link set dev without DEV: status 255" 255 '^kavmctl: link set: dev needs DEV$' k link set dev
check_fail "link set, two DEVs: status 255" 255 '^kavmctl: link set: a second DEV "tap1" after "tap0"$' \
	k link set dev tap0 dev tap1 up
check_fail "link set, only DEV: status 255" 255 '^kavmctl: link set: needs DEV and what to set$' \
	k link set tap0
check_fail "link set: a usage error anywhere..." 255 '^kavmctl: link set: mtu "abc" is not a number$' \
	k link set tap0 mtu 1280 mtu abc
check_eq "... changes nothing" "$(ipd tap0 | jq -r '.[0].mtu')" 1300
check_eq "link show dev DEV" "$(k -j link show dev tap0 | jq -r '.[0].ifname')" tap0
expect_err "mtu below the minimum (kernel extack)" \
	"kavmctl: link tap0: set mtu 10: Invalid argument: mtu less than device minimum" \
	k link set tap0 mtu 10
expect_err "set on a missing device" "kavmctl: link nodev: set up: No such device: no device named nodev" \
	k link set nodev up
check_fail "malformed MAC is a usage error" 255 '^kavmctl: link set: address "02:11:22" is not aa:bb:cc:dd:ee:ff$' \
	k link set tap0 address 02:11:22
# One MAC parser (include/kavm/mac.h) for link set, fdb and switch, as ip takes them.
check "link set address with one-digit octets" k link set tap0 address 2:11:22:33:44:5
check_eq "kernel: tap0 address" "$(ipd tap0 | jq -r '.[0].address')" 02:11:22:33:44:05
check_fail "a MAC with signs is a usage error" 255 \
	'^kavmctl: link set: address "\+2:\+0:\+0:\+0:\+0:\+1" is not aa:bb:cc:dd:ee:ff$' \
	k link set tap0 address +2:+0:+0:+0:+0:+1
check_fail "fdb add, bad MAC: says which, status 255" 255 '^kavmctl: fdb add: MAC "zz" is not aa:bb:cc:dd:ee:ff$' \
	k fdb add nosw zz tap1
check_fail "fdb del, bad MAC: says which, status 255" 255 '^kavmctl: fdb del: MAC "1:2:3" is not aa:bb:cc:dd:ee:ff$' \
	k fdb del nosw 1:2:3
check_fail "switch attach --mac, bad MAC: status 255" 255 \
	'^kavmctl: switch attach: --mac "02:00:00:00:00:0g" is not aa:bb:cc:dd:ee:ff$' \
	k switch attach nosw tap1 --mac 02:00:00:00:00:0g
check_fail "unknown attribute is a usage error" 255 '^kavmctl: link set: unknown attribute "color"$' \
	k link set tap0 color red
expect_err "link show missing" "kavmctl: link nodev: show: No such device: no device named nodev" \
	k link show nodev

# ---- link show against ip, and counters
# Five UDP datagrams through lo (bash's /dev/udp: no ping on the build host).
ip netns exec "$NS" bash -c 'for i in 1 2 3 4 5; do echo kavm >/dev/udp/127.0.0.1/9; done' 2>/dev/null
kj=$(k -j -s link show)
check_eq "link show -j = ip -j -d link show (index, name, kind, mtu, address, master, state)" \
	"$(jq -S -c '[.[] | {ifindex, ifname, mtu, address, operstate, admin, kind: (.kind // null), master: (.master // null)}]' <<<"$kj")" \
	"$(ipd | jq -S -c '[.[] | {ifindex, ifname, mtu, address, operstate,
		admin: (if (.flags | index("UP")) then "up" else "down" end),
		kind: (.linkinfo.info_kind // null), master: (.master // null)}]')"
# ip's layout (stats64.rx/.tx objects), so one jq filter reads both.
F='.[] | select(.ifname == "lo") | .stats64 | {rx: (.rx | {bytes, packets, errors, dropped}),
	tx: (.tx | {bytes, packets, errors, dropped})}'
check_eq "link show -s -j: ip's stats64.rx/.tx, lo's counters = ip -s -j's" \
	"$(jq -c "$F" <<<"$kj")" "$(ip -n "$NS" -s -j link show lo | jq -c "$F")"
check_eq "link show -s -j: rx and tx keys in ip's order" \
	"$(jq -c '.[] | select(.ifname == "lo") | .stats64 | [keys_unsorted, (.rx | keys_unsorted)]' <<<"$kj")" \
	'[["rx","tx"],["bytes","packets","errors","dropped"]]'
check_match "lo really counted the pings" \
	"$(jq -r '.[] | select(.ifname == "lo") | .stats64.rx.packets' <<<"$kj")" '^([5-9]|[1-9][0-9]+)$'
same_facts "link show: text and JSON agree" link show
same_facts "link show -s: text and JSON agree" -s link show
same_facts "link show DEV: text and JSON agree" link show tap0

# -br: ip -br link's columns (name, state, address, flags), text and JSON.
check_eq "-br link show = ip -br link show" "$(k -br link show)" "$(ip -n "$NS" -br link show)"
check_eq "-br -j link show = ip -br -j link show" "$(k -br -j link show | jq -S -c .)" \
	"$(ip -n "$NS" -br -j link show | jq -S -c .)"
check_eq "-br bridge show: ip -br's lines of the bridges" "$(k -br bridge show)" \
	"$(ip -n "$NS" -br link show type bridge)"
check_eq "-br tap show: ip -br's line of tap0" "$(k -br tap show tap0)" "$(ip -n "$NS" -br link show tap0)"
check_match "-br: a device up without carrier is NO-CARRIER, as ip" "$(k -br link show br0)" '<NO-CARRIER,'
# -d: link show adds what bridge show / tap show print for their kind.
check_eq "-d link show DEV (a tap) = tap show DEV" "$(k -d -j link show tap0 | jq -S -c .)" \
	"$(k -j tap show tap0 | jq -S -c .)"
check_eq "-d link show DEV (a bridge) = bridge show DEV" "$(k -d -j link show br0 | jq -S -c .)" \
	"$(k -j bridge show br0 | jq -S -c .)"
check_eq "-d -s link show lo: just the counters more" "$(k -d -s -j link show lo | jq -c '.[0] | keys')" \
	"$(k -s -j link show lo | jq -c '.[0] | keys')"
same_facts "-d link show: text and JSON agree" -d link show
check_fail "-d: not after the command (as ip)" 255 '^kavmctl: link show: unexpected "-d"$' k link show lo -d

# ---- deleting
check "tap del tap0 (enslaved)" k tap del tap0
check_no_link "tap0 is gone" "$NS" tap0
check "tap del tapm (multi-queue)" k tap del tapm
check_no_link "tapm is gone" "$NS" tapm
check "bridge del br0" k bridge del br0
check_no_link "br0 is gone" "$NS" br0
check_eq "bridge show -j with no bridge but br1" "$(k -j bridge show | jq -r '[.[].ifname] | join(",")')" br1

# ---- namespaces, flags after show
expect_err "-n with a missing namespace" "kavmctl: netns kavm-no-such-ns: No such file or directory" \
	"$K" -n kavm-no-such-ns link show
check_match "show accepts -s after the command" "$(k link show -s lo)" 'rx_packets [0-9]+'
check_eq "show accepts -j after the command" "$(k link show lo -j | jq -r '.[0].ifname')" lo
expect_err "tap show missing" "kavmctl: tap notap: show: No such device: no device named notap" \
	k tap show notap
expect_err "tap show of a bridge, as tap del says" "kavmctl: tap br1: show: Wrong medium type: br1 is not a tap" \
	k tap show br1

# ---- switch pins: "ip netns exec" gives kavmctl a private /sys (and bpffs) that
# dies with it; a switch "made" there would vanish. -n keeps the host's bpffs.
SW=kt-$$-ns
at_exit "$K -n $NS switch del $SW || $K switch del $SW --force"
PRIVATE="/sys/fs/bpf here is private to this mount namespace (as under \"ip netns exec\"), so switches pinned there vanish with it; run \"kavmctl -n $NS ...\" outside it"
out=$(ip netns exec "$NS" "$K" switch add "$SW" 2>&1)
check_eq "ip netns exec: switch add refused, pointing at -n" "$?:$out" "1:kavmctl: switch $SW: $PRIVATE"
out=$("$K" -n "$NS" switch show "$SW" 2>&1)
check_eq "... and no switch was made" "$?:$out" \
	"1:kavmctl: switch $SW: no such switch (see \"kavmctl switch show\")"
check "-n: switch add" k switch add "$SW"
check "tap add tapsw" k tap add tapsw
check "-n: switch attach (a later process sees the switch)" k switch attach "$SW" tapsw
check_eq "-n: the switch has tapsw as its port" \
	"$(k -j switch show "$SW" | jq -r '.[0].ports | map(.ifname) | join(",")')" tapsw
out=$(ip netns exec "$NS" "$K" switch attach "$SW" tapsw 2>&1)
check_eq "ip netns exec: switch attach refused the same way" "$?:$out" "1:kavmctl: switch $SW: $PRIVATE"
out=$(ip netns exec "$NS" bash -c "\"$K\" -n \"$NS\" switch show" 2>&1)
check_eq "ip netns exec, nested and with -n: switch show refused" "$?:$out" "1:kavmctl: switch show: $PRIVATE"
out=$(ip netns exec "$NS" "$K" fdb show "$SW" 2>&1)
check_eq "ip netns exec: fdb show refused" "$?:$out" "1:kavmctl: switch $SW: $PRIVATE"
check "-n: switch del" k switch del "$SW"

# ---- global options, spelled as ip takes them (-j, -json, --json, ...)
for o in -j -json --json -js; do
	check_eq "$o before the object" "$(k "$o" link show lo | jq -r '.[0].ifname')" lo
done
check_match "-statistics" "$(k -statistics link show lo)" 'rx_packets [0-9]+'
check_eq "-netns NAME" "$("$K" -netns "$NS" -j link show lo | jq -r '.[0].ifname')" lo
check_fail "unknown option: status 255, says so" 255 '^kavmctl: unknown option "-foo"; try "kavmctl -h"$' \
	"$K" -foo link show
check_fail "-n without NETNS: status 255" 255 '^kavmctl: option "-n" needs an argument$' "$K" -n
ver=$("$K" -V)
check_eq "-V: status 0" "$?" 0
check_match "-V: kavmctl, kavm, libnl and libbpf versions" "$ver" \
	'^kavmctl utility, kavm-[0-9][0-9.]*, libnl [0-9][0-9.]*, libbpf v?[0-9][0-9.]*$'
check_eq "-Version is -V" "$("$K" -Version)" "$ver"
pj=$(k -j -p link show lo)
check_eq "-j -p: the same JSON as -j" "$(jq -c . <<<"$pj")" "$(k -j link show lo | jq -c .)"
check_match "-j -p: one key a line, indented" "$pj" '^        "ifname": "lo",$'
check_match "-j -p: an empty array stays []" "$(k -j -p bridge show br1)" '^        "ports": \[\],?$'
# An interface name may hold '"', ',', '{': structure only outside strings.
check "bridge add a name with JSON's punctuation" k bridge add 'b,"{[\'
check_eq "-j -p: such a name comes back whole" \
	"$(k -j -p bridge show 'b,"{[\' | jq -r '.[0].ifname')" 'b,"{[\'
check "bridge del it" k bridge del 'b,"{[\'
check_eq "-p without -j: text as without it" "$(k -p link show lo)" "$(k link show lo)"

# ---- -batch FILE [-force]: one command a line, as ip -batch
B=$(mktemp)
at_exit rm -f "$B"
cat >"$B" <<'EOT'
# a comment line, then a blank one

bridge add bb0 stp off   # a comment after a command
tap add bt0
link attach "bt0" --bridge 'bb0'
link set bt0 up
EOT
check "-batch: every line runs" k -batch "$B"
check_eq "-batch: bt0 on bb0, up" "$(ipd bt0 | jq -r '.[0] | "\(.master) \(.flags | index("UP") != null)"')" "bb0 true"
printf 'tap add bt1\nlink set nodev up\ntap add bt2\n' >"$B"
out=$(k -batch "$B" 2>&1)
check_eq "-batch: a failed line stops it, status 1, its error then FILE:LINE" "$?:$out" \
	"1:kavmctl: link nodev: set up: No such device: no device named nodev
kavmctl: Command failed $B:2"
check_eq "-batch: line 1 ran" "$(ipd bt1 | jq -r '.[0].ifname')" bt1
check_no_link "-batch: nothing after the failed line ran" "$NS" bt2
printf 'tap del bt1\nlink set nodev up\ntap add bt2\n' >"$B"
check_fail "-batch -force: on past the failure, status 1" 1 "^kavmctl: Command failed $B:2\$" \
	k -force -batch "$B"
check_eq "-batch -force: the line after it ran" "$(ipd bt2 | jq -r '.[0].ifname')" bt2
check_no_link "-batch -force: the line before it ran" "$NS" bt1
printf 'link show lo\nlink frob\nlink set nodev up\n' >"$B"
check_fail "-batch -force: a usage error makes it 255" 255 "^kavmctl: Command failed $B:2\$" \
	k -force -batch "$B"
check_eq "-batch: -j applies to every line, -s of a line to that line only" \
	"$(printf 'link show lo -s\nlink show lo\n' | k -j -b - | jq -c '.[0].stats64 != null')" \
	"$(printf 'true\nfalse')"
check_fail "-batch: a missing file, status 1" 1 '^kavmctl: batch /nonexistent: No such file or directory$' \
	k -batch /nonexistent
check_fail "-batch: an unclosed quote is a usage error" 255 "^kavmctl: -:1: an unclosed quote" \
	k -batch - <<<'link show "lo'
check_fail "-batch with an OBJECT too: status 255" 255 \
	"^kavmctl: -batch $B: unexpected \"link\" \\(the commands are in the file\\)\$" k -batch "$B" link show
check "-batch: clean up" k -batch - <<<$'tap del bt0\ntap del bt2\nbridge del bb0'
check_no_link "-batch: bb0 deleted" "$NS" bb0

# ---- usage and exit codes: as ip, 255 when the command line cannot run, 1 when it failed
check_fail "bare kavmctl: status 255, the usage" 255 '^Usage: kavmctl \[ OPTIONS \] OBJECT' "$K"
check_eq "bare kavmctl: nothing on stdout" "$("$K" 2>/dev/null)" ""
bare=$("$K" 2>&1 >/dev/null)
for g in 'kavmctl bridge del NAME' 'kavmctl tap add NAME' 'kavmctl link attach DEV' \
	'kavmctl switch add NAME' 'kavmctl fdb add NAME MAC DEV'; do
	check_match "bare kavmctl: \"$g\" on stderr" "$bare" "^$g"
done
check_fail "unknown object: status 255, says so" 255 '^kavmctl: unknown object "nosuchobject"; try "kavmctl -h"$' k nosuchobject
check_fail "unknown bridge command: status 255, says so" 255 '^kavmctl: bridge: unknown command "frob"$' k bridge frob
check_fail "link set without DEV: status 255" 255 '^kavmctl: link set: needs DEV and what to set$' k link set
check_fail "switch add without NAME: status 255, says so" 255 '^kavmctl: switch add: missing NAME$' k switch add
check_fail "switch add, bad --ageing: status 255" 255 '^kavmctl: switch add: --ageing: "soon" is not a number of seconds$' \
	k switch add kt-x --ageing soon
check_fail "fdb without NAME: status 255, says so" 255 '^kavmctl: fdb show: missing NAME$' k fdb show
check_fail "switch usage error: the grammar on stderr" 255 '^kavmctl switch detach NAME' k switch attach
check_eq "help: status 0, on stdout" "$(k help 2>/dev/null | grep -c '^kavmctl link attach DEV --bridge BRIDGE'):$?" "1:0"
check_fail "bridge add without NAME: status 255, says so" 255 '^kavmctl: bridge add: missing NAME$' k bridge add
check_fail "... then the bridge grammar" 255 '^kavmctl bridge del NAME$' k bridge add

done_testing
