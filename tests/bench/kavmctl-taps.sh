#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bench: create N taps, enslave them to one bridge, delete them; kavmctl against
# iproute2 (ip tuntap / ip link, one process per step as an admin script would),
# and ip -batch (one process) for reference, all in the same run, each in a fresh netns.
#   tests/bench/kavmctl-taps.sh [N=100] [ROUNDS=3]
set -u
. "$(dirname "$0")/../lib.sh"
require_root
require_cmd ip
N=${1:-100}
ROUNDS=${2:-3}
K=$BUILD/kavmctl
[ -x "$K" ] || skip_all "build $K first"

now() { date +%s%N; }

run_kavmctl() {	# NS
	local i
	"$K" -n "$1" bridge add brb || return 1
	for ((i = 0; i < N; i++)); do
		"$K" -n "$1" tap add "t$i" && "$K" -n "$1" link attach "t$i" --bridge brb || return 1
	done
	for ((i = 0; i < N; i++)); do "$K" -n "$1" tap del "t$i" || return 1; done
	"$K" -n "$1" bridge del brb
}

run_ip() {	# NS
	local i
	ip -n "$1" link add brb type bridge || return 1
	for ((i = 0; i < N; i++)); do
		ip -n "$1" tuntap add "t$i" mode tap && ip -n "$1" link set "t$i" master brb || return 1
	done
	for ((i = 0; i < N; i++)); do ip -n "$1" tuntap del "t$i" mode tap || return 1; done
	ip -n "$1" link del brb
}

run_ip_batch() {	# NS
	local i
	{
		echo "link add brb type bridge"
		for ((i = 0; i < N; i++)); do
			echo "tuntap add t$i mode tap"
			echo "link set t$i master brb"
		done
		for ((i = 0; i < N; i++)); do echo "tuntap del t$i mode tap"; done
		echo "link del brb"
	} | ip -n "$1" -batch -
}

time_one() {	# fn: milliseconds into $ms; fails if a step fails or devices are left
	local bns t0 t1 left
	netns_new bns
	t0=$(now)
	"$1" "$bns" >/dev/null || { echo "not ok - $1 failed"; return 1; }
	t1=$(now)
	left=$(ip -n "$bns" -o link show | grep -vc ': lo:')
	[ "$left" -eq 0 ] || { echo "not ok - $1 left $left devices"; return 1; }
	ip netns del "$bns"
	ms=$(((t1 - t0) / 1000000))
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

k=() i=() b=()
for ((r = 0; r < ROUNDS; r++)); do
	time_one run_kavmctl || exit 1
	k+=("$ms")
	time_one run_ip || exit 1
	i+=("$ms")
	time_one run_ip_batch || exit 1
	b+=("$ms")
done
km=$(median "${k[@]}") im=$(median "${i[@]}") bm=$(median "${b[@]}")
echo "# $N taps: create + enslave + delete, median of $ROUNDS rounds (ms): ${k[*]} | ${i[*]} | ${b[*]}"
printf '# kavmctl (%d processes)        %6d ms\n' $((3 * N + 2)) "$km"
printf '# ip tuntap/ip link (%d procs)  %6d ms\n' $((3 * N + 2)) "$im"
printf '# ip -batch (1 process)          %6d ms\n' "$bm"
awk -v k="$km" -v i="$im" -v b="$bm" 'BEGIN {
	printf "# ratio kavmctl / ip = %.2f (below 1: kavmctl is faster)\n", k / i
	printf "# ratio kavmctl / ip -batch = %.2f\n", k / b }'
ok "bench ran: $N taps x $ROUNDS rounds, nothing left behind"
done_testing
