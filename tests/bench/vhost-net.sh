#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vhost-net against kavm's own data path, in one test host run.
#
# A Debian guest with one virtio-net NIC on a tap moves KAVM_BENCH_MIB MiB
# (default 64) each way over TCP (busybox httpd and wget, one direction at a
# time) KAVM_BENCH_REPS times (default 2) per boot, once with kavm moving the
# frames and once with vhost=on, alternating which goes first. Figures per
# direction: throughput (MiB/s, the fetching side's clock) and what the test
# host's kernel counted meanwhile: kavm's CPU ticks, its vhost workers' ticks
# and kavm's read/write system calls. Absolute figures are distorted by the
# emulation (TCG with nested SVM): only the ratios of one run mean anything.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../host/lib-testhost.sh"

MIB=${KAVM_BENCH_MIB:-64}
REPS=${KAVM_BENCH_REPS:-2}
[ -x "$BUILD/kavm" ] && [ -x "$BUILD/kavmctl" ] || {
	echo "vhost-net: build/kavm and build/kavmctl are needed (run make)" >&2
	exit 1
}
testhost_init || exit 1

cat >"$TH_TMP/guest.sh" <<EOF
MIB=$MIB REPS=$REPS
EOF
cat >>"$TH_TMP/guest.sh" <<'EOF'
H=10.0.2.1
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0
mkdir -p /www
dd if=/dev/urandom of=/www/g.bin bs=1M count="$MIB" 2>/dev/null
httpd -p 8080 -h /www
ping -c 1 -W 5 "$H" >/dev/null 2>&1
echo "guest-serving"
# The host fetches g.bin REPS times, then asks for host -> guest.
until wget -q -O /dev/null "http://$H:8080/go" 2>/dev/null; do sleep 1; done
i=0
while [ $i -lt "$REPS" ]; do
	t0=$(cut -d' ' -f1 /proc/uptime)
	wget -q -O /dev/null "http://$H:8080/h.bin" || echo "guest-rx-failed"
	echo "guest-rx t0=$t0 t1=$(cut -d' ' -f1 /proc/uptime)"
	i=$((i + 1))
done
echo "guest-rx-done"
until wget -q -O /dev/null "http://$H:8080/done" 2>/dev/null; do sleep 1; done
EOF
GUEST_MODULES="virtio_pci virtio_net" \
	testhost_guest_initramfs "$TH_TMP/guest.cpio.gz" "$TH_TMP/guest.sh" || exit 1

cat >"$TH_TMP/inside.sh" <<EOF
MIB=$MIB REPS=$REPS
EOF
cat >>"$TH_TMP/inside.sh" <<'EOF'
. /test/lib.sh
GUEST_MEM=$((MIB * 2 + 192))
kavmctl tap add tap0 --vnet-hdr && kavmctl link set tap0 up &&
	ip addr add 10.0.2.1/24 dev tap0 || exit 1
mkdir -p /srv
dd if=/dev/urandom of=/srv/h.bin bs=1M count="$MIB" 2>/dev/null
httpd -p 10.0.2.1:8080 -h /srv

