#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm's virtio-net NICs with an unmodified Debian guest, inside the test host.
#
# One test-host boot. The guest has two NICs on two taps in two subnets; it
# loads its own virtio_pci and virtio_net, brings eth0 and eth1 up with static
# addresses and pings the host through each; then 16 MiB go each way over
# eth0 and must arrive with the same sha256; eth0 is unbound and bound again
# (a device reset) and pings once more. The guest boots five times: with
# MSI-X (irqfd per queue), kavm moving the frames; with vhost-net
# (vhost=on), where kavm must make a fraction of the first boot's read/write
# calls; with a vhost.ko that refuses kavm's memory table (kavm falls back);
# and with pci=nomsi, where the driver takes INTx (IO-APIC GSIs, the ISR
# register), without and with vhost.
#   KAVM_NET_INTX=0     leave the two INTx boots out
#   KAVM_NET_REPEAT=N   N rounds in this one host boot, to soak for rare bugs
#   KAVM_GUEST_APPEND   the guest's kernel options instead of "quiet"
#   KAVM_RIG_RETRY=0    no second boot after a failure the rig causes (to
#                       count them when soaking; see retry_rig_fault)
#   KAVM_NET_VMM=qemu   the same guest under QEMU (-accel kvm), the control
#                       for such soaks (kavm's own boots are left out)
# ENVIRONMENT.md's pitfall decides the direction of every transfer: the side
# that stays up fetches (busybox wget from busybox httpd), so the guest's
# reboot -f never cuts a transfer's tail: the host fetches the guest's file
# while the guest waits for the host's "done" file. (busybox 1.35's static
# wget segfaults with -T: timeout(1) bounds the host's fetch; the guest's are
# bounded by kavm's own timeout.)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-testhost.sh"

require_cmd qemu-system-x86_64
if [ ! -x "$BUILD/kavm" ] || [ ! -x "$BUILD/kavmctl" ]; then
	not_ok "- build/kavm and build/kavmctl exist (run make)"
	done_testing
fi
testhost_init || { not_ok "- test host prepared"; done_testing; }

cat >"$TH_TMP/guest.sh" <<'EOF'
H0=10.0.2.1 H1=10.0.3.1
echo "guest-virtio-devices=$(ls /sys/bus/virtio/devices | wc -l)"
for d in /sys/class/net/eth*; do
	echo "guest-nic=${d##*/} $(cat "$d/address") $(basename "$(readlink "$d/device/driver")")"
done
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0
ip link set eth1 up && ip addr add 10.0.3.15/24 dev eth1
ping -c 3 -W 5 "$H0" >/tmp/p0 2>&1
echo "guest-ping0=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/p0)"
ping -c 3 -W 5 -I eth1 "$H1" >/tmp/p1 2>&1
echo "guest-ping1=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/p1)"
# guest -> host: serve a fresh 16 MiB file; the host fetches it.
mkdir -p /www
dd if=/dev/urandom of=/www/g.bin bs=1M count=16 2>/dev/null
echo "guest-g-sha=$(sha256sum /www/g.bin | cut -d' ' -f1)"
httpd -p 8080 -h /www
echo "guest-serving"
# host -> guest: fetch the host's file.
t0=$(cut -d' ' -f1 /proc/uptime)
wget -q -O /tmp/h.bin "http://$H0:8080/h.bin"
echo "guest-h-rc=$? t0=$t0 t1=$(cut -d' ' -f1 /proc/uptime)"
echo "guest-h-sha=$(sha256sum /tmp/h.bin | cut -d' ' -f1) size=$(wc -c </tmp/h.bin)"
rm -f /tmp/h.bin
# Stay up until the host has its copy of g.bin.
n=0
until wget -q -O /dev/null "http://$H0:8080/done" 2>/dev/null; do
	n=$((n + 1))
	[ $n -gt 300 ] && { echo "guest-gave-up-waiting"; break; }
	sleep 1
done
# A device reset by the driver: unbind and bind virtio_net on the first NIC
# (with vhost=on, kavm takes the rings back and hands them over again).
echo virtio0 >/sys/bus/virtio/drivers/virtio_net/unbind
echo virtio0 >/sys/bus/virtio/drivers/virtio_net/bind
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0
ping -c 3 -W 5 "$H0" >/tmp/p0 2>&1
echo "guest-rebind-ping0=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/p0)"
grep -E 'virtio|eth' /proc/interrupts | tr -s ' ' | sed 's/^/guest-irq=/'
EOF
GUEST_MODULES="virtio_pci virtio_net" \
	testhost_guest_initramfs "$TH_TMP/guest.cpio.gz" "$TH_TMP/guest.sh" ||
	{ not_ok "- guest initramfs built"; done_testing; }

