#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavmctl's switch engines where kavm_switch.ko is not loaded (the build
# host has no modules; tests/host/kmod.sh drives the kmod engine): the eBPF
# switch stays the default and says so, "--engine bpf" is the same, and
# "--engine kmod" fails with one line saying what is missing.
. "$(dirname "$0")/../lib.sh"

require_root
require_cmd jq
K=$BUILD/kavmctl
[ -x "$K" ] || skip_all "build/kavmctl not built"
[ -d /sys/module/kavm_switch ] && skip_all "kavm_switch.ko is loaded here"

netns_new NS
SW=kt-$$-en
at_exit "$K -n $NS switch del $SW || $K switch del $SW --force"
at_exit "$K -n $NS switch del $SW-b || $K switch del $SW-b --force"
kc() { "$K" -n "$NS" "$@"; }

check "switch add (default engine)" kc switch add "$SW"
check "switch add --engine bpf" kc switch add "$SW-b" --engine bpf --ageing 30
check_eq "-j show: both are engine bpf" \
	"$(kc -j switch show | jq -r "[.[] | select(.name | startswith(\"$SW\")) | .engine] | join(\",\")")" \
	"bpf,bpf"
check_match "text show says the engine" "$(kc switch show "$SW-b")" \
	"^switch $SW-b engine bpf mode tc ageing 30s\$"
out=$(kc switch add "$SW-k" --engine kmod 2>&1)
rc=$?
check_eq "--engine kmod without the module: exit 1" "$rc" 1
check_match "... and says what is missing" "$out" \
	"switch $SW-k: add: the kmod engine needs kavm_switch.ko \(kavmctl module load\)"
out=$(kc switch add "$SW-x" --engine vpp 2>&1)
check_match "an unknown engine is refused" "$out" "--engine takes kmod or bpf"
check_match "module status: not loaded" "$(kc module status)" '^kavm_switch not loaded$'
check_eq "-j module status" "$(kc -j module status | jq -c .)" \
	'{"module":"kavm_switch","loaded":false}'
done_testing
