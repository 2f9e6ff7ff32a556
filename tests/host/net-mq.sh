#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Multiqueue virtio-net (queues=N on a tap) with an unmodified Debian guest,
# inside the test host.
#
# One test-host boot, the guest booted once per case: 2 and 4 pairs with
# kavm moving the frames and with vhost-net (one vhost-net device per pair),
# 4 pairs under a 2-CPU guest, whose driver enables only 2 (kavm must
# detach the other tap queues, or frames steered there would be stuck), and
# a bridge netdev with 4 pairs on vhost-net. The
# guest has as many CPUs as pairs (its driver enables min(pairs, CPUs)).
# Each case checks: the driver's queues (/sys/class/net/eth0/queues), the
# tap's attached queues, one MSI-X vector per queue, and that traffic crosses
# every pair: on each guest CPU a pinned wget (host -> guest) and a pinned
# httpd (guest -> host) move 16/N MiB each, so XPS puts each flow on that
# CPU's TX queue and the tap's flow table answers on the same queue; both 16
# MiB files must arrive with the same sha256. Per pair, kavm's counters
# (control socket) or, with vhost-net, the guest's interrupts per queue must
# have moved.
# ENVIRONMENT.md's pitfall decides the direction of every transfer: the side
# that stays up fetches (see net.sh).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-testhost.sh"

require_cmd qemu-system-x86_64
if [ ! -x "$BUILD/kavm" ] || [ ! -x "$BUILD/kavmctl" ]; then
	not_ok "- build/kavm and build/kavmctl exist (run make)"
	done_testing
fi
testhost_init || { not_ok "- test host prepared"; done_testing; }

cat >"$TH_TMP/guest.sh" <<'EOF'
H=10.0.2.1
N=$(ls /sys/class/net/eth0/queues | grep -c '^rx-')
echo "guest-cpus=$(nproc)"
echo "guest-queues=$(ls /sys/class/net/eth0/queues | tr '\n' ' ')"
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0
ping -c 3 -W 5 "$H" >/tmp/p0 2>&1
echo "guest-ping=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/p0)"
# guest -> host: 16 MiB in N parts, part k served by an httpd on CPU k.
mkdir -p /www
dd if=/dev/urandom of=/www/g.bin bs=1M count=16 2>/dev/null
echo "guest-g-sha=$(sha256sum /www/g.bin | cut -d' ' -f1)"
k=0
while [ $k -lt "$N" ]; do
	dd if=/www/g.bin of=/www/g.$k bs=1M skip=$((k * 16 / N)) count=$((16 / N)) 2>/dev/null
	taskset -c $k httpd -p $((8080 + k)) -h /www
	k=$((k + 1))
done
echo "guest-serving n=$N"
# host -> guest: part k fetched by a wget on CPU k, all at once.
k=0
while [ $k -lt "$N" ]; do
	taskset -c $k wget -q -O /tmp/h.$k "http://$H:8080/$N/h.$k" &
	k=$((k + 1))
done
wait
k=0
: >/tmp/h.bin
while [ $k -lt "$N" ]; do
	cat /tmp/h.$k >>/tmp/h.bin
	k=$((k + 1))
done
echo "guest-h-sha=$(sha256sum /tmp/h.bin | cut -d' ' -f1) size=$(wc -c </tmp/h.bin)"
n=0
until wget -q -O /dev/null "http://$H:8080/done" 2>/dev/null; do
	n=$((n + 1))
	[ $n -gt 300 ] && { echo "guest-gave-up-waiting"; break; }
	sleep 1
done
grep -E 'virtio0' /proc/interrupts | tr -s ' ' | sed 's/^/guest-irq=/'
EOF
GUEST_MODULES="virtio_pci virtio_net" \
	testhost_guest_initramfs "$TH_TMP/guest.cpio.gz" "$TH_TMP/guest.sh" ||
	{ not_ok "- guest initramfs built"; done_testing; }

echo "GUEST_CMDLINE='console=ttyS0 reboot=k panic=-1 quiet'" >"$TH_TMP/inside.sh"
cat >>"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
kavmctl tap add mq0 --multi-queue --vnet-hdr && kavmctl link set mq0 up &&
	ip addr add 10.0.2.1/24 dev mq0 || not_ok "tap mq0 made (multi_queue) and addressed"
