# SPDX-License-Identifier: GPL-2.0
# Fake kernels in the 64-bit boot protocol for tests that need kavm running
# on /dev/kvm (Linux itself does not boot here). Sourced, not
# run; kavm-cli.sh, kavm-run.sh and kavm-bridge.sh use it (run() needs $KAVM and $T).

# poke FILE OFFSET HEXBYTES: write bytes at an offset without truncating
poke() {
	printf "$(echo "$3" | sed 's/\(..\)/\\x\1/g')" |
		dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}

# mkbz FILE XLOADFLAGS CODE [PM_SIZE]: a bzImage (protocol 2.15, 4 setup
# sectors) whose 64-bit entry (protected-mode part + 0x200) runs CODE.
mkbz() {
	local f=$1 pm=${4:-8192}
	head -c $((5 * 512 + pm)) /dev/zero >"$f"
	poke "$f" 0x1f1 04				# setup_sects
	poke "$f" 0x1f4 "$(printf '%02x%02x0000' $((pm / 16 % 256)) $((pm / 16 / 256)))"
	poke "$f" 0x1fe 55aa				# boot_flag
	poke "$f" 0x201 6a				# header ends at 0x26c
	poke "$f" 0x202 48647253			# "HdrS"
	poke "$f" 0x206 0f02				# version 2.15
	poke "$f" 0x236 "$2"				# xloadflags
	poke "$f" 0x260 00001000			# init_size 1 MiB
	poke "$f" $((5 * 512 + 0x200)) "$3"
}

# mkspin FILE: a kernel whose vCPU spins in "jmp ." until kavm is stopped.
mkspin() { mkbz "$1" 01 ebfe; }

# Machine code for the fake kernels' 64-bit entry.
RESET=b0fee664f4		# mov $0xfe,%al; out %al,$0x64 (i8042 reset); hlt
HI=66baf803b068eeb069eeb00aee	# mov $0x3f8,%dx; "hi\n" out of the UART
SPIN=ebfe			# jmp .
# Print the zero page's type_of_loader, the initrd's first byte and the
# command line's first byte through the UART (RSI = zero page):
#   mov $0x3f8,%dx; mov 0x210(%rsi),%al; out; mov 0x218(%rsi),%ebx;
#   mov (%rbx),%al; out; mov 0x228(%rsi),%ebx; mov (%rbx),%al; out
ZP=66baf8038a8610020000ee8b9e180200008a03ee8b9e280200008a03ee

# mkkernels DIR: DIR/reset.bz, hi.bz, spin.bz and zp.bz from the codes above.
mkkernels() {
	mkbz "$1/reset.bz" 01 "$RESET"
	mkbz "$1/hi.bz" 01 "$HI$RESET"
	mkbz "$1/spin.bz" 01 "$SPIN"
	mkbz "$1/zp.bz" 01 "$ZP$RESET"
}

# run ARGS...: $KAVM ARGS with no input; sets OUT (stdout), ERR (stderr), RC.
# Its files go to $T.
run() {
	"$KAVM" "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}
