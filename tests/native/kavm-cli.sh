#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm's command line against build/kavm: each bad input gives exactly one
# line naming the cause, status 1 and nothing left behind; fake kernels in
# the 64-bit boot protocol check the boot path, exit status and signals on
# this machine's /dev/kvm.
. "$(dirname "$0")/../lib.sh"

KAVM=${KAVM:-$BUILD/kavm}
[ -x "$KAVM" ] || skip_all "needs $KAVM (make)"
T=$(mktemp -d /tmp/kavm-cli.XXXXXX)
at_exit rm -rf "$T"

run() {	# args...: sets OUT (stdout), ERR (stderr), RC
	"$KAVM" "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

expect_error() {	# desc "message" args...
	local desc=$1 msg=$2
	shift 2
	run "$@"
	check_eq "$desc: status 1" "$RC" 1
	check_eq "$desc: one line" "$ERR" "kavm: $msg"
}

. "$(dirname "$0")/_kernels.sh"

RESET=b0fee664f4		# mov $0xfe,%al; out %al,$0x64 (i8042 reset); hlt
HI=66baf803b068eeb069eeb00aee	# mov $0x3f8,%dx; "hi\n" out of the UART
SPIN=ebfe			# jmp .
# Print the zero page's type_of_loader, the initrd's first byte and the
# command line's first byte through the UART (RSI = zero page):
#   mov $0x3f8,%dx; mov 0x210(%rsi),%al; out; mov 0x218(%rsi),%ebx;
#   mov (%rbx),%al; out; mov 0x228(%rsi),%ebx; mov (%rbx),%al; out
ZP=66baf8038a8610020000ee8b9e180200008a03ee8b9e280200008a03ee

mkbz "$T/reset.bz" 01 "$RESET"
mkbz "$T/hi.bz" 01 "$HI$RESET"
mkbz "$T/spin.bz" 01 "$SPIN"
mkbz "$T/zp.bz" 01 "$ZP$RESET"
mkbz "$T/32bit.bz" 00 "$RESET"
mkbz "$T/old.bz" 01 "$RESET"
poke "$T/old.bz" 0x206 0402
mkbz "$T/trunc.bz" 01 "$RESET" 65536
truncate -s 20000 "$T/trunc.bz"
echo "not a kernel" >"$T/text"
: >"$T/empty"
head -c $((40 << 20)) /dev/zero >"$T/big.initrd"
host_mib=$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)

# --- the command line itself
run --help
check_eq "--help: status 0" "$RC" 0
check_match "--help: usage" "$OUT" "^usage: kavm --kernel PATH"
expect_error "no kernel" "no kernel: --kernel PATH is required (try --help)"
expect_error "unknown option" "--bogus: unknown option (try --help)" --kernel "$T/reset.bz" --bogus
expect_error "missing argument" "--memory: missing argument (try --help)" --kernel "$T/reset.bz" --memory
expect_error "stray argument" "stray: unexpected argument (try --help)" --kernel "$T/reset.bz" stray
expect_error "zero memory" "--memory 0: must be a multiple of 4K from 16M to 1024G" \
	--kernel "$T/reset.bz" --memory 0
expect_error "absurd memory" "--memory 100T: must be a multiple of 4K from 16M to 1024G" \
	--kernel "$T/reset.bz" --memory 100T
expect_error "memory not a size" "--memory lots: not a size (examples: 512M, 2G)" \
	--kernel "$T/reset.bz" --memory lots
if [ "$host_mib" -lt 1000000 ]; then
	expect_error "memory beyond host RAM" \
		"guest memory $((host_mib + 1024)) MiB: more than the host's $host_mib MiB of RAM" \
		--kernel "$T/reset.bz" --memory $((host_mib + 1024))M
fi
expect_error "zero CPUs" "--cpus 0: must be a number from 1 to 254" --kernel "$T/reset.bz" --cpus 0
expect_error "absurd CPUs" "--cpus 100000: must be a number from 1 to 254" \
	--kernel "$T/reset.bz" --cpus 100000
expect_error "unknown CPU feature" "--cpu-features: unknown feature 'warp9'" \
	--kernel "$T/reset.bz" --cpu-features -cx16,-warp9
expect_error "bad serial" "--serial tcp:1: expected stdio, none, file:PATH or unix:PATH" \
	--kernel "$T/reset.bz" --serial tcp:1
expect_error "device on an unknown netdev" "--device virtio-net-pci,netdev=n1: no --netdev with id n1" \
	--kernel "$T/reset.bz" --netdev tap,id=n0 --device virtio-net-pci,netdev=n1
