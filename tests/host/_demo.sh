#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: what kavm does, shown live inside the QEMU test host.
#
# Not a test (run.sh skips _*.sh): it prints what it shows and exits non-zero
# if a step fails. Each step is a shell function in the inner script listed in
# DEMO_STEPS; add a step (two VMs pinging over a kavm-made bridge, vhost-net,
# the BPF switch) by writing its function and naming it there.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-testhost.sh"

if [ ! -x "$BUILD/kavm" ]; then
	echo "demo: build/kavm is missing: run make first" >&2
	exit 1
fi
testhost_init || exit 1

cat >"$TH_TMP/guest.sh" <<'GUEST'
echo "Hello from userspace in a kavm guest."
echo "  kernel:  $(uname -r)"
echo "  CPUs:    $(nproc) ($(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -n 1))"
echo "  memory:  $(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
echo "  uptime:  $(cut -d' ' -f1 /proc/uptime) s"
echo "  console: $(grep ttyS0 /proc/interrupts | tr -s ' ')"
# Given demo.self=IP demo.peer=IP on the command line: a NIC, a ping to the peer.
for a in $(cat /proc/cmdline); do
	case "$a" in demo.self=*) self=${a#*=} ;; demo.peer=*) peer=${a#*=} ;; esac
done
if [ -n "$self" ]; then
	echo "  NIC:     eth0 $(cat /sys/class/net/eth0/address), driver" \
		"$(basename "$(readlink /sys/class/net/eth0/device/driver)")"
	ip link set eth0 up && ip addr add "$self/24" dev eth0
	n=0
	until ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -ge 60 ] && break
	done
	echo "  $self pings $peer:"
	ping -c 3 -W 2 "$peer" | sed 's/^/    /'
	# Let the peer finish its pings before this VM goes away.
	sleep 5
fi
echo "Rebooting with reboot -f (reboot=k: the i8042 reset ends kavm)."
GUEST
GUEST_MODULES="virtio_pci virtio_net" \
	testhost_guest_initramfs "$TH_TMP/guest.cpio.gz" "$TH_TMP/guest.sh" || exit 1

cat >"$TH_TMP/inside.sh" <<'INSIDE'
. /test/lib.sh

say() { printf '\n=== %s\n' "$*"; }

# Step: kavm boots Debian's kernel, its serial console streamed as it comes.
demo_boot() {
	say "kavm boots Debian's kernel $(uname -r) with $GUEST_CPUS vCPUs and ${GUEST_MEM} MiB;" \
		"the guest's serial console follows"
	echo "\$ kavm --cpus $GUEST_CPUS --memory ${GUEST_MEM}M --kernel /guest/vmlinuz" \
		"--initrd guest.cpio.gz --cmdline '$GUEST_CMDLINE'"
	VM_SHOW=1 boot_kavm /tmp/demo-boot.log 300 /test/guest.cpio.gz
	say "kavm exited with status $VM_RC after $VM_MS ms" \
		"(guest userspace after ${VM_UP_MS:-never} ms, in an emulated host)"
	[ "$VM_RC" -eq 0 ] && [ "$(guest_status /tmp/demo-boot.log)" = 0 ]
}

# Step: two VMs, each with a virtio-net NIC on a tap, on a bridge kavmctl made.
demo_bridge() {
	say "kavmctl makes bridge br0 and taps tap0, tap1 on it; two kavm VMs ping each other"
	for c in "bridge add br0" "link set br0 up" "tap add tap0 --vnet-hdr" \
		"tap add tap1 --vnet-hdr" "link attach tap0 --bridge br0" \
		"link attach tap1 --bridge br0" "link set tap0 up" "link set tap1 up"; do
		echo "\$ kavmctl $c"
		# shellcheck disable=SC2086
		kavmctl $c || return 1
	done
	kavmctl bridge show br0
	echo "\$ kavm ... --netdev tap,id=n0,ifname=tap0 --device virtio-net-pci,netdev=n0,mac=52:54:00:00:09:01 &"
	echo "\$ kavm ... --netdev tap,id=n0,ifname=tap1 --device virtio-net-pci,netdev=n0,mac=52:54:00:00:09:02"
	GUEST_CPUS=1 vm_run /tmp/demo-a.log 300 kavm --cpus 1 --memory 192M \
		--kernel /guest/vmlinuz --initrd /test/guest.cpio.gz \
		--cmdline "$GUEST_CMDLINE demo.self=10.0.9.1 demo.peer=10.0.9.2" \
		--netdev tap,id=n0,ifname=tap0 --device virtio-net-pci,netdev=n0,mac=52:54:00:00:09:01 &
	a=$!
	GUEST_CPUS=1 VM_SHOW=1 vm_run /tmp/demo-b.log 300 kavm --cpus 1 --memory 192M \
		--kernel /guest/vmlinuz --initrd /test/guest.cpio.gz \
		--cmdline "$GUEST_CMDLINE demo.self=10.0.9.2 demo.peer=10.0.9.1" \
		--netdev tap,id=n0,ifname=tap1 --device virtio-net-pci,netdev=n0,mac=52:54:00:00:09:02
	rc_b=$VM_RC
	wait "$a"
	say "the other VM (10.0.9.1) printed:"
	guest_output /tmp/demo-a.log
	say "the taps on br0 after the run (kavm was given them: they stay):"
	kavmctl -s link show tap0
	kavmctl -s link show tap1
	[ "$rc_b" -eq 0 ] && [ "$(guest_status /tmp/demo-a.log)" = 0 ] &&
		[ "$(guest_status /tmp/demo-b.log)" = 0 ] &&
		grep -q ' 0% packet loss' /tmp/demo-a.log && grep -q ' 0% packet loss' /tmp/demo-b.log
}

DEMO_STEPS="demo_boot demo_bridge"

say "Inside the test host: Linux $(uname -r), $(nproc) CPUs, /dev/kvm from kvm_amd" \
	"on QEMU's emulated SVM"
rc=0
for step in $DEMO_STEPS; do
	$step || { echo "demo: step $step FAILED"; rc=1; }
done
exit $rc
INSIDE

cat <<MSG
kavm demo: boots a real Debian host (linux $TH_KVER) under QEMU TCG with
nested SVM, then inside it runs kavm on that host's /dev/kvm. About a minute.
MSG
KAVM_TESTHOST_SHOW=1 testhost_run --name demo "$TH_TMP/inside.sh" "$TH_TMP/guest.cpio.gz"
rc=$?
if [ "$rc" -eq 0 ]; then
	echo "demo: done"
else
	echo "demo: FAILED (status $rc); full console: build/test-logs/testhost-demo.console.log"
fi
exit "$rc"
