# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh disable=SC2034 # VM_* are read by the scripts sourcing this
# Helpers for scripts that run inside the test host (busybox sh, not bash).
# The harness installs this file as /test/lib.sh:  . /test/lib.sh
#
#   ok DESC / not_ok DESC        one result line ("ok - DESC"), turned into
#                                TAP by testhost_check on the build host
#   check DESC CMD...            CMD must succeed
#   check_fail DESC STATUS ERE CMD...  CMD must exit with STATUS, its
#                                output matching ERE
#   check_eq DESC GOT WANT
#   check_match DESC TEXT ERE
#   vm_run LOG SECS CMD...       run a VMM with its console in LOG; sets VM_RC,
#                                VM_MS (wall ms to exit), VM_UP_MS (ms from
#                                start to the guest's KAVM-GUEST-UP line, "" if
#                                never), VM_MARK_MS (the same for the first
#                                KAVM-GUEST-MARK line: a guest's "now I ask
#                                for a power-off"), VM_DOWN_MS (the same for
#                                the guest kernel's last words, "reboot: Power
#                                down" or "reboot: Restarting system"),
#                                VM_STOP_MS (the same for kavm's own last
#                                line, "kavm: ...") and, VM_SAMPLE_DELAY s after that line,
#                                copies /proc/PID/status to LOG.mem and
#                                /proc/PID/smaps to LOG.smaps
#                                (VM_SHOW=1: also echo the console as it comes).
#                                A VMM still running 5 s before SECS gets its
#                                threads' state, wait channel and kernel stack
#                                written to LOG.hang (vm_threads) before the
#                                timeout kills it
#   vm_threads PID               that dump, for any process
#   vm_rig_fault LOG             why a boot failed the rig's way (or fail)
#   retry_rig_fault FUNC LOG ARG...  FUNC ARG... again if so, once
#   wait_log LOG TEXT [SECS]     wait for TEXT in LOG (default 300 s)
#   vmm_pid                      the running kavm's (or QEMU's) pid
#   vmm_counters PID             its read/write calls, CPU and vhost CPU so far
#   boot_kavm LOG SECS INITRD [ARG...]   vm_run kavm on GUEST_KERNEL
#   boot_qemu LOG SECS INITRD [ARG...]   (/guest/vmlinuz) with GUEST_CPUS,
#                                GUEST_MEM (MiB) and GUEST_CMDLINE; QEMU as the
#                                reference VMM
#                                (-accel kvm, guest RAM in a memfd like kavm's)
#   check_guest_boot WHO LOG     the checks every boot of a testhost_guest_facts
#                                guest gets, after boot_kavm/boot_qemu
#   guest_output LOG             what the guest script printed
#   guest_status LOG             its exit status, "" if it never finished
#   first_run_arm                before a boot: trace the first KVM_RUN
#   first_run_ms                 after it: ms from first_run_arm to the guest's
#                                first entry (the kvm:kvm_entry tracepoint), ""
#                                if it never ran
#   finish                       exit 1 if anything failed

_in_fail=0
CR=$(printf '\r')
GUEST_CPUS=${GUEST_CPUS:-2}
GUEST_MEM=${GUEST_MEM:-256}
GUEST_CMDLINE=${GUEST_CMDLINE:-console=ttyS0 reboot=k panic=-1 quiet}
GUEST_KERNEL=${GUEST_KERNEL:-/guest/vmlinuz}

ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	_in_fail=$((_in_fail + 1))
}

check() {
	_d=$1
	shift
	if _o=$("$@" 2>&1); then
		ok "$_d"
	else
		not_ok "$_d"
		printf '%s\n' "$_o" | tail -n 20 | sed 's/^/# /'
	fi
}

