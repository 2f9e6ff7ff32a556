#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm's ACPI with Debian's kernel, inside the test host: the guest finds
# the tables (no ACPI error or warning in its log), every vCPU through the
# MADT (--cpus 1, 2, 4), the i8042 and the RTC though the FADT is
# hardware-reduced, and the power button device; poweroff -f (sleep
# control register, S5) and reboot -f (reset register) end kavm with
# status 0 within a second; the first SIGTERM presses the power button and
# a guest that listens powers off, one that does not is stopped after the
# timeout; acpi=off still boots on the MP table with every CPU and powers
# off through the all-halted check. One --no-acpi boot gives the boot-time
# baseline (the MP table only, as before ACPI) in the same run, and one
# QEMU boot the power-off latency of a reference VMM in this rig.
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
# What ACPI gave this guest (tests/host/acpi.sh).
acpi_re='ACPI (BIOS )?(Error|Warning|Exception)|Firmware Bug|RSDP was not found'
echo "guest-acpi-problems=$(dmesg | grep -cE "$acpi_re")"
dmesg | grep -E "$acpi_re" | sed 's/^/guest-acpi-problem: /'
echo "guest-acpi-tables=$(ls /sys/firmware/acpi/tables 2>/dev/null | tr '\n' ' ')"
echo "guest-i8042-kbd=$(dmesg | grep -c 'i8042 KBD port')"
echo "guest-rtc=$(cat /sys/class/rtc/rtc0/name 2>/dev/null)"
btn=
for d in /sys/class/input/event*; do
	[ "$(cat "$d/device/name" 2>/dev/null)" = "Power Button" ] && btn=/dev/input/${d##*/}
done
echo "guest-power-button=${btn:-none}"
dmesg | grep -E 'i8042|rtc_cmos|APIC timer|clocksource: Switched|ACPI: Interpreter|reboot' |
	sed 's/^/guest-dmesg: /'
case "$(cat /proc/cmdline)" in
*guest.poweroff*)
	echo "KAVM-GUEST-MARK poweroff"
	poweroff -f ;;
*guest.reboot*)
	echo "KAVM-GUEST-MARK reboot"
	reboot -f ;;
*guest.button*)
	# One input event (24 bytes on x86-64): the button was pressed.
	echo "guest-waiting-for-the-button"
	dd if="$btn" bs=24 count=1 >/dev/null 2>&1
	echo "KAVM-GUEST-MARK power button pressed"
	poweroff -f ;;
*guest.deaf*)
	echo "guest-waiting-for-the-button"
	sleep 600 ;;
esac
EOF
GUEST_MODULES="button evdev" testhost_guest_initramfs "$TH_TMP/guest.cpio.gz" "$TH_TMP/guest.sh" ||
	{ not_ok "- guest initramfs built"; done_testing; }

cat >"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
ACPI_CMDLINE="console=ttyS0 panic=-1 quiet"
INITRD=/test/guest.cpio.gz

# The checks every ACPI boot gets.
check_acpi_guest() {	# who log cpus
	_out=$(guest_output "$2")
	[ -n "$_out" ] || _out=$(sed -n '/KAVM-GUEST-BEGIN/,$p' "$2")
	echo "# $1: first userspace line after ${VM_UP_MS:-never} ms, exit after $VM_MS ms"
	check_match "$1: guest nproc shows $3 CPUs" "$_out" "^guest-nproc=$3\$"
	check_match "$1: no ACPI error or warning in the guest's log" "$_out" '^guest-acpi-problems=0$'
	printf '%s\n' "$_out" | grep -E '^guest-(acpi-problem|dmesg):' | sed "s/^/# $1: /"
	check_match "$1: the guest found the tables" "$_out" \
		'^guest-acpi-tables=.*APIC.*DSDT.*FACP'
	check_match "$1: the guest found the i8042" "$_out" '^guest-i8042-kbd=1$'
	check_match "$1: the guest found the CMOS RTC" "$_out" '^guest-rtc=rtc_cmos( |$)'
	check_match "$1: the guest found the power button" "$_out" \
		'^guest-power-button=/dev/input/event[0-9]+$'
}

