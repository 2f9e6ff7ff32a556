#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VM to VM with vhost-net: through kavm_switch.ko against through the Linux
# bridge, the same two guests, in one test-host run.
#
#   tests/bench/vm-switch-kmod.sh      (make bench runs it too; alone:
#                                       tests/bench/run.sh vm-switch-kmod)
#
# Two kavm VMs (1 vCPU each, vhost=on, pinned to test-host CPUs 0 and 1 as
# tests/host/kmod-vms.sh does) on two persistent taps made with kavmctl. The
# VMs boot once; between rounds the taps move, with kavmctl, from a kmod
# switch to a Linux bridge and back (switch detach / link attach --bridge),
# so both paths carry the same guests, vhost workers and TCP stacks. After
# one warm-up round on the switch (not counted: the first transfer after
# boot is slow whatever the path), rounds alternate kmod, bridge, kmod,
# bridge... (KAVM_BENCH_ROUNDS of each, default 5). In each round the second
# VM pings the first (busybox ping -A, one echo as soon as the last reply
# came: KAVM_BENCH_PINGS, default 200) and fetches KAVM_BENCH_MIB MiB
# (default 64) of random bytes from its busybox httpd with wget into its
# tmpfs, timed on its own clock (/proc/uptime, 10 ms). A veth whose far end
# holds the host's address moves with the taps: the second VM polls it for
# the next round's "go", the first for "quit" every 3 s (the only other
# traffic while a transfer runs).
#
# Printed: each round's MB/s (10^6 bytes/s) and median round trip, the
# medians per path and kmod/bridge. Checked, and the exit status is 1 if any
# round fails: every transfer completed with the size and sha256 the serving
# VM computed; in kmod rounds the module's counters show the MiB received on
# the first tap and sent out of the second during the round, and no tap had
# a master; in bridge rounds both taps were ports of the bridge, the switch
# had no port, and the taps' own counters (the Linux bridge keeps none per
# port) show the MiB went in on the first and out of the second. The test
# host is QEMU emulating its CPUs (TCG) with nested SVM: absolute figures
# are low and only the ratios of one run mean anything.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../host/lib-testhost.sh"

MIB=${KAVM_BENCH_MIB:-64}
ROUNDS=${KAVM_BENCH_ROUNDS:-5}
PINGS=${KAVM_BENCH_PINGS:-200}
KO=$TH_TOP/kmod/kavm_switch.ko
if [ ! -x "$BUILD/kavm" ] || [ ! -x "$BUILD/kavmctl" ]; then
	echo "vm-switch-kmod: build/kavm and build/kavmctl are needed (run make)" >&2
	exit 1
fi
mkdir -p "$TH_LOGDIR"
if ! make -s -C "$TH_TOP" kmod >"$TH_LOGDIR/kmod-build.log" 2>&1 || [ ! -f "$KO" ]; then
	tail -n 20 "$TH_LOGDIR/kmod-build.log" >&2
	echo "vm-switch-kmod: kmod/kavm_switch.ko does not build (make kmod)" >&2
	exit 1
fi
testhost_init || exit 1

# Both guests boot this; eth0's MAC (...:01 or ...:02) says which one it is.
cat >"$TH_TMP/guest.sh" <<EOF
MIB=$MIB ROUNDS=$ROUNDS PINGS=$PINGS
EOF
cat >>"$TH_TMP/guest.sh" <<'EOF'
me=$(sed 's/.*:0//' /sys/class/net/eth0/address)
peer=10.9.0.$((3 - me))
H=10.9.0.254
ip link set eth0 up && ip addr add "10.9.0.$me/24" dev eth0
# The host's httpd, over the switch or bridge of the moment.
ask() { wget -q -O /dev/null "http://$H:8080/$1" 2>/dev/null; }
if [ "$me" = 1 ]; then
	mkdir -p /www
	dd if=/dev/urandom of=/www/x.bin bs=1M count="$MIB" 2>/dev/null
	echo "guest-sha=$(sha256sum /www/x.bin | cut -d' ' -f1)"
	httpd -p 8080 -h /www
	echo "guest-serving"
	until ask quit; do sleep 3; done
	echo "guest-quit"
	exit 0
fi
echo "guest-ready"
r=0
while [ $r -le $((2 * ROUNDS)) ]; do
	# The host may give up (a round failed): then quit.
	until ask "go$r"; do
		ask quit && break 2
		sleep 1
	done
	ping -c 1 -W 2 "$peer" >/dev/null 2>&1
	ping -A -c "$PINGS" -w 120 "$peer" >/tmp/p 2>&1
	rtt=$(sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' /tmp/p | sort -n |
		awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "none" }')
	got=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/p)
	t0=$(cut -d' ' -f1 /proc/uptime)
	wget -q -O /tmp/x.bin "http://$peer:8080/x.bin"
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "guest-round=$r rc=$rc t0=$t0 t1=$t1 size=$(wc -c </tmp/x.bin)" \
		"sha=$(sha256sum /tmp/x.bin | cut -d' ' -f1) rtt=$rtt pings=${got:-0}"
	rm -f /tmp/x.bin
	r=$((r + 1))
