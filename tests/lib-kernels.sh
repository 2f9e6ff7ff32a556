# SPDX-License-Identifier: GPL-2.0
# Fake kernels in the 64-bit boot protocol for tests that need kavm running
# on /dev/kvm (Linux itself does not boot here). Sourced, not
# run; kavm-cli.sh, kavm-run.sh and kavm-bridge.sh use it.

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
