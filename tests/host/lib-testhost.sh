# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# kavm test host: a real Linux host (Debian's kernel, modules, nested KVM) in QEMU TCG.
#
# The build machines cannot boot a Linux guest on their own /dev/kvm and have no
# modules (Documentation/testhost.md), so tests that need kvm_amd, vhost-net,
# tun or bridge run a script inside a QEMU-emulated AMD host with SVM:
#
#   . tests/lib.sh; . tests/host/lib-testhost.sh
#   testhost_init                                  fetch + extract (cached)
#   testhost_guest_initramfs OUT GUEST_SCRIPT [FILE...]
#                                                  a busybox initramfs for a
#                                                  nested guest (see below)
#   testhost_vmlinux                               path of the ELF vmlinux
#                                                  inside the bzImage (cached)
#   testhost_run [--qemu] [--name N] SCRIPT [FILE...]
#                                                  boot the host, run SCRIPT in
#                                                  it as root, print its output,
#                                                  return its status
#   testhost_check [--qemu] SCRIPT [FILE...]       the same, turning the inner
#                                                  "ok - x"/"not ok - x" lines
#                                                  into this test's TAP; once
#                                                  more if its output matches
#                                                  TH_RETRY_IF (a rig fault)
#
# Inside the host: SCRIPT runs under busybox sh as /test/run.sh, with cwd /test,
# the FILEs in /test (FILE may be SRC:NAME to rename), /test/lib.sh
# (tests/host/lib-inside.sh: ok, check, check_eq, vm_run, ...), kavm's binaries
# on PATH, the guest kernel at /guest/vmlinuz, and with --qemu QEMU itself
# (firmware with -L /usr/share/seabios -L /usr/share/qemu). An out-of-tree
# module goes in as a FILE and is loaded with insmod /test/NAME.ko.
#
# Environment:
#   KAVM_TESTHOST_TIMEOUT  seconds before the test host is killed (default 900)
#   KAVM_TESTHOST_SILENT   seconds without its heartbeat before it counts as
#                          wedged and is stopped (default 120)
#   KAVM_TESTHOST_CACHE    download/extract cache (default build/testhost)
#   KAVM_TESTHOST_KVER     kernel version, e.g. 6.1.0-56-amd64 (default: the one
#                          linux-headers-amd64 depends on, as kmod/ builds for it)
#   KAVM_TESTHOST_MODULES  extra modules to load in the host
#   KAVM_TESTHOST_SHOW=1   stream the host console while it runs (make demo)
#   KAVM_TESTHOST_QEMU     QEMU binary (default qemu-system-x86_64)
#   KAVM_TESTHOST_MEM      the host's RAM in MiB (default 2048)
#   KAVM_TESTHOST_KEEP=1   keep the temporary initramfs trees for a look
#   KAVM_TESTHOST_MONITOR  a unix socket path for QEMU's human monitor, to look
#                          into a wedged host (info registers, sendkey alt-sysrq-t)
#   KAVM_TESTHOST_APPEND   extra host kernel command line (default "quiet")
#   KAVM_TESTHOST_TCG      TCG threading: multi (default) or single
#   KAVM_TESTHOST_QEMU_ARGS  more QEMU options, split on spaces (for example
#                          "-d cpu_reset,guest_errors -D /tmp/th-qemu.log")
# Every run's full console is kept in build/test-logs/testhost-NAME.console.log.

