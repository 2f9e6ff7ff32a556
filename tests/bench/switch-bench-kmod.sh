#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# switch-bench in the test host, where kavm_switch.ko loads: every path of
# tests/bench/switch-bench.c (the Linux bridge, the one-line tc and XDP
# redirects, the eBPF switch in tc and XDP mode, kavm_switch.ko, the
# userspace forwarder), interleaved in one run, 64 B and 1500 B frames.
#
#   tests/bench/switch-bench-kmod.sh        (make bench runs it too)
#
# KAVM_BENCH_SECS (default 1) seconds per case, best of KAVM_BENCH_ROUNDS
# (default 5) rounds. The bench's own lines are printed as they are: rates
# and CPU per frame as ratios to the bridge, kavm_switch.ko's also to the tc
# one-line program and to the eBPF switch in tc mode. The test host is QEMU
# emulating its CPUs (TCG): absolute figures are low and only the ratios of
# one run mean anything. Exit 1 when a path could not be measured.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../host/lib-testhost.sh"

SECS=${KAVM_BENCH_SECS:-1}
ROUNDS=${KAVM_BENCH_ROUNDS:-5}
SB=$BUILD/tests/bench/switch-bench
KO=$TH_TOP/kmod/kavm_switch.ko
if [ ! -x "$SB" ] || [ ! -x "$BUILD/kavmctl" ]; then
	echo "switch-bench-kmod: $SB and build/kavmctl are needed (run make)" >&2
	exit 1
fi
mkdir -p "$TH_LOGDIR"
if ! make -s -C "$TH_TOP" kmod >"$TH_LOGDIR/kmod-build.log" 2>&1 || [ ! -f "$KO" ]; then
	tail -n 20 "$TH_LOGDIR/kmod-build.log" >&2
	echo "switch-bench-kmod: kmod/kavm_switch.ko does not build (make kmod)" >&2
	exit 1
fi
testhost_init || exit 1

# The bench, and iproute2's ip and bridge (its bridge path needs
# "bridge fdb add", which busybox lacks), with their libraries: a tarball
# extracted at / in the host puts each where the loader looks.
root=$(mktemp -d "$TH_TMP/sb.XXXXXX") || exit 1
_th_stage_bins "$root" /usr/local/bin "$SB" "$(command -v ip)" "$(command -v bridge)" ||
	exit 1
tar -C "$root" -cf "$TH_TMP/sb.tar" . || exit 1

cat >"$TH_TMP/inside.sh" <<EOF
SECS=$SECS ROUNDS=$ROUNDS
EOF
cat >>"$TH_TMP/inside.sh" <<'EOF'
tar -C / -xf /test/sb.tar || exit 1
dmesg -c >/dev/null
kavmctl module load /test/kavm_switch.ko || exit 1
echo "# $(uname -r), $(nproc) CPUs ($(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2- |
	sed 's/^ *//')), emulated by QEMU TCG"
switch-bench "$SECS" "$ROUNDS" >/tmp/sb.out 2>/tmp/sb.err
rc=$?
cat /tmp/sb.out
sed 's/^/# stderr: /' /tmp/sb.err
[ "$rc" -eq 0 ] || { echo "switch-bench exited $rc"; exit 1; }
missing=0
for size in 64 1500; do
	for p in "linux bridge" "tc one-line redirect" "kavm switch, tc" "kavm switch, kmod" \
		"xdp one-line redirect" "kavm switch, xdp" "userspace forwarder"; do
		grep -q "^ *$size  $p  " /tmp/sb.out && continue
		echo "not measured: $size B $p"
		missing=1
	done
done
kavmctl module unload || exit 1
bad=$(dmesg | grep -E 'WARNING:|BUG:|Call Trace' | head -n 5)
[ -z "$bad" ] || { echo "kernel log: $bad"; exit 1; }
exit "$missing"
EOF

for attempt in 1 2; do
	KAVM_TESTHOST_SHOW=0 testhost_run --name switch-bench-kmod "$TH_TMP/inside.sh" \
		"$TH_TMP/sb.tar" "$KO" >"$TH_TMP/out"
	rc=$?
	# The emulated host's own kernel failed (Documentation/testhost.md): once more.
	[ "$rc" -eq 126 ] && [ "$attempt" = 1 ] && continue
	break
done
cat "$TH_TMP/out"
exit "$rc"
