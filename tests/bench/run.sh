#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run every benchmark under tests/bench/ and print its figures.
# Each *.sh here is one benchmark driver; benchmark programs built from
# tests/bench/*.c without a driver of the same name are run directly.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
rc=0
for b in tests/bench/*.sh; do
	case "$(basename "$b")" in run.sh|lib*.sh|_*.sh) continue;; esac
	echo "=== $b"
	bash "$b" || rc=1
done
for p in "$BUILD"/tests/bench/*; do
	[ -x "$p" ] && [ -f "$p" ] || continue
	case "$p" in *.o|*.d) continue;; esac
	[ -e "tests/bench/$(basename "$p").sh" ] && continue
	echo "=== $p"
	"$p" || rc=1
done
exit $rc