done
until ask quit; do sleep 1; done
echo "guest-quit"
EOF
GUEST_MODULES="virtio_pci virtio_net" \
	testhost_guest_initramfs "$TH_TMP/guest.cpio.gz" "$TH_TMP/guest.sh" || exit 1

cat >"$TH_TMP/inside.sh" <<EOF
MIB=$MIB ROUNDS=$ROUNDS PINGS=$PINGS
EOF
cat >>"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
# Everything in a network namespace of its own.
if [ -z "$VSK_NETNS" ]; then
	VSK_NETNS=1 unshare -n sh /test/run.sh
	exit $?
fi
ip link set lo up
K=kavmctl
SW=kv
BR=br0
GUEST_CPUS=1
GUEST_MEM=$((MIB + 160))
BYTES=$((MIB * 1048576))
: >/tmp/kmod.mbs; : >/tmp/bridge.mbs; : >/tmp/kmod.rtt; : >/tmp/bridge.rtt
failed=0
fail() {
	echo "FAILED: $*"
	failed=1
}

# A counter of a port from the text of kavmctl -s switch show (0 if absent).
stat_of() {	# show-text port key
	printf '%s\n' "$1" | awk -v p="$2" -v k="$3" '
		$1 == "port" { in_port = ($2 == p); next }
		$1 == "total" { in_port = 0 }
		in_port { for (i = 1; i < NF; i++) if ($i == k) { v = $(i + 1); exit } }
		END { print v + 0 }'
}
# A device's own counters and master, from this namespace's view (not
# /sys/class/net, which shows the test host's first namespace).
dev_stat() {	# dev rx_bytes|tx_bytes
	# "kt1:123..." has no blank after the colon once the bytes fill %8llu.
	awk -v d="$1" -v c="$2" '{ sub(/:/, " ") } $1 == d {
		print (c == "rx_bytes") ? $2 : $10 }' /proc/net/dev
}
master_of() { $K link show "$1" | awk '{ for (i = 1; i < NF; i++) if ($i == "master") m = $(i + 1) }
	END { print m ? m : "none" }'; }
median() { sort -n | awk '{ v[NR] = $1 }
	END { if (!NR) print "none"; else if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "none" }'; }
# The name of a veth's peer (busybox ip cannot name it; kmod-soak.sh).
veth_peer() { ip -o link show "$1" | sed -n 's/^[0-9]*: [^@]*@\([^:]*\):.*/\1/p'; }

# The fabric: a kmod switch and a bridge; the VMs' taps and the host's veth
# end hc are ports of one of them at a time.
dmesg -c >/dev/null
$K module load /test/kavm_switch.ko || { echo "module load failed"; exit 1; }
$K switch add $SW --engine kmod || exit 1
$K bridge add $BR && $K link set $BR up || exit 1
for n in 1 2; do
	$K tap add kt$n --vnet-hdr && $K link set kt$n up || exit 1
done
ip link add hc type veth || exit 1
HP=$(veth_peer hc)
ip link set hc up && ip link set "$HP" up && ip addr add 10.9.0.254/24 dev "$HP" || exit 1
mkdir -p /ctl
httpd -p 10.9.0.254:8080 -h /ctl || exit 1
PORTS="kt1 kt2 hc"

to_kmod() {
	for p in $PORTS; do
		$K link detach $p || return 1
		$K switch attach $SW $p || return 1
	done
}
to_bridge() {
	for p in $PORTS; do
		$K switch detach $SW $p || return 1
		$K link attach $p --bridge $BR || return 1
	done
}

# VM N on tap ktN, pinned to the given test-host CPU, in the background; its
# VM_RC goes to /tmp/vmN.rc when it exits.
VM_SECS=$((180 + ROUNDS * 2 * 60))
vm_start() {	# n cpu
	(
		read -r self _rest </proc/self/stat
		taskset -p -c "$2" "$self" >/dev/null
		boot_kavm "/tmp/vm$1.log" "$VM_SECS" /test/guest.cpio.gz --name "kvm$1" \
			--netdev "tap,id=n0,ifname=kt$1,vhost=on" \
			--device "virtio-net-pci,netdev=n0,mac=52:54:00:00:09:0$1"
		echo "$VM_RC" >"/tmp/vm$1.rc"
	) &
}
# Wait for TEXT in VM N's log while both VMs run; fails when one has exited.
wait_vm() {	# n text secs
	_n=0
	until grep -q "$2" "/tmp/vm$1.log" 2>/dev/null; do
		[ -e /tmp/vm1.rc ] || [ -e /tmp/vm2.rc ] && return 1
		_n=$((_n + 1))
		[ $_n -gt "$3" ] && return 1
		sleep 1
	done
}

echo "# $(uname -r), $(nproc) CPUs ($(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2- |
	sed 's/^ *//')), emulated by QEMU TCG; guests: 1 vCPU, $GUEST_MEM MiB, vhost=on," \
	"pinned to CPUs 0 and 1"
