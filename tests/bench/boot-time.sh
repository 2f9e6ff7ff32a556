#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot time and memory overhead of kavm against QEMU, in one test host run.
#
# Both VMMs boot the same Debian kernel and busybox initramfs with the same
# CPUs and RAM on the test host's /dev/kvm (nested SVM under QEMU TCG), in
# alternation (each goes first in every other round), KAVM_BENCH_REPS times
# each. The machine is shared, so the median and the minimum are both shown. Boot time is from spawning the VMM
# to the guest's first userspace line (KAVM-GUEST-UP, the first thing /init
# does). Absolute figures are distorted by emulation: only the ratio means
# anything. Memory is sampled from /proc/PID/smaps while the guest idles
# after boot: the resident pages of every mapping but the guest RAM's memfd
# are the VMM's own (QEMU is given a memfd backend too, so the split is the
# same for both).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../host/lib-testhost.sh"

REPS=${KAVM_BENCH_REPS:-5}
[ -x "$BUILD/kavm" ] || echo "boot-time: no build/kavm (run make): QEMU figures only" >&2
testhost_init || exit 1

cat >"$TH_TMP/guest.sh" <<'EOF'
# Idle long enough for the VMM's memory to be sampled while the guest is up.
sleep 3
EOF
testhost_guest_initramfs "$TH_TMP/guest.cpio.gz" "$TH_TMP/guest.sh" || exit 1
vmlinux=$(testhost_vmlinux) || exit 1

cat >"$TH_TMP/inside.sh" <<EOF
REPS=$REPS
EOF
cat >>"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
VM_SAMPLE_DELAY=2

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 }
	END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
minimum() { tr ' ' '\n' | grep . | sort -n | head -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# bench_one NAME: boot once, append the boot time and memory to NAME's lists.
bench_one() {
	first_run_arm || echo "$1: no kvm:kvm_entry tracepoint, no first-KVM_RUN figure"
	boot_$1 /tmp/$1.log 300 /test/guest.cpio.gz
	fr=$(first_run_ms)
	if [ "$VM_RC" -ne 0 ] || [ -z "$VM_UP_MS" ]; then
		echo "$1: run failed (exit $VM_RC, first userspace line ${VM_UP_MS:-never})"
		tail -n 20 /tmp/$1.log | sed "s/^/  $1: /"
		eval "fail_$1=1"
		return
	fi
	set -- $1 $(vmm_rss_split /tmp/$1.log)
	own=$3
	# The guest kernel's own clock at /init: the rest of the spawn-to-line
	# time passed before the kernel started its clock (VMM setup, firmware,
	# the bzImage decompressing itself, early boot before timekeeping).
	gup=$(sed -n 's/^KAVM-GUEST-UPTIME=//p' /tmp/$1.log | awk '{ printf "%d", $1 * 1000 }')
	echo "$1: first KVM_RUN after ${fr:-?} ms, first userspace line after $VM_UP_MS ms (guest clock $gup ms);" \
		"VmRSS $(mem_kib /tmp/$1.log.mem VmRSS) KiB = guest RAM (memfd) $2 + own $3" \
		"(RssAnon $(mem_kib /tmp/$1.log.mem RssAnon))"
	eval "run_$1=\"\$run_$1 $fr\"; up_$1=\"\$up_$1 $VM_UP_MS\"; own_$1=\"\$own_$1 $own\"; gup_$1=\"\$gup_$1 $gup\""
}

# kavm also boots the ELF vmlinux: the difference is the bzImage's own
# decompression, which QEMU (no PVH entry used here) always pays.
boot_kavm_elf() { GUEST_KERNEL=/test/vmlinux boot_kavm "$@"; }

have_kavm=0
command -v kavm >/dev/null && have_kavm=1
i=1
while [ $i -le $REPS ]; do
	if [ $((i % 2)) = 1 ]; then
		[ $have_kavm = 1 ] && bench_one kavm
		bench_one qemu
	else
		bench_one qemu
		[ $have_kavm = 1 ] && bench_one kavm
	fi
	[ $have_kavm = 1 ] && bench_one kavm_elf
	i=$((i + 1))
done

q=$(echo "$up_qemu" | median)
qmin=$(echo "$up_qemu" | minimum)
qm=$(echo "$own_qemu" | median)
echo
echo "boot to first userspace line, $REPS runs each (ms, emulated host):"
echo "  qemu -accel kvm: median $q, min $qmin   (runs:$up_qemu )"
[ -n "${fail_qemu:-}" ] && exit 1
[ $have_kavm = 1 ] || { echo "  kavm: not built"; exit 1; }
[ -n "${fail_kavm:-}" ] && exit 1
k=$(echo "$up_kavm" | median)
kmin=$(echo "$up_kavm" | minimum)
km=$(echo "$own_kavm" | median)
echo "  kavm:            median $k, min $kmin   (runs:$up_kavm )"
echo "  kavm/qemu: median $(ratio "$k" "$q"), min $(ratio "$kmin" "$qmin")"
if [ -z "${fail_kavm_elf:-}" ]; then
	ke=$(echo "$up_kavm_elf" | median)
	echo "  kavm, ELF vmlinux: median $ke, min $(echo "$up_kavm_elf" | minimum)   (runs:$up_kavm_elf )"
	echo "  kavm ELF/bzImage: median $(ratio "$ke" "$k")"
fi
echo "  of which on the guest's clock (the rest: VMM setup, firmware, decompression), median:"
echo "                   qemu $(echo "$gup_qemu" | median), kavm $(echo "$gup_kavm" | median)," \
	"kavm ELF $(echo "$gup_kavm_elf" | median)"
r=$(echo "$run_kavm" | median)
rq=$(echo "$run_qemu" | median)
echo "start to the first KVM_RUN (kvm:kvm_entry), ms:"
echo "  qemu: median $rq (runs:$run_qemu )"
echo "  kavm: median $r (runs:$run_kavm ), kavm ELF (runs:$run_kavm_elf )"
echo "  kavm/qemu: median $(ratio "$r" "$rq"), min $(ratio "$(echo "$run_kavm" | minimum)" "$(echo "$run_qemu" | minimum)")"
echo "resident memory beyond guest RAM (VmRSS - memfd), median (KiB):"
echo "  qemu: $qm"
echo "  kavm: $km = $(ratio "$km" 1024) MiB (Firecracker's bar: < 5 MiB); kavm/qemu: $(ratio "$km" "$qm")"
EOF
echo "boot-time: $REPS runs each of kavm and QEMU in one test host (KAVM_BENCH_REPS)"
testhost_run --qemu --name bench-boot-time "$TH_TMP/inside.sh" "$TH_TMP/guest.cpio.gz" "$vmlinux"
