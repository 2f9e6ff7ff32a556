#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Two kavm VMs on a kavm_switch.ko switch, inside the test host.
#
# One test-host boot, in a network namespace of its own. The module is
# loaded with kavmctl, a kmod-engine switch made, and two persistent taps
# (made with kavmctl, so that only kavm's own leave can take them off the
# switch) are handed to two kavm VMs with --netdev tap,...,vhost=on,switch=.
# The VMs run side by side, each pinned to its own test-host CPU
# (Documentation/testhost.md, "The rig's own failures"), 1 vCPU and 128 MiB
# each. They ping each other, and the second fetches 16 MiB from the first
# (busybox httpd and wget; the side that stays up fetches) with the same
# sha256 on both sides. While they run, kavmctl switch show lists both taps
# as ports, the module's counters show the 16 MiB received from the first
# tap and forwarded to the second (the frames went through the module, not
# around it), no Linux bridge exists, and every thread of both kavm
# processes runs under its seccomp filter. Once they exit, the taps are
# still there and no longer ports. The module unloads and the kernel log
# has no "waiting for", WARN, BUG or refcount line.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-testhost.sh"

require_cmd qemu-system-x86_64
if [ ! -x "$BUILD/kavm" ] || [ ! -x "$BUILD/kavmctl" ]; then
	not_ok "- build/kavm and build/kavmctl exist (run make)"
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

# Both guests boot this; eth0's MAC (...:01 or ...:02) says which one it is.
cat >"$TH_TMP/guest.sh" <<'EOF'
me=$(sed 's/.*:0//' /sys/class/net/eth0/address)
peer=10.9.0.$((3 - me))
ip link set eth0 up && ip addr add "10.9.0.$me/24" dev eth0
mkdir -p /www
if [ "$me" = 1 ]; then
	dd if=/dev/urandom of=/www/x.bin bs=1M count=16 2>/dev/null
	echo "guest-sha=$(sha256sum /www/x.bin | cut -d' ' -f1)"
fi
httpd -p 8080 -h /www
echo "guest-serving"
# The other VM may boot later.
n=0
until ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
	n=$((n + 1))
	[ $n -ge 120 ] && break
done
ping -c 3 -W 5 "$peer" >/tmp/p 2>&1
echo "guest-ping=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/p)"
if [ "$me" = 2 ]; then
	t0=$(cut -d' ' -f1 /proc/uptime)
	wget -q -O /tmp/x.bin "http://$peer:8080/x.bin"
	echo "guest-fetch-rc=$? t0=$t0 t1=$(cut -d' ' -f1 /proc/uptime)"
	echo "guest-sha=$(sha256sum /tmp/x.bin | cut -d' ' -f1) size=$(wc -c </tmp/x.bin)"
	touch /www/done
	# The host looks at the switch now; the first VM takes "done" meanwhile.
	echo "guest-fetched"
	sleep 8
else
	# Up until the other VM has its copy.
	n=0
	until wget -q -O /dev/null "http://$peer:8080/done" 2>/dev/null; do
		n=$((n + 1))
		[ $n -ge 150 ] && { echo "guest-gave-up-waiting"; break; }
		sleep 1
	done
	echo "guest-peer-done"
	sleep 2
fi
EOF
GUEST_MODULES="virtio_pci virtio_net" \
	testhost_guest_initramfs "$TH_TMP/guest.cpio.gz" "$TH_TMP/guest.sh" ||
	{ not_ok "- guest initramfs built"; done_testing; }

cat >"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
# Everything in a network namespace of its own: taps, switch and VMs go with it.
if [ -z "$KVMS_NETNS" ]; then
	KVMS_NETNS=1 unshare -n sh /test/run.sh
	exit $?
fi
ip link set lo up
K=kavmctl
SW=kv
GUEST_CPUS=1
GUEST_MEM=128

