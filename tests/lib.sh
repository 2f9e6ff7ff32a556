# SPDX-License-Identifier: GPL-2.0
# kavm shell test library: TAP output, skip codes, private netns, cleanup.
# Source it from a tests/*/*.sh script:  . "$(dirname "$0")/../lib.sh"
#
#   require_root / require_cmd CMD / require_dev PATH   skip (exit 4) if missing
#   netns_new VAR          make a fresh netns, name in $VAR, removed on exit
#   at_exit CMD...         run CMD at exit (reverse order)
#   check "desc" CMD...    run CMD; TAP ok / not ok
#   check_fail "desc" STATUS ERE CMD...
#                          CMD must exit with STATUS and say why: its output
#                          (stdout and stderr) must match ERE
#   check_no_link "desc" NS DEV   DEV does not exist in netns NS
#   check_eq "desc" GOT WANT
#   done_testing           print the plan and exit with the right status

KSFT_SKIP=4
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
_t_n=0
_t_fail=0
_t_exit=()

at_exit() { _t_exit=("$*" "${_t_exit[@]}"); }
_t_cleanup() {
	local c
	for c in "${_t_exit[@]}"; do eval "$c" >/dev/null 2>&1; done
}
trap _t_cleanup EXIT

skip_all() { echo "# SKIP $*"; exit $KSFT_SKIP; }
require_root() { [ "$(id -u)" -eq 0 ] || skip_all "needs root"; }
require_cmd() { command -v "$1" >/dev/null 2>&1 || skip_all "needs $1"; }
require_dev() { [ -e "$1" ] || skip_all "needs $1"; }

netns_new() {	# VAR
	local ns="kavm-t$$-$RANDOM"
	ip netns add "$ns" || { echo "not ok - ip netns add $ns"; exit 1; }
	at_exit ip netns del "$ns"
	ip -n "$ns" link set lo up
	printf -v "$1" '%s' "$ns"
}

ok() { _t_n=$((_t_n + 1)); echo "ok $_t_n $*"; }
not_ok() { _t_n=$((_t_n + 1)); _t_fail=$((_t_fail + 1)); echo "not ok $_t_n $*"; }

check() {	# desc cmd...
	local desc=$1 out; shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc"
		printf '%s\n' "$out" | sed 's/^/# /' | tail -n 20
	fi
}

check_fail() {	# desc status ere cmd...: CMD must fail with STATUS, saying ERE
	local desc=$1 want=$2 ere=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ] && printf '%s' "$out" | grep -qE -- "$ere"; then
		ok "$desc"
	else
		not_ok "$desc"
		echo "# wanted status $want and /$ere/, got status $rc:"
		printf '%s\n' "$out" | sed 's/^/# /' | tail -n 20
	fi
}

check_no_link() {	# desc ns dev
	check_fail "$1" 1 "Device \"$3\" does not exist" ip -n "$2" link show "$3"
}

check_eq() {	# desc got want
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "# got:  $2"
		echo "# want: $3"
	fi
}

check_match() {	# desc text ERE
	if printf '%s' "$2" | grep -qE -- "$3"; then
		ok "$1"
	else
		not_ok "$1"
		echo "# no match for /$3/ in:"
		printf '%s\n' "$2" | sed 's/^/#   /' | tail -n 20
	fi
}

done_testing() {
	echo "1..$_t_n"
	[ "$_t_fail" -eq 0 ]
	exit $?
}
