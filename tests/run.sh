#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run kavm's tests and add up their TAP results.
#
#   tests/run.sh [unit|native|host]...      (default: all groups)
#
# A test program is a harness binary (tests/unit, tests/native, built by make)
# or a *.sh script using tests/lib.sh. Each prints TAP lines; exit 4 with no
# TAP means the whole program skipped. With CI=true a skip counts as a
# failure: the CI machine has root, /dev/kvm, netns and the QEMU test host, so
# a skip there hides a check that did not run.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
LOGDIR=$BUILD/test-logs
mkdir -p "$LOGDIR"
groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(unit native host)

pass=0 fail=0 skip=0
failed_names=()

run_prog() {	# name, command...
	local name=$1; shift
	local log=$LOGDIR/${name//\//_}.log
	local start=$SECONDS rc p f s
	printf '== %s\n' "$name"
	"$@" >"$log" 2>&1 </dev/null
	rc=$?
	p=$(grep -cE '^ok [0-9]+ ' "$log" | head -1)
	s=$(grep -cE '^ok [0-9]+ .*# SKIP' "$log" | head -1)
	f=$(grep -cE '^not ok [0-9]+ ' "$log" | head -1)
	p=$((p - s))
	if [ "$rc" -eq 4 ] && [ $((p + f + s)) -eq 0 ]; then
		s=1
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc" >>"$log"
		f=1
	fi
	grep -E '^(not ok|ok [0-9]+ .*# SKIP)' "$log" | sed 's/^/   /'
	if [ "$f" -gt 0 ] || { [ "${CI:-}" = true ] && [ "$s" -gt 0 ]; }; then
		echo "   --- $log:"
		tail -n 60 "$log" | sed 's/^/   | /'
		failed_names+=("$name")
	fi
	printf '   %d passed, %d failed, %d skipped (%ds)\n' "$p" "$f" "$s" $((SECONDS - start))
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

run_group() {
	local dir=$1 t
	for build in "$BUILD" "$BUILD/san"; do
		for t in "$build/tests/$dir"/*; do
			[ -f "$t" ] && [ -x "$t" ] || continue
			case "$t" in *.o|*.d) continue;; esac
			run_prog "${t#$BUILD/}" "$t"
		done
	done
	for t in tests/"$dir"/*.sh; do
		[ -f "$t" ] || continue
		case "$(basename "$t")" in lib*.sh|_*.sh) continue;; esac
		run_prog "$t" bash "$t"
	done
}

for g in "${groups[@]}"; do
	case "$g" in
	unit|native|host) run_group "$g" ;;
	*) echo "tests/run.sh: unknown group '$g' (unit, native, host)" >&2; exit 2 ;;
	esac
done

echo
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failing: ${failed_names[*]}"
fi
if [ "${CI:-}" = true ] && [ "$skip" -gt 0 ]; then
	echo "CI=true: $skip skipped test(s) count as failures here"
	fail=$((fail + skip))
	skip=0
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