to_kmod || { echo "the ports do not join $SW"; exit 1; }
t0=$(uptime_ms)
vm_start 1 0
vm_start 2 1
if ! wait_vm 1 guest-serving 300 || ! wait_vm 2 guest-ready 300; then
	fail "the guests did not come up"
	touch /ctl/quit
fi
echo "# both VMs up after $(($(uptime_ms) - t0)) ms"
sha=$(sed -n 's/^guest-sha=//p' /tmp/vm1.log | tr -d '\r')

# Round 0 warms up on the switch; then odd rounds are kmod, even bridge.
r=0
while [ $failed = 0 ] && [ $r -le $((2 * ROUNDS)) ]; do
	if [ $((r % 2)) = 1 ] || [ $r = 0 ]; then mode=kmod; else mode=bridge; fi
	# The ports are on the switch since the VMs booted.
	if [ $r -gt 1 ] && ! to_$mode; then
		fail "round $r: the ports do not move to the $mode"
		break
	fi
	st0=$($K -s switch show $SW)
	a1=$(dev_stat kt1 rx_bytes)
	a2=$(dev_stat kt2 tx_bytes)
	touch "/ctl/go$r"
	if ! wait_vm 2 "guest-round=$r " 240; then
		fail "round $r ($mode): no result from the guest"
		$K -s switch show $SW | sed 's/^/#   /'
		for p in $PORTS; do echo "#   $p: master $(master_of $p)"; done
		grep -E 'kt[12]|hc' /proc/net/dev | sed 's/^/#   /'
		for n in 1 2; do
			ping -c 2 -W 2 10.9.0.$n >/dev/null 2>&1 && echo "#   the host pings VM $n" ||
				echo "#   the host cannot ping VM $n"
		done
		break
	fi
	d1=$(($(dev_stat kt1 rx_bytes) - a1))
	d2=$(($(dev_stat kt2 tx_bytes) - a2))
	set -- $(sed -n "s/^guest-round=$r //p" /tmp/vm2.log | tr -d '\r')
	for kv in "$@"; do eval "g_${kv%%=*}=\${kv#*=}"; done
	secs=$(awk -v a="$g_t0" -v b="$g_t1" 'BEGIN { printf "%.2f", b - a }')
	mbs=$(awk -v s="$secs" -v b="$BYTES" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s; else print 0 }')
	[ "$g_rc" = 0 ] || fail "round $r ($mode): wget exited $g_rc"
	[ "$g_size" = "$BYTES" ] || fail "round $r ($mode): $g_size bytes, not $BYTES"
	[ -n "$sha" ] && [ "$g_sha" = "$sha" ] || fail "round $r ($mode): sha256 $g_sha, not ${sha:-unknown}"
	[ "$g_pings" -gt 0 ] 2>/dev/null || fail "round $r ($mode): no ping answered"
	if [ $mode = kmod ]; then
		st=$($K -s switch show $SW)
		# Counted since this round began (round 1's ports saw the boots).
		rxb=$(($(stat_of "$st" kt1 rx_bytes) - $(stat_of "$st0" kt1 rx_bytes)))
		txb=$(($(stat_of "$st" kt2 tx_bytes) - $(stat_of "$st0" kt2 tx_bytes)))
		fw=$(($(stat_of "$st" kt1 forwarded) - $(stat_of "$st0" kt1 forwarded)))
		path="switch: kt1 rx_bytes ${rxb:-none} forwarded ${fw:-none}, kt2 tx_bytes ${txb:-none}"
		[ "${rxb:-0}" -ge "$BYTES" ] && [ "${txb:-0}" -ge "$BYTES" ] &&
			[ "${fw:-0}" -ge $((MIB * 16)) ] ||
			fail "round $r (kmod): the module's counters do not show the $MIB MiB ($path)"
		[ "$(master_of kt1)$(master_of kt2)" = nonenone ] ||
			fail "round $r (kmod): a tap has a master"
	else
		path="bridge: kt1/kt2 masters $(master_of kt1)/$(master_of kt2)"
		[ "$(master_of kt1) $(master_of kt2)" = "$BR $BR" ] ||
			fail "round $r (bridge): the taps are not ports of $BR"
		$K switch show $SW | grep -q '^    port ' &&
			fail "round $r (bridge): $SW has ports"
	fi
	path="$path; taps: kt1 in $d1 B, kt2 out $d2 B"
	[ "$d1" -ge "$BYTES" ] && [ "$d2" -ge "$BYTES" ] ||
		fail "round $r ($mode): the taps' counters do not show the $MIB MiB"
	printf 'round %2d %-6s %3d MiB in %5s s = %6s MB/s; rtt median %s ms (%s of %s)%s\n' \
		"$r" "$mode" "$MIB" "$secs" "$mbs" "$g_rtt" "$g_pings" "$PINGS" \
		"$([ $r = 0 ] && echo ', warm-up, not counted')"
	echo "#   $path"
	if [ $r -gt 0 ]; then
		echo "$mbs" >>"/tmp/$mode.mbs"
		[ "$g_rtt" != none ] && echo "$g_rtt" >>"/tmp/$mode.rtt"
	fi
	r=$((r + 1))
