#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm --dump-acpi: the tables kavm would give a guest, written without a
# kernel or /dev/kvm, and read back by ACPICA's own disassembler (iasl -d):
# no error, no warning, and the DSDT's routing matches kavm's wiring.
. "$(dirname "$0")/../lib.sh"

KAVM=${KAVM:-$BUILD/kavm}
[ -x "$KAVM" ] || { not_ok "$KAVM exists (make)"; done_testing; }
require_cmd iasl
T=$(mktemp -d /tmp/kavm-acpi.XXXXXX)
at_exit rm -rf "$T"

for cpus in 1 2 64 254; do
	d=$T/$cpus
	out=$("$KAVM" --dump-acpi "$d" --cpus "$cpus" 2>&1 </dev/null)
	check_eq "--dump-acpi, $cpus CPUs: status 0, silent" "$?:$out" "0:"
	check_eq "--dump-acpi, $cpus CPUs: one file per table" \
		"$(cd "$d" && ls | tr '\n' ' ')" "APIC.dat DSDT.dat FACP.dat RSDP.dat XSDT.dat "
	# iasl 2020 cannot read a binary RSDP back (tests/unit/acpi.c checks it).
	for sig in XSDT FACP APIC DSDT; do
		log=$(cd "$d" && iasl -d "$sig.dat" 2>&1)
		rc=$?
		check "iasl -d $sig, $cpus CPUs: disassembles" test "$rc" -eq 0 -a -s "$d/$sig.dsl"
		bad=$(printf '%s\n' "$log" | grep -iE 'warning|error|remark|checksum' |
			grep -vE '0 Errors?, 0 Warnings?|^Disassembly completed|Compilation successful')
		check_eq "iasl -d $sig, $cpus CPUs: no error or warning" "$bad" ""
	done
	check_eq "MADT, $cpus CPUs: one local APIC per vCPU" \
		"$(grep -c 'Subtable Type : 00 \[Processor Local APIC\]' "$d/APIC.dsl")" "$cpus"
done

# The DSDT routes slot S's INTA to GSI 16 + S % 8, as hw/pci-vm.c wires it.
want=$(for s in $(seq 1 31); do printf '0x%04XFFFF 0x%02X\n' "$s" $((16 + s % 8)); done)
got=$(tr -d ' ,\n' <"$T/1/DSDT.dsl" | grep -oE 'Package\(0x04\)\{0x[0-9A-F]{8}Zero[^}]*\}' |
	sed -E 's/Package\(0x04\)\{(0x[0-9A-F]{8})Zero(\/\/[^Z]*)?Zero(\/\/[^0]*)?(0x[0-9A-F]{2}).*/\1 \4/')
check_eq "DSDT _PRT: every slot's INTA on GSI 16 + slot % 8" "$got" "$want"
# Hardware-reduced Linux sets up no ISA IRQ by itself: each legacy device
# must be in the DSDT with its IRQ.
for dev in 'PNP0501.*|IRQNoFlags\(\)\{4\}' 'PNP0303.*|IRQNoFlags\(\)\{1\}' \
	'PNP0B00.*|IRQNoFlags\(\)\{8\}'; do
	check_match "DSDT: ${dev%%.*} with its IRQ" "$(tr -d '\n ' <"$T/1/DSDT.dsl" |
		sed 's/Device(/\n&/g' | grep "${dev%%.*}")" "${dev#*|}"
done
check_match "DSDT: the GED" "$(cat "$T/1/DSDT.dsl")" 'ACPI0013'
check_match "DSDT: _S5" "$(cat "$T/1/DSDT.dsl")" 'Name \(_S5,'

# Without /dev/kvm (an empty /dev in a private mount namespace): the tables
# need no KVM.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1; then
	out=$(unshare -m sh -c "mount -t tmpfs none /dev && $KAVM --dump-acpi $T/nokvm --cpus 4" \
		2>&1 </dev/null)
	check_eq "--dump-acpi without /dev/kvm: status 0, silent" "$?:$out" "0:"
	check "--dump-acpi without /dev/kvm: the same tables" cmp "$T/nokvm/APIC.dat" \
		"$(cd "$T" && "$KAVM" --dump-acpi "$T/again" --cpus 4 && echo "$T/again/APIC.dat")"
else
	echo "# SKIP --dump-acpi without /dev/kvm: needs root and unshare(1)"
fi

# Bad input: one line, status 1.
out=$("$KAVM" --dump-acpi "$T/1/APIC.dat" 2>&1 </dev/null)
check_eq "--dump-acpi onto a file: status 1, one line" "$?:$out" \
	"1:kavm: --dump-acpi $T/1/APIC.dat: not a directory"
out=$("$KAVM" --dump-acpi "$T/x" --no-acpi 2>&1 </dev/null)
check_eq "--dump-acpi with --no-acpi: refused" "$?:$out" \
	"1:kavm: --dump-acpi: there are no tables with --no-acpi"
done_testing
