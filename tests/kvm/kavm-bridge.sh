#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm --netdev bridge / switch= end to end: a running kavm (a fake kernel
# spinning on /dev/kvm) in a fresh netns; its tap as iproute2 and kavmctl see
# it while it runs, and what is left after SIGTERM.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-kernels.sh"

require_root
require_cmd ip
require_cmd bridge
require_cmd jq
require_cmd nsenter
require_dev /dev/kvm
KAVM=${KAVM:-$BUILD/kavm}
K=$BUILD/kavmctl
[ -x "$KAVM" ] || skip_all "needs $KAVM (make)"
[ -x "$K" ] || skip_all "needs $K (make)"
"$KAVM" --help | grep -q -- --netdev || skip_all "$KAVM has no --netdev"

T=$(mktemp -d /tmp/kavm-bridge.XXXXXX)
at_exit rm -rf "$T"
mkspin "$T/spin.bz"
printf 'allow br0\nallow brnew\ndeny brbad\nallow brbad\n' >"$T/bridge.conf"
netns_new NS
ip -n "$NS" link add br0 type bridge
ip -n "$NS" link set br0 mtu 1400 up
ip -n "$NS" link add brbad type bridge

# nsenter, not ip netns exec: that remounts /sys and hides the bpffs where
# eBPF switches are pinned.
# start DEV ARGS...: kavm in $NS in the background, PID in $pid; waits for DEV to exist.
start() {
	local dev=$1 i
	shift
	nsenter --net="/run/netns/$NS" env KAVM_BRIDGE_CONF="$T/bridge.conf" "$KAVM" --kernel "$T/spin.bz" \
		--serial none "$@" >"$T/out" 2>"$T/err" </dev/null &
	pid=$!
	for i in $(seq 100); do
		ip -n "$NS" link show "$dev" >/dev/null 2>&1 && return 0
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	not_ok "kavm made $dev"
	echo "# kavm said: $(cat "$T/err")"
	return 1
}

# stop: SIGTERM, sets RC to kavm's exit status and ERR to its stderr
stop() {
	kill -TERM $pid
	wait $pid
	RC=$?
	ERR=$(cat "$T/err")
}

# run ARGS...: kavm in the foreground (for errors)
run() {
	nsenter --net="/run/netns/$NS" env KAVM_BRIDGE_CONF="$T/bridge.conf" "$KAVM" --kernel "$T/spin.bz" \
		--serial none "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	ERR=$(cat "$T/err")
}

link() { ip -n "$NS" -j -d link show "$1" 2>/dev/null | jq -r ".[0].$2"; }
absent() { ! ip -n "$NS" link show "$1" >/dev/null 2>&1; }
nic() { echo "--netdev $1 --device virtio-net-pci,netdev=n0"; }

# --- a named tap on an existing bridge
if start vm0 $(nic bridge,id=n0,br=br0,ifname=vm0); then
	check_eq "tap enslaved to br0" "$(link vm0 master)" br0
	check_eq "tap is a tap" "$(link vm0 linkinfo.info_data.type)" tap
	check_eq "tap has the bridge's mtu" "$(link vm0 mtu)" 1400
	check_match "tap is up" "$(link vm0 'flags | join(",")')" '(^|,)UP(,|$)'
	check_eq "bridge link lists it" \
		"$(bridge -n "$NS" -j link show | jq -r '.[] | select(.ifname == "vm0") | .master')" br0
	check_eq "kavm still runs" "$(kill -0 $pid && echo yes)" yes
else
	not_ok "kavm with a bridge netdev runs"
fi
stop
check_eq "SIGTERM: status 1" "$RC" 1
check_match "SIGTERM: says so" "$ERR" "kavm: terminated by SIGTERM"
check "SIGTERM: tap gone" absent vm0
check_eq "SIGTERM: br0 stays" "$(link br0 ifname)" br0

# --- a generated name
start br0 $(nic bridge,id=n0,br=br0)
for i in $(seq 50); do
	name=$(ip -n "$NS" -j link show master br0 | jq -r '.[0].ifname // empty')
	[ -n "$name" ] && break
	sleep 0.1
done
check_eq "generated tap name" "$name" "kavm-$pid-0"
stop
check "generated tap gone after SIGTERM" absent "kavm-$pid-0"