expect_error "netdev used twice" \
	"--device virtio-net-pci,netdev=n0: netdev n0 is already used by another device" \
	--kernel "$T/reset.bz" --netdev tap,id=n0 --device virtio-net-pci,netdev=n0 \
	--device virtio-net-pci,netdev=n0
expect_error "duplicate netdev id" "--netdev tap,id=n0,ifname=t1: duplicate id n0" \
	--kernel "$T/reset.bz" --netdev tap,id=n0 --netdev tap,id=n0,ifname=t1
expect_error "unknown netdev type" "--netdev slirp,id=n0: unknown netdev type slirp" \
	--kernel "$T/reset.bz" --netdev slirp,id=n0
"$KAVM" --kernel "$T/reset.bz" --netdev tap,id=n0,fd=5 --device virtio-net-pci,netdev=n0 \
	>"$T/out" 2>"$T/err" </dev/null 5</dev/null
check_eq "fd= not a tap: status 1, one line" "$?:$(cat "$T/err")" \
	"1:kavm: netdev n0: tap fd 5: Inappropriate ioctl for device"
expect_error "unknown device" "--device e1000,netdev=n0: unknown device e1000" \
	--kernel "$T/reset.bz" --netdev tap,id=n0 --device e1000,netdev=n0

# --- images (these need /dev/kvm: the VM exists before the kernel is read)
[ -w /dev/kvm ] || { echo "# SKIP image and run checks: needs /dev/kvm"; done_testing; }
expect_error "missing kernel" "kernel $T/nope: No such file or directory" --kernel "$T/nope"
expect_error "text file as kernel" \
	"kernel $T/text: not a Linux kernel (neither a bzImage nor an ELF vmlinux)" --kernel "$T/text"
expect_error "empty kernel" \
	"kernel $T/empty: not a Linux kernel (neither a bzImage nor an ELF vmlinux)" --kernel "$T/empty"
expect_error "directory as kernel" "kernel $T: not a regular file" --kernel "$T"
expect_error "32-bit only bzImage" \
	"kernel $T/32bit.bz: bzImage without a 64-bit entry point (XLF_KERNEL_64 clear)" \
	--kernel "$T/32bit.bz"
expect_error "old boot protocol" \
	"kernel $T/old.bz: boot protocol 0x204, kavm needs 0x20c or later" --kernel "$T/old.bz"
expect_error "truncated bzImage" \
	"kernel $T/trunc.bz: truncated bzImage (17440 bytes of kernel, header says 65536)" \
	--kernel "$T/trunc.bz"
expect_error "missing initrd" "initrd $T/nope: No such file or directory" \
	--kernel "$T/reset.bz" --initrd "$T/nope"
expect_error "initrd that does not fit" \
	"initrd $T/big.initrd: 41943040 bytes do not fit in guest RAM between the kernel's end (0x200000) and 0x2000000" \
	--kernel "$T/reset.bz" --initrd "$T/big.initrd" --memory 32M
long=$(head -c 300 /dev/zero | tr '\0' x)
expect_error "command line longer than the kernel takes" \
	"command line: 300 bytes, the kernel takes at most 255" --kernel "$T/reset.bz" --cmdline "$long"
run --kernel "$T/text" --serial "file:$T/console"
check_fail "a failed start leaves no console file" test -e "$T/console"
expect_error "serial file in a missing directory" \
	"serial file:$T/no/such: No such file or directory" \
	--kernel "$T/reset.bz" --serial "file:$T/no/such"

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
	check_fail "the taps kavm created are gone after exit" ip -n "$NS" link show kt0
	ip -n "$NS" tuntap add kt2 mode tap vnet_hdr
	ip netns exec "$NS" "$KAVM" --kernel "$T/reset.bz" -q \
		--netdev tap,id=n0,ifname=kt2 --device virtio-net-pci,netdev=n0 \
		>"$T/out" 2>"$T/err" </dev/null
	check_eq "given tap: reset, status 0" "$?:$(cat "$T/err")" "0:"
	check "a tap kavm was given is left in place" ip -n "$NS" link show kt2
	# vhost=on: the vhost fd is checked at start; a failure says which netdev
	# and which step, once, and the tap kavm made goes.
	ip netns exec "$NS" "$KAVM" --kernel "$T/reset.bz" --serial none \
		--netdev tap,id=n0,ifname=kt3,vhostfd=5 --device virtio-net-pci,netdev=n0 \
		>"$T/out" 2>"$T/err" </dev/null 5</dev/null
	check_eq "vhostfd= not a vhost fd: status 1, one line" "$?:$(cat "$T/err")" \
		"1:kavm: netdev n0: vhost-net: VHOST_SET_OWNER: Inappropriate ioctl for device"
	check_fail "vhostfd= not a vhost fd: the tap kavm made is gone" ip -n "$NS" link show kt3
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