# Time from the guest's request to kavm's exit. The request is the guest
# kernel's last line ("reboot: Power down"), printed just before it turns to
# the hardware; the time from the guest's command (KAVM-GUEST-MARK) is
# reported too: it adds the guest's own shutdown, slow in this nested rig.
check_fast_exit() {	# who log
	_dt=none
	_dm=none
	[ -n "$VM_DOWN_MS" ] && _dt=$((VM_MS - VM_DOWN_MS))
	[ -n "$VM_MARK_MS" ] && _dm=$((VM_MS - VM_MARK_MS))
	echo "# $1: kavm exited $_dt ms after the guest kernel's last line, $_dm ms after" \
		"the guest's command; its last line came $((${VM_STOP_MS:-0} - ${VM_DOWN_MS:-0}))" \
		"ms after the kernel's"
	grep -a -A3 'KAVM-GUEST-MARK' "$2" | sed "s/^/# $1: /"
	check "$1: kavm exits within a second of the guest's request" \
		test "$_dt" != none -a "$_dt" -lt 1000
}

# These guests end without finishing their script on purpose, which
# retry_rig_fault would take for the rig's spontaneous resets: boot again
# only when a guest CPU stalled, the guest triple-faulted (none of them
# resets by design) or it stopped answering until the boot's timeout (none
# waits that long by design; Documentation/testhost.md, "The rig's own
# failures").
retry_stall() {	# func log
	_rs0=$_in_fail
	"$1" >/tmp/attempt.out
	if [ "$_in_fail" -ne "$_rs0" ] && { _why=$(grep -m 1 -E \
		"$RIG_STALL_RE|kavm: guest reset \\(triple fault\\)" "$2") || _why=$(vm_hung "$2"); }; then
		echo "# $1: the guest failed as nested guests do here ($_why); booting it again, once"
		sed 's/^/# first boot: /' /tmp/attempt.out
		_in_fail=$_rs0
		"$1" >/tmp/attempt.out
	fi
	cat /tmp/attempt.out
}

boot_one() {	# who log cpus cmdline-extra
	GUEST_CPUS=$3 GUEST_CMDLINE="$ACPI_CMDLINE $4" boot_kavm "$2" 150 $INITRD
}

# --cpus 1, reboot -f: the ACPI reset register.
reboot_one() {
	boot_one "ACPI, 1 CPU, reboot -f" /tmp/r1.log 1 guest.reboot
	check_eq "reboot -f: kavm exits 0" "$VM_RC" 0
	check_match "reboot -f: through the ACPI reset register" "$(cat /tmp/r1.log)" \
		'kavm: guest reset \(ACPI reset register\)'
	check_acpi_guest "ACPI, 1 CPU" /tmp/r1.log 1
	check_fast_exit "reboot -f" /tmp/r1.log
}
retry_stall reboot_one /tmp/r1.log

# --cpus 2, poweroff -f: the sleep control register, S5.
poweroff_two() {
	boot_one "ACPI, 2 CPUs, poweroff -f" /tmp/p2.log 2 guest.poweroff
	check_eq "poweroff -f: kavm exits 0" "$VM_RC" 0
	check_match "poweroff -f: through ACPI S5" "$(cat /tmp/p2.log)" \
		'kavm: guest powered off \(ACPI S5\)'
	check_acpi_guest "ACPI, 2 CPUs" /tmp/p2.log 2
	check_fast_exit "poweroff -f" /tmp/p2.log
}
retry_stall poweroff_two /tmp/p2.log
acpi_up_ms=$VM_UP_MS

# --cpus 4: the whole script, then the init's reboot -f.
four() {
	boot_one "ACPI, 4 CPUs" /tmp/c4.log 4 ""
	check_eq "4 CPUs: kavm exits 0 on the guest's reboot" "$VM_RC" 0
	check_eq "4 CPUs: the guest's script ran to the end" "$(guest_status /tmp/c4.log)" 0
	check_acpi_guest "ACPI, 4 CPUs" /tmp/c4.log 4
}
retry_rig_fault four /tmp/c4.log

