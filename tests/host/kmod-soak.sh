#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm_switch.ko loaded and unloaded 100 times under traffic, in the test host.
#
# One test-host boot, in a network namespace of its own. Two "VMs"
# are network namespaces on veth pairs whose host ends are ports of a kmod
# switch; each pings the other every 10 ms for the whole soak. Each cycle
# loads the module (kavmctl module load), makes the switch, attaches both
# ends, waits for the switch to forward a ping, and unloads the module with
# the ports attached and the pings running. Every load, attach and unload
# must succeed; the veths must survive every unload (same ifindex) and be
# free again (the next cycle attaches them anew: their rx_handler was
# released); a load after the last cycle finds no switch and no port; and
# the kernel log has no "waiting for", WARN, BUG or refcount line.
#   KAVM_SOAK_CYCLES=N   cycles (default 100)
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

echo "CYCLES=${KAVM_SOAK_CYCLES:-100}" >"$TH_TMP/inside.sh"
cat >>"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
# Everything in a network namespace of its own.
if [ -z "$SOAK_NETNS" ]; then
	SOAK_NETNS=1 unshare -n sh /test/run.sh
	exit $?
fi
ip link set lo up
K=kavmctl
SW=ks

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
# The name of a veth's peer (busybox ip cannot name it, but shows it as
# "N: pa@veth0: ..."; /sys/class/net shows the test host's first namespace).
veth_peer() { ip -o link show "$1" | sed -n 's/^[0-9]*: [^@]*@\([^:]*\):.*/\1/p'; }
ifindex() { ip -o link show "$1" 2>/dev/null | cut -d: -f1; }
# "VM" N on the host end HOSTDEV: eth0 with 10.9.0.N in its own netns.
vm_new() {	# hostdev n
	ip link add "$1" type veth || return 1
	_peer=$(veth_peer "$1")
	_ns=$(netns_new)
	sleep 1
	ip link set "$_peer" netns "$_ns" || return 1
	inns "$_ns" ip link set "$_peer" name eth0
	inns "$_ns" ip addr add "10.9.0.$2/24" dev eth0
	inns "$_ns" ip link set eth0 up
	inns "$_ns" ip link set lo up
	ip link set "$1" up
	echo "$_ns"
}
# pa's forwarded counter, from kavmctl -s switch show.
forwarded() {
	$K -s switch show $SW | awk '$1 == "port" { p = ($2 == "pa"); next }
		p { for (i = 1; i < NF; i++) if ($i == "forwarded") { print $(i + 1); exit } }'
}

dmesg -c >/dev/null
NA=$(vm_new pa 1) && NB=$(vm_new pb 2) || not_ok "two VMs on veth pairs"
ia=$(ifindex pa)
ib=$(ifindex pb)
# Both ways, every 10 ms, for the whole soak (at most 10 minutes).
inns "$NA" ping -q -i 0.01 -w 600 10.9.0.2 >/tmp/ping-a 2>&1 &
PA=$!
inns "$NB" ping -q -i 0.01 -w 600 10.9.0.1 >/tmp/ping-b 2>&1 &
PB=$!

load_fail=0 attach_fail=0 quiet=0 unload_fail=0 gone=0
t0=$(uptime_ms)
i=0
while [ $i -lt "$CYCLES" ]; do
	i=$((i + 1))
	if ! out=$($K module load /test/kavm_switch.ko 2>&1); then
		load_fail=$((load_fail + 1))
		echo "# cycle $i: module load: $out"
		continue
	fi
	if ! out=$($K switch add $SW --engine kmod 2>&1 && $K switch attach $SW pa 2>&1 &&
		$K switch attach $SW pb 2>&1); then
		attach_fail=$((attach_fail + 1))
		echo "# cycle $i: switch add and attach: $out"
	fi
	# Up to 3 s for a ping to cross the switch (ARP may have to be redone).
	n=0
	until [ "$(forwarded)" -gt 0 ] 2>/dev/null; do
		n=$((n + 1))
		[ $n -gt 30 ] && { quiet=$((quiet + 1)) && echo "# cycle $i: nothing forwarded"; break; }
		sleep 0.1
	done
	if ! out=$($K module unload 2>&1); then
		unload_fail=$((unload_fail + 1))
		echo "# cycle $i: module unload: $out"
	fi
	if [ "$(ifindex pa) $(ifindex pb)" != "$ia $ib" ]; then
		gone=$((gone + 1))
		echo "# cycle $i: a veth is gone or new"
	fi
done
ms=$(($(uptime_ms) - t0))
# (SIGTERM: a background job ignores SIGINT, so ping prints no totals.)
kill "$PA" "$PB" 2>/dev/null
wait "$PA" "$PB" 2>/dev/null
echo "# $CYCLES load/unload cycles in $ms ms ($((ms / CYCLES)) ms each), pings every 10 ms both ways"
check_eq "$CYCLES module loads with the pings running: all succeed" "$load_fail" 0
check_eq "every cycle: switch made and both veths attached (released by the last unload)" \
	"$attach_fail" 0
check_eq "every cycle: the switch forwarded the pings before the unload" "$quiet" 0
check_eq "$CYCLES module unloads with 2 ports attached and traffic: all succeed" "$unload_fail" 0
check_eq "every unload: both veths still there, same ifindex" "$gone" 0
check "after the soak: the module loads once more" $K module load /test/kavm_switch.ko
check_eq "... with no switch left in this namespace" "$($K switch show 2>&1; echo "status $?")" "status 0"
check_match "... and no port in this namespace" "$($K module status)" 'switches 0 ports 0$'
check "... and pa can be attached again" sh -c "$K switch add $SW --engine kmod && $K switch attach $SW pa"
check "module unload" $K module unload
check_match "module status: not loaded" "$($K module status)" '^kavm_switch not loaded$'
sleep 2
bad=$(dmesg | grep -E 'waiting for .* to become free|WARNING:|BUG:|Call Trace|refcount_t' |
	head -n 5)
check_eq "the kernel log has no 'waiting for', WARN, BUG or refcount line" "$bad" ""
[ -n "$bad" ] && dmesg | tail -n 60 | sed 's/^/# dmesg: /'
kill "$NA" "$NB"
finish
EOF
testhost_check --name kmod-soak "$TH_TMP/inside.sh" "$KO"
done_testing