TH_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TH_BUILD=${BUILD:-$TH_TOP/build}
case "$TH_BUILD" in /*) ;; *) TH_BUILD=$TH_TOP/$TH_BUILD ;; esac
TH_CACHE=${KAVM_TESTHOST_CACHE:-$TH_BUILD/testhost}
TH_LOGDIR=$TH_BUILD/test-logs
TH_TIMEOUT=${KAVM_TESTHOST_TIMEOUT:-900}
# Seconds without the host's heartbeat before it counts as wedged.
TH_SILENT=${KAVM_TESTHOST_SILENT:-120}
TH_QEMU=${KAVM_TESTHOST_QEMU:-qemu-system-x86_64}

# What the host loads at boot (sch_ingress, cls_bpf: the eBPF switch's tc
# hook); modprobe pulls dependencies (ccp, irqbypass,
# vhost, vhost_iotlb, stp, llc, virtio, virtio_ring, ...) from modules.dep.
TH_HOST_MODULES="kvm kvm_amd vhost vhost_iotlb vhost_net tun tap bridge veth sch_ingress cls_bpf \
virtio_net virtio_pci ${KAVM_TESTHOST_MODULES:-}"

# kavm's binaries copied into the host when they exist.
TH_KAVM_BINS="kavm kavmctl kavm-trace"

_th_err() { echo "testhost: $*" >&2; }

# The kernel version: pinned, else what linux-headers-amd64 depends on (so an
# out-of-tree module built against the installed headers loads), else the
# newest linux-image-*-amd64 apt knows, else the newest one already cached.
_th_resolve_kver() {
	local v
	if [ -n "${KAVM_TESTHOST_KVER:-}" ]; then
		echo "$KAVM_TESTHOST_KVER"
		return 0
	fi
	v=$(apt-cache depends linux-headers-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-headers-\([0-9].*-amd64\)$/\1/p' | head -n 1)
	[ -z "$v" ] && v=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9].*-amd64\)$/\1/p' | head -n 1)
	[ -z "$v" ] && v=$(apt-cache pkgnames linux-image- 2>/dev/null |
		sed -n 's/^linux-image-\([0-9.]*-[0-9]*-amd64\)$/\1/p' | sort -V | tail -n 1)
	[ -z "$v" ] && v=$(ls -d "$TH_CACHE"/linux-*-amd64 2>/dev/null |
		sed 's|.*/linux-||' | sort -V | tail -n 1)
	[ -n "$v" ] || { _th_err "cannot tell which linux-image to use (apt-get update?)"; return 1; }
	echo "$v"
}

# apt-get download PKG into the cache and extract it to DIR once.
_th_fetch_deb() {	# pkg dir
	local pkg=$1 dir=$2 deb
	[ -f "$dir/.extracted" ] && return 0
	mkdir -p "$TH_CACHE/debs" || return 1
	deb=$(ls "$TH_CACHE/debs/${pkg}_"*.deb 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$deb" ]; then
		echo "# testhost: apt-get download $pkg" >&2
		# _apt cannot write into a root-owned cache: that warning is harmless.
		(cd "$TH_CACHE/debs" && apt-get download -q "$pkg" 2>&1 |
			grep -v 'unsandboxed as root' >&2)
		deb=$(ls "$TH_CACHE/debs/${pkg}_"*.deb 2>/dev/null | sort -V | tail -n 1)
		[ -n "$deb" ] || { _th_err "apt-get download $pkg failed"; return 1; }
	fi
	rm -rf "$dir.tmp"
	dpkg-deb -x "$deb" "$dir.tmp" || { _th_err "dpkg-deb -x $deb failed"; return 1; }
	rm -rf "$dir" && mv "$dir.tmp" "$dir" && touch "$dir/.extracted"
}

# A static busybox: the installed busybox-static if that is what /bin/busybox
# is, else the package's binary extracted into the cache.
_th_busybox() {
	local b
	for b in /bin/busybox /usr/bin/busybox; do
		if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
			echo "$b"
			return 0
		fi
	done
	_th_fetch_deb busybox-static "$TH_CACHE/busybox-static" >&2 || return 1
	echo "$TH_CACHE/busybox-static/bin/busybox"
}

# testhost_init: resolve and fetch everything that can be cached; sets
# TH_KVER, TH_KTREE (extracted linux-image), TH_VMLINUZ, TH_BUSYBOX.
testhost_init() {
	local k
	[ -n "${TH_VMLINUZ:-}" ] && return 0
	for k in "$TH_QEMU" apt-get dpkg-deb cpio gzip depmod modinfo ldd timeout; do
		command -v "$k" >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin
		command -v "$k" >/dev/null 2>&1 || { _th_err "needs $k"; return 1; }
	done
	mkdir -p "$TH_CACHE" "$TH_LOGDIR" || return 1
	TH_KVER=$(_th_resolve_kver) || return 1
	TH_KTREE=$TH_CACHE/linux-$TH_KVER
	(
		flock 9
		_th_fetch_deb "linux-image-$TH_KVER" "$TH_KTREE" || exit 1
		if [ ! -f "$TH_KTREE/.depmod" ]; then
			depmod -b "$TH_KTREE" "$TH_KVER" && touch "$TH_KTREE/.depmod"
		fi
	) 9>"$TH_CACHE/.lock" || return 1
	TH_VMLINUZ=$TH_KTREE/boot/vmlinuz-$TH_KVER
	[ -f "$TH_VMLINUZ" ] || { _th_err "no $TH_VMLINUZ in linux-image-$TH_KVER"; return 1; }
	TH_BUSYBOX=$(_th_busybox) || return 1
	TH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kavm-testhost.XXXXXX") || return 1
	if [ "${KAVM_TESTHOST_KEEP:-0}" = 1 ]; then
		echo "# testhost: keeping $TH_TMP (initramfs trees and scripts)" >&2
	else
		at_exit rm -rf "$TH_TMP"
	fi
	# Run the EXIT cleanups (stop QEMU, remove TH_TMP) on interruption too.
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# testhost_vmlinux: print the path of the ELF vmlinux inside TH_VMLINUZ,
# extracted once per version (Debian ships no vmlinux outside -dbg packages).
# The bzImage's setup header locates the compressed payload: it starts
# payload_offset (0x248) bytes into the protected-mode part, which follows
# setup_sects (0x1f1) + 1 sectors; the payload is vmlinux.bin plus the
# relocations KASLR uses, so the ELF comes out whole with a harmless tail.
testhost_vmlinux() {
	local out=$TH_KTREE/vmlinux sects off len magic dec
	if [ ! -f "$out" ]; then
		sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$TH_VMLINUZ" | tr -d ' ')
		off=$(od -An -tu4 -j $((0x248)) -N4 "$TH_VMLINUZ" | tr -d ' ')
		len=$(od -An -tu4 -j $((0x24c)) -N4 "$TH_VMLINUZ" | tr -d ' ')
		[ "$sects" -eq 0 ] && sects=4
		off=$(((sects + 1) * 512 + off))
		magic=$(od -An -tx1 -j "$off" -N4 "$TH_VMLINUZ" | tr -d ' ')
		case "$magic" in
		fd377a58) dec="xz -dcq" ;;
		1f8b*) dec="gzip -dcq" ;;
		28b52ffd) dec="zstd -dcq" ;;
		*) _th_err "$TH_VMLINUZ: unknown payload compression ($magic)"; return 1 ;;
		esac
		# xz and gzip complain about the stream's end; the ELF check decides.
		tail -c +$((off + 1)) "$TH_VMLINUZ" | head -c "$len" | $dec >"$out.tmp" 2>/dev/null
		if [ "$(od -An -c -N4 "$out.tmp" | tr -d ' ')" != '177ELF' ]; then
			_th_err "$TH_VMLINUZ: the payload is not an ELF vmlinux"
			rm -f "$out.tmp"
			return 1
		fi
		mv "$out.tmp" "$out"
	fi
	echo "$out"
}

