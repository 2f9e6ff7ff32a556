#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm boots Debian's own kernel inside the test host, to userspace and back.
#
# The guest's first userspace line reaches us through the 16550A: the tty
# layer writes only on THRE interrupts, so seeing it proves the UART, the
# IOAPIC routing and the in-kernel irqchip. nproc proves --cpus 2 reaches the
# guest (CPUID topology, ACPI MADT); reboot -f with reboot=k must end kavm with
# status 0 through the i8042 reset. The same kernel as an ELF vmlinux, bad
# input and SIGTERM are checked in the same host run.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-testhost.sh"

require_cmd qemu-system-x86_64
if [ ! -x "$BUILD/kavm" ]; then
	not_ok "- build/kavm exists (run make)"
	done_testing
fi
testhost_init || { not_ok "- test host prepared"; done_testing; }

testhost_guest_facts >"$TH_TMP/guest.sh"
cat >>"$TH_TMP/guest.sh" <<'EOF'
# Asked to (guest.poweroff on the command line): power off instead of ending.
if grep -q guest.poweroff /proc/cmdline; then
	echo "guest-powering-off uptime=$(cut -d' ' -f1 /proc/uptime)"
	poweroff -f
fi
EOF
testhost_guest_initramfs "$TH_TMP/guest.cpio.gz" "$TH_TMP/guest.sh" ||
	{ not_ok "- guest initramfs built"; done_testing; }
vmlinux=$(testhost_vmlinux) || { not_ok "- ELF vmlinux extracted"; done_testing; }

cat >"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
GUEST_CPUS=2
boot_one() {	# who kernel log
	GUEST_KERNEL=$2 boot_kavm "$3" 300 /test/guest.cpio.gz
	check_guest_boot "$1" "$3"
	sed "s/^/# $1: /" "$3" | tail -n 40
}
retry_rig_fault boot_one /tmp/kavm.log kavm /guest/vmlinuz /tmp/kavm.log
# The same kernel as an ELF vmlinux: PT_LOAD segments, entered at e_entry.
retry_rig_fault boot_one /tmp/elf.log "kavm, ELF vmlinux" /test/vmlinux /tmp/elf.log

# poweroff -f: the guest writes S5 to the ACPI sleep control register and
# kavm exits 0 at once (tests/host/acpi.sh has the rest of ACPI; the
# all-halted check for guests without ACPI is tested there with acpi=off).
GUEST_CMDLINE="$GUEST_CMDLINE guest.poweroff" boot_kavm /tmp/off.log 300 /test/guest.cpio.gz
echo "# poweroff: $(grep -a 'guest-powering-off\|powered off' /tmp/off.log | tr '\n' ' ')"
check_eq "poweroff -f: kavm exits 0" "$VM_RC" 0
check "poweroff -f: the guest got as far as powering off" grep -q guest-powering-off /tmp/off.log
check_match "poweroff -f: kavm says the guest powered off through ACPI" "$(cat /tmp/off.log)" \
	'kavm: guest powered off \(ACPI S5\)'

# Bad input: a clear one-line error naming the cause, non-zero exit.
err=$(timeout 30 kavm --cpus 1 --memory 64M --kernel /nonexistent 2>&1 </dev/null)
rc=$?
check "missing kernel: non-zero exit" test "$rc" -ne 0 -a "$rc" -ne 143
check_match "missing kernel: the error names the path" "$err" '/nonexistent'
echo "# kavm said: $err"
err=$(timeout 30 kavm --cpus 1 --memory 64M --kernel /test/lib.sh 2>&1 </dev/null)
rc=$?
check "not a kernel image: non-zero exit" test "$rc" -ne 0 -a "$rc" -ne 143
check_match "not a kernel image: the error names the file" "$err" '/test/lib.sh'
echo "# kavm said: $err"

# SIGTERM while the guest kernel boots: an orderly stop of its own (not death
# by the signal, 143), soon, non-zero, with a message naming the cause. Once
# the guest runs ACPI the first SIGTERM only presses its power button (this
# guest does not listen), so a second one follows a second later: that one
# stops kavm at once whichever the first did.
kavm --cpus 2 --memory 256M --kernel /guest/vmlinuz --initrd /test/guest.cpio.gz \
	--cmdline "$GUEST_CMDLINE" >/tmp/term.log 2>&1 </dev/null &
pid=$!
sleep 3
t0=$(uptime_ms)
kill -TERM "$pid"
sleep 1
kill -TERM "$pid" 2>/dev/null
(sleep 30 && kill -KILL "$pid") 2>/dev/null &
watchdog=$!
wait "$pid"
rc=$?
dt=$(($(uptime_ms) - t0))
kill "$watchdog" 2>/dev/null
echo "# SIGTERM: kavm exited $rc after $dt ms: $(grep -v '^\[' /tmp/term.log | tail -n 1)"
check "SIGTERM: kavm stops itself with a non-zero status" \
	test "$rc" -ne 0 -a "$rc" -ne 143 -a "$rc" -ne 137
check "SIGTERM: kavm stops within 10 s" test "$dt" -lt 10000
check_match "SIGTERM: the message names the signal" "$(cat /tmp/term.log)" '[Tt]erminated|SIGTERM'
finish
EOF
testhost_check "$TH_TMP/inside.sh" "$TH_TMP/guest.cpio.gz" "$vmlinux"
done_testing
