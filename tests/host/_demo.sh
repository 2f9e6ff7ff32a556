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
echo "Rebooting with reboot -f (reboot=k: the i8042 reset ends kavm)."
GUEST
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

DEMO_STEPS="demo_boot"

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
