#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm's ACPI registers (hw/pm.c) driven by fake kernels on KVM: S5 through
# the sleep control register and the reset register end kavm with status 0
# at once; other sleep types are ignored; the power button reaches a guest
# that initialised the GED, whose _EVT-like loop then powers off; a guest
# that does not react is stopped after the timeout, or at once on a second
# SIGTERM; the all-halted guess applies only while the guest has no ACPI.
. "$(dirname "$0")/../lib.sh"

KAVM=${KAVM:-$BUILD/kavm}
[ -x "$KAVM" ] || { not_ok "$KAVM exists (make)"; done_testing; }
T=$(mktemp -d /tmp/kavm-acpi.XXXXXX)
at_exit rm -rf "$T"
. "$(dirname "$0")/../lib-kernels.sh"

S5=66ba0006b034ee		# mov $0x600,%dx; mov $0x34,%al (SLP_TYP 5, SLP_EN); out
S3=66ba0006b02cee		# the same with SLP_TYP 3: not offered
RESET=66ba0206b001ee		# mov $0x602,%dx; mov $1,%al; out
READY=66ba0806b801000000ef	# mov $0x608,%dx; mov $1,%eax; out %eax (the GED's _INI)
WAIT_BUTTON=66ba0406eda80174fb	# mov $0x604,%dx; 1: in %eax; test $1,%al; jz 1b
SPIN=ebfe			# jmp .
CLIHLT=faf4ebfd			# cli; hlt; jmp back to hlt

mkbz "$T/s5.bz" 01 "$S5$SPIN"
mkbz "$T/s3.bz" 01 "$S3$SPIN"
mkbz "$T/reset.bz" 01 "$RESET$SPIN"
mkbz "$T/button.bz" 01 "$READY$WAIT_BUTTON$S5$SPIN"
mkbz "$T/deaf.bz" 01 "$READY$SPIN"
mkbz "$T/halt.bz" 01 "$CLIHLT"
mkbz "$T/acpi-halt.bz" 01 "$READY$CLIHLT"

run() {	# args...: sets ERR (stderr), RC
	timeout -k 5 60 "$KAVM" --serial none "$@" >/dev/null 2>"$T/err" </dev/null
	RC=$?
	ERR=$(cat "$T/err")
}

# start ARGS...: kavm in the background, PID set
start() {
	"$KAVM" --serial none "$@" >/dev/null 2>"$T/err" </dev/null &
	PID=$!
}

# finish_in SECS: wait for PID at most SECS; sets RC, ERR, MS (ms to exit)
finish_in() {
	# bash's own clock: the test host's busybox date has no %N.
	local t0=${EPOCHREALTIME/./} i
	for i in $(seq $(($1 * 10))); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$PID" 2>/dev/null && kill -KILL "$PID"
	wait "$PID"
	RC=$?
	MS=$(((${EPOCHREALTIME/./} - t0) / 1000))
	ERR=$(cat "$T/err")
}

run --kernel "$T/s5.bz" --cpus 2
check_eq "S5 in the sleep control register: status 0, said so" "$RC:$ERR" \
	"0:kavm: guest powered off (ACPI S5)"
run --kernel "$T/reset.bz"
check_eq "the reset register: status 0, said so" "$RC:$ERR" \
	"0:kavm: guest reset (ACPI reset register)"

start --kernel "$T/s3.bz"
sleep 1
kill -TERM "$PID"
finish_in 5
check_eq "a sleep type the DSDT does not offer is ignored" "$RC:$ERR" \
	"1:kavm: terminated by SIGTERM"

start --kernel "$T/s5.bz" --no-acpi
sleep 1
kill -TERM "$PID"
finish_in 5
check_eq "--no-acpi: no registers, the S5 write goes nowhere" "$RC:$ERR" \
	"1:kavm: terminated by SIGTERM"

# The power button: the guest initialised the GED and waits for its event.
start --kernel "$T/button.bz"
sleep 1
kill -TERM "$PID"
finish_in 5
check_eq "SIGTERM presses the power button; the guest powers off: status 0" "$RC" 0
check_match "... kavm says it pressed the button" "$ERR" \
	"^kavm: SIGTERM: pressed the guest's power button; it has 10 s to power off"
check_match "... and that the guest powered off" "$ERR" "kavm: guest powered off \(ACPI S5\)$"