{
	echo "NET_REPEAT=${KAVM_NET_REPEAT:-1} NET_INTX=${KAVM_NET_INTX:-1}"
	echo "RIG_RETRY=${KAVM_RIG_RETRY:-1} NET_VMM=${KAVM_NET_VMM:-kavm}"
	# KAVM_GUEST_APPEND replaces the guest's "quiet" (loglevel=7: stall backtraces).
	echo "GUEST_CMDLINE='console=ttyS0 reboot=k panic=-1 ${KAVM_GUEST_APPEND-quiet}'"
} >"$TH_TMP/inside.sh"
cat >>"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
for i in 0 1; do
	kavmctl tap add tap$i --vnet-hdr && kavmctl link set tap$i up &&
		ip addr add 10.0.$((i + 2)).1/24 dev tap$i ||
		not_ok "tap$i made and addressed"
done
mkdir -p /srv
dd if=/dev/urandom of=/srv/h.bin bs=1M count=16 2>/dev/null
hsha=$(sha256sum /srv/h.bin | cut -d' ' -f1)
httpd -p 10.0.2.1:8080 -h /srv
# The guest with its two NICs under kavm or, NET_VMM=qemu, under QEMU (the
# control for soaks: the same guest, NICs and transfers).
vmm_boot() {	# netdev-extra
	if [ "$NET_VMM" = qemu ]; then
		boot_qemu /tmp/kavm.log 300 /test/guest.cpio.gz \
			-netdev "tap,id=n0,ifname=tap0,script=no,downscript=no$1" \
			-device virtio-net-pci,romfile=,netdev=n0,mac=52:54:00:00:02:0f \
			-netdev "tap,id=n1,ifname=tap1,script=no,downscript=no$1" \
			-device virtio-net-pci,romfile=,netdev=n1,mac=52:54:00:12:34:57
	else
		boot_kavm /tmp/kavm.log 300 /test/guest.cpio.gz \
			--netdev "tap,id=n0,ifname=tap0$1" \
			--device virtio-net-pci,netdev=n0,mac=52:54:00:00:02:0f \
			--netdev "tap,id=n1,ifname=tap1$1" --device virtio-net-pci,netdev=n1
	fi
}

# What kavm-trace net saw of tap0 from boot to the end of both transfers:
# the tap's own counters and, with vhost=on, the share the vhost worker
# moved (frames are large: the tap carries TSO/GSO frames).
trace_checks() {	# mode
	tot=$(grep '"type":"net".*"ifname":"tap0"' /tmp/trace.out | tail -n 1 |
		sed -n 's/.*"total":{\(.*\)}}$/\1/p')
	echo "# $1: kavm-trace net, tap0 totals: ${tot:-none} $(cat /tmp/trace.err)"
	trace_field() {
		local v
		v=$(printf '%s\n' "$tot" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p")
		echo "${v:-0}"
	}
	check "$1: kavm-trace net: at least 16 MiB to the guest on tap0" \
		test "$(trace_field rx_bytes)" -ge 16777216
	check "$1: kavm-trace net: at least 16 MiB from the guest on tap0" \
		test "$(trace_field tx_bytes)" -ge 16777216
	case "$1" in
	vhost*)
		check "$1: kavm-trace net: the vhost worker took 80% of the frames to the guest" \
			test "$(($(trace_field vhost_rx_packets) * 5))" -ge "$(($(trace_field rx_packets) * 4))"
		check "$1: kavm-trace net: and sent 80% of the guest's into tap0" \
			test "$(($(trace_field vhost_tx_packets) * 5))" -ge "$(($(trace_field tx_packets) * 4))"
		check "$1: kavm-trace net: some at all" test "$(trace_field vhost_tx_packets)" -gt 100 ;;
	*)
		check_eq "$1: kavm-trace net: no vhost share without vhost-net" \
			"$(trace_field vhost_rx_packets) $(trace_field vhost_tx_packets)" "0 0" ;;
	esac
}

