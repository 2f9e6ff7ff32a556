#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm_switch.ko against malformed generic netlink requests, in one test-host
# boot: tests/host/kmod-genl.c's bad-table mode sends each request of its
# table on a fresh socket and checks the answer's errno, its extack message
# and, where the kernel names them, the offending attribute's offset
# (NLMSGERR_ATTR_OFFS) and the missing attribute's type
# (NLMSGERR_ATTR_MISS_TYPE); each is its own check, named after the case.
# The table covers every command (switch new/del/get/set, port add/del/get,
# fdb add/del/get, the dumps) and every kind of fault: missing attributes,
# strings without their NUL or too long, MACs of 5 or 7 bytes, u32s sent as
# u8/u16/u64, attribute 0 and above the maximum, attributes outside a
# command's policy, a nested attribute where none is taken, NLA_F_NESTED
# where it does not belong, trailing bytes, an attribute overrunning the
# message, unknown and notification commands, NLM_F_DUMP on a doit-only
# command, reserved header bits, a truncated header, out-of-range ageing,
# fdb_max and ifindex, reserved flag bits, missing switches, devices and
# entries, a device of another network namespace, a port of another switch,
# a bridge's port, loopback, a full fdb, a port's declared MAC, and changes
# without CAP_NET_ADMIN (the client drops it from every set itself).
# Everything happens in a network namespace of its own; afterwards the
# module unloads and the kernel log must hold no WARN, BUG, refcount or
# "waiting for" line.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-testhost.sh"

require_cmd qemu-system-x86_64
if [ ! -x "$BUILD/kavmctl" ]; then
	not_ok "- build/kavmctl exists (run make)"
	done_testing
fi
KO=$TH_TOP/kmod/kavm_switch.ko
mkdir -p "$TH_LOGDIR"
if ! make -s -C "$TH_TOP" kmod >"$TH_LOGDIR/kmod-build.log" 2>&1 || [ ! -f "$KO" ]; then
	tail -n 20 "$TH_LOGDIR/kmod-build.log" | sed 's/^/# /'
	not_ok "- kmod/kavm_switch.ko builds (make kmod)"
	done_testing
fi
testhost_init || { not_ok "- test host prepared"; done_testing; }
if ! ${CC:-cc} -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static \
	-I"$TH_TOP/include/uapi" "$TH_TOP/tests/host/kmod-genl.c" -o "$TH_TMP/kmod-genl"; then
	not_ok "- tests/host/kmod-genl.c builds"
	done_testing
fi

cat >"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
G=/test/kmod-genl

# A network namespace held by a sleeping process; prints its pid.
netns_new() {
	unshare -n sleep 100000 >/dev/null 2>&1 &
	echo $!
}
ifindex_of() {	# netns-pid dev
	nsenter -t "$1" -n ip link show "$2" | sed -n '1s/:.*//p'
}

dmesg -c >/dev/null
check "insmod kavm_switch.ko" insmod /test/kavm_switch.ko
NS=$(netns_new)
FNS=$(netns_new)
sleep 1
inns() { nsenter -t "$NS" -n "$@"; }
# pa, pb, pc: veths; pd: a port of bridge br0; fx: a veth moved to FNS.
for d in pa pb pc pd fx; do
	inns ip link add "$d" type veth peer "kv$d" || not_ok "veth $d"
done
inns ip link set lo up
inns kavmctl bridge add br0 >/dev/null && inns kavmctl link attach pd --bridge br0 >/dev/null ||
	not_ok "pd made a port of br0"
inns ip link set fx netns "$FNS" || not_ok "fx moved to another netns"
FOREIGN=$(ifindex_of "$FNS" fx)
check "fx has an ifindex ($FOREIGN) in the other netns" test -n "$FOREIGN"
check "... that no device of the test's netns has" \
	sh -c "! nsenter -t $NS -n ip link show | grep -q '^$FOREIGN:'"

inns $G bad-table "$FOREIGN" >/tmp/bad.out 2>&1
rc=$?
cat /tmp/bad.out
n=$(grep -c -E '^(ok|not ok) - ' /tmp/bad.out)
check_eq "every request of the table was answered ($n)" \
	"$(sed -n 's/^# bad-table: \([0-9]*\) requests, .*/\1/p' /tmp/bad.out)" "$n"
check_eq "kmod-genl bad-table exits 0" "$rc" 0

kill "$NS" "$FNS"
sleep 3
check "rmmod kavm_switch" rmmod kavm_switch
check_eq "the module is gone" "$(grep -c '^kavm_switch ' /proc/modules)" 0
bad=$(dmesg | grep -E 'waiting for .* to become free|WARNING:|BUG:|Call Trace|refcount' |
	head -n 5)
check_eq "the kernel log has no 'waiting for', WARN, BUG or refcount line" "$bad" ""
[ -n "$bad" ] && dmesg | tail -n 60 | sed 's/^/# dmesg: /'
finish
EOF
testhost_check --name kmod-genl-bad "$TH_TMP/inside.sh" "$KO" "$TH_TMP/kmod-genl"
done_testing