# A guest with ACPI that ignores the button: a second SIGTERM stops it at once.
start --kernel "$T/deaf.bz"
sleep 1
kill -TERM "$PID"
sleep 1
kill -0 "$PID" 2>/dev/null
check_eq "deaf guest: still running a second after the first SIGTERM" "$?" 0
kill -TERM "$PID"
finish_in 5
check_eq "deaf guest: the second SIGTERM stops it, status 1" "$RC" 1
check_eq "deaf guest: the last line names the signal" "$(tail -n 1 "$T/err")" \
	"kavm: terminated by SIGTERM"
check "deaf guest: stopped at once, not after the timeout ($MS ms)" test "$MS" -lt 3000

# ... and with one SIGTERM only, after the timeout (10 s).
start --kernel "$T/deaf.bz"
sleep 1
kill -TERM "$PID"
finish_in 20
check_eq "deaf guest, one SIGTERM: stopped with status 1" "$RC" 1
check "deaf guest, one SIGTERM: after the 10 s timeout ($MS ms)" test "$MS" -ge 9000 -a "$MS" -lt 15000
check_eq "deaf guest, one SIGTERM: the timeout, then the signal" \
	"$(tail -n 2 "$T/err")" \
	"kavm: warning: the guest did not power off within 10 s of the power button
kavm: terminated by SIGTERM"
grep -E 'kavm: (vCPU|COM1)' "$T/err" | sed 's/^/# deaf guest: /'
# What each vCPU did meanwhile, for whoever looks into a guest that hung:
# this one spun (jmp .), so it kept leaving guest mode for the host's timer
# but never for kavm, and it never halted.
check_match "deaf guest, one SIGTERM: what the spinning vCPU did is reported" "$ERR" \
	'kavm: vCPU 0 since the power button: [1-9][0-9]* exits \(0 to kavm\), [0-9]+ interrupts injected, 0 wakeups from HLT; now running'
check_match "deaf guest, one SIGTERM: and the UART's state" "$ERR" \
	'kavm: COM1: IER 0x00, no interrupt, IRQ line low, 0 output bytes waiting, 0 input bytes in the FIFO'

# A guest without ACPI (a kernel booted with acpi=off, here one that never
# ran the GED's _INI) still powers off through the all-halted check ...
run --kernel "$T/halt.bz"
check_match "no ACPI in the guest: cli; hlt is still a power-off" "$RC:$ERR" \
	'^0:kavm: guest halted \(every vCPU stopped'
# ... but a guest running ACPI powers off through S5, not by halting.
start --kernel "$T/acpi-halt.bz" --cpus 2
sleep 3
kill -0 "$PID" 2>/dev/null
check_eq "ACPI guest: halting with interrupts off is not taken as a power-off" "$?" 0
kill -TERM "$PID"
finish_in 20
check_eq "ACPI guest: stopped by SIGTERM after the button's timeout" "$RC" 1
grep -E 'kavm: (vCPU|COM1)' "$T/err" | sed 's/^/# ACPI guest: /'
# Its boot vCPU sleeps in HLT; the other one was never started by the guest.
check_match "ACPI guest: the report shows vCPU 0 blocked in HLT" "$ERR" \
	'kavm: vCPU 0 since the power button: [0-9]+ exits \(0 to kavm\), 0 interrupts injected, 0 wakeups from HLT; now blocked in HLT'
check_match "ACPI guest: and vCPU 1, waiting for its INIT, blocked as well" "$ERR" \
	'kavm: vCPU 1 since the power button: 0 exits \(0 to kavm\), 0 interrupts injected, 0 wakeups from HLT; now blocked in HLT'

# system-powerdown on the control socket presses the same button.
if command -v python3 >/dev/null; then
	start --kernel "$T/button.bz" --control "$T/ctl.sock"
	for _ in $(seq 50); do [ -S "$T/ctl.sock" ] && break; sleep 0.1; done
	sleep 0.5	# the guest's "_INI" write
	reply=$(echo '{"execute":"system-powerdown","id":1}' |
		python3 "$TOP/tests/lib/ctl.py" "$T/ctl.sock")
	check_eq "system-powerdown: {} once the guest runs ACPI" "$reply" '{"id":1,"return":{}}'
	finish_in 10
	check_eq "system-powerdown: the guest powers off through S5, status 0" "$RC:$ERR" \
		"0:kavm: guest powered off (ACPI S5)"
else
	not_ok "system-powerdown checks need python3"
fi
done_testing
