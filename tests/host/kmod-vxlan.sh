#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Two hosts joined by VXLAN, each with a kavm_switch.ko switch, in the test
# host (tests/native/vxlan_e2e.c does the same with a bridge and the eBPF
# switch on the build host, which cannot load the module).
#
# Two network namespaces play the hosts, a veth pair between them is the
# underlay (192.168.77.1 and .2, MTU 1600). On each, "kavmctl vxlan add"
# makes vx0 (VNI 4242, the other host as remote), a kmod switch takes vx0 as
# its --uplink and the host end of a veth pair as a port, whose other end is
# the "VM" (eth0, 10.10.0.1 or .2, MTU 1500, in a namespace of its own). The
# VMs ping each other with several sizes and a payload pattern, and each
# fetches a 1 MiB file of random bytes from the other over TCP (busybox
# httpd and wget): the sha256 of what arrived must be the sender's. The
# switches' counters and fdbs, and vx0's own counters, show that the frames
# went through the VXLAN devices and the switches; the module unloads with
# the ports attached and the kernel log stays free of WARN and BUG.
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
# VXLAN devices need the vxlan module (and udp_tunnel, ip6_udp_tunnel) in the host.
TH_HOST_MODULES="$TH_HOST_MODULES vxlan"

cat >"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
K=kavmctl
MAC_A=02:00:00:00:77:0a MAC_B=02:00:00:00:77:0b

