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

run() {	# args...: sets OUT (stdout), ERR (stderr), RC
	"$KAVM" "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

. "$(dirname "$0")/../lib-kernels.sh"

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

# --- a console reader that stops reading costs output, never the guest:
# 256 KiB out of the UART, then reset (mov $0x3f8,%dx; mov $0x40000,%ecx;
# 1: mov $'x',%al; out %al,(%dx); loop 1b). The FIFO's only reader (fd 3)
# reads nothing until kavm is gone.
mkbz "$T/flood.bz" 01 "66baf803b900000400b078eee2fb$RESET"
mkfifo "$T/fifo"
exec 3<>"$T/fifo"
timeout 30 "$KAVM" --kernel "$T/flood.bz" >"$T/fifo" 2>"$T/err" </dev/null
rc=$?
got=$(dd iflag=nonblock bs=65536 <&3 2>/dev/null | wc -c)
exec 3<&-
err=$(cat "$T/err")
dropped=$(sed -n 's/^kavm: warning: serial: \([0-9]*\) bytes of console output dropped (the console reader was not reading)$/\1/p' "$T/err")
check_eq "stopped console reader: the guest runs on to its reset" "$rc:${err##*$'\n'}" \
	"0:kavm: guest reset (i8042)"
check_eq "... and one line counts the output dropped" "${err%%$'\n'*}" \
	"kavm: warning: serial: ${dropped:-?} bytes of console output dropped (the console reader was not reading)"
check_eq "... kept (in the FIFO) plus dropped is all of it" "$((got + ${dropped:-0}))" 262144

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

