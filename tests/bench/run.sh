#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run every benchmark: each build/tests/bench/* program, then each
# tests/bench/*.sh driver. Benchmarks print ratios against a baseline taken
# in the same run; they pass or fail nothing.
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
for b in "$BUILD"/tests/bench/*; do
	case "$b" in *.o|*.d) continue;; esac
	[ -x "$b" ] || continue
	echo "== ${b#$BUILD/}"
	"$b"
done
for s in tests/bench/*.sh; do
	[ "$s" = tests/bench/run.sh ] && continue
	[ -x "$s" ] || continue
	echo "== $s"
	"$s"
done
