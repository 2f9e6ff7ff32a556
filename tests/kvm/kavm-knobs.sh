#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The deployment knobs on a running kavm (fake kernels on KVM, natively or in
# the test host): vCPU and I/O thread affinity as the kernel reports it
# (/proc/PID/task/TID/status), guest RAM locked (VmLck) and from the huge
# page pool (HugePages_Free/Rsvd, a memfd on hugetlbfs, 2 MiB mappings), and
# the one line for a pool too small or a memlock limit too low. As root: it
# resizes the huge page pool and puts it back as it was.
. "$(dirname "$0")/../lib.sh"

KAVM=${KAVM:-$BUILD/kavm}
[ -x "$KAVM" ] || { not_ok "$KAVM exists (make)"; done_testing; }
[ "$(id -u)" -eq 0 ] || { not_ok "runs as root (it sizes the huge page pool)"; done_testing; }
T=$(mktemp -d /tmp/kavm-knobs.XXXXXX)
at_exit rm -rf "$T"

. "$(dirname "$0")/../lib-kernels.sh"

mkkernels "$T"

PID=
at_exit '[ -n "$PID" ] && kill -KILL $PID'

# spin ARGS...: kavm running the spinning kernel with ARGS, in the background
# ($PID), until each of its vCPU threads (--cpus, default 1) exists.
spin() {
	local n=1 a i prev=
	for a in "$@"; do
		case "$a" in [0-9]*) [ "$prev" = --cpus ] && n=${a%%,*} ;; esac
		prev=$a
	done
	"$KAVM" --kernel "$T/spin.bz" --serial none "$@" >"$T/out" 2>"$T/err" </dev/null &
	PID=$!
	for i in $(seq 100); do
		[ "$(cat /proc/$PID/task/*/comm 2>/dev/null | grep -c '^kavm-vcpu')" -ge "$n" ] && break
		sleep 0.05
	done
}

# unspin: SIGTERM; RC and ERR as the run left them.
unspin() {
	kill -TERM $PID
	wait $PID
	RC=$?
	ERR=$(cat "$T/err")
	PID=
}

# thread_cpus: "NAME:CPUS " for each of kavm's own threads (not KVM's workers).
thread_cpus() {
	local t
	for t in /proc/$PID/task/*; do
		case "$(cat "$t/comm")" in kavm*) ;; *) continue ;; esac
		echo "$(cat "$t/comm"):$(awk '/^Cpus_allowed_list:/ { print $2 }' "$t/status")"
	done | LC_ALL=C sort | tr '\n' ' '
}

# wait_cpus WANT: thread_cpus once it is WANT (the I/O thread pins itself
# after its vCPUs start), or as it is after 5 s.
wait_cpus() {
	local i got
	for i in $(seq 100); do
		got=$(thread_cpus)
		[ "$got" = "$1" ] && break
		sleep 0.05
	done
	echo "$got"
}

status_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
meminfo() { awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo; }

# --- affinity: the CPUs kavm may use now, its first and its last
allowed=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)
first=$(echo "$allowed" | sed 's/[-,].*//')
last=$(echo "$allowed" | sed 's/.*[-,]//')
both=$first,$last
[ $((first + 1)) -eq "$last" ] && both=$first-$last
[ "$first" -eq "$last" ] && both=$first

spin --cpus 2
check_eq "no affinity: every thread may run on kavm's CPUs ($allowed)" \
	"$(wait_cpus "kavm-vcpu0:$allowed kavm-vcpu1:$allowed kavm:$allowed ")" \
	"kavm-vcpu0:$allowed kavm-vcpu1:$allowed kavm:$allowed "
unspin

spin --cpus 2,affinity="$last" --io-affinity "$first"
check_eq "affinity=$last --io-affinity $first: the vCPUs on $last, the I/O thread on $first" \
	"$(wait_cpus "kavm-vcpu0:$last kavm-vcpu1:$last kavm:$first ")" \
	"kavm-vcpu0:$last kavm-vcpu1:$last kavm:$first "
check_eq "affinity: every thread still sandboxed (Seccomp 2)" \
	"$(for t in /proc/$PID/task/*; do
		case "$(cat "$t/comm")" in kavm*) status_field "$PID/task/${t##*/}" Seccomp ;; esac
	done | sort -u)" 2
unspin
check_eq "affinity: the guest ran until SIGTERM" "$RC:$ERR" "1:kavm: terminated by SIGTERM"

spin --cpus 2,affinity="$first,$last"
check_eq "affinity=$first,$last (a taskset list with a comma): both vCPUs on $both" \
	"$(wait_cpus "kavm-vcpu0:$both kavm-vcpu1:$both kavm:$allowed ")" \
	"kavm-vcpu0:$both kavm-vcpu1:$both kavm:$allowed "
unspin