# SIGTERM presses the power button once the guest's ACPI is up (hw/pm.c).
sigterm_when_waiting() {	# log: TERM kavm once the guest waits for the button
	wait_log "$1" guest-waiting-for-the-button 150 && sleep 1 &&
		kill -TERM "$(vmm_pid)"
}
button() {
	sigterm_when_waiting /tmp/b.log &
	_k=$!
	boot_one "ACPI, power button" /tmp/b.log 1 guest.button
	wait "$_k"
	check_eq "power button: the guest powers off, kavm exits 0" "$VM_RC" 0
	check_match "power button: kavm says it pressed it" "$(cat /tmp/b.log)" \
		'pressed the guest.s power button'
	check_match "power button: the guest heard it" "$(cat /tmp/b.log)" \
		'KAVM-GUEST-MARK power button pressed'
	check_match "power button: the guest powered off through S5" "$(cat /tmp/b.log)" \
		'kavm: guest powered off \(ACPI S5\)'
}
retry_stall button /tmp/b.log

# A guest that does not react: stopped after the timeout, as before ACPI.
deaf() {
	sigterm_when_waiting /tmp/d.log &
	_k=$!
	boot_one "ACPI, deaf guest" /tmp/d.log 1 guest.deaf
	wait "$_k"
	check_eq "deaf guest: kavm exits 1" "$VM_RC" 1
	check_match "deaf guest: the timeout is named" "$(cat /tmp/d.log)" \
		'did not power off within 10 s of the power button'
	check_match "deaf guest: the last line names SIGTERM" "$(tail -n 1 /tmp/d.log)" \
		'^kavm: terminated by SIGTERM$'
}
retry_stall deaf /tmp/d.log

# acpi=off: the MP table still brings up every CPU, and poweroff -f is seen
# by the all-halted check (the guest never ran the DSDT).
acpi_off() {
	GUEST_CPUS=2 GUEST_CMDLINE="$ACPI_CMDLINE acpi=off guest.poweroff" \
		boot_kavm /tmp/off.log 150 $INITRD
	_out=$(sed -n '/KAVM-GUEST-BEGIN/,$p' /tmp/off.log)
	echo "# acpi=off: first userspace line after ${VM_UP_MS:-never} ms, exit after $VM_MS ms"
	check_match "acpi=off: guest nproc shows 2 CPUs" "$_out" '^guest-nproc=2$'
	check_match "acpi=off: the guest has no ACPI tables" "$_out" '^guest-acpi-tables=$'
	check_eq "acpi=off: poweroff -f, kavm exits 0" "$VM_RC" 0
	check_match "acpi=off: kavm saw every vCPU halted" "$(cat /tmp/off.log)" \
		'kavm: guest halted \(every vCPU stopped with interrupts off'
}
retry_stall acpi_off /tmp/off.log

# Baseline: the MP table only (--no-acpi), 2 CPUs, as kavm booted before.
no_acpi() {
	GUEST_CPUS=2 GUEST_CMDLINE="$ACPI_CMDLINE reboot=k" \
		boot_kavm /tmp/mp.log 150 $INITRD --no-acpi
	check_guest_boot "--no-acpi" /tmp/mp.log
}
retry_rig_fault no_acpi /tmp/mp.log
echo "# boot time, 2 CPUs, first userspace line: ACPI ${acpi_up_ms:-never} ms," \
	"--no-acpi ${VM_UP_MS:-never} ms"

# For scale: QEMU (ACPI PM of the pc machine) powering off the same guest
# in this rig, from the guest kernel's last line to QEMU's exit.
GUEST_CPUS=2 GUEST_CMDLINE="$ACPI_CMDLINE guest.poweroff" boot_qemu /tmp/q.log 150 $INITRD
echo "# QEMU, poweroff -f: status $VM_RC, exited" \
	"$((VM_MS - ${VM_DOWN_MS:-$VM_MS})) ms after the guest kernel's last line"
finish
EOF
testhost_check --qemu "$TH_TMP/inside.sh" "$TH_TMP/guest.cpio.gz"
done_testing