# --- create=on: made, then removed
if start brnew $(nic bridge,id=n0,br=brnew,ifname=vm1,create=on); then
	check_eq "create=on: a bridge" "$(link brnew linkinfo.info_kind)" bridge
	check_match "create=on: up" "$(link brnew 'flags | join(",")')" '(^|,)UP(,|$)'
	for i in $(seq 50); do [ "$(link vm1 master)" = brnew ] && break; sleep 0.1; done
	check_eq "create=on: tap enslaved" "$(link vm1 master)" brnew
fi
stop
check "create=on: tap gone" absent vm1
check "create=on: bridge removed" absent brnew

# --- create=on, but another port joined: left in place
if start brnew $(nic bridge,id=n0,br=brnew,ifname=vm1,create=on); then
	ip -n "$NS" link add d0 type veth peer name d1
	ip -n "$NS" link set d0 master brnew
fi
stop
check "other port: tap gone" absent vm1
check_eq "other port: bridge left" "$(link d0 master)" brnew
ip -n "$NS" link del brnew

# --- refusals
run $(nic bridge,id=n0,br=brbad,ifname=vm2)
check_eq "denied: status 1" "$RC" 1
check_match "denied: names the bridge and the file" "$ERR" \
	"kavm: netdev n0: bridge brbad: not allowed by $T/bridge.conf: denied by $T/bridge.conf:3 \\(deny brbad\\)"
check "denied: no tap" absent vm2
run $(nic bridge,id=n0,br=br7,create=on)
check_match "not allowed: says so" "$ERR" "kavm: netdev n0: bridge br7: not allowed by .*no allow rule matches br7"
check "not allowed: no bridge made" absent br7

# --- switch=
SW=kt-$$-kb
at_exit "$K -n $NS switch del $SW"
check "switch add (in the VMs' netns)" "$K" -n "$NS" switch add "$SW"
ports() { "$K" -n "$NS" -j switch show "$SW" | jq -r '[.[0].ports[].ifname] | join(",")'; }
nports() { "$K" -n "$NS" -j switch show "$SW" | jq -r '.[0].ports | length'; }
if start vm3 $(nic "bridge,id=n0,br=br0,ifname=vm3,switch=$SW"); then
	for i in $(seq 50); do [ "$(ports)" = vm3 ] && break; sleep 0.1; done
	check_eq "switch: kavm's tap is a port" "$(ports)" vm3
	check_match "switch: tc program on its ingress (bpftool)" \
		"$(ip netns exec "$NS" bpftool -j net show dev vm3 | jq -r '.[0].tc[].kind')" "tcx/ingress|clsact/ingress"
	check_eq "switch: and still on the bridge" "$(link vm3 master)" br0
	# Every thread sandboxed (Seccomp: 2, filter mode), the I/O thread too,
	# which leaves the switch at exit.
	check_eq "switch: every kavm thread runs under seccomp" \
		"$(sed -n 's/^Seccomp:\t//p' /proc/$pid/task/*/status | sort -u)" 2
fi
stop
check_eq "switch: SIGTERM status 1" "$RC" 1
check_eq "switch: SIGTERM is what stopped it, nothing else said" "$ERR" \
	"kavm: netdev n0: tap vm3 joined bridge br0
kavm: terminated by SIGTERM"
check_eq "switch: port gone after SIGTERM, from the sandbox" "$(nports)" 0
check_eq "switch: kavm's tc filter went with it" \
	"$(ip netns exec "$NS" bpftool -j net show 2>/dev/null | jq -r '[.[].tc[]?] | length')" 0
if start vm4 $(nic "tap,id=n0,ifname=vm4,switch=$SW"); then
	for i in $(seq 50); do [ "$(ports)" = vm4 ] && break; sleep 0.1; done
	check_eq "switch: a tap netdev too" "$(ports)" vm4
fi
stop
check_eq "switch, tap netdev: SIGTERM is what stopped it, nothing else said" "$ERR" \
	"kavm: terminated by SIGTERM"
check_eq "switch: tap netdev left" "$(nports)" 0
run $(nic tap,id=n0,ifname=vm5,switch=kt-nosuch)
check_eq "missing switch: status 1" "$RC" 1
check_match "missing switch: says so" "$ERR" \
	"kavm: netdev n0: switch kt-nosuch: no such switch \\(make it with kavmctl switch add kt-nosuch \\[--engine kmod\\]\\)"
check "missing switch: no tap left" absent vm5

done_testing