# One guest boot: MODE names the checks, EXTRA goes on the guest's cmdline,
# IRQ is what its virtio interrupts must look like in /proc/interrupts,
# NETDEV is added to both --netdev options.
net_boot() {	# mode extra irq netdev
	m=$1
	f0=$_in_fail
	rm -f /srv/done /tmp/g.bin /tmp/g.res /tmp/kavm.log /tmp/kavm.sample* /tmp/trace.*
	# kavm-trace net from before the boot (it finds the VM at its next
	# interval, before the guest's network is up) to the end of the transfers.
	tracer=
	if [ "$NET_VMM" = kavm ]; then
		kavm-trace net -j -i 2 >/tmp/trace.out 2>/tmp/trace.err &
		tracer=$!
	fi
	# The host's side of guest -> host: fetch g.bin once the guest serves it;
	# once the guest has h.bin too, look at kavm, then let the guest reboot.
	(
		wait_log /tmp/kavm.log guest-serving || exit 1
		vmm_counters "$(vmm_pid)" >/tmp/kavm.sample0
		t0=$(uptime_ms)
		timeout 120 wget -q -O /tmp/g.bin http://10.0.2.15:8080/g.bin
		echo "rc=$? ms=$(($(uptime_ms) - t0)) sha=$(sha256sum /tmp/g.bin | cut -d' ' -f1)" \
			>/tmp/g.res
		wait_log /tmp/kavm.log guest-h-sha
		vmm_counters "$(vmm_pid)" >/tmp/kavm.sample
		[ -n "$tracer" ] && kill -INT "$tracer"
		touch /srv/done
	) &
	fetcher=$!
	GUEST_CMDLINE="$GUEST_CMDLINE $2" vmm_boot "$4"
	kill "$fetcher" 2>/dev/null
	wait "$fetcher"
	if [ -n "$tracer" ]; then
		kill -INT "$tracer" 2>/dev/null
		wait "$tracer"
	fi
	out=$(guest_output /tmp/kavm.log)
	printf '%s\n' "$out" | sed "s/^/# $m guest: /"
	echo "# $m: guest userspace after ${VM_UP_MS:-never} ms, exit after $VM_MS ms"
	check_eq "$m: kavm exits 0 after the guest's reboot -f" "$VM_RC" 0
	check_eq "$m: guest script ran to the end" "$(guest_status /tmp/kavm.log)" 0
	check_match "$m: guest sees two virtio devices" "$out" '^guest-virtio-devices=2$'
	check_match "$m: eth0 is virtio-net with the given MAC" "$out" \
		'^guest-nic=eth0 52:54:00:00:02:0f virtio_net$'
	check_match "$m: eth1 is virtio-net with QEMU's second default MAC" "$out" \
		'^guest-nic=eth1 52:54:00:12:34:57 virtio_net$'
	check_match "$m: guest pings the host through eth0: 3 of 3" "$out" '^guest-ping0=3$'
	check_match "$m: guest pings the host through eth1: 3 of 3" "$out" '^guest-ping1=3$'
	check_match "$m: after the driver rebinds eth0, it pings 3 of 3" "$out" \
		'^guest-rebind-ping0=3$'
	check_match "$m: host -> guest: 16 MiB fetched" "$out" '^guest-h-rc=0 '
	check_match "$m: host -> guest: same sha256" "$out" "^guest-h-sha=$hsha size=16777216\$"
	gsha=$(printf '%s\n' "$out" | sed -n 's/^guest-g-sha=//p')
	res=$(cat /tmp/g.res 2>/dev/null)
	echo "# $m: host fetched g.bin: $res"
	check_match "$m: guest -> host: 16 MiB fetched" "$res" '^rc=0 '
	check "$m: guest -> host: guest reported its sha256" test -n "$gsha"
	check_eq "$m: guest -> host: same sha256" "${res##*sha=}" "$gsha"
	check_match "$m: the NICs took $3 interrupts" "$out" "^guest-irq=.*$3.*virtio0"
	# The transfers' share: what kavm did between guest-serving and the end
	# of both (the console's bytes, one write each, stay out of it).
	sample=$(cat /tmp/kavm.sample 2>/dev/null)
	s0=$(sed -n 's/^syscalls=\([0-9]*\) .*/\1/p' /tmp/kavm.sample0 2>/dev/null)
	echo "# $m: kavm before the transfers: $(cat /tmp/kavm.sample0 2>/dev/null)"
	echo "# $m: kavm after both transfers: $sample"
	s1=$(echo "$sample" | sed -n 's/^syscalls=\([0-9]*\) .*/\1/p')
	sys=
	[ -n "$s0" ] && [ -n "$s1" ] && sys=$((s1 - s0))
	[ "$NET_VMM" = kavm ] && trace_checks "$m"
	case "$m" in
	fallback*)
		# At each DRIVER_OK: both NICs at boot, eth0 again after its rebind.
		msg='vhost-net did not start (VHOST_SET_MEM_TABLE: Argument list too long);'
		msg="$msg kavm moves the frames"
		for nt in "n0 2" "n1 1"; do
			check_eq "$m: kavm says ${nt% *} fell back ${nt#* } time(s), and why" \
				"$(grep -cF "virtio-net ${nt% *}: $msg" /tmp/kavm.log)" "${nt#* }"
		done
		;;
	vhost*)
		check_match "$m: the vhost-net worker of kavm ran" "$sample" 'vhost_ticks=[1-9]'
		VHOST_SYSCALLS=$sys
		;;
	*)
		check_match "$m: no vhost-net worker without vhost=on" "$sample" 'vhost_ticks=none'
		USER_SYSCALLS=$sys
		;;
	esac
	for i in 0 1; do
		echo "# $m: tap$i: $(kavmctl -s link show tap$i | tr -s " " | tr "\n" " ")"
	done
	if [ "$_in_fail" -ne "$f0" ]; then
		sed 's/^/# kavm: /' /tmp/kavm.log | tail -n 60
		[ -f /tmp/kavm.log.hang ] && sed 's/^/# hung kavm: /' /tmp/kavm.log.hang
	fi
}
GUEST_MEM=256
r=0
while [ "$r" -lt "$NET_REPEAT" ]; do
	r=$((r + 1))
	n=""
	[ "$NET_REPEAT" -gt 1 ] && n=" $r"
	USER_SYSCALLS='' VHOST_SYSCALLS=''
	retry_rig_fault net_boot /tmp/kavm.log "msix$n" "" 'PCI-MSI'
	if [ "$NET_VMM" = qemu ]; then
		[ "$NET_INTX" = 1 ] &&
			retry_rig_fault net_boot /tmp/kavm.log "intx$n" pci=nomsi 'IO-APIC.*fasteoi'
		continue
	fi
	retry_rig_fault net_boot /tmp/kavm.log "vhost$n" "" 'PCI-MSI' ,vhost=on
	# The same 32 MiB: through kavm, a read or write per frame; through
	# vhost-net, none (kavm still serves the console and the control queue).
	echo "# round$n: kavm's read+write calls: userspace $USER_SYSCALLS, vhost-net $VHOST_SYSCALLS"
	check "vhost$n: kavm made under a fifth of the userspace run's read/write calls" \
		test "${VHOST_SYSCALLS:-999999}" -lt "$((${USER_SYSCALLS:-0} / 5))"
	# vhost refuses kavm's memory table (a vhost.ko limited to no regions):
	# kavm must fall back to moving the frames itself, and the guest not see it.
	if rmmod vhost_net vhost && modprobe vhost max_mem_regions=0 && modprobe vhost_net; then
		retry_rig_fault net_boot /tmp/kavm.log "fallback$n" "" 'PCI-MSI' ,vhost=on
	else
		not_ok "fallback$n: vhost.ko reloaded with max_mem_regions=0"
	fi
	rmmod vhost_net vhost && modprobe vhost_net || not_ok "vhost.ko reloaded as it was"
	# Without MSI the driver takes the PCI INTx line: IRQ 16-23 on the IO-APIC.
	[ "$NET_INTX" = 1 ] &&
		retry_rig_fault net_boot /tmp/kavm.log "intx$n" pci=nomsi 'IO-APIC.*fasteoi'
	[ "$NET_INTX" = 1 ] && retry_rig_fault net_boot /tmp/kavm.log "vhost-intx$n" pci=nomsi \
		'IO-APIC.*fasteoi' ,vhost=on
done
finish
EOF
qemu=
[ "${KAVM_NET_VMM:-kavm}" = qemu ] && qemu=--qemu
testhost_check $qemu --name net "$TH_TMP/inside.sh" "$TH_TMP/guest.cpio.gz"
done_testing
