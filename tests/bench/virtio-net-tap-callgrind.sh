#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Userspace instructions per frame on kavm's virtio-net/tap paths, counted by
# callgrind: guest->tap from the TX kick (vnet_queue_notify: ring parsing,
# header checks, net core, writev) and tap->guest from the tap's readiness
# handler (tap_fd_event: read, net core, RX filter, copy into guest buffers).
# The kernel's side of the syscalls is not counted.
#
#   tests/bench/virtio-net-tap-callgrind.sh [frames]
set -eu
cd "$(dirname "$0")/../.."
BIN=${BUILD:-build}/tests/bench/virtio-net-tap
N=${1:-20480}  # a multiple of the 256-frame RX batch
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 4; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
printf '%-12s %6s %18s\n' direction bytes instructions/frame
for dir in tx rx; do
	fn=vnet_queue_notify
	[ $dir = rx ] && fn=tap_fd_event
	for size in 64 1500; do
		valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="$fn" \
			"$BIN" "$N" "$dir" "$size" >/dev/null 2>&1
		ir=$(callgrind_annotate "$out" 2>/dev/null |
			awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
		name=guest-\>tap
		[ $dir = rx ] && name=tap-\>guest
		printf '%-12s %6s %18d\n' "$name" "$size" $((ir / N))
	done
done