# Copy MODULES and everything they depend on from the extracted tree into the
# initramfs tree ROOT, then index them there so busybox modprobe resolves deps.
_th_stage_modules() {	# root module...
	local root=$1 m f deps
	shift
	local todo=("$@") seen=" "
	while [ ${#todo[@]} -gt 0 ]; do
		m=${todo[0]}
		todo=("${todo[@]:1}")
		[ -z "$m" ] && continue
		case "$seen" in *" $m "*) continue ;; esac
		seen="$seen$m "
		f=$(modinfo -b "$TH_KTREE" -k "$TH_KVER" -n "$m" 2>/dev/null) || {
			_th_err "module $m not in linux-image-$TH_KVER"
			return 1
		}
		case "$f" in /*) ;; *) continue ;; esac	# built in
		f=${f#"$TH_KTREE"}
		mkdir -p "$root${f%/*}" && cp "$TH_KTREE$f" "$root$f" || return 1
		IFS=, read -r -a deps <<<"$(modinfo -b "$TH_KTREE" -k "$TH_KVER" -F depends "$m")"
		todo+=("${deps[@]}")
	done
	cp "$TH_KTREE/lib/modules/$TH_KVER"/modules.{order,builtin,builtin.modinfo} \
		"$root/lib/modules/$TH_KVER/" 2>/dev/null
	depmod -b "$root" "$TH_KVER"
}

# Copy executables with their shared libraries and the dynamic loader, at the
# paths ldd reports, so they run unchanged in ROOT.
_th_stage_bins() {	# root destdir bin...
	local root=$1 dest=$2 b lib
	shift 2
	mkdir -p "$root$dest"
	for b in "$@"; do
		cp -L "$b" "$root$dest/" || return 1
		for lib in $(ldd "$b" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}
				$1 ~ /^\// {print $1}'); do
			[ -e "$root$lib" ] && continue
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib" || return 1
		done
	done
}

# Files for the initramfs: FILE or SRC:NAME into DIR.
_th_stage_files() {	# dir file...
	local dir=$1 f src name
	shift
	mkdir -p "$dir"
	for f in "$@"; do
		src=${f%%:*}
		name=$(basename "$src")
		[ "$src" != "$f" ] && name=${f#*:}
		cp -rL "$src" "$dir/$name" || { _th_err "cannot copy $src"; return 1; }
	done
}

_th_stage_busybox() {	# root
	mkdir -p "$1"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,etc}
	cp "$TH_BUSYBOX" "$1/bin/busybox" || return 1
	ln -s busybox "$1/bin/sh"
	# The kernel's built-in cpio has /dev/console too; this covers kernels without.
	[ "$(id -u)" -eq 0 ] && mknod -m 600 "$1/dev/console" c 5 1 2>/dev/null
	return 0
}

_th_cpio() {	# root out
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$2"
}

# A guest initramfs for kavm or QEMU to boot inside the host: busybox, an /init
# that prints KAVM-GUEST-UP as its first userspace line (before any fork, so it
# times the boot) and KAVM-GUEST-UPTIME=<seconds on the guest's clock>, loads
# GUEST_MODULES, runs GUEST_SCRIPT as /guest.sh, prints
# KAVM-GUEST-STATUS=<rc> and reboots (cmdline reboot=k: through the i8042).
# FILEs land in /; GUEST_MODULES (env) are copied with their dependencies.
testhost_guest_initramfs() {	# out script [file...]
	local out=$1 script=$2 root
	shift 2
	root=$(mktemp -d "$TH_TMP/guest.XXXXXX") || return 1
	_th_stage_busybox "$root" || return 1
	cp "$script" "$root/guest.sh" || return 1
	_th_stage_files "$root" "$@" || return 1
	if [ -n "${GUEST_MODULES:-}" ]; then
		# shellcheck disable=SC2086
		_th_stage_modules "$root" $GUEST_MODULES || return 1
		echo "$GUEST_MODULES" >"$root/etc/modules"
	fi
	cat >"$root/init" <<-'EOF'
		#!/bin/sh
		echo KAVM-GUEST-UP
		/bin/busybox --install -s
		mount -t proc proc /proc
		read -r up idle </proc/uptime
		echo "KAVM-GUEST-UPTIME=$up"
		mount -t sysfs sysfs /sys
		mount -t devtmpfs devtmpfs /dev 2>/dev/null
		for m in $(cat /etc/modules 2>/dev/null); do modprobe "$m"; done
		echo KAVM-GUEST-BEGIN
		sh /guest.sh
		echo "KAVM-GUEST-STATUS=$?"
		sync
		reboot -f
		echo KAVM-GUEST-REBOOT-FAILED
		poweroff -f
	EOF
	chmod 755 "$root/init"
	_th_cpio "$root" "$out"
}

# testhost_guest_facts: a guest script that reports what check_guest_boot
# (lib-inside.sh) checks: CPUs, the kernel, and the UART's interrupt count,
# which is above zero only if the console's output went through THRE
# interrupts. Append to it for more.
testhost_guest_facts() {
	cat <<-'EOF'
		echo "guest-nproc=$(nproc)"
		echo "guest-online=$(cat /sys/devices/system/cpu/online)"
		echo "guest-kernel=$(uname -r)"
		awk '/ttyS0/ { n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i;
			print "guest-serial-irqs=" n }' /proc/interrupts
	EOF
}

# The host's /init: mount, load modules, run /test/run.sh between markers,
# power off. Kernel messages are kept off the console while the script runs
# (they would split TAP lines) and shown after the status marker on failure.
_th_host_init() {	# root
	cat >"$1/init" <<-'EOF'
		#!/bin/sh
		/bin/busybox --install -s
		mount -t proc proc /proc
		mount -t sysfs sysfs /sys
		mount -t devtmpfs devtmpfs /dev
		mkdir -p /dev/pts /dev/shm
		mount -t devpts devpts /dev/pts
		mount -t tmpfs tmpfs /dev/shm
		mount -t tmpfs tmpfs /tmp
		mount -t tmpfs tmpfs /run
		mount -t bpf bpf /sys/fs/bpf 2>/dev/null
		mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
		mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
		hostname testhost
		ip link set lo up
		for m in $(cat /etc/testhost-modules); do
			modprobe "$m" || echo "KAVM-TESTHOST: modprobe $m failed"
		done
		echo 1 >/proc/sys/kernel/printk
		# A broken host should say so and stop, not linger until the
		# harness times out (Documentation/testhost.md).
		echo 1 >/proc/sys/kernel/panic_on_rcu_stall
		echo 1 >/proc/sys/kernel/softlockup_panic
		# The heartbeat, on the second UART: the harness stops a host whose
		# userspace has not run for a while.
		(while :; do echo alive; sleep 10; done) >/dev/ttyS1 2>/dev/null &
		export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
		echo "KAVM-TESTHOST-UP uptime=$(cut -d' ' -f1 /proc/uptime)s"
		echo KAVM-TESTHOST-BEGIN
		cd /test && sh /test/run.sh </dev/null 2>&1
		rc=$?
		echo "KAVM-TESTHOST-STATUS=$rc"
		if [ "$rc" -ne 0 ]; then dmesg | tail -n 60; fi
		sync
		poweroff -f
	EOF
	chmod 755 "$1/init"
}

_th_stage_qemu() {	# root
	local q f
	q=$(command -v "$TH_QEMU") || { _th_err "needs $TH_QEMU"; return 1; }
	_th_stage_bins "$1" /usr/bin "$q" || return 1
	[ "$(basename "$q")" = qemu-system-x86_64 ] ||
		mv "$1/usr/bin/$(basename "$q")" "$1/usr/bin/qemu-system-x86_64"
	mkdir -p "$1/usr/share/qemu"
	cp -rL /usr/share/seabios "$1/usr/share/" || return 1
	for f in linuxboot.bin linuxboot_dma.bin kvmvapic.bin multiboot.bin \
		multiboot_dma.bin pvh.bin; do
		[ -e "/usr/share/qemu/$f" ] && cp -L "/usr/share/qemu/$f" "$1/usr/share/qemu/"
	done
	return 0
}

# Build the host initramfs for this run (never cached: kavm changes).
_th_host_initramfs() {	# out with_qemu script file...
	local out=$1 with_qemu=$2 script=$3 root b bins=()
	shift 3
	root=$(mktemp -d "$TH_TMP/host.XXXXXX") || return 1
	_th_stage_busybox "$root" || return 1
	# shellcheck disable=SC2086
	_th_stage_modules "$root" $TH_HOST_MODULES || return 1
	echo $TH_HOST_MODULES >"$root/etc/testhost-modules"
	for b in $TH_KAVM_BINS; do
		[ -x "$TH_BUILD/$b" ] && bins+=("$TH_BUILD/$b")
	done
	if [ ${#bins[@]} -gt 0 ]; then
		_th_stage_bins "$root" /usr/local/bin "${bins[@]}" || return 1
	fi
	[ "$with_qemu" = 1 ] && { _th_stage_qemu "$root" || return 1; }
	mkdir -p "$root/guest"
	cp "$TH_VMLINUZ" "$root/guest/vmlinuz" || return 1
	_th_stage_files "$root/test" "$script:run.sh" \
		"$TH_TOP/tests/host/lib-inside.sh:lib.sh" "$@" || return 1
	_th_host_init "$root"
	_th_cpio "$root" "$out"
}

# testhost_run [--qemu] [--name NAME] SCRIPT [FILE...]: the script's output on
# stdout, its exit status as ours; 124 if the host timed out, 125 if it died
# without reporting a status, 126 if its own kernel failed (soft lockup,
# panic, BUG; stopped early) (the console tail then goes to stderr).
testhost_run() {
	local with_qemu=0 name="" script initrd log rc t0 status lockfd
	while [ $# -gt 0 ]; do
		case "$1" in
		--qemu) with_qemu=1 ;;
		--name) name=$2; shift ;;
		*) break ;;
		esac
		shift
	done
	script=$1
	shift
	[ -n "$name" ] || name=$(basename "${0%.sh}")
	testhost_init || return 125
	initrd=$TH_TMP/host-$name.cpio.gz
	t0=$SECONDS
	_th_host_initramfs "$initrd" "$with_qemu" "$script" "$@" || return 125
	echo "# testhost: linux $TH_KVER, initramfs $(($(stat -c %s "$initrd") / 1024)) KiB" \
		"built in $((SECONDS - t0))s" >&2
	log=$TH_LOGDIR/testhost-$name.console.log
	# One test host per machine, from any checkout: two nested-SVM hosts
	# under TCG starve each other into soft lockups (Documentation/testhost.md).
	exec {lockfd}>"${KAVM_TESTHOST_LOCK:-/tmp/kavm-testhost.lock}" || return 125
	flock -n "$lockfd" || {
		echo "# testhost: $name: waiting for another test host to finish" >&2
		flock "$lockfd"
	}
	t0=$SECONDS
	_th_qemu "$initrd" "$log"
	rc=$?
	exec {lockfd}>&-
	echo "# testhost: $name: QEMU exited $rc after $((SECONDS - t0))s" \
		"($(grep -a -o 'KAVM-TESTHOST-UP uptime=[0-9.]*s' "$log" | cut -d= -f2) to /init)," \
		"console in ${log#"$TH_TOP"/}" >&2
	# KAVM_TESTHOST_SHOW=1 has streamed it already.
	[ "${KAVM_TESTHOST_SHOW:-0}" = 1 ] || tr -d '\r' <"$log" |
		sed -n '/^KAVM-TESTHOST-BEGIN$/,/^KAVM-TESTHOST-STATUS=/p' |
		sed -e '1d' -e '/^KAVM-TESTHOST-STATUS=/d'
	status=$(tr -d '\r' <"$log" | sed -n 's/^KAVM-TESTHOST-STATUS=\([0-9]*\)$/\1/p' | tail -n 1)
	# No status and: the watch stopped it, or its kernel said why, or QEMU
	# ended by itself with 0, which -no-reboot does when the host resets
	# (a panic with panic=-1, or a triple fault that prints nothing).
	if [ -z "$status" ] && [ ! -s "$log.fault" ]; then
		_th_host_fault "$log" >"$log.fault" ||
			{ [ "$rc" -eq 0 ] && echo "it reset itself, saying nothing" >"$log.fault"; }
	fi
	if [ -z "$status" ] && [ -s "$log.fault" ]; then
		_th_err "$name: the test host's own kernel failed: $(cat "$log.fault")"
		tr -d '\r' <"$log" | tail -n 40 | sed 's/^/# console: /' >&2
		return 126
	fi
	if [ -z "$status" ]; then
		[ "$rc" -eq 124 ] && _th_err "$name: timed out after ${TH_TIMEOUT}s (KAVM_TESTHOST_TIMEOUT)"
		[ "$rc" -ne 124 ] && _th_err "$name: the host died without a status"
		tr -d '\r' <"$log" | tail -n 30 | sed 's/^/# console: /' >&2
		[ "$rc" -eq 124 ] && return 124
		return 125
	fi
	return "$status"
}

_th_qemu() {	# initrd log
	# shellcheck disable=SC2054 # commas belong to QEMU's option syntax
	local cmd=(timeout -k 10 "$TH_TIMEOUT" "$TH_QEMU" -accel "tcg,thread=${KAVM_TESTHOST_TCG:-multi}"
		-cpu EPYC,+svm -smp 2 -m "${KAVM_TESTHOST_MEM:-2048}" -nographic -no-reboot -net none
		-serial mon:stdio -serial "file:$2.alive"
		-kernel "$TH_VMLINUZ" -initrd "$1"
		-append "console=ttyS0 panic=-1 ${KAVM_TESTHOST_APPEND-quiet}")
	local pid rc

	[ -n "${KAVM_TESTHOST_MONITOR:-}" ] &&
		cmd+=(-monitor "unix:$KAVM_TESTHOST_MONITOR,server=on,wait=off")
	# shellcheck disable=SC2206 # split on purpose
	[ -n "${KAVM_TESTHOST_QEMU_ARGS:-}" ] && cmd+=($KAVM_TESTHOST_QEMU_ARGS)
	# In the background so that an interrupted test stops its QEMU too
	# (timeout passes the TERM on); never two test hosts from one test.
	# Empty before QEMU starts, so that the live tail below neither misses
	# the file nor replays the previous run's console.
	: >"$2" || return 125
	"${cmd[@]}" </dev/null >"$2" 2>&1 &
	pid=$!
	TH_QEMU_PID=$pid
	at_exit '[ -n "$TH_QEMU_PID" ] && kill "$TH_QEMU_PID"'
	if [ "${KAVM_TESTHOST_SHOW:-0}" = 1 ]; then
		tail -n +1 -f --pid="$pid" "$2" | sed -u -n -e 's/\r$//' \
			-e '/^KAVM-TESTHOST-BEGIN$/,/^KAVM-TESTHOST-STATUS=/{/^KAVM-TESTHOST-/!p}' &
	fi
	_th_watch "$pid" "$2"
	wait "$pid"
	rc=$?
	[ -s "$2.fault" ] && rc=126
	wait	# the live tail ends with QEMU
	# shellcheck disable=SC2034 # read by the exit trap
	TH_QEMU_PID=
	return "$rc"
}

# The test host's own kernel in trouble: the first such line of its console.
# Only the host's kernel writes "[ seconds] ..." at the start of a line; the
# tests' reports of their guests' consoles are "#"-prefixed (make demo's
# live guest console is the exception, and a guest in that state fails the
# demo anyway).
_th_host_fault() {	# log
	tr -d '\r' <"$1" | grep -a -m 1 -E \
		'^\[ *[0-9]+\.[0-9]+\] (watchdog: BUG: soft lockup|BUG: |Kernel panic|rcu: INFO: rcu_(preempt|sched) detected stalls|general protection fault|kernel BUG)'
}

# Wait for QEMU; if the host's kernel reports itself broken, give it 10 s to
# print the rest (a backtrace) and stop it: it will not recover, and a wedged
# host would otherwise hold the test until KAVM_TESTHOST_TIMEOUT. A host
# whose heartbeat (LOG.alive, every 10 s from its /init) stopped for
# TH_SILENT seconds is stopped too. The reason goes to LOG.fault.
_th_watch() {	# pid log
	local line size=0 now still=0
	rm -f "$2.fault"
	while kill -0 "$1" 2>/dev/null; do
		if line=$(_th_host_fault "$2"); then
			sleep 10
			echo "$line" >"$2.fault"
			kill "$1" 2>/dev/null
			return
		fi
		now=$(stat -c %s "$2.alive" 2>/dev/null || echo 0)
		if [ "$now" -gt 0 ] && [ "$now" = "$size" ]; then
			still=$((still + 2))
		else
			still=0
		fi
		size=$now
		if [ "$still" -ge "$TH_SILENT" ]; then
			echo "no heartbeat from the host's userspace for ${still}s" >"$2.fault"
			kill "$1" 2>/dev/null
			return
		fi
		sleep 2
	done
}

# testhost_check [--qemu] SCRIPT [FILE...]: run SCRIPT in the host and report
# each inner "ok - desc" / "not ok - desc" as a TAP line of this test, inner
# "#" lines as they are, anything else as a comment; then one more check that
# the script itself exited 0.
testhost_check() {
	local rc line
	# Not in $(...): the QEMU cleanup registered by testhost_run must reach
	# this shell's exit trap.
	testhost_init || { not_ok "- test host prepared"; return 125; }
	KAVM_TESTHOST_SHOW=0 testhost_run "$@" >"$TH_TMP/check.out"
	rc=$?
	if [ "$rc" -eq 126 ]; then
		# The emulated host's kernel broke (Documentation/testhost.md, "The
		# rig's own failures"): what it reported stays as comments, and the
		# host runs once more for the verdict.
		echo "# testhost: the test host's own kernel failed; its report follows, then a second run"
		sed 's/^/# first run: /' "$TH_TMP/check.out"
		KAVM_TESTHOST_SHOW=0 testhost_run "$@" >"$TH_TMP/check.out"
		rc=$?
	fi
	# A script that tells the rig's faults from kavm's (a fake kernel that
	# can only loop, reset) prints a line matching TH_RETRY_IF: once more.
	if [ -n "${TH_RETRY_IF:-}" ] && grep -qE "$TH_RETRY_IF" "$TH_TMP/check.out"; then
		echo "# testhost: the rig failed a guest ($(grep -m 1 -E "$TH_RETRY_IF" "$TH_TMP/check.out")); a second run"
		sed 's/^/# first run: /' "$TH_TMP/check.out"
		KAVM_TESTHOST_SHOW=0 testhost_run "$@" >"$TH_TMP/check.out"
		rc=$?
	fi
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) ok "${line#ok }" ;;
		"not ok - "*) not_ok "${line#not ok }" ;;
		"#"*) echo "$line" ;;
		*) echo "#   $line" ;;
		esac
	done <"$TH_TMP/check.out"
	check_eq "- test host script exited 0" "$rc" 0
	return "$rc"
}
