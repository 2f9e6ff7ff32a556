#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm-trace on a real KVM host (the test host's Debian kernel, kvm_amd,
# where KVM's tracepoints live in the kvm module). Two fake kernels spin on
# port writes, one to port 0x80, one to 0x81, in VMs named tvm0 and tvm1.
# Each registers itself in /run/kavm at start-up and is gone from there when
# it exits, even under its seccomp sandbox; a second kavm cannot take a live
# VM's name. A tracer started after the VMs finds tvm0 by name, counts at
# least N KVM exits, exits to kavm and port writes on 0x80 in three seconds
# (the test host runs under TCG: about 700 a second), with handling times,
# and shows nothing of tvm1. A third VM writing to its UART with THRE
# interrupts on shows GSI 4 being set in kavm-trace irq.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-testhost.sh"
. "$(dirname "$0")/../lib-kernels.sh"

require_cmd qemu-system-x86_64
for b in kavm kavm-trace; do
	if [ ! -x "$BUILD/$b" ]; then
		not_ok "- build/$b exists (run make)"
		done_testing
	fi
done
testhost_init || { not_ok "- test host prepared"; done_testing; }

# jmp-free loops: out %al,$0x80; jmp back (and the same on 0x81).
mkbz "$TH_TMP/out80.bz" 01 e680ebfc
mkbz "$TH_TMP/out81.bz" 01 e681ebfc
# THRE interrupts on (IER=2), then bytes out of COM1 forever: kavm raises IRQ 4.
mkbz "$TH_TMP/uart.bz" 01 66baf903b002ee66baf803b041eeebfb

cat >"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
N=500
field() {	# json-line name: a number field's value
	printf '%s\n' "$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"
}
# One VM per test-host CPU: the emulated host's nested SVM keeps one TLB
# per CPU whatever the ASID, so two VMs taking turns on a CPU see each
# other's translations (Documentation/testhost.md).
taskset -c 0 kavm --kernel /test/out80.bz --serial none --name tvm0 >/tmp/tvm0.log 2>&1 </dev/null &
p0=$!
taskset -c 1 kavm --kernel /test/out81.bz --serial none --name tvm1 >/tmp/tvm1.log 2>&1 </dev/null &
p1=$!
# Up to 60 s: two VMs start at once on an emulated, maybe busy, host.
for i in $(seq 600); do
	[ -f /run/kavm/tvm0.json ] && [ -f /run/kavm/tvm1.json ] && break
	sleep 0.1
done
check "both VMs registered (/run/kavm/tvm0.json, tvm1.json)" \
	test -f /run/kavm/tvm0.json -a -f /run/kavm/tvm1.json
sed 's/^/# tvm1: /' /tmp/tvm1.log
reg=$(cat /run/kavm/tvm0.json 2>/dev/null)
echo "# registry: $reg"
check_match "tvm0 is registered with its pid and vCPU 0's thread" "$reg" \
	"^\{\"version\":1,\"name\":\"tvm0\",\"pid\":$p0,.*\"vcpus\":\[\{\"id\":0,\"tid\":[0-9]+\}\]"
tid=$(printf '%s' "$reg" | sed -n 's/.*"tid":\([0-9]*\).*/\1/p')
check_eq "the registered tid is kavm's vCPU thread" "$(cat /proc/$p0/task/$tid/comm 2>&1)" \
	kavm-vcpu0
check_fail "a second kavm may not take a live VM's name" 1 \
	"^kavm: --name tvm0: already the name of a running kavm \(pid $p0\)$" \
	kavm --kernel /test/out80.bz --serial none --name tvm0

