#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm's hubport, socket and filter-dump with Debian guests, in one test-host boot.
#
# 1. One kavm guest with two NICs on hub 0 (hubport). The guest moves eth1
#    into a network namespace of its own, so the two NICs are two hosts on
#    one segment: each pings the other 3 of 3, every frame through the hub.
#    A filter-dump on eth0's hubport records it; the pcap comes back to the
#    build host (base64 on the console) and tshark must find the echo
#    requests and replies, in order. A third NIC on a tap with vhost=on
#    carries a second dump: kavm must say at start that it sees none of
#    those frames and name the tap for tcpdump.
# 2. A kavm guest (socket listen=) and a QEMU 7.2 guest (-netdev socket
#    connect=) on one TCP segment: each pings the other 3 of 3 and the QEMU
#    guest fetches 1 MiB from the kavm guest with the same sha256.
# Every kavm runs under its seccomp allow-lists (the default).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-testhost.sh"

require_cmd qemu-system-x86_64
require_cmd tshark
[ -x "$BUILD/kavm" ] || { not_ok "- build/kavm exists (run make)"; done_testing; }
testhost_init || { not_ok "- test host prepared"; done_testing; }

# The hub guest: eth1 goes into a namespace held by a sleeping process.
cat >"$TH_TMP/hub.sh" <<'EOF'
ip link set eth0 up && ip addr add 10.0.9.1/24 dev eth0
unshare -n sleep 600 &
ns=$!
sleep 1
ip link set dev eth1 netns "$ns" || echo "guest-netns-failed"
nsenter -t "$ns" -n sh -c 'ip link set lo up; ip link set eth1 up; ip addr add 10.0.9.2/24 dev eth1'
ping -c 3 -W 5 10.0.9.2 >/tmp/p0 2>&1
echo "guest-ping-eth0-to-eth1=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/p0)"
nsenter -t "$ns" -n ping -c 3 -W 5 10.0.9.1 >/tmp/p1 2>&1
echo "guest-ping-eth1-to-eth0=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/p1)"
kill "$ns"
EOF

# The kavm side of the socket segment: serves 1 MiB, stays until the QEMU guest is done.
cat >"$TH_TMP/sock-kavm.sh" <<'EOF'
ip link set eth0 up && ip addr add 10.0.8.1/24 dev eth0
mkdir -p /www
dd if=/dev/urandom of=/www/f.bin bs=1K count=1024 2>/dev/null
echo "guest-f-sha=$(sha256sum /www/f.bin | cut -d' ' -f1)"
httpd -p 8080 -h /www
n=0
until ping -c 1 -W 2 10.0.8.2 >/dev/null 2>&1; do
	n=$((n + 1)); [ $n -gt 150 ] && break
done
ping -c 3 -W 5 10.0.8.2 >/tmp/p 2>&1
echo "guest-ping-qemu=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/p)"
n=0
until wget -q -O /dev/null http://10.0.8.2:8080/done 2>/dev/null; do
	n=$((n + 1)); [ $n -gt 300 ] && { echo "guest-gave-up-waiting"; break; }
	sleep 1
done
EOF

# The QEMU side: pings, fetches, then says done and waits for the kavm guest to go.
cat >"$TH_TMP/sock-qemu.sh" <<'EOF'
ip link set eth0 up && ip addr add 10.0.8.2/24 dev eth0
mkdir -p /www
httpd -p 8080 -h /www
n=0
until ping -c 1 -W 2 10.0.8.1 >/dev/null 2>&1; do
	n=$((n + 1)); [ $n -gt 150 ] && break
done
ping -c 3 -W 5 10.0.8.1 >/tmp/p 2>&1
echo "guest-ping-kavm=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/p)"
n=0
until wget -q -O /tmp/f.bin http://10.0.8.1:8080/f.bin; do
	n=$((n + 1)); [ $n -gt 30 ] && break
	sleep 2
done
echo "guest-f-sha=$(sha256sum /tmp/f.bin | cut -d' ' -f1) size=$(wc -c </tmp/f.bin)"
touch /www/done
n=0
while ping -c 1 -W 2 10.0.8.1 >/dev/null 2>&1; do
	n=$((n + 1)); [ $n -gt 150 ] && break
	sleep 1
done
EOF

for g in hub sock-kavm sock-qemu; do
	GUEST_MODULES="virtio_pci virtio_net" \
		testhost_guest_initramfs "$TH_TMP/$g.cpio.gz" "$TH_TMP/$g.sh" ||
		{ not_ok "- guest initramfs $g built"; done_testing; }
done

cat >"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
GUEST_MEM=256

# --- 1. the hub, its dump, and a dump kavm cannot fill (vhost=on)
boot_kavm /tmp/hub.log 400 /test/hub.cpio.gz \
	--netdev hubport,id=h0,hubid=0 --device virtio-net-pci,netdev=h0 \
	--netdev hubport,id=h1,hubid=0 --device virtio-net-pci,netdev=h1 \
	--netdev tap,id=t0,ifname=tapv,vhost=on --device virtio-net-pci,netdev=t0 \
	--object filter-dump,id=d0,netdev=h0,file=/tmp/hub.pcap \
	--object filter-dump,id=d1,netdev=t0,file=/tmp/vhost.pcap
out=$(guest_output /tmp/hub.log)
printf '%s\n' "$out" | sed 's/^/# hub guest: /'
check_eq "hub: kavm exits 0 after the guest's reboot -f" "$VM_RC" 0
check_eq "hub: guest script ran to the end" "$(guest_status /tmp/hub.log)" 0
check_match "hub: eth0 pings eth1 (its own netns) through the hub: 3 of 3" "$out" \
	'^guest-ping-eth0-to-eth1=3$'
