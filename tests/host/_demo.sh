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
linger=5
for a in $(cat /proc/cmdline); do
	case "$a" in
	demo.self=*) self=${a#*=} ;;
	demo.peer=*) peer=${a#*=} ;;
	demo.linger=*) linger=${a#*=} ;;
	esac
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
	sleep "$linger"
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
	# A second run of the step starts from nothing.
	for c in "tap del tap0" "tap del tap1" "bridge del br0"; do
		# shellcheck disable=SC2086
		kavmctl $c >/dev/null 2>&1
	done
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

# Step: each kavm makes its own tap on a bridge over rtnetlink (the bridge
# netdev, create=on) and the kernel's vhost-net moves the frames.
demo_vhost() {
	kavmctl bridge del br1 >/dev/null 2>&1
	say "two more VMs: each kavm makes its own tap on bridge br1 over rtnetlink" \
		"(creating br1), and the kernel's vhost-net moves their frames"
	mkdir -p /etc/kavm && echo "allow br1" >/etc/kavm/bridge.conf
	echo "\$ cat /etc/kavm/bridge.conf"
	cat /etc/kavm/bridge.conf
	net=bridge,id=n0,br=br1,vhost=on
	echo "\$ kavm ... --netdev $net,create=on --device virtio-net-pci,netdev=n0,mac=52:54:00:00:09:03 &"
	echo "\$ kavm ... --netdev $net --device virtio-net-pci,netdev=n0,mac=52:54:00:00:09:04"
	# The first makes br1 and leaves last, so br1 goes with it (a bridge kavm
	# made stays while others' ports are on it).
	GUEST_CPUS=1 vm_run /tmp/demo-c.log 300 kavm --cpus 1 --memory 192M \
		--kernel /guest/vmlinuz --initrd /test/guest.cpio.gz \
		--cmdline "$GUEST_CMDLINE demo.self=10.0.9.3 demo.peer=10.0.9.4 demo.linger=15" \
		--netdev "$net,create=on" --device virtio-net-pci,netdev=n0,mac=52:54:00:00:09:03 &
	c=$!
	wait_log /tmp/demo-c.log 'joined bridge br1' 120 || return 1
	# While both run: the bridge with kavm's taps, and vhost's kernel threads.
	(
		wait_log /tmp/demo-d.log 'packet loss' 180 || exit 0
		say "meanwhile, in the host: br1 and its ports, and the vhost-net workers"
		kavmctl bridge show br1
		for t in /proc/[0-9]*/comm; do
			name=$(cat "$t" 2>/dev/null)
			case "$name" in
			vhost-*) echo "  kernel thread $name: the vhost-net worker of kavm ${name#vhost-}" ;;
			esac
		done
	) &
	show=$!
	GUEST_CPUS=1 VM_SHOW=1 vm_run /tmp/demo-d.log 300 kavm --cpus 1 --memory 192M \
		--kernel /guest/vmlinuz --initrd /test/guest.cpio.gz \
		--cmdline "$GUEST_CMDLINE demo.self=10.0.9.4 demo.peer=10.0.9.3" \
		--netdev "$net" --device virtio-net-pci,netdev=n0,mac=52:54:00:00:09:04
	rc_d=$VM_RC
	wait "$c" "$show"
	say "the other VM (10.0.9.3) printed:"
	guest_output /tmp/demo-c.log
	say "after both kavms exited, their taps are gone, and so is br1, which kavm made:"
	kavmctl bridge show br1 2>&1
	[ "$rc_d" -eq 0 ] && [ "$(guest_status /tmp/demo-c.log)" = 0 ] &&
		[ "$(guest_status /tmp/demo-d.log)" = 0 ] &&
		grep -q ' 0% packet loss' /tmp/demo-c.log && grep -q ' 0% packet loss' /tmp/demo-d.log
}

DEMO_STEPS="demo_boot demo_bridge demo_vhost"

say "Inside the test host: Linux $(uname -r), $(nproc) CPUs, /dev/kvm from kvm_amd" \
	"on QEMU's emulated SVM"
# A guest of this nested rig sometimes triple-faults or stalls whatever its
# VMM (Documentation/testhost.md, "The rig's own failures"): a step whose
# guest did so runs once more, saying why.
rig_fault() {
	grep -h -m 1 -E 'guest reset \(triple fault\)|detected stalls on CPUs|soft lockup - CPU' \
		/tmp/demo-*.log 2>/dev/null | head -n 1
}
rc=0
for step in $DEMO_STEPS; do
	rm -f /tmp/demo-*.log
	$step && continue
	why=$(rig_fault)
	if [ -n "$why" ]; then
		say "a guest failed as nested guests do in this emulated host ($why); once more"
		rm -f /tmp/demo-*.log
		$step && continue
	fi
	echo "demo: step $step FAILED"
	rc=1
done
exit $rc
INSIDE

cat <<MSG
kavm demo: boots a real Debian host (linux $TH_KVER) under QEMU TCG with
nested SVM, then inside it runs kavm on that host's /dev/kvm. About a minute.
MSG
KAVM_TESTHOST_SHOW=1 testhost_run --name demo "$TH_TMP/inside.sh" "$TH_TMP/guest.cpio.gz"
rc=$?
if [ "$rc" -eq 126 ]; then
	echo "demo: the emulated test host's own kernel failed (not kavm's doing, see"
	echo "Documentation/testhost.md); starting it again, once."
	KAVM_TESTHOST_SHOW=1 testhost_run --name demo "$TH_TMP/inside.sh" "$TH_TMP/guest.cpio.gz"
	rc=$?
fi
if [ "$rc" -eq 0 ]; then
	echo "demo: done"
else
	echo "demo: FAILED (status $rc); full console: build/test-logs/testhost-demo.console.log"
fi
exit "$rc"