# A counter of a port from the text of kavmctl -s switch show.
stat_of() {	# show-text port key
	printf '%s\n' "$1" | awk -v p="$2" -v k="$3" '
		$1 == "port" { in_port = ($2 == p); next }
		$1 == "total" { in_port = 0 }
		in_port { for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}

# VM N on tap ktN, pinned to the given test-host CPU, in the background; its
# VM_RC, VM_MS and VM_UP_MS go to /tmp/vmN.rc when it exits.
vm_start() {	# n cpu
	(
		read -r self _rest </proc/self/stat
		taskset -p -c "$2" "$self" >/dev/null
		boot_kavm "/tmp/vm$1.log" 240 /test/guest.cpio.gz --name "kvm$1" \
			--netdev "tap,id=n0,ifname=kt$1,vhost=on,switch=$SW" \
			--device "virtio-net-pci,netdev=n0,mac=52:54:00:00:09:0$1"
		echo "$VM_RC $VM_MS ${VM_UP_MS:-never}" >"/tmp/vm$1.rc"
	) &
}
vm_pid() { sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "/run/kavm/kvm$1.json" 2>/dev/null; }

pair_boot() {
	f0=$_in_fail
	rm -f /tmp/vm1.* /tmp/vm2.*
	# A port left over by a first attempt whose kavm was killed.
	for n in 1 2; do $K switch detach $SW kt$n >/dev/null 2>&1; done
	vm_start 1 0
	vm_start 2 1
	if wait_log /tmp/vm1.log guest-serving 240 && wait_log /tmp/vm2.log guest-serving 240; then
		show=$($K switch show $SW)
		check_match "while the VMs run, kt1 is a port of $SW" "$show" '^    port kt1 ifindex '
		check_match "while the VMs run, kt2 is a port of $SW" "$show" '^    port kt2 ifindex '
	else
		not_ok "both guests came up and serve"
	fi
	if wait_log /tmp/vm2.log guest-fetched 240; then
		st=$($K -s switch show $SW)
		printf '%s\n' "$st" | sed 's/^/# after the transfer: /'
		fw=$(stat_of "$st" kt1 forwarded)
		rxb=$(stat_of "$st" kt1 rx_bytes)
		txb=$(stat_of "$st" kt2 tx_bytes)
		# 16 MiB in at most 64 KiB (GSO) frames: 256 frames or more.
		check "the module forwarded kt1's frames to kt2 (forwarded ${fw:-none})" \
			test "${fw:-0}" -ge 256
		check "the module received 16 MiB from kt1 (rx_bytes ${rxb:-none})" \
			test "${rxb:-0}" -ge 16777216
		check "the module sent 16 MiB out of kt2 (tx_bytes ${txb:-none})" \
			test "${txb:-0}" -ge 16777216
		check_eq "no Linux bridge in this namespace" "$($K bridge show 2>&1)" ""
		for n in 1 2; do
			p=$(vm_pid $n)
			echo "# VM $n: pid ${p:-none}"
			check_eq "VM $n: kavm runs on test-host CPU $((n - 1)) only" \
				"$(awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/${p:-0}/status" 2>/dev/null)" \
				$((n - 1))
			check_eq "VM $n: every kavm thread under seccomp (Seccomp: 2)" \
				"$(awk '/^Seccomp:/ { print $2 }' "/proc/${p:-0}"/task/*/status 2>/dev/null | sort -u)" 2
		done
	else
		not_ok "the second guest fetched the first one's file"
	fi
	wait
	read -r rc1 ms1 up1 </tmp/vm1.rc
	read -r rc2 ms2 up2 </tmp/vm2.rc
	o1=$(guest_output /tmp/vm1.log)
	o2=$(guest_output /tmp/vm2.log)
	printf '%s\n' "$o1" | sed 's/^/# VM 1 guest: /'
	printf '%s\n' "$o2" | sed 's/^/# VM 2 guest: /'
	echo "# VM 1: userspace after $up1 ms, exit after $ms1 ms; VM 2: after $up2 ms, exit after $ms2 ms"
	for nr in "1 $rc1" "2 $rc2"; do
		n=${nr%% *}
		rc=${nr#* }
		check_eq "VM $n: kavm exits 0 after the guest's reboot -f" "$rc" 0
		check_eq "VM $n: guest script ran to the end" "$(guest_status /tmp/vm$n.log)" 0
		check_eq "VM $n: kavm did not fail to leave the switch" \
			"$(grep -c 'leave switch' /tmp/vm$n.log)" 0
	done
	check_match "VM 1 pings VM 2 through the switch: 3 of 3" "$o1" '^guest-ping=3$'
	check_match "VM 2 pings VM 1 through the switch: 3 of 3" "$o2" '^guest-ping=3$'
	check_match "VM 2 fetched VM 1's 16 MiB" "$o2" '^guest-fetch-rc=0 '
	sha1=$(printf '%s\n' "$o1" | sed -n 's/^guest-sha=//p')
	check "VM 1 reported its file's sha256" test -n "$sha1"
	check_eq "VM 2's copy has the same sha256 and size" \
		"$(printf '%s\n' "$o2" | sed -n 's/^guest-sha=//p')" "$sha1 size=16777216"
	show=$($K switch show $SW 2>&1)
	check_match "after the VMs exit, $SW is still there" "$show" "^switch $SW engine kmod "
	check_eq "... with no port left" "$(printf '%s\n' "$show" | grep -c '^    port ')" 0
	check "the taps themselves are still there" ip link show kt1
	check "... both" ip link show kt2
	if [ "$_in_fail" -ne "$f0" ]; then
		for n in 1 2; do
			tail -n 40 /tmp/vm$n.log | sed "s/^/# kavm $n: /"
			[ -f /tmp/vm$n.log.hang ] && sed "s/^/# hung kavm $n: /" /tmp/vm$n.log.hang
		done
	fi
	# For retry_rig_fault: the log (and status) of a VM the rig failed, if any.
	VM_RC=$rc2
	cp /tmp/vm2.log /tmp/pair.log
	vm_rig_fault /tmp/pair.log >/dev/null || {
		VM_RC=$rc1
		cp /tmp/vm1.log /tmp/pair.log
	}
}

# Only what happens from here on counts (boot has its own WARNING lines).
dmesg -c >/dev/null
check "module load (kavmctl, libkmod)" $K module load /test/kavm_switch.ko
check "switch add $SW --engine kmod" $K switch add $SW --engine kmod
for n in 1 2; do
	check "tap kt$n made (persistent, vnet header) and up" \
		sh -c "$K tap add kt$n --vnet-hdr && $K link set kt$n up"
done
t0=$(uptime_ms)
retry_rig_fault pair_boot /tmp/pair.log
echo "# two VMs: $(($(uptime_ms) - t0)) ms"
check "module unload" $K module unload
sleep 2
bad=$(dmesg | grep -E 'waiting for .* to become free|WARNING:|BUG:|Call Trace|refcount_t' |
	head -n 5)
check_eq "the kernel log has no 'waiting for', WARN, BUG or refcount line" "$bad" ""
[ -n "$bad" ] && dmesg | tail -n 60 | sed 's/^/# dmesg: /'
finish
EOF
testhost_check --name kmod-vms "$TH_TMP/inside.sh" "$KO" "$TH_TMP/guest.cpio.gz"
done_testing
