#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The test host's reference: QEMU with -accel kvm boots Debian's kernel nested.
#
# Proves the harness (modules, /dev/kvm on the emulated SVM, vhost-net, tun,
# modules in the guest) and that the guest initramfs reaches userspace and
# pings over virtio-net on vhost-net under a known-good VMM, so a kavm failure
# in boot.sh or a networking test is kavm's, not the rig's. It is also the baseline
# tests/bench/boot-time.sh measures kavm against.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-testhost.sh"

require_cmd qemu-system-x86_64
testhost_init || { not_ok "- test host prepared"; done_testing; }

testhost_guest_facts >"$TH_TMP/guest.sh"
cat >>"$TH_TMP/guest.sh" <<'EOF'
# virtio-net on a tap with vhost-net, the host at 10.0.2.1: retry while the
# host is still bringing the tap up.
ip link set eth0 up && ip addr add 10.0.2.2/24 dev eth0
i=0
while [ $i -lt 60 ] && ! ping -c 1 -W 1 10.0.2.1 >/dev/null 2>&1; do i=$((i + 1)); done
echo "guest-ping=$(ping -c 3 -W 2 10.0.2.1 | sed -n 's/.*, \([0-9]*\) packets received.*/\1/p')"
EOF
GUEST_MODULES="virtio_pci virtio_net" testhost_guest_initramfs "$TH_TMP/guest.cpio.gz" "$TH_TMP/guest.sh" ||
	{ not_ok "- guest initramfs built"; done_testing; }

cat >"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
check "kvm_amd loaded in the test host" grep -q '^kvm_amd ' /proc/modules
check "/dev/kvm is a character device" test -c /dev/kvm
check "/dev/vhost-net is a character device" test -c /dev/vhost-net
check "/dev/net/tun is a character device" test -c /dev/net/tun
check "bridge module loaded" grep -q '^bridge ' /proc/modules

# QEMU makes the tap qtap0; this side addresses it once it appears and
# watches for the vhost worker kthread ("vhost-<QEMU's pid>") while it runs.
# The rig's own failures (a guest that resets, stalls or stops) get one
# more boot, as kavm's do (retry_rig_fault).
reference() {
	rm -f /tmp/vhost-seen
	(
		i=0
		while [ $i -lt 600 ] && ! ip link show qtap0 >/dev/null 2>&1; do
			sleep 0.1
			i=$((i + 1))
		done
		ip addr add 10.0.2.1/24 dev qtap0 && ip link set qtap0 up
		while [ $i -lt 1200 ] && ip link show qtap0 >/dev/null 2>&1; do
			ps | grep -q '\[vhost-[0-9]*\]' && touch /tmp/vhost-seen
			sleep 0.1
			i=$((i + 1))
		done
	) &
	boot_qemu /tmp/qemu.log 300 /test/guest.cpio.gz \
		-netdev tap,id=n0,ifname=qtap0,script=no,downscript=no,vhost=on \
		-device virtio-net-pci,netdev=n0,romfile=
	wait
	check_guest_boot "qemu -accel kvm" /tmp/qemu.log
	out=$(guest_output /tmp/qemu.log)
	check_match "guest pings the host 3/3 over virtio-net and a tap" "$out" '^guest-ping=3$'
	check "QEMU set up vhost-net for the tap (its worker thread seen)" test -e /tmp/vhost-seen
	[ "$_in_fail" -eq 0 ] || sed 's/^/# qemu: /' /tmp/qemu.log | tail -n 40
}
retry_rig_fault reference /tmp/qemu.log
finish
EOF
testhost_check --qemu "$TH_TMP/inside.sh" "$TH_TMP/guest.cpio.gz"
done_testing