# The tracer starts after the VMs: it finds tvm0 by name.
out=$(kavm-trace exits --vm tvm0 --once -j -i 3 -n 5 2>/tmp/trace.err)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /' | head -n 20
echo "# stderr: $(cat /tmp/trace.err)"
check_eq "exits --vm tvm0 --once -j: status 0" "$rc" 0
check_match "no tracepoint is missing on this kernel" "$out" '"type":"start".*"missing":\[\]'
pio=$(printf '%s\n' "$out" | grep '"type":"pio"' | grep '"port":128,' | grep '"access":"out"')
check "at least $N port writes to 0x80 in 3 s" test "$(field "$pio" count)" -ge "$N"
io=$(printf '%s\n' "$out" | grep '"type":"exit"' | grep -E '"reason":"(io|IO_INSTRUCTION)"')
check "at least $N I/O exits of vCPU 0, by name" test "$(field "$io" count)" -ge "$N"
check_match "with handling times and a histogram" "$io" \
	'"vcpu":0,.*"min_ns":[1-9][0-9]*,"avg_ns":[1-9][0-9]*,"max_ns":[1-9][0-9]*,"hist_log2_ns":\['
uio=$(printf '%s\n' "$out" | grep '"type":"userspace_exit"' | grep '"reason":"IO"')
check "at least $N exits to kavm for the port" test "$(field "$uio" count)" -ge "$N"
sum=$(printf '%s\n' "$out" | grep '"type":"exit_summary"')
check_match "the share that went to kavm" "$sum" '"userspace_share":[01]\.[0-9]+'
check "tvm1 is not mixed in: no port 0x81" test -z "$(printf '%s\n' "$out" | grep '"port":129,')"
check "tvm1 is not mixed in: never named" test -z "$(printf '%s\n' "$out" | grep tvm1)"
all=$(kavm-trace exits --once -j -i 1 2>&1)
check_match "without --vm, both VMs are shown" "$all" '"vm":"tvm1",.*"port":129,'
kill -TERM $p1
wait $p1
rc1=$?

taskset -c 1 kavm --kernel /test/uart.bz --serial none --name tvm2 >/tmp/tvm2.log 2>&1 </dev/null &
p2=$!
for i in $(seq 50); do
	[ -f /run/kavm/tvm2.json ] && break
	sleep 0.1
done
out=$(kavm-trace irq --vm tvm2 --once -j -i 3 2>&1)
check_eq "irq --once: status 0" "$?" 0
printf '%s\n' "$out" | sed 's/^/# /' | head -n 10
check_match "irq: every KVM interrupt tracepoint exists here" "$out" '"missing":\[\]'
gsi=$(printf '%s\n' "$out" | grep '"type":"irq"' | grep '"source":"gsi"' | grep '"gsi":4,')
check "irq: at least $N settings of the UART's GSI 4 in 3 s" test "$(field "$gsi" count)" -ge "$N"
check "irq: tvm0 is not mixed in" test -z "$(printf '%s\n' "$out" | grep tvm0)"
kill -TERM $p2
wait $p2

kill -TERM $p0
wait $p0
rc0=$?
# The fake kernels only loop: a reset is the emulated host's nested SVM
# failing them (Documentation/testhost.md), which the harness runs again.
for v in tvm0 tvm1; do
	grep -q "guest reset" /tmp/$v.log || continue
	echo "# rig: fake kernel $v reset itself"
	sed "s/^/# $v: /" /tmp/$v.log
done
check_eq "SIGTERM: tvm0 stops cleanly" "$rc0:$(cat /tmp/tvm0.log)" "1:kavm: terminated by SIGTERM"
check_eq "SIGTERM: tvm1 stops cleanly" "$rc1:$(cat /tmp/tvm1.log)" "1:kavm: terminated by SIGTERM"
check "the registry file is removed at exit, from the sandbox" test ! -e /run/kavm/tvm0.json
check "and tvm1's too" test ! -e /run/kavm/tvm1.json
finish
EOF
TH_RETRY_IF='^# rig: fake kernel' testhost_check "$TH_TMP/inside.sh" "$TH_TMP/out80.bz:out80.bz" "$TH_TMP/out81.bz:out81.bz" \
	"$TH_TMP/uart.bz:uart.bz"
done_testing
