#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run test programs that need KVM inside the QEMU test host, in one boot.
#
#   tests/kvm-in-testhost.sh OUTDIR PROG...
#
# PROG is a path from the top of the tree: a harness binary
# (build[/san]/tests/kvm/NAME) or a script (tests/kvm/NAME.sh). The tree they
# need (kavm, kavmctl, the tiny guests, tests/lib*.sh, the programs and every
# shared library they load, plus bash and the iproute2/util-linux/jq tools
# the scripts call) is laid out under /k in the host, at the same relative
# paths, so a program finds what it finds here. Each program's output goes to
# OUTDIR/N.log and its exit status to OUTDIR/N.rc, N its position in the
# list. tests/run.sh turns them into results as if the programs ran here.
# Exit status: 0 when every program ran (whatever their results), else the
# test host's (lib-testhost.sh: 124 timeout, 125 no status, 126 its kernel).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
. tests/lib.sh
. tests/host/lib-testhost.sh

OUT=$1
shift
mkdir -p "$OUT" || exit 1
rm -f "$OUT"/*.log "$OUT"/*.rc

# Tools the kvm scripts call that busybox lacks or does differently
# (python3: the control socket's test client, with its standard library;
# prlimit, setpriv, stat -f: kavm-knobs.sh's memlock limit and hugetlbfs).
KVM_TOOLS="bash ip bridge jq nsenter unshare script python3 bpftool prlimit setpriv stat"

# Stage the tree into ROOT/k and bundle it: a tarball extracted at / in the
# host puts each library where the loader looks for it.
stage() {	# root
	local root=$1 p b d tools=() t
	shift
	for p in "$BUILD/kavm" "$BUILD/kavmctl" "$@"; do
		case "$p" in *.sh) continue ;; esac
		[ -x "$p" ] || continue
		_th_stage_bins "$root" "/k/$(dirname "${p#"$TOP"/}")" "$p" || return 1
	done
	for d in build/tests/guests build/san/tests/guests; do
		[ -d "$d" ] || continue
		mkdir -p "$root/k/$d" && cp "$d"/*.bin "$root/k/$d/" || return 1
	done
	mkdir -p "$root/k/tests/kvm" "$root/k/tests/lib"
	cp tests/lib.sh tests/lib-kernels.sh "$root/k/tests/" || return 1
	cp tests/lib/*.py "$root/k/tests/lib/" || return 1
	for p in tests/kvm/*.sh; do
		cp "$p" "$root/k/tests/kvm/" || return 1
	done
	for t in $KVM_TOOLS; do
		b=$(tool_path "$t") || { _th_err "needs $t"; return 1; }
		tools+=("$b")
	done
	_th_stage_bins "$root" /usr/local/bin "${tools[@]}" || return 1
	stage_python_stdlib "$root"
}

# The program itself, not a wrapper (pyenv's shims are shell scripts): the
# distribution's python3 first, whose library stage_python_stdlib copies.
tool_path() {	# name
	[ "$1" = python3 ] && [ -x /usr/bin/python3 ] && { echo /usr/bin/python3; return 0; }
	command -v "$1"
}

# python3 finds its standard library under its compiled-in prefix (/usr).
stage_python_stdlib() {	# root
	local lib
	lib=$("$(tool_path python3)" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])') ||
		return 1
	mkdir -p "$1$lib" || return 1
	tar -C "$lib" --exclude=__pycache__ --exclude=./test --exclude=./idlelib \
		--exclude=./tkinter --exclude=./lib2to3 --exclude=./ensurepip \
		--exclude=./pydoc_data --exclude=./site-packages --exclude=./dist-packages \
		--exclude='./config-*' -cf - . | tar -C "$1$lib" -xf -
}

progs=()
for p in "$@"; do
	progs+=("${p#"$TOP"/}")
done
testhost_init || exit 125
root=$(mktemp -d "$TH_TMP/kvm.XXXXXX") || exit 125
stage "$root" "${progs[@]}" || exit 125
tar -C "$root" -cf "$TH_TMP/kvm.tar" . || exit 125
printf '%s\n' "${progs[@]}" >"$TH_TMP/kvm-progs"

cat >"$TH_TMP/inside.sh" <<'EOF'
tar -C / -xf /test/kvm.tar || exit 1
cd /k || exit 1
n=0
while read -r p; do
	n=$((n + 1))
	echo "KAVM-PROG-BEGIN $n $p"
	case "$p" in
	*.sh) timeout -s KILL 1200 bash "$p" </dev/null 2>&1 ;;
	*) timeout -s KILL 1200 "./$p" </dev/null 2>&1 ;;
	esac
	echo "KAVM-PROG-END $n $?"
done </test/kvm-progs
EOF

# One retry when the emulated host's own kernel fails (lib-testhost.sh).
for attempt in 1 2; do
	# RAM for a guest with memory above 4 GiB (kvm_guest.c); it is touched lazily.
	KAVM_TESTHOST_TIMEOUT=${KAVM_TESTHOST_TIMEOUT:-3000} KAVM_TESTHOST_SHOW=0 \
		KAVM_TESTHOST_MEM=${KAVM_TESTHOST_MEM:-6144} \
		testhost_run --name kvm "$TH_TMP/inside.sh" "$TH_TMP/kvm.tar" \
		"$TH_TMP/kvm-progs" >"$OUT/console.out"
	rc=$?
	[ "$rc" -eq 126 ] && [ "$attempt" = 1 ] && continue
	break
done

# Split the host's output into one log and one status per program.
awk -v out="$OUT" '
	/^KAVM-PROG-BEGIN [0-9]+ / { n = $2; f = out "/" n ".log"; printf "" > f; next }
	/^KAVM-PROG-END [0-9]+ [0-9]+$/ { print $3 > (out "/" $2 ".rc"); close(out "/" $2 ".rc");
		close(f); f = ""; next }
	f != "" { print >> f }
' "$OUT/console.out"
exit "$rc"
