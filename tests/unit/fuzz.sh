#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run every libFuzzer target (tests/fuzz/*.c, ASan+UBSan) for a bounded time,
# starting from its committed seed corpus tests/fuzz/corpus/<target>/, so
# that each reproducer found so far runs again and the fuzzers keep looking.
# One TAP line per target with its executions and seconds; a crash, a
# sanitizer report, a leak or a timeout fails it, and the input that did it
# is kept in build/fuzz/crashes/ (replay: build/fuzz/<target> <file>).
#
#   KAVM_FUZZ_SECONDS=N   seconds per target (default 25)
. "$(dirname "$0")/../lib.sh"

require_cmd clang
secs=${KAVM_FUZZ_SECONDS:-25}
work=$(mktemp -d) || exit 1
at_exit rm -rf "$work"
cd "$TOP" || exit 1

if ! out=$(make -s fuzz 2>&1); then
	not_ok "make fuzz"
	printf '%s\n' "$out" | sed 's/^/# /' | tail -n 20
	done_testing
fi

fuzz_one() {	# target
	local t=$1 bin=$BUILD/fuzz/$1 log=$work/$1.log start=$SECONDS rc execs
	mkdir -p "$work/$t" "$work/$t.crash"
	UBSAN_OPTIONS=print_stacktrace=1 TMPDIR=$work \
		"$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/$t.crash/" \
		"$work/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 </dev/null
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" -eq 0 ]; then
		ok "fuzz $t: ${execs:-?} executions in $((SECONDS - start)) s"
		return
	fi
	not_ok "fuzz $t: status $rc after ${execs:-?} executions in $((SECONDS - start)) s"
	grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -n 10 | sed 's/^/# /'
	mkdir -p "$BUILD/fuzz/crashes"
	cp "$work/$t.crash/"* "$BUILD/fuzz/crashes/" 2>/dev/null &&
		echo "# input kept in $BUILD/fuzz/crashes/"
}

for src in tests/fuzz/*.c; do
	fuzz_one "$(basename "$src" .c)"
done
done_testing