done
touch /ctl/quit
# A guest that can no longer reach the host is stopped through kavm's control socket.
n=0
while [ $n -lt 60 ] && { [ ! -e /tmp/vm1.rc ] || [ ! -e /tmp/vm2.rc ]; }; do
	n=$((n + 1))
	sleep 1
done
for n in 1 2; do [ -e /tmp/vm$n.rc ] || $K vm quit kvm$n; done
wait
for n in 1 2; do
	rc=$(cat "/tmp/vm$n.rc" 2>/dev/null)
	[ "$rc" = 0 ] && [ "$(guest_status /tmp/vm$n.log)" = 0 ] && continue
	fail "VM $n: kavm exited ${rc:-?}, guest status $(guest_status /tmp/vm$n.log)"
	VM_RC=$rc
	why=$(vm_rig_fault /tmp/vm$n.log) && echo "rig-fault: VM $n: $why"
	tail -n 30 "/tmp/vm$n.log" | sed "s/^/# kavm $n: /"
done
for p in $PORTS; do $K switch detach $SW $p >/dev/null 2>&1; $K link detach $p; done
$K module unload || fail "module unload"
bad=$(dmesg | grep -E 'WARNING:|BUG:|Call Trace|refcount_t' | head -n 5)
[ -z "$bad" ] || fail "kernel log: $bad"
if [ -s /tmp/kmod.mbs ] && [ -s /tmp/bridge.mbs ]; then
	km=$(median </tmp/kmod.mbs)
	bm=$(median </tmp/bridge.mbs)
	kr=$(median </tmp/kmod.rtt)
	brt=$(median </tmp/bridge.rtt)
	echo
	echo "medians, $(wc -l </tmp/kmod.mbs) kmod and $(wc -l </tmp/bridge.mbs) bridge rounds:"
	echo "  throughput: kmod $km MB/s, bridge $bm MB/s: kmod/bridge $(ratio "$km" "$bm")x"
	echo "    (kmod: $(tr '\n' ' ' </tmp/kmod.mbs); bridge: $(tr '\n' ' ' </tmp/bridge.mbs))"
	echo "  rtt:        kmod $kr ms, bridge $brt ms: kmod/bridge $(ratio "$kr" "$brt")x (lower is faster)"
	echo "    (kmod: $(tr '\n' ' ' </tmp/kmod.rtt); bridge: $(tr '\n' ' ' </tmp/bridge.rtt))"
	echo "  (emulated host, TCG with nested SVM: only the ratios of one run mean anything)"
fi
exit $failed
EOF

echo "vm-switch-kmod: two vhost-net VMs, $ROUNDS rounds each through kavm_switch.ko" \
	"and the Linux bridge, alternating, $MIB MiB a round, in one test host"
for attempt in 1 2; do
	KAVM_TESTHOST_SHOW=0 testhost_run --name bench-vm-switch-kmod "$TH_TMP/inside.sh" \
		"$KO" "$TH_TMP/guest.cpio.gz" >"$TH_TMP/out"
	rc=$?
	# The emulated host's kernel, or a nested guest, failed the rig's way
	# (Documentation/testhost.md, "The rig's own failures"): once more.
	if [ "$attempt" = 1 ] && { [ "$rc" -eq 126 ] || grep -q '^rig-fault: ' "$TH_TMP/out"; }; then
		sed 's/^/# first run: /' "$TH_TMP/out"
		continue
	fi
	break
done
cat "$TH_TMP/out"
exit "$rc"