check_fail() {
	_d=$1
	_w=$2
	_e=$3
	shift 3
	_o=$("$@" 2>&1)
	_r=$?
	if [ "$_r" = "$_w" ] && printf '%s' "$_o" | grep -qE -- "$_e"; then
		ok "$_d"
	else
		not_ok "$_d"
		echo "# wanted status $_w and /$_e/, got status $_r:"
		printf '%s\n' "$_o" | tail -n 20 | sed 's/^/# /'
	fi
}

check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "# got:  $2"
		echo "# want: $3"
	fi
}

check_match() {
	if printf '%s\n' "$2" | grep -qE -- "$3"; then
		ok "$1"
	else
		not_ok "$1"
		echo "# no match for /$3/ in:"
		printf '%s\n' "$2" | tail -n 20 | sed 's/^/#   /'
	fi
}

# Milliseconds in a /proc/uptime figure ("12.34").
ms_of() {
	_s=${1%.*}
	_c=${1#*.}
	echo $((_s * 1000 + ${_c#0} * 10))
}

# Milliseconds of uptime (10 ms resolution; busybox date has no %N).
uptime_ms() {
	read -r _up _idle </proc/uptime
	ms_of "$_up"
}

# The console reader of vm_run: awk, not a shell "read" loop, because busybox
# ash restarts an interrupted read and drops the part of the line it had
# (any child exiting meanwhile, say a test's background fetcher, cost a line).
# Writes LOG, LOG.up (uptime at the first KAVM-GUEST-UP) and starts the
# /proc sampler.
_vm_console() {	# log pid
	awk -v out="$1" -v pid="$2" -v show="${VM_SHOW:-0}" -v delay="${VM_SAMPLE_DELAY:-1}" '
		{
			sub(/\r$/, "")
			print >>out
			fflush(out)
			if (show == 1) {
				print
				fflush()
			}
		}
		/KAVM-GUEST-UP/ && !up {
			up = 1
			getline u <"/proc/uptime"
			close("/proc/uptime")
			split(u, f, " ")
			print f[1] >(out ".up")
			close(out ".up")
			system("(sleep " delay "; cat /proc/" pid "/status >" out ".mem;" \
				" cat /proc/" pid "/smaps >" out ".smaps) 2>/dev/null &")
		}
		/KAVM-GUEST-MARK/ && !mark {
			mark = 1
			getline u <"/proc/uptime"
			close("/proc/uptime")
			split(u, f, " ")
			print f[1] >(out ".mark")
			close(out ".mark")
		}
		/^kavm: / {
			getline u <"/proc/uptime"
			close("/proc/uptime")
			split(u, f, " ")
			print f[1] >(out ".stop")
			close(out ".stop")
		}
		/reboot: (Power down|Restarting system)/ && !down {
			down = 1
			getline u <"/proc/uptime"
			close("/proc/uptime")
			split(u, f, " ")
			print f[1] >(out ".down")
			close(out ".down")
		}'
}

vm_threads() {	# pid
	for _t in /proc/"$1"/task/*; do
		echo "thread ${_t##*/} $(cat "$_t/comm") state $(cut -d' ' -f3 "$_t/stat")" \
			"wchan $(cat "$_t/wchan")"
		sed 's/^/    /' "$_t/stack" 2>/dev/null
	done
}

# Running, not a zombie waiting for vm_run to reap it.
_vm_alive() {	# pid
	[ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat")" != Z ]
}

vm_run() {
	_log=$1
	_tmo=$2
	shift 2
	rm -f "$_log" "$_log.mem" "$_log.smaps" "$_log.fifo" "$_log.hang" "$_log.up" "$_log.mark" \
		"$_log.down" "$_log.stop"
	mkfifo "$_log.fifo" || return 1
	VM_UP_MS=
	VM_MARK_MS=
	VM_DOWN_MS=
	VM_STOP_MS=
	_t0=$(uptime_ms)
	# busybox timeout execs CMD in this pid (a grandchild watches), so $! is
	# the VMM itself. -k: a VMM wedged past SIGTERM is killed, so a hang fails
	# this boot instead of silencing the whole test host until its timeout;
	# later than kavm's 10 s for the power button, so that its report of a
	# guest that stopped answering comes out first.
	timeout -k 20 "$_tmo" "$@" >"$_log.fifo" 2>&1 </dev/null &
	_pid=$!
	# Where a hung VMM's threads wait, taken before the timeout kills it.
	# It ends by itself within a second of the VMM (no kill, no job notice).
	# By the clock, not by counting sleeps: in this emulated host a loop
	# turn takes well over its second.
	(
		_end=$((_t0 + (_tmo > 10 ? _tmo - 5 : _tmo) * 1000))
		while [ "$(uptime_ms)" -lt "$_end" ] && _vm_alive "$_pid"; do
			sleep 1
		done
		_vm_alive "$_pid" && vm_threads "$_pid" >"$_log.hang"
	) >/dev/null 2>&1 &
	_wd=$!
	_vm_console "$_log" "$_pid" <"$_log.fifo"
	wait "$_pid"
	VM_RC=$?
	VM_MS=$(($(uptime_ms) - _t0))
	[ -s "$_log.up" ] && VM_UP_MS=$(($(ms_of "$(cat "$_log.up")") - _t0))
	[ -s "$_log.mark" ] && VM_MARK_MS=$(($(ms_of "$(cat "$_log.mark")") - _t0))
	[ -s "$_log.down" ] && VM_DOWN_MS=$(($(ms_of "$(cat "$_log.down")") - _t0))
	[ -s "$_log.stop" ] && VM_STOP_MS=$(($(ms_of "$(cat "$_log.stop")") - _t0))
	# Only our own jobs: the caller may have others running (a fetcher
	# stuck on a dead guest must not hold this boot's results back).
	wait "$_wd"
	rm -f "$_log.fifo"
	return 0
}

boot_kavm() {
	_bl=$1
	_bs=$2
	_bi=$3
	shift 3
	vm_run "$_bl" "$_bs" kavm --cpus "$GUEST_CPUS" --memory "${GUEST_MEM}M" \
		--kernel "$GUEST_KERNEL" --initrd "$_bi" --cmdline "$GUEST_CMDLINE" "$@"
}

boot_qemu() {
	_bl=$1
	_bs=$2
	_bi=$3
	shift 3
	vm_run "$_bl" "$_bs" qemu-system-x86_64 -accel kvm -cpu host \
		-smp "$GUEST_CPUS" -m "${GUEST_MEM}M" \
		-object "memory-backend-memfd,id=ram,size=${GUEST_MEM}M" \
		-machine pc,memory-backend=ram -L /usr/share/seabios -L /usr/share/qemu \
		-nographic -no-reboot -net none -vga none \
		-kernel "$GUEST_KERNEL" -initrd "$_bi" -append "$GUEST_CMDLINE" "$@"
}

guest_output() {
	sed -n '/KAVM-GUEST-BEGIN/,/KAVM-GUEST-STATUS=/p' "$1" |
		sed -e '1d' -e '/KAVM-GUEST-STATUS=/d'
}

guest_status() {
	sed -n 's/.*KAVM-GUEST-STATUS=\([0-9]*\).*/\1/p' "$1" | tail -n 1
}

# After boot_kavm/boot_qemu of a testhost_guest_facts guest: the VMM ended
# with status 0 on the guest's reboot -f, the first userspace line came
# through the serial console, the guest saw GUEST_CPUS CPUs online, ran the
# host's kernel, took UART interrupts and finished its script.
check_guest_boot() {	# who log
	echo "# $1: first userspace line after ${VM_UP_MS:-never} ms, exit after $VM_MS ms"
	check_eq "$1: exits 0 after the guest's reboot -f" "$VM_RC" 0
	check "$1: guest's first userspace line arrived on the serial console" \
		grep -q KAVM-GUEST-UP "$2"
	_out=$(guest_output "$2")
	check_match "$1: guest nproc shows $GUEST_CPUS CPUs" "$_out" "^guest-nproc=$GUEST_CPUS\$"
	_online=0
	[ "$GUEST_CPUS" -gt 1 ] && _online=0-$((GUEST_CPUS - 1))
	check_match "$1: guest brought CPUs $_online online" "$_out" "^guest-online=$_online\$"
	check_match "$1: guest runs the host's kernel" "$_out" "^guest-kernel=$(uname -r)\$"
	check_match "$1: guest's UART took interrupts" "$_out" '^guest-serial-irqs=[1-9][0-9]*$'
	check_eq "$1: guest script ran to the end" "$(guest_status "$2")" 0
}

# A field of /proc/PID/status as saved by vm_run, in KiB.
mem_kib() {	# file field
	sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB$/\1/p" "$1" | head -n 1
}

# Resident KiB in memfd mappings (guest RAM) and in everything else (the
# VMM's own heap, stacks, binary and libraries), from vm_run's LOG.smaps. Not
# RssShmem/RssFile: the initramfs is a tmpfs, so the binaries count as shmem.
# Prints "GUEST OWN".
vmm_rss_split() {	# log
	awk '/^[0-9a-f]+-[0-9a-f]+ / { memfd = ($6 ~ /^\/memfd:/) }
		/^Rss:/ { if (memfd) g += $2; else o += $2 }
		END { printf "%d %d\n", g, o }' "$1.smaps"
}

# Why the boot logged in LOG failed the way nested guests fail in this rig
# with any VMM (Documentation/testhost.md, "The rig's own failures"), or
# nothing: the guest reset itself before its script ended (a triple fault:
# the VMM exits 0 as QEMU's -no-reboot does), or a guest CPU stalled.
# A guest that stopped answering: the boot's timeout ran out with the VMM
# still there (vm_run took its threads, LOG.hang). The rig's nested guests
# do this under QEMU as well as kavm (Documentation/testhost.md); kavm,
# told by that timeout's SIGTERM, reports what its vCPUs and UART did
# (kvm/vcpu-stats.c), which stays in the log. Prints why on one line.
vm_hung() {	# log
	[ -s "$1.hang" ] || return 1
	_vh=$(grep -E '^kavm: (vCPU|COM1)' "$1" | tr '\n' ' ')
	echo "the guest stopped answering until the boot's timeout: ${_vh:-$(tail -n 1 "$1" | tr -cd '[:print:]')}"
}

# A guest CPU stall, or a vCPU that kavm saw stuck in guest mode (its
# report when a guest ignores the power button; kvm/vcpu-stats.c).
RIG_STALL_RE='detected stalls on CPUs|soft lockup - CPU|never left guest mode since'
vm_rig_fault() {	# log
	if grep -q -E "$RIG_STALL_RE" "$1"; then
		grep -m 1 -E "$RIG_STALL_RE" "$1"
	elif vm_hung "$1"; then
		:
	elif [ "$VM_RC" = 0 ] && [ -z "$(guest_status "$1")" ]; then
		echo "the guest reset itself before its script ended: $(tail -n 1 "$1")"
	else
		return 1
	fi
}

# Run a boot and its checks, "FUNC LOG ARG...", once more when a check
# failed and vm_rig_fault LOG says why; the first attempt's report is kept
# as comments. A failure without such a cause stands, and RIG_RETRY=0 turns
# the second boot off.
retry_rig_fault() {	# func log arg...
	_rf=$1
	_rl=$2
	shift 2
	_rf0=$_in_fail
	"$_rf" "$@" >/tmp/attempt.out
	if [ "${RIG_RETRY:-1}" = 1 ] && [ "$_in_fail" -ne "$_rf0" ] &&
		_why=$(vm_rig_fault "$_rl"); then
		echo "# $1: the guest failed as nested guests do here ($_why); booting it again, once"
		sed 's/^/# first boot: /' /tmp/attempt.out
		_in_fail=$_rf0
		"$_rf" "$@" >/tmp/attempt.out
	fi
	cat /tmp/attempt.out
}

# Wait up to SECS (default 300) for TEXT to appear in LOG; fails if it does not.
wait_log() {	# log text [secs]
	_wn=0
	until grep -q "$2" "$1" 2>/dev/null; do
		_wn=$((_wn + 1))
		[ $_wn -gt "${3:-300}" ] && return 1
		sleep 1
	done
}

# The pid of the one running VMM, kavm or QEMU (found by its name), or nothing.
vmm_pid() {
	for _c in /proc/[0-9]*/comm; do
		case "$(cat "$_c" 2>/dev/null)" in
		kavm | qemu-system-x86) ;;
		*) continue ;;
		esac
		_c=${_c%/comm}
		echo "${_c#/proc/}"
		return
	done
}

# What the kernel counted for the VMM PID so far: its read and write system
# calls (every frame kavm moves costs one or more), its CPU time (guest time
# in KVM_RUN included), that of its main thread (kavm's I/O thread: the event
# loop that moves frames without vhost) and that of its vhost-net workers
# ("vhost-PID", one per NIC), in clock ticks:
# "syscalls=N cpu=T io=T vhost_ticks=T" (vhost_ticks=none without workers).
vmm_counters() {	# pid
	[ -n "$1" ] && [ -r "/proc/$1/io" ] || return 1
	_sys=$(awk '/^sysc[rw]:/ { n += $2 } END { print n }' "/proc/$1/io")
	_cpu=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
	_io=$(awk '{ print $14 + $15 }' "/proc/$1/task/$1/stat")
	_vt=none
	for _c in /proc/[0-9]*/comm; do
		[ "$(cat "$_c" 2>/dev/null)" = "vhost-$1" ] || continue
		_vt=$((${_vt#none} + $(awk '{ print $14 + $15 }' "${_c%/comm}/stat")))
	done
	echo "syscalls=$_sys cpu=$_cpu io=$_io vhost_ticks=$_vt"
}

# What a VMM costs before its guest runs, the same way for any VMM: a mark in
# the trace buffer just before the boot, then the first kvm:kvm_entry (KVM
# entering a vCPU: the first KVM_RUN that runs the guest) after it, both on
# the trace clock "mono". The entry's filtered trigger (evaluated after the
# event is recorded) switches the buffer off at once, so the rest of the boot
# is not traced and the first entry is the one kept.
_TR=/sys/kernel/tracing
first_run_arm() {
	[ -w $_TR/trace_marker ] || return 1
	echo 0 >$_TR/tracing_on
	echo mono >$_TR/trace_clock
	echo >$_TR/trace
	echo 'traceoff if vcpu_id < 4096' >$_TR/events/kvm/kvm_entry/trigger || return 1
	echo 1 >$_TR/events/kvm/kvm_entry/enable
	echo 1 >$_TR/tracing_on
	echo KAVM-FIRST-RUN-MARK >$_TR/trace_marker
}

first_run_ms() {
	echo 0 >$_TR/tracing_on
	echo 0 >$_TR/events/kvm/kvm_entry/enable
	echo '!traceoff if vcpu_id < 4096' >$_TR/events/kvm/kvm_entry/trigger
	awk '/KAVM-FIRST-RUN-MARK/ && !m { m = $0; sub(/:.*/, "", m); sub(/.* /, "", m) }
		/kvm_entry:/ && m != "" { e = $0; sub(/: kvm_entry:.*/, "", e); sub(/.* /, "", e)
			printf "%d\n", (e - m) * 1000 + 0.5; exit }' $_TR/trace
}

finish() {
	[ "$_in_fail" -eq 0 ]
	exit $?
}
