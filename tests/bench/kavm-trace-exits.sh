#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What kavm-trace exits costs a VM: KVM exits per CPU-second of its vCPU
# thread without and with `kavm-trace exits --vm NAME` running, in rounds
# on the same VM, median of the per-round ratios. The guest is a fake
# kernel that writes 'A' to COM1 forever, so every exit is an I/O exit that
# kavm handles (the most common exit a VMM sees, and the one the tracer
# does the most for: kvm_exit, kvm_pio, kvm_userspace_exit, kvm_entry);
# each exit is one byte of kavm's serial output, counted in a file. Needs
# /dev/kvm here (natively; the test host's TCG would measure the emulator).
#
#   KAVM_BENCH_SECONDS (per measurement, default 1), KAVM_BENCH_ROUNDS (7)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../lib-kernels.sh"

SECS=${KAVM_BENCH_SECONDS:-1}
ROUNDS=${KAVM_BENCH_ROUNDS:-7}
[ -x "$BUILD/kavm" ] && [ -x "$BUILD/kavm-trace" ] ||
	{ echo "kavm-trace-exits: build/kavm and build/kavm-trace are needed (run make)" >&2; exit 1; }
[ -w /dev/kvm ] || { echo "kavm-trace-exits: needs a usable /dev/kvm" >&2; exit 1; }
T=$(mktemp -d) || exit 1
at_exit rm -rf "$T"
export KAVM_RUN_DIR=$T/run
# mov $0x3f8,%dx; mov $'A',%al; out %al,(%dx); jmp back to the mov to %al.
mkbz "$T/uart.bz" 01 66baf803b041eeebfb
"$BUILD/kavm" --kernel "$T/uart.bz" --serial "file:$T/out" --name kbench </dev/null \
	>/dev/null 2>"$T/kavm.err" &
vm=$!
at_exit "kill $vm 2>/dev/null; wait $vm 2>/dev/null"
for i in $(seq 100); do [ -s "$KAVM_RUN_DIR/kbench.json" ] && break; sleep 0.1; done
tid=$(sed -n 's/.*"tid":\([0-9]*\).*/\1/p' "$KAVM_RUN_DIR/kbench.json" 2>/dev/null)
[ -n "$tid" ] || { echo "kavm-trace-exits: kavm did not register: $(cat "$T/kavm.err")" >&2; exit 1; }

# exits/CPU-s over SECS: bytes written by the guest per tick of its vCPU thread.
window() {
	local b0 c0 b1 c1
	b0=$(stat -c %s "$T/out")
	c0=$(awk '{print $14 + $15}' "/proc/$vm/task/$tid/stat")
	sleep "$SECS"
	b1=$(stat -c %s "$T/out")
	c1=$(awk '{print $14 + $15}' "/proc/$vm/task/$tid/stat")
	awk -v b=$((b1 - b0)) -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { if (c > 0) printf "%.0f", b * hz / c; else print 0 }'
}

ratios=()
for r in $(seq "$ROUNDS"); do
	without=$(window)
	"${KAVM_TRACE:-$BUILD/kavm-trace}" exits --vm kbench -j -i 60 >"$T/trace.out" 2>"$T/trace.err" &
	tr=$!
	for i in $(seq 100); do grep -q '"type":"start"' "$T/trace.out" 2>/dev/null && break; sleep 0.05; done
	grep -q '"type":"start"' "$T/trace.out" ||
		{ echo "kavm-trace-exits: kavm-trace did not start: $(cat "$T/trace.err")" >&2; exit 1; }
	with=$(window)
	kill -INT $tr
	wait $tr
	ratio=$(awk -v a="$with" -v b="$without" 'BEGIN { printf "%.3f", b ? a / b : 0 }')
	ratios+=("$ratio")
	echo "  round $r: $without exits per CPU-second without, $with with: $ratio"
done
med=$(printf '%s\n' "${ratios[@]}" | sort -n | sed -n "$(((ROUNDS + 1) / 2))p")
echo "kavm-trace exits: I/O exits per CPU-second of the vCPU with/without, median of $ROUNDS" \
	"rounds: $med ($(awk -v m="$med" 'BEGIN { printf "%.1f", (1 - m) * 100 }')% fewer)"
