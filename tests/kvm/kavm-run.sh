#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm running fake kernels in the 64-bit boot protocol on KVM (natively or
# in the test host, tests/run.sh decides): the boot path, exit status,
# signals, the console on a terminal, and the taps of a running VM.
. "$(dirname "$0")/../lib.sh"

KAVM=${KAVM:-$BUILD/kavm}
[ -x "$KAVM" ] || { not_ok "$KAVM exists (make)"; done_testing; }
T=$(mktemp -d /tmp/kavm-run.XXXXXX)
at_exit rm -rf "$T"

. "$(dirname "$0")/../lib-kernels.sh"

mkkernels "$T"

# --- running fake kernels: the 64-bit boot path, exits and signals
run --kernel "$T/reset.bz" --cpus 2 -q
check_eq "i8042 reset: status 0" "$RC" 0
check_eq "i8042 reset: quiet" "$ERR" ""
{ printf Z; head -c 100000 /dev/urandom; } >"$T/small.initrd"
run --kernel "$T/zp.bz" --initrd "$T/small.initrd" --cmdline "console=ttyS0" -q
check_eq "the kernel finds loader id, initrd and command line in the zero page" \
	"$RC:$(od -An -tx1 "$T/out" | tr -d ' ')" "0:ff5a63"
run --kernel "$T/hi.bz" --serial stdio
check_eq "UART output reaches stdout, then reset: status 0" "$RC:$OUT" "0:hi"
check_eq "reset is reported" "$ERR" "kavm: guest reset (i8042)"
run --kernel "$T/hi.bz" --serial "file:$T/console.txt"
check_eq "--serial file: gets the output" "$RC:$(cat "$T/console.txt")" "0:hi"
check_eq "--serial file: nothing on stdout" "$OUT" ""

"$KAVM" --kernel "$T/spin.bz" --serial none >"$T/out" 2>"$T/err" </dev/null &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
check_eq "SIGTERM: status 1" "$?" 1
check_eq "SIGTERM: one line" "$(cat "$T/err")" "kavm: terminated by SIGTERM"

# --- the sandbox: each of kavm's threads under seccomp filter mode (2) while
# the guest runs, none with --seccomp off (/proc/PID/task/*/status; KVM's own
# workers that newer kernels put in the process, kvm-nx-lpage-recovery, are
# not kavm's)
seccomp_modes() {	# args...: NAME:MODE of kavm's threads while it spins
	"$KAVM" --kernel "$T/spin.bz" --cpus 2 --serial none "$@" >"$T/out" 2>"$T/err" </dev/null &
	local pid=$! i
	for i in $(seq 50); do
		[ "$(ls /proc/$pid/task 2>/dev/null | wc -l)" -ge 3 ] && break
		sleep 0.1
	done
	sleep 0.5
	for i in /proc/$pid/task/*; do
		case "$(cat "$i/comm")" in kavm*) ;; *) continue ;; esac
		echo "$(cat "$i/comm"):$(awk '/^Seccomp:/ { print $2 }' "$i/status")"
	done | LC_ALL=C sort | tr '\n' ' '
	kill -TERM $pid
	wait $pid
}
check_eq "seccomp: the I/O thread and both vCPUs are filtered" "$(seccomp_modes)" \
	"kavm-vcpu0:2 kavm-vcpu1:2 kavm:2 "
check_eq "seccomp: still stops cleanly on SIGTERM" "$(cat "$T/err")" "kavm: terminated by SIGTERM"
check_eq "--seccomp off: no thread is filtered" "$(seccomp_modes --seccomp off)" \
	"kavm-vcpu0:0 kavm-vcpu1:0 kavm:0 "

# --- on a terminal (script(1) gives kavm a pty): raw mode, Ctrl-a x, restored
if command -v script >/dev/null 2>&1; then
	out=$( (sleep 1; printf '\001x') | timeout 20 script -qec \
		"stty -g; $KAVM --kernel $T/spin.bz; echo rc=\$?; stty -g" /dev/null | tr -d '\r')
	check_match "Ctrl-a x stops kavm with one line" "$out" \
		'kavm: stopped from the console \(Ctrl-a x\)'
	check_match "Ctrl-a x: status 1" "$out" '^rc=1$'
	before=$(printf '%s\n' "$out" | sed -n 1p)
	after=$(printf '%s\n' "$out" | tail -n 1)
	check_eq "the terminal's settings are restored" "$after" "$before"
else
	echo "# SKIP terminal checks: needs script(1)"
fi

# --- NICs: a tap kavm creates lives as long as kavm; one it is given stays
if [ "$(id -u)" -eq 0 ] && [ -e /dev/net/tun ]; then
	netns_new NS
	ip netns exec "$NS" "$KAVM" --kernel "$T/spin.bz" --serial none \
		--netdev tap,id=n0,ifname=kt0 --device virtio-net-pci,netdev=n0 \
		--netdev tap,id=n1,ifname=kt1 --device virtio-net-pci,netdev=n1 \
		>"$T/out" 2>"$T/err" </dev/null &
	pid=$!
	for _ in $(seq 50); do
		ip -n "$NS" link show kt1 >/dev/null 2>&1 && break
		sleep 0.1
	done
	check "two NICs: kavm created tap kt0" ip -n "$NS" link show kt0
	check "two NICs: kavm created tap kt1" ip -n "$NS" link show kt1
	kill -TERM $pid
	wait $pid
	check_eq "two NICs: SIGTERM, one line" "$?:$(cat "$T/err")" "1:kavm: terminated by SIGTERM"
	check_no_link "the taps kavm created are gone after exit" "$NS" kt0
	ip -n "$NS" tuntap add kt2 mode tap vnet_hdr
	ip netns exec "$NS" "$KAVM" --kernel "$T/reset.bz" -q \
		--netdev tap,id=n0,ifname=kt2 --device virtio-net-pci,netdev=n0 \
		>"$T/out" 2>"$T/err" </dev/null
	check_eq "given tap: reset, status 0" "$?:$(cat "$T/err")" "0:"
	check "a tap kavm was given is left in place" ip -n "$NS" link show kt2
	if [ -e /dev/vhost-net ]; then
		ip netns exec "$NS" "$KAVM" --kernel "$T/spin.bz" --serial none \
			--netdev tap,id=n0,ifname=kt3,vhost=on \
			--device virtio-net-pci,netdev=n0 >"$T/out" 2>"$T/err" </dev/null &
		pid=$!
		sleep 1
		kill -TERM $pid
		wait $pid
		check_eq "vhost=on with /dev/vhost-net: runs until SIGTERM" "$?:$(cat "$T/err")" \
			"1:kavm: terminated by SIGTERM"
	else
		ip netns exec "$NS" "$KAVM" --kernel "$T/reset.bz" --serial none \
			--netdev tap,id=n0,ifname=kt3,vhost=on \
			--device virtio-net-pci,netdev=n0 >"$T/out" 2>"$T/err" </dev/null
		check_eq "vhost=on without /dev/vhost-net: status 1, one line" \
			"$?:$(cat "$T/err")" \
			"1:kavm: netdev n0: vhost-net: /dev/vhost-net: No such file or directory"
	fi
else
	echo "# SKIP NIC checks: needs root and /dev/net/tun"
fi

done_testing

