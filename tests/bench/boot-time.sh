#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot time and memory overhead of kavm against QEMU, in one test host run.
#
# Both VMMs boot the same Debian kernel and busybox initramfs with the same
# CPUs and RAM on the test host's /dev/kvm (nested SVM under QEMU TCG), in
# alternation, KAVM_BENCH_REPS times each. Boot time is from spawning the VMM
# to the guest's first userspace line (KAVM-GUEST-UP, the first thing /init
# does). Absolute figures are distorted by emulation: only the ratio means
# anything. Memory is sampled from /proc/PID/smaps while the guest idles
# after boot: the resident pages of every mapping but the guest RAM's memfd
# are the VMM's own (QEMU is given a memfd backend too, so the split is the
# same for both).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../host/lib-testhost.sh"

REPS=${KAVM_BENCH_REPS:-3}
[ -x "$BUILD/kavm" ] || echo "boot-time: no build/kavm (run make): QEMU figures only" >&2
testhost_init || exit 1

cat >"$TH_TMP/guest.sh" <<'EOF'
# Idle long enough for the VMM's memory to be sampled while the guest is up.
sleep 3
EOF
testhost_guest_initramfs "$TH_TMP/guest.cpio.gz" "$TH_TMP/guest.sh" || exit 1

cat >"$TH_TMP/inside.sh" <<EOF
REPS=$REPS
EOF
cat >>"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
VM_SAMPLE_DELAY=2

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 }
	END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# bench_one NAME: boot once, append the boot time and memory to NAME's lists.
bench_one() {
	boot_$1 /tmp/$1.log 300 /test/guest.cpio.gz
	if [ "$VM_RC" -ne 0 ] || [ -z "$VM_UP_MS" ]; then
		echo "$1: run failed (exit $VM_RC, first userspace line ${VM_UP_MS:-never})"
		tail -n 20 /tmp/$1.log | sed "s/^/  $1: /"
		eval "fail_$1=1"
		return
	fi
	set -- $1 $(vmm_rss_split /tmp/$1.log)
	own=$3
	echo "$1: first userspace line after $VM_UP_MS ms;" \
		"VmRSS $(mem_kib /tmp/$1.log.mem VmRSS) KiB = guest RAM (memfd) $2 + own $3" \
		"(RssAnon $(mem_kib /tmp/$1.log.mem RssAnon))"
	eval "up_$1=\"\$up_$1 $VM_UP_MS\"; own_$1=\"\$own_$1 $own\""
}

have_kavm=0
command -v kavm >/dev/null && have_kavm=1
i=1
while [ $i -le $REPS ]; do
	[ $have_kavm = 1 ] && bench_one kavm
	bench_one qemu
	i=$((i + 1))
done

q=$(echo "$up_qemu" | median)
qm=$(echo "$own_qemu" | median)
echo
echo "boot to first userspace line, median of $REPS (ms, emulated host):"
echo "  qemu -accel kvm: $q   (runs: $up_qemu )"
echo "resident memory beyond guest RAM (VmRSS - memfd), median (KiB):"
echo "  qemu: $qm"
[ -n "${fail_qemu:-}" ] && exit 1
[ $have_kavm = 1 ] || { echo "  kavm: not built"; exit 1; }
[ -n "${fail_kavm:-}" ] && exit 1
k=$(echo "$up_kavm" | median)
km=$(echo "$own_kavm" | median)
echo "  kavm: $k   (runs: $up_kavm )"
echo "  kavm/qemu boot time ratio: $(awk -v k=$k -v q=$q 'BEGIN { printf "%.2f", k / q }')"
echo "  kavm: $km KiB = $(awk -v k=$km 'BEGIN { printf "%.2f", k / 1024 }') MiB" \
	"(Firecracker's bar: < 5 MiB); kavm/qemu: $(awk -v k=$km -v q=$qm 'BEGIN { printf "%.2f", k / q }')"
EOF
echo "boot-time: $REPS runs each of kavm and QEMU in one test host (KAVM_BENCH_REPS)"
testhost_run --qemu --name bench-boot-time "$TH_TMP/inside.sh" "$TH_TMP/guest.cpio.gz"
