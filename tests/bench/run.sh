#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run kavm's benchmarks and print their figures (make bench).
#
#   tests/bench/run.sh [NAME]...     (default: every benchmark)
#
# A benchmark is a program built from tests/bench/*.c or a tests/bench/*.sh
# script (not run.sh, lib*.sh, _*.sh). Each prints its own figures, as ratios
# against a baseline measured in the same run; a non-zero exit means the
# benchmark could not measure, and the run fails.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
failed=()
run_one() {	# name cmd...
	local name=$1 start=$SECONDS
	shift
	printf '== %s\n' "$name"
	"$@" </dev/null || failed+=("$name")
	printf '   (%ds)\n' $((SECONDS - start))
}
for t in "$BUILD"/tests/bench/* tests/bench/*.sh; do
	[ -f "$t" ] || continue
	case "$(basename "$t")" in run.sh|lib*.sh|_*.sh|*.o|*.d) continue ;; esac
	case "$t" in *.sh) ;; *) [ -x "$t" ] || continue ;; esac
	[ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$(basename "${t%.sh}")" && continue
	case "$t" in *.sh) run_one "$t" bash "$t" ;; *) run_one "$t" "$t" ;; esac
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "benchmarks that could not measure: ${failed[*]}"
	exit 1
fi