mkdir -p /srv/2 /srv/4
dd if=/dev/urandom of=/srv/h.bin bs=1M count=16 2>/dev/null
hsha=$(sha256sum /srv/h.bin | cut -d' ' -f1)
for n in 2 4; do
	k=0
	while [ $k -lt $n ]; do
		dd if=/srv/h.bin of=/srv/$n/h.$k bs=1M skip=$((k * 16 / n)) count=$((16 / n)) \
			2>/dev/null
		k=$((k + 1))
	done
done
httpd -p 10.0.2.1:8080 -h /srv
GUEST_MEM=256

# The host's side: once the guest serves, fetch its N parts at once; once the
# guest has h.bin, read kavm's counters and the tap, then let the guest go.
host_side() {	# pairs-in-use
	wait_log /tmp/kavm.log guest-serving || exit 1
	k=0
	while [ $k -lt "$1" ]; do
		timeout 120 wget -q -O /tmp/g.$k http://10.0.2.15:$((8080 + k))/g.$k &
		k=$((k + 1))
	done
	wait
	k=0
	: >/tmp/g.bin
	while [ $k -lt "$1" ]; do
		cat /tmp/g.$k >>/tmp/g.bin
		k=$((k + 1))
	done
	echo "sha=$(sha256sum /tmp/g.bin | cut -d' ' -f1)" >/tmp/g.res
	wait_log /tmp/kavm.log guest-h-sha
	kavmctl vm counters /tmp/kavm.sock >/tmp/kavm.counters 2>&1
	# The bridge netdev's tap is kavm's own, the bridge's one port.
	tap=mq0
	[ -d /sys/class/net/brmq/brif ] && tap=$(ls /sys/class/net/brmq/brif | head -n 1)
	kavmctl tap show "$tap" >/tmp/tap.show 2>&1
	# vhost-net's workers (Linux 6.1: a kernel thread vhost-PID per device).
	pid=$(vmm_pid)
	n=0
	for c in /proc/[0-9]*/comm; do
		[ "$(cat "$c" 2>/dev/null)" = "vhost-$pid" ] && n=$((n + 1))
	done
	echo "$n" >/tmp/vhost.workers
	touch /srv/done
}