# A network namespace held by a sleeping process; prints its pid once the
# process is in it.
netns_new() {
	unshare -n sleep 100000 >/dev/null 2>&1 &
	_p=$!
	_i=0
	while [ "$(readlink "/proc/$_p/ns/net")" = "$(readlink /proc/self/ns/net)" ] &&
		[ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "$_p"
}
inns() {	# pid cmd...
	_p=$1
	shift
	nsenter -t "$_p" -n "$@"
}
# The name of a veth's peer (busybox ip cannot name it), in our namespace.
veth_peer() {
	_i=$(cat "/sys/class/net/$1/iflink")
	for _d in /sys/class/net/*; do
		[ "$(cat "$_d/ifindex")" = "$_i" ] && echo "${_d##*/}" && return
	done
}
# A counter of a port (or "total") from kavmctl -s switch show, inside host NS.
stat_of() {	# ns port key
	inns "$1" $K -s switch show sw | awk -v p="$2" -v k="$3" '
		$1 == "port" { in_port = ($2 == p); next }
		$1 == "total" { in_port = (p == "total"); $1 = "" }
		in_port { for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}
# A device's own TX bytes, inside NS (/proc/net is the reader's namespace's).
dev_tx_bytes() {	# ns dev
	inns "$1" cat /proc/net/dev | awk -v d="$2:" '
		{ sub(/^ */, "") }
		index($0, d) == 1 { sub(/^[^:]*:/, ""); split($0, f, " "); print f[9]; exit }'
}

dmesg -c >/dev/null
check "module load" $K module load /test/kavm_switch.ko

H1=$(netns_new)
H2=$(netns_new)
V1=$(netns_new)
V2=$(netns_new)
# The underlay: u0 in host 1, its peer in host 2, MTU 1600 for the VMs' 1500.
ip link add u0 type veth peer uvp0 && up=$(veth_peer u0) &&
	ip link set u0 netns "$H1" && ip link set "$up" netns "$H2" ||
	not_ok "the underlay veth"
inns "$H2" ip link set "$up" name u0
n=1
for h in "$H1" "$H2"; do
	inns "$h" ip link set lo up
	inns "$h" ip link set u0 mtu 1600
	inns "$h" ip addr add "192.168.77.$n/24" dev u0
	inns "$h" ip link set u0 up
	n=$((n + 1))
done
check "host 1: kavmctl vxlan add vx0" inns "$H1" \
	$K vxlan add vx0 id 4242 remote 192.168.77.2 local 192.168.77.1 dstport 4789
check "host 2: kavmctl vxlan add vx0" inns "$H2" \
	$K vxlan add vx0 id 4242 remote 192.168.77.1 local 192.168.77.2 dstport 4789
check_match "host 1: vxlan show" "$(inns "$H1" $K vxlan show vx0)" \
	'vx0: kind vxlan .* id 4242 remote 192.168.77.2 local 192.168.77.1 dstport 4789$'
# The "VMs": eth0 in a namespace of its own, the other end "vm" a port.
n=1
for pair in "$H1 $V1 $MAC_A" "$H2 $V2 $MAC_B"; do
	set -- $pair
	ip link add vm type veth peer vvp && vp=$(veth_peer vm) &&
		ip link set vm netns "$1" && ip link set "$vp" netns "$2" ||
		not_ok "VM $n: a veth pair"
	inns "$2" ip link set "$vp" name eth0
	inns "$2" ip link set eth0 address "$3"
	inns "$2" ip addr add "10.10.0.$n/24" dev eth0
	inns "$2" ip link set eth0 up
	inns "$2" ip link set lo up
	inns "$1" ip link set vm up
	inns "$1" ip link set vx0 mtu 1500
	inns "$1" ip link set vx0 up
	check "host $n: switch add --engine kmod" inns "$1" $K switch add sw --engine kmod
	check "host $n: attach vx0 --uplink" inns "$1" $K switch attach sw vx0 --uplink
	check "host $n: attach the VM's port" inns "$1" $K switch attach sw vm --mac "$3"
	check_match "host $n: vx0 is the uplink" "$(inns "$1" $K switch show sw)" \
		'    port vx0 ifindex [0-9]+ uplink$'
	n=$((n + 1))
done

# ARP first, then pings of several sizes (the largest fills the VMs' MTU)
# carrying a pattern; busybox ping counts only the replies of its own ids.
check "VM 1 pings VM 2 across the VXLAN" inns "$V1" ping -c 3 -W 5 10.10.0.2
check "VM 2 pings VM 1" inns "$V2" ping -c 3 -W 5 10.10.0.1
for s in 1 500 1000 1472; do
	check_match "VM 1 -> VM 2: ping -s $s -p a5, 3 of 3" \
		"$(inns "$V1" ping -c 3 -W 5 -s "$s" -p a5 10.10.0.2 2>&1)" \
		'3 packets transmitted, 3 packets received'
done
check_match "VM 2 -> VM 1: ping -s 1472 -p 5a, 3 of 3" \
	"$(inns "$V2" ping -c 3 -W 5 -s 1472 -p 5a 10.10.0.1 2>&1)" \
	'3 packets transmitted, 3 packets received'

# 1 MiB of random bytes each way over TCP: what arrives must hash the same.
for v in 1 2; do
	mkdir -p "/tmp/www$v"
	dd if=/dev/urandom of="/tmp/www$v/f.bin" bs=1024 count=1024 2>/dev/null
done
inns "$V1" httpd -p 10.10.0.1:8080 -h /tmp/www1
inns "$V2" httpd -p 10.10.0.2:8080 -h /tmp/www2
sum1=$(sha256sum </tmp/www1/f.bin)
sum2=$(sha256sum </tmp/www2/f.bin)
got=$(inns "$V2" timeout 60 wget -q -O - http://10.10.0.1:8080/f.bin | sha256sum)
check_eq "VM 1 -> VM 2: 1 MiB over TCP, sha256 intact" "$got" "$sum1"
got=$(inns "$V1" timeout 60 wget -q -O - http://10.10.0.2:8080/f.bin | sha256sum)
check_eq "VM 2 -> VM 1: 1 MiB over TCP, sha256 intact" "$got" "$sum2"

# Through the switches and the VXLAN devices, not around them: each way
# at least the MiB went in at one VM's port and out of vx0 (counted in
# bytes: TCP's frames are GSO aggregates here, one count for many segments).
MIB=1048576
n=1
for pair in "$H1 $MAC_B" "$H2 $MAC_A"; do
	set -- $pair
	inns "$1" $K -s switch show sw | sed "s/^/# host $n: /"
	check_match "host $n: the other VM's MAC learned on the uplink" \
		"$(inns "$1" $K fdb show sw)" "^$2 dev vx0 age [0-9.]+s\$"
	c=$(stat_of "$1" vm rx_bytes)
	check "host $n: the VM's port took its MiB in ($c bytes)" test "${c:-0}" -ge $MIB
	c=$(stat_of "$1" vx0 tx_bytes)
	check "host $n: the switch sent it out of vx0 ($c bytes)" test "${c:-0}" -ge $MIB
	c=$(stat_of "$1" vx0 rx_bytes)
	check "host $n: the other VM's MiB came in on vx0 ($c bytes)" test "${c:-0}" -ge $MIB
	c=$(stat_of "$1" vm tx_bytes)
	check "host $n: the switch sent it to the VM ($c bytes)" test "${c:-0}" -ge $MIB
	c=$(dev_tx_bytes "$1" vx0)
	check "host $n: vx0 itself counted it ($c bytes)" test "${c:-0}" -ge $MIB
	d="$(stat_of "$1" total drop_spoof) $(stat_of "$1" total drop_invalid)"
	check_eq "host $n: no frame dropped as spoofed or invalid" "$d" "0 0"
	n=$((n + 1))
done

killall httpd 2>/dev/null
check_match "module status, host 1: its switch and two ports" \
	"$(inns "$H1" $K module status)" 'switches 1 ports 2$'
check "module unload with both hosts' ports attached" $K module unload
check_match "module status: not loaded" "$($K module status)" '^kavm_switch not loaded$'
check "host 1's vx0 is free again: it can join a bridge" \
	inns "$H1" sh -c "$K bridge add br0 && $K link attach vx0 --bridge br0"
kill "$V1" "$V2" "$H1" "$H2"
sleep 2
bad=$(dmesg | grep -E 'waiting for .* to become free|WARNING:|BUG:|Call Trace|refcount_t' |
	head -n 5)
check_eq "the kernel log has no 'waiting for', WARN or BUG" "$bad" ""
[ -n "$bad" ] && dmesg | tail -n 60 | sed 's/^/# dmesg: /'
finish
EOF
testhost_check --name kmod-vxlan "$TH_TMP/inside.sh" "$KO"
done_testing