check_match "hub: eth1 pings eth0 back through the hub: 3 of 3" "$out" \
	'^guest-ping-eth1-to-eth0=3$'
check_eq "hub: vhost=on: kavm says at start it sees no frame and names the tap" \
	"$(grep -c '^kavm: warning: filter-dump d1: netdev t0 has vhost=on: the kernel moves the frames and kavm sees none (only a fallback.s); capture on the tap: tcpdump -i tapv$' /tmp/hub.log)" 1
check "hub: the pcap of hubport h0 is there" test -s /tmp/hub.pcap
echo "# hub.pcap: $(wc -c </tmp/hub.pcap) bytes"
base64 /tmp/hub.pcap | sed 's/^/PCAP:/'
[ "$_in_fail" -eq 0 ] || sed 's/^/# kavm: /' /tmp/hub.log | tail -n 40

# --- 2. kavm (listen=) and QEMU 7.2 (connect=) on one TCP segment
(
	boot_kavm /tmp/sk.log 500 /test/sock-kavm.cpio.gz \
		--netdev socket,id=s0,listen=127.0.0.1:4444 --device virtio-net-pci,netdev=s0
	echo "$VM_RC" >/tmp/sk.rc
) &
kpid=$!
n=0
until netstat -ltn 2>/dev/null | grep -q ':4444 '; do
	n=$((n + 1)); [ $n -gt 60 ] && break
	sleep 1
done
boot_qemu /tmp/sq.log 500 /test/sock-qemu.cpio.gz \
	-netdev socket,id=n0,connect=127.0.0.1:4444 \
	-device virtio-net-pci,romfile=,netdev=n0,mac=52:54:00:12:34:99
qrc=$VM_RC
wait "$kpid"
kout=$(guest_output /tmp/sk.log)
qout=$(guest_output /tmp/sq.log)
printf '%s\n' "$kout" | sed 's/^/# kavm guest: /'
printf '%s\n' "$qout" | sed 's/^/# qemu guest: /'
check_eq "socket: kavm exits 0 after its guest's reboot -f" "$(cat /tmp/sk.rc)" 0
check_eq "socket: QEMU exits 0 after its guest's reboot -f" "$qrc" 0
check_eq "socket: the kavm guest's script ran to the end" "$(guest_status /tmp/sk.log)" 0
check_eq "socket: the QEMU guest's script ran to the end" "$(guest_status /tmp/sq.log)" 0
check_match "socket: the kavm guest pings the QEMU guest: 3 of 3" "$kout" '^guest-ping-qemu=3$'
check_match "socket: the QEMU guest pings the kavm guest: 3 of 3" "$qout" '^guest-ping-kavm=3$'
ksha=$(printf '%s\n' "$kout" | sed -n 's/^guest-f-sha=//p')
check "socket: the kavm guest reported its file's sha256" test -n "$ksha"
check_match "socket: the QEMU guest fetched 1 MiB from the kavm guest, same sha256" "$qout" \
	"^guest-f-sha=$ksha size=1048576\$"
check_match "socket: kavm took QEMU's connection" "$(cat /tmp/sk.log)" \
	'netdev s0: connection from 127.0.0.1:'
[ "$_in_fail" -eq 0 ] || { sed 's/^/# kavm: /' /tmp/sk.log | tail -n 40;
	sed 's/^/# qemu: /' /tmp/sq.log | tail -n 20; }
finish
EOF

testhost_check --qemu "$TH_TMP/inside.sh" "$TH_TMP/hub.cpio.gz" "$TH_TMP/sock-kavm.cpio.gz" \
	"$TH_TMP/sock-qemu.cpio.gz"

# The hub's pcap, back on the build host: tshark reads it and finds the pings in order.
sed -n 's/^PCAP://p' "$TH_TMP/check.out" | base64 -d >"$TH_TMP/hub.pcap" 2>/dev/null
icmp=$(tshark -r "$TH_TMP/hub.pcap" -Y icmp -T fields -E separator=' ' -e ip.src -e ip.dst \
	-e icmp.type -e icmp.seq 2>/dev/null)
echo "$icmp" | sed 's/^/# tshark: /'
want="10.0.9.1 10.0.9.2 8 0
10.0.9.2 10.0.9.1 0 0
10.0.9.1 10.0.9.2 8 1
10.0.9.2 10.0.9.1 0 1
10.0.9.1 10.0.9.2 8 2
10.0.9.2 10.0.9.1 0 2
10.0.9.2 10.0.9.1 8 0
10.0.9.1 10.0.9.2 0 0
10.0.9.2 10.0.9.1 8 1
10.0.9.1 10.0.9.2 0 1
10.0.9.2 10.0.9.1 8 2
10.0.9.1 10.0.9.2 0 2"
check_eq "- tshark reads hubport h0's pcap: both ping runs, request before reply, in order" \
	"$icmp" "$want"
nframes=$(tshark -r "$TH_TMP/hub.pcap" -T fields -e frame.number 2>"$TH_TMP/tshark.err" | wc -l)
echo "# hub.pcap: $nframes frames (ARP, ICMPv6 and the pings)"
check_eq "- tshark reads the whole pcap without a complaint" \
	"$(grep -v '^Running as user' "$TH_TMP/tshark.err")" ""
check "- the pcap has frames besides the pings" test "$nframes" -gt 12
done_testing