# mq_boot NAME PAIRS CPUS NETDEV: one guest boot and its checks.
mq_boot() {
	m=$1 pairs=$2 cpus=$3 use=$2
	[ "$cpus" -lt "$use" ] && use=$cpus
	f0=$_in_fail
	rm -f /srv/done /tmp/g.* /tmp/kavm.log /tmp/kavm.counters /tmp/tap.show /tmp/vhost.workers
	host_side "$use" &
	fetcher=$!
	GUEST_CPUS=$cpus boot_kavm /tmp/kavm.log 400 /test/guest.cpio.gz \
		--control /tmp/kavm.sock \
		--netdev "$4" \
		--device virtio-net-pci,netdev=n0,mac=52:54:00:00:02:0f
	kill "$fetcher" 2>/dev/null
	wait "$fetcher"
	out=$(guest_output /tmp/kavm.log)
	printf '%s\n' "$out" | sed "s/^/# $m guest: /"
	echo "# $m: guest userspace after ${VM_UP_MS:-never} ms, exit after $VM_MS ms"
	check_eq "$m: kavm exits 0 after the guest's reboot -f" "$VM_RC" 0
	check_eq "$m: guest script ran to the end" "$(guest_status /tmp/kavm.log)" 0
	want=
	k=0
	while [ $k -lt "$use" ]; do want="$want rx-$k"; k=$((k + 1)); done
	k=0
	while [ $k -lt "$use" ]; do want="$want tx-$k"; k=$((k + 1)); done
	check_eq "$m: the driver uses $use pairs (/sys/class/net/eth0/queues)" \
		"$(printf '%s\n' "$out" | sed -n 's/^guest-queues=//p')" "${want# } "
	check_match "$m: guest pings the host: 3 of 3" "$out" '^guest-ping=3$'
	check_match "$m: host -> guest: same sha256" "$out" "^guest-h-sha=$hsha size=16777216\$"
	gsha=$(printf '%s\n' "$out" | sed -n 's/^guest-g-sha=//p')
	check "$m: guest -> host: guest reported its sha256" test -n "$gsha"
	check_eq "$m: guest -> host: same sha256" "$(sed -n 's/^sha=//p' /tmp/g.res 2>/dev/null)" \
		"$gsha"
	sed "s/^/# $m: /" /tmp/tap.show /tmp/kavm.counters 2>/dev/null
	check_match "$m: the tap has $use queues attached" "$(cat /tmp/tap.show 2>/dev/null)" \
		"queues $use( |\$)"
	check_match "$m: kavm says $use of $pairs pairs in use" \
		"$(cat /tmp/kavm.counters 2>/dev/null)" "pairs: +$use in use of $pairs"
	k=0
	while [ $k -lt "$pairs" ]; do
		check_match "$m: queue $k has its own MSI-X vectors (input.$k, output.$k)" \
			"$(printf '%s\n' "$out" | grep -c -E "PCI-MSI.*virtio0-(input|output)\.$k\$")" '^2$'
		k=$((k + 1))
	done
	case "$m" in
	*vhost*)
		check_eq "$m: one vhost-net worker per pair" "$(cat /tmp/vhost.workers 2>/dev/null)" \
			"$pairs"
		;;
	esac
	k=0
	while [ $k -lt "$use" ]; do
		irq=$(printf '%s\n' "$out" | grep -E "virtio0-input\.$k\$" |
			awk '{ n = 0; for (i = 3; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; print n }')
		echo "# $m: pair $k: guest RX interrupts $irq"
		case "$m" in
		*vhost*)
			check "$m: pair $k took RX interrupts" test "${irq:-0}" -gt 0
			;;
		*)
			q=$(sed -n "s/^ *queue $k: *//p" /tmp/kavm.counters 2>/dev/null)
			rx=$(echo "$q" | sed -n 's/.*rx_frames \([0-9]*\).*/\1/p')
			tx=$(echo "$q" | sed -n 's/.*tx_frames \([0-9]*\).*/\1/p')
			check "$m: pair $k moved frames both ways in kavm (rx $rx, tx $tx)" \
				test "${rx:-0}" -gt 100 -a "${tx:-0}" -gt 100
			;;
		esac
		k=$((k + 1))
	done
	if [ "$_in_fail" -ne "$f0" ]; then
		sed 's/^/# kavm: /' /tmp/kavm.log | tail -n 60
		[ -f /tmp/kavm.log.hang ] && sed 's/^/# hung kavm: /' /tmp/kavm.log.hang
	fi
}

T=tap,id=n0,ifname=mq0
retry_rig_fault mq_boot /tmp/kavm.log "user-2" 2 2 $T,queues=2
retry_rig_fault mq_boot /tmp/kavm.log "user-4" 4 4 $T,queues=4
retry_rig_fault mq_boot /tmp/kavm.log "vhost-2" 2 2 $T,queues=2,vhost=on
retry_rig_fault mq_boot /tmp/kavm.log "vhost-4" 4 4 $T,queues=4,vhost=on
retry_rig_fault mq_boot /tmp/kavm.log "user-4-on-2-cpus" 4 2 $T,queues=4
# The bridge netdev: kavm's multi-queue tap joins brmq, which takes the
# host's address from mq0 (httpd, bound to the address, stays).
ip addr del 10.0.2.1/24 dev mq0 && kavmctl link set mq0 down &&
	kavmctl bridge add brmq && kavmctl link set brmq up &&
	ip addr add 10.0.2.1/24 dev brmq || not_ok "bridge brmq made with the host's address"
echo "allow brmq" >/tmp/bridge.conf
KAVM_BRIDGE_CONF=/tmp/bridge.conf
export KAVM_BRIDGE_CONF
retry_rig_fault mq_boot /tmp/kavm.log "vhost-bridge-4" 4 4 bridge,id=n0,br=brmq,queues=4,vhost=on
finish
EOF
testhost_check --name net-mq "$TH_TMP/inside.sh" "$TH_TMP/guest.cpio.gz"
done_testing