spin --io-affinity "$last"
check_eq "--io-affinity alone: the vCPU keeps kavm's CPUs, the I/O thread is on $last" \
	"$(wait_cpus "kavm-vcpu0:$allowed kavm:$last ")" "kavm-vcpu0:$allowed kavm:$last "
unspin

# --- mlock=on: all of guest RAM locked (and so resident) while the guest runs
spin --memory 64M
check_eq "without mlock=on nothing is locked" "$(status_field $PID VmLck)" 0
unspin
spin --memory 64M,mlock=on
check_eq "mlock=on: VmLck is the guest's 64 MiB" "$(status_field $PID VmLck)" 65536
# At least: Linux 6.1 counts kavm's other shared pages there too (68196 kB seen).
shmem=$(status_field $PID RssShmem)
check "mlock=on: the 64 MiB are resident (RssShmem $shmem kB)" test "$shmem" -ge 65536
unspin
check_eq "mlock=on: runs until SIGTERM" "$RC:$ERR" "1:kavm: terminated by SIGTERM"

# Without CAP_IPC_LOCK (root's way around the limit), a 1 MiB RLIMIT_MEMLOCK.
prlimit --memlock=1048576:1048576 setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock \
	"$KAVM" --kernel "$T/reset.bz" --memory 64M,mlock=on >"$T/out" 2>"$T/err" </dev/null
check_eq "mlock=on over RLIMIT_MEMLOCK: status 1, one line naming the limit" \
	"$?:$(cat "$T/err")" \
	"1:kavm: --memory mlock=on: locking 64 MiB of guest RAM: Cannot allocate memory \
(RLIMIT_MEMLOCK is 1024 KiB: raise it with ulimit -l or systemd's LimitMEMLOCK=, or give kavm \
CAP_IPC_LOCK)"

# --- hugepages=on: the pool as it was is put back at exit
hp_kb=$(meminfo Hugepagesize)
orig_nr=$(cat /proc/sys/vm/nr_hugepages)
orig_over=$(cat /proc/sys/vm/nr_overcommit_hugepages)
at_exit "echo $orig_nr >/proc/sys/vm/nr_hugepages; echo $orig_over >/proc/sys/vm/nr_overcommit_hugepages"
need=$((64 * 1024 / hp_kb))
avail() { echo $(($(meminfo HugePages_Free) - $(meminfo HugePages_Rsvd))); }

echo 0 >/proc/sys/vm/nr_overcommit_hugepages
echo 0 >/proc/sys/vm/nr_hugepages
total=$(meminfo HugePages_Total)
free=$(avail)
"$KAVM" --kernel "$T/reset.bz" --memory 64M,hugepages=on >"$T/out" 2>"$T/err" </dev/null
check_eq "hugepages=on, no pages reserved: status 1, one line saying what to reserve" \
	"$?:$(cat "$T/err")" \
	"1:kavm: --memory hugepages=on: 64 MiB of guest RAM needs $need huge pages of $hp_kb kB, \
$free are free (reserve them as root: echo $((total + need - free)) > /proc/sys/vm/nr_hugepages)"
"$KAVM" --kernel "$T/reset.bz" --memory 65M,hugepages=on >"$T/out" 2>"$T/err" </dev/null
check_eq "hugepages=on, 65M: not a whole number of huge pages" "$?:$(cat "$T/err")" \
	"1:kavm: --memory hugepages=on: 65 MiB is not a multiple of the huge page size ($hp_kb kB)"

echo $((total + need + 8)) >/proc/sys/vm/nr_hugepages
check_eq "the pool took $((need + 8)) more pages" "$(avail)" $((free + need + 8))
before=$(avail)
free_before=$(meminfo HugePages_Free)
spin --memory 64M,hugepages=on
check_eq "hugepages=on: the guest's $need pages are taken from the pool (Free - Rsvd)" \
	"$(avail)" $((before - need))
fd=$(ls -l /proc/$PID/fd | awk '/memfd:kavm-ram-0/ { print $9 }')
check_eq "hugepages=on: guest RAM is a memfd on hugetlbfs" \
	"$(stat -L -f -c %T /proc/$PID/fd/$fd 2>&1)" hugetlbfs
check_eq "hugepages=on: mapped in $hp_kb kB pages" \
	"$(awk '/memfd:kavm-ram-0/ { m = 1; next } m && /^KernelPageSize:/ { print $2; exit }' \
		/proc/$PID/smaps)" "$hp_kb"
unspin
check_eq "hugepages=on: runs until SIGTERM" "$RC:$ERR" "1:kavm: terminated by SIGTERM"
check_eq "hugepages=on: the pages go back to the pool at exit" "$(avail)" "$before"

spin --memory 64M,hugepages=on,mlock=on
check_eq "hugepages=on,mlock=on: all $need pages faulted in at start (HugePages_Free)" \
	"$(meminfo HugePages_Free)" $((free_before - need))
unspin
check_eq "hugepages=on,mlock=on: runs until SIGTERM" "$RC:$ERR" "1:kavm: terminated by SIGTERM"

done_testing
