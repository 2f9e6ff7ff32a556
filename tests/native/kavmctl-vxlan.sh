#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavmctl vxlan add/del/show against the kernel's own view (ip -j -d link):
# unicast and multicast devices, text and -j output, and the exact message and
# status of every refusal (usage errors 255, the kernel's or kavm's 1).
. "$(dirname "$0")/../lib.sh"

require_root
require_cmd jq
require_cmd ip
K=$BUILD/kavmctl
[ -x "$K" ] || skip_all "build $K first"
netns_new NS

k() { "$K" -n "$NS" "$@"; }
info() { ip -n "$NS" -j -d link show "$1" | jq -c ".[0].linkinfo.info_data | {id, remote, group, local, port, link}"; }

ip -n "$NS" link add u0 type veth peer name u1
ip -n "$NS" addr add 192.168.77.1/24 dev u0
ip -n "$NS" link set u0 up

check "add unicast" k vxlan add vx0 id 42 remote 192.168.77.2 local 192.168.77.1
check_eq "unicast as ip sees it" "$(info vx0)" \
	'{"id":42,"remote":"192.168.77.2","group":null,"local":"192.168.77.1","port":4789,"link":null}'
check "add multicast" k vxlan add vx1 vni 16777215 group 239.1.1.1 dev u0 dstport 8472
check_eq "multicast as ip sees it" "$(info vx1)" \
	'{"id":16777215,"remote":null,"group":"239.1.1.1","local":null,"port":8472,"link":"u0"}'
check "add IPv6 unicast" k vxlan add vx6 id 7 remote fd00::2
check_eq "IPv6 as ip sees it" "$(ip -n "$NS" -j -d link show vx6 | jq -r '.[0].linkinfo.info_data.remote6')" \
	"fd00::2"

idx0=$(ip -n "$NS" -j link show vx0 | jq '.[0].ifindex')
check_eq "show NAME text" "$(k vxlan show vx0 | sed 's/ address [0-9a-f:]*//')" \
	"$idx0: vx0: kind vxlan admin down operstate DOWN mtu 1500 id 42 remote 192.168.77.2 local 192.168.77.1 dstport 4789"
check_eq "show -j" "$(k -j vxlan show vx1 | jq -c '.[0] | {ifname, id, group, dev, dstport}')" \
	'{"ifname":"vx1","id":16777215,"group":"239.1.1.1","dev":"u0","dstport":8472}'
check_eq "show lists only VXLAN devices" "$(k -j vxlan show | jq -c '[.[].ifname]')" '["vx0","vx1","vx6"]'
check_eq "link show -d adds the VXLAN facts" "$(k -d -j link show vx0 | jq -c '.[0] | {id, remote}')" \
	'{"id":42,"remote":"192.168.77.2"}'

check_fail "missing id" 255 '^kavmctl: vxlan: missing virtual network identifier$' \
	k vxlan add vx2 remote 192.168.77.2
check_fail "VNI above 16777215" 255 '^kavmctl: vxlan: argument "16777216" is wrong: invalid id$' \
	k vxlan add vx2 id 16777216 remote 192.168.77.2
check_fail "VNI not a number" 255 '^kavmctl: vxlan: argument "x" is wrong: invalid id$' \
	k vxlan add vx2 id x remote 192.168.77.2
check_fail "both remote and group" 255 '^kavmctl: vxlan: both remote and group cannot be specified$' \
	k vxlan add vx2 id 1 remote 192.168.77.2 group 239.1.1.1 dev u0
check_fail "neither remote nor group" 255 '^kavmctl: vxlan: missing remote or group address$' \
	k vxlan add vx2 id 1
check_fail "group without dev" 255 "^kavmctl: vxlan: 'group' requires 'dev' to be specified\$" \
	k vxlan add vx2 id 1 group 239.1.1.1
check_fail "unicast group" 255 '^kavmctl: vxlan: argument "10.0.0.1" is wrong: invalid group address$' \
	k vxlan add vx2 id 1 group 10.0.0.1 dev u0
check_fail "multicast remote" 255 '^kavmctl: vxlan: argument "239.1.1.1" is wrong: invalid remote address$' \
	k vxlan add vx2 id 1 remote 239.1.1.1
check_fail "bad dstport" 255 '^kavmctl: vxlan: argument "65536" is wrong: dstport$' \
	k vxlan add vx2 id 1 remote 192.168.77.2 dstport 65536
check_fail "unknown keyword" 255 '^kavmctl: vxlan: unknown option "ttl"$' \
	k vxlan add vx2 id 1 remote 192.168.77.2 ttl 5
check_fail "unknown dev" 1 '^kavmctl: vxlan vx2: add: No such device: no device named nodev$' \
	k vxlan add vx2 id 1 group 239.1.1.1 dev nodev
check_fail "name taken" 1 '^kavmctl: vxlan vx0: add: File exists: a device named vx0 already exists$' \
	k vxlan add vx0 id 44 remote 192.168.77.3
check_fail "VNI and port taken (the kernel's extack)" 1 \
	'^kavmctl: vxlan vx2: add: File exists: A VXLAN device with the specified VNI already exists$' \
	k vxlan add vx2 id 42 remote 192.168.77.3
check_no_link "no device left by the refusals" "$NS" vx2
check_fail "del a veth" 1 '^kavmctl: vxlan u0: del: Wrong medium type: u0 is not a vxlan device$' \
	k vxlan del u0
check_fail "show a missing one" 1 '^kavmctl: vxlan nodev: show: No such device: no device named nodev$' \
	k vxlan show nodev
check_fail "del without NAME" 255 '^kavmctl: vxlan del: expected exactly one NAME$' k vxlan del

for d in vx0 vx1 vx6; do
	check "del $d" k vxlan del "$d"
	check_no_link "$d gone" "$NS" "$d"
done
done_testing