field() { echo "$2" | sed -n "s/.*$1=\([0-9a-z]*\).*/\1/p"; }
diff_of() {	# field before after
	a=$(field "$1" "$2")
	b=$(field "$1" "$3")
	[ "$a" = none ] && { echo 0; return; }
	echo $((b - a))
}
mibs() { awk -v m="$1" -v ms="$2" 'BEGIN { printf "%.1f", ms ? m * 1000 / ms : 0 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }

# The host's side of one boot: guest -> host REPS times, then host -> guest;
# kavm's counters before, between and after. Results in /tmp/MODE.res.
host_side() {	# mode
	wait_log /tmp/kavm.log guest-serving 600 || exit 1
	pid=$(vmm_pid)
	c0=$(vmm_counters "$pid")
	ms=0
	i=0
	while [ $i -lt "$REPS" ]; do
		t0=$(uptime_ms)
		timeout 300 wget -q -O /dev/null http://10.0.2.15:8080/g.bin || touch "/tmp/$1.txfail"
		ms=$((ms + $(uptime_ms) - t0))
		i=$((i + 1))
	done
	c1=$(vmm_counters "$pid")
	touch /srv/go
	wait_log /tmp/kavm.log guest-rx-done 600
	c2=$(vmm_counters "$pid")
	touch /srv/done
	echo "tx_ms=$ms c0 $c0" >"/tmp/$1.res"
	echo "c1 $c1" >>"/tmp/$1.res"
	echo "c2 $c2" >>"/tmp/$1.res"
}

bench_one() {	# mode netdev-extra
	rm -f /srv/go /srv/done /tmp/kavm.log "/tmp/$1.res" "/tmp/$1.txfail"
	host_side "$1" &
	hs=$!
	boot_kavm /tmp/kavm.log 600 /test/guest.cpio.gz \
		--netdev tap,id=n0,ifname=tap0$2 --device virtio-net-pci,netdev=n0
	kill "$hs" 2>/dev/null
	wait "$hs"
	if [ "$VM_RC" -ne 0 ] || grep -q guest-rx-failed /tmp/kavm.log || [ -e "/tmp/$1.txfail" ] ||
		[ ! -s "/tmp/$1.res" ]; then
		echo "$1: run failed (exit $VM_RC)"
		tail -n 30 /tmp/kavm.log | sed "s/^/  $1: /"
		exit 1
	fi
	rx_ms=$(sed -n 's/.*guest-rx t0=\([0-9.]*\) t1=\([0-9.]*\).*/\1 \2/p' /tmp/kavm.log |
		awk '{ s += ($2 - $1) * 1000 } END { printf "%d", s }')
	tx_ms=$(sed -n 's/^tx_ms=\([0-9]*\).*/\1/p' "/tmp/$1.res")
	c0=$(sed -n 's/.* c0 //p' "/tmp/$1.res")
	c1=$(sed -n 's/^c1 //p' "/tmp/$1.res")
	c2=$(sed -n 's/^c2 //p' "/tmp/$1.res")
	for d in tx rx; do
		if [ $d = tx ]; then a=$c0 b=$c1 t=$tx_ms; else a=$c1 b=$c2 t=$rx_ms; fi
		line="$(mibs $((MIB * REPS)) "$t") $(diff_of cpu "$a" "$b") $(diff_of io "$a" "$b")"
		line="$line $(diff_of vhost_ticks "$a" "$b") $(diff_of syscalls "$a" "$b")"
		echo "$line" >>"/tmp/$1.$d"
		printf '%-6s %-12s %7s MiB/s; ticks: kavm %4s, its I/O thread %4s, vhost %4s; %5s read/write calls\n' \
			"$1" "$([ $d = tx ] && echo guest-\>host || echo host-\>guest)" $line
	done
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$2" '{ print $c }' "$1" | median; }

echo "$((MIB * REPS)) MiB each way per boot; MiB/s on the fetching side's clock; ticks of 10 ms"
r=1
while [ $r -le 2 ]; do
	if [ $r = 1 ]; then
		bench_one user ""
		bench_one vhost ,vhost=on
	else
		bench_one vhost ,vhost=on
		bench_one user ""
	fi
	r=$((r + 1))
done
echo
echo "medians over both boots of each, vhost-net / kavm's own data path:"
for d in tx rx; do
	name=$([ $d = tx ] && echo "guest->host" || echo "host->guest")
	ut=$(col /tmp/user.$d 1)
	vt=$(col /tmp/vhost.$d 1)
	uc=$(col /tmp/user.$d 2)
	vc=$(col /tmp/vhost.$d 2)
	ui=$(col /tmp/user.$d 3)
	vi=$(col /tmp/vhost.$d 3)
	vv=$(col /tmp/vhost.$d 4)
	us=$(col /tmp/user.$d 5)
	vs=$(col /tmp/vhost.$d 5)
	echo "  $name: throughput $vt vs $ut MiB/s = $(ratio "$vt" "$ut")x"
	echo "    data path CPU (kavm's I/O thread, + vhost's worker): $vi + $vv vs $ui ticks" \
		"= $(ratio "$(awk -v a="$vi" -v b="$vv" 'BEGIN { print a + b }')" "$ui")x"
	echo "    kavm in all (its vCPUs' guest time included): $vc vs $uc ticks = $(ratio "$vc" "$uc")x"
	echo "    kavm's read/write calls: $vs vs $us = $(ratio "$vs" "$us")x"
done
EOF
echo "vhost-net: kavm with and without vhost=on, 2 boots each, in one test host"
testhost_run --name bench-vhost-net "$TH_TMP/inside.sh" "$TH_TMP/guest.cpio.gz"
