#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kavm's command line against build/kavm: each bad input gives exactly one
# line naming the cause, status 1 and nothing left behind. Every input is
# checked before /dev/kvm opens, so none of this needs KVM; without a usable
# /dev/kvm kavm says so in one line that says what to do. Fake kernels
# running on KVM are tests/kvm/kavm-run.sh.
. "$(dirname "$0")/../lib.sh"

KAVM=${KAVM:-$BUILD/kavm}
[ -x "$KAVM" ] || skip_all "needs $KAVM (make)"
T=$(mktemp -d /tmp/kavm-cli.XXXXXX)
at_exit rm -rf "$T"


expect_error() {	# desc "message" args...
	local desc=$1 msg=$2
	shift 2
	run "$@"
	check_eq "$desc: status 1" "$RC" 1
	check_eq "$desc: one line" "$ERR" "kavm: $msg"
}

. "$(dirname "$0")/../lib-kernels.sh"

mkkernels "$T"
mkbz "$T/32bit.bz" 00 "$RESET"
mkbz "$T/old.bz" 01 "$RESET"
poke "$T/old.bz" 0x206 0402
mkbz "$T/trunc.bz" 01 "$RESET" 65536
truncate -s 20000 "$T/trunc.bz"
echo "not a kernel" >"$T/text"
: >"$T/empty"
head -c $((40 << 20)) /dev/zero >"$T/big.initrd"
host_mib=$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)

# --- the command line itself
run --help
check_eq "--help: status 0" "$RC" 0
check_match "--help: usage" "$OUT" "^usage: kavm --kernel PATH"
expect_error "no kernel" "no kernel: --kernel PATH is required (try --help)"
expect_error "unknown option" "--bogus: unknown option (try --help)" --kernel "$T/reset.bz" --bogus
expect_error "missing argument" "--memory: missing argument (try --help)" --kernel "$T/reset.bz" --memory
expect_error "stray argument" "stray: unexpected argument (try --help)" --kernel "$T/reset.bz" stray
expect_error "zero memory" "--memory 0: must be a multiple of 4K from 16M to 1024G" \
	--kernel "$T/reset.bz" --memory 0
expect_error "absurd memory" "--memory 100T: must be a multiple of 4K from 16M to 1024G" \
	--kernel "$T/reset.bz" --memory 100T
expect_error "memory not a size" "--memory lots: not a size (examples: 512M, 2G)" \
	--kernel "$T/reset.bz" --memory lots
if [ "$host_mib" -lt 1000000 ]; then
	expect_error "memory beyond host RAM" \
		"guest memory $((host_mib + 1024)) MiB: more than the host's $host_mib MiB of RAM" \
		--kernel "$T/reset.bz" --memory $((host_mib + 1024))M
fi
expect_error "zero CPUs" "--cpus 0: must be a number from 1 to 254" --kernel "$T/reset.bz" --cpus 0
expect_error "absurd CPUs" "--cpus 100000: must be a number from 1 to 254" \
	--kernel "$T/reset.bz" --cpus 100000
expect_error "unknown CPU feature" "--cpu-features: unknown feature 'warp9'" \
	--kernel "$T/reset.bz" --cpu-features -cx16,-warp9
expect_error "bad --seccomp" "--seccomp maybe: expected on or off" \
	--kernel "$T/reset.bz" --seccomp maybe
expect_error "bad serial" "--serial tcp:1: expected stdio, none, file:PATH or unix:PATH" \
	--kernel "$T/reset.bz" --serial tcp:1
expect_error "device on an unknown netdev" "--device virtio-net-pci,netdev=n1: no --netdev with id n1" \
	--kernel "$T/reset.bz" --netdev tap,id=n0 --device virtio-net-pci,netdev=n1
expect_error "netdev used twice" \
	"--device virtio-net-pci,netdev=n0: netdev n0 is already used by another device" \
	--kernel "$T/reset.bz" --netdev tap,id=n0 --device virtio-net-pci,netdev=n0 \
	--device virtio-net-pci,netdev=n0
expect_error "duplicate netdev id" "--netdev tap,id=n0,ifname=t1: duplicate id n0" \
	--kernel "$T/reset.bz" --netdev tap,id=n0 --netdev tap,id=n0,ifname=t1
expect_error "unknown netdev type" "--netdev slirp,id=n0: unknown netdev type slirp" \
	--kernel "$T/reset.bz" --netdev slirp,id=n0
expect_error "vhost-user without a backend" \
	"netdev n0: vhost-user: connect to $T/none.sock: No such file or directory" \
	--kernel "$T/reset.bz" --netdev "vhost-user,id=n0,socket=$T/none.sock" \
	--device virtio-net-pci,netdev=n0
expect_error "vhost-user server redialling" \
	"--netdev vhost-user,id=n0,socket=/s,server=on,reconnect=1: netdev n0: reconnect= is for server=off" \
	--kernel "$T/reset.bz" --netdev vhost-user,id=n0,socket=/s,server=on,reconnect=1
"$KAVM" --kernel "$T/reset.bz" --netdev tap,id=n0,fd=5 --device virtio-net-pci,netdev=n0 \
	>"$T/out" 2>"$T/err" </dev/null 5</dev/null
check_eq "fd= not a tap: status 1, one line" "$?:$(cat "$T/err")" \
	"1:kavm: netdev n0: tap fd 5: Inappropriate ioctl for device"
expect_error "unknown device" "--device e1000,netdev=n0: unknown device e1000" \
	--kernel "$T/reset.bz" --netdev tap,id=n0 --device e1000,netdev=n0

# --- as QEMU users expect: --version, help lists, id=, script=no, -nic, one-dash spellings
run --version
check_eq "--version: status 0, one line" "$RC:$OUT" "0:kavm version 0.1.0"
run --netdev help
check_eq "--netdev help: the types, status 0" "$RC:$OUT" "0:Available netdev backend types:
  tap
  bridge
  vhost-user
  hubport
  socket"
run --device help
check_eq "--device help: the devices, status 0" "$RC:$OUT" "0:Network devices:
  virtio-net-pci   virtio 1.x network card on PCI (MSI-X)
                   netdev=ID[,mac=52:54:00:12:34:56][,id=ID]"
expect_error "an unknown option is named as typed, not the argument before it" \
	"-nographic: unknown option (try --help)" -k /etc/passwd -nographic
expect_error "an unknown short option inside a cluster is named" \
	"-vz: unknown option (try --help)" -k /etc/passwd -vz
expect_error "QEMU's -kernel is --kernel" "kernel $T/text: not a Linux kernel (neither a bzImage nor an ELF vmlinux)" \
	-kernel "$T/text"
expect_error "a device's id= names it" \
	"--device virtio-net-pci,id=nic0,netdev=n1: no --netdev with id n1" \
	--kernel "$T/reset.bz" --netdev tap,id=n0 --device virtio-net-pci,netdev=n1,id=nic0
expect_error "two devices with one id" \
	"--device virtio-net-pci,netdev=n1,id=nic0: duplicate id nic0" \
	--kernel "$T/reset.bz" --netdev tap,id=n0 --netdev tap,id=n1 \
	--device virtio-net-pci,netdev=n0,id=nic0 --device virtio-net-pci,netdev=n1,id=nic0
expect_error "a device id that is another netdev's" \
	"--device virtio-net-pci,id=n1,netdev=n0: id n1 is another netdev's id" \
	--kernel "$T/reset.bz" --netdev tap,id=n0 --netdev tap,id=n1 \
	--device virtio-net-pci,netdev=n0,id=n1 --device virtio-net-pci,netdev=n1
expect_error "script= other than no" \
	"--netdev tap,id=n0,script=/etc/qemu-ifup: script=/etc/qemu-ifup: kavm runs no scripts (only script=no)" \
	--kernel "$T/reset.bz" --netdev tap,id=n0,script=/etc/qemu-ifup
expect_error "downscript= other than no" \
	"--netdev tap,id=n0,downscript=/bin/true: downscript=/bin/true: kavm runs no scripts (only downscript=no)" \
	--kernel "$T/reset.bz" --netdev tap,id=n0,downscript=/bin/true
# Past the parser, the backend's own check proves the options were taken.
"$KAVM" -kernel "$T/reset.bz" -netdev tap,id=n0,fd=5,script=no,downscript=no \
	-device virtio-net-pci,netdev=n0,id=nic0 >"$T/out" 2>"$T/err" </dev/null 5</dev/null
check_eq "script=no,downscript=no and id= accepted" "$?:$(cat "$T/err")" \
	"1:kavm: netdev n0: tap fd 5: Inappropriate ioctl for device"
"$KAVM" --kernel "$T/reset.bz" -nic tap,fd=5,model=virtio-net-pci,mac=52:54:00:00:00:09 \
	>"$T/out" 2>"$T/err" </dev/null 5</dev/null
check_eq "-nic: a netdev nic0 and its NIC" "$?:$(cat "$T/err")" \
	"1:kavm: netdev nic0: tap fd 5: Inappropriate ioctl for device"
expect_error "-nic with another model" \
	"--nic tap,model=e1000: model=e1000: kavm's NIC is virtio-net-pci" \
	--kernel "$T/reset.bz" -nic tap,model=e1000
expect_error "-nic and a netdev with its id" "--nic tap: duplicate id nic0" \
	--kernel "$T/reset.bz" --netdev tap,id=nic0 -nic tap
expect_error "--name with a slash" \
	"--name a/b: expected 1 to 32 letters, digits, '-', '_' or '.', not starting with '.' or '-'" \
	--kernel "$T/reset.bz" --name a/b
long=$(head -c 120 /dev/zero | tr '\0' x)
expect_error "--control longer than a socket path" \
	"--control $long: a socket path of 1 to 107 characters" --kernel "$T/reset.bz" --control "$long"
expect_error "--control in a missing directory" \
	"control $T/no/such/c.sock: No such file or directory" \
	--kernel "$T/reset.bz" --control "$T/no/such/c.sock"

# --- make install: into a DESTDIR, every file where PREFIX says
if command -v make >/dev/null && [ -f "$TOP/Makefile" ]; then
	make -s -C "$TOP" install DESTDIR="$T/dest" PREFIX=/usr >"$T/out" 2>&1
	check_eq "make install DESTDIR= PREFIX=/usr: status 0" "$?" 0
	for f in bin/kavm:755 bin/kavmctl:755 share/man/man1/kavm.1:644 \
		share/man/man8/kavmctl.8:644 share/doc/kavm/bridge.conf.example:644; do
		check_eq "installed $f" "$(stat -c %a "$T/dest/usr/${f%:*}" 2>&1)" "${f#*:}"
	done
	check_eq "the installed kavm runs" "$("$T/dest/usr/bin/kavm" --version)" "kavm version 0.1.0"
	check_eq "the installed man page renders without warnings" \
		"$(groff -man -Tutf8 -ww "$T/dest/usr/share/man/man1/kavm.1" 2>&1 >/dev/null)" ""
	check_eq "nothing outside DESTDIR/usr" "$(cd "$T/dest" && ls)" "usr"
	make -s -C "$TOP" uninstall DESTDIR="$T/dest" PREFIX=/usr >/dev/null 2>&1
	check_eq "make uninstall leaves no file" "$(find "$T/dest" -type f)" ""
else
	not_ok "make install needs make and the source tree"
fi

# --- images and files: read before /dev/kvm opens
expect_error "missing kernel" "kernel $T/nope: No such file or directory" --kernel "$T/nope"
expect_error "text file as kernel" \
	"kernel $T/text: not a Linux kernel (neither a bzImage nor an ELF vmlinux)" --kernel "$T/text"
expect_error "empty kernel" \
	"kernel $T/empty: not a Linux kernel (neither a bzImage nor an ELF vmlinux)" --kernel "$T/empty"
expect_error "directory as kernel" "kernel $T: not a regular file" --kernel "$T"
expect_error "32-bit only bzImage" \
	"kernel $T/32bit.bz: bzImage without a 64-bit entry point (XLF_KERNEL_64 clear)" \
	--kernel "$T/32bit.bz"
expect_error "old boot protocol" \
	"kernel $T/old.bz: boot protocol 0x204, kavm needs 0x20c or later" --kernel "$T/old.bz"
expect_error "truncated bzImage" \
	"kernel $T/trunc.bz: truncated bzImage (17440 bytes of kernel, header says 65536)" \
	--kernel "$T/trunc.bz"
expect_error "missing initrd" "initrd $T/nope: No such file or directory" \
	--kernel "$T/reset.bz" --initrd "$T/nope"
expect_error "initrd that does not fit" \
	"initrd $T/big.initrd: 41943040 bytes do not fit in guest RAM between the kernel's end (0x200000) and 0x2000000" \
	--kernel "$T/reset.bz" --initrd "$T/big.initrd" --memory 32M
long=$(head -c 300 /dev/zero | tr '\0' x)
expect_error "command line longer than the kernel takes" \
	"command line: 300 bytes, the kernel takes at most 255" --kernel "$T/reset.bz" --cmdline "$long"
run --kernel "$T/text" --serial "file:$T/console"
check "a failed start leaves no console file" test ! -e "$T/console"
expect_error "serial file in a missing directory" \
	"serial file:$T/no/such: No such file or directory" \
	--kernel "$T/reset.bz" --serial "file:$T/no/such"

# --- netdevs: opened before /dev/kvm too; a failure names the netdev and
# the step, once, and the tap kavm made goes.
if [ "$(id -u)" -eq 0 ] && [ -e /dev/net/tun ]; then
	netns_new NS
	ip netns exec "$NS" "$KAVM" --kernel "$T/reset.bz" --serial none \
		--netdev tap,id=n0,ifname=kt3,vhostfd=5 --device virtio-net-pci,netdev=n0 \
		>"$T/out" 2>"$T/err" </dev/null 5</dev/null
	check_eq "vhostfd= not a vhost fd: status 1, one line" "$?:$(cat "$T/err")" \
		"1:kavm: netdev n0: vhost-net: VHOST_SET_OWNER: Inappropriate ioctl for device"
	check_no_link "vhostfd= not a vhost fd: the tap kavm made is gone" "$NS" kt3
else
	not_ok "netdev checks need root and /dev/net/tun"
fi

# --- no usable /dev/kvm: a private mount namespace hides it (root only)
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	nokvm() {	# what: run kavm ARGS with /dev/kvm as WHAT (missing, file)
		local what=$1
		shift
		unshare -m bash -c '
			mount -t tmpfs -o mode=755 kavm-nokvm /dev || exit 99
			[ "$0" = file ] && : >/dev/kvm
			exec "$@"' "$what" "$KAVM" "$@" >"$T/out" 2>"$T/err" </dev/null 5<"$T/text"
		RC=$?
		ERR=$(cat "$T/err")
	}
	nokvm missing --kernel "$T/reset.bz" -q
	check_eq "no /dev/kvm: status 1, one line that says what to do" "$RC:$ERR" \
		"1:kavm: /dev/kvm: No such file or directory: this host offers no KVM (load kvm_intel or kvm_amd; inside a VM, enable nested virtualization)"
	nokvm file --kernel "$T/reset.bz" -q
	check_eq "/dev/kvm not a KVM device: status 1, one line" "$RC:$ERR" \
		"1:kavm: /dev/kvm: not a KVM device (KVM_GET_API_VERSION: Inappropriate ioctl for device)"
	# Inputs come first: their error, not /dev/kvm's, is what the user sees.
	nokvm missing --kernel /nonexistent
	check_eq "no /dev/kvm, missing kernel: the kernel is named" "$RC:$ERR" \
		"1:kavm: kernel /nonexistent: No such file or directory"
	nokvm missing --kernel "$T/text"
	check_eq "no /dev/kvm, text file as kernel: the kernel is named" "$RC:$ERR" \
		"1:kavm: kernel $T/text: not a Linux kernel (neither a bzImage nor an ELF vmlinux)"
	nokvm missing --kernel "$T/reset.bz" --initrd "$T/nope"
	check_eq "no /dev/kvm, missing initrd: the initrd is named" "$RC:$ERR" \
		"1:kavm: initrd $T/nope: No such file or directory"
	nokvm missing --kernel "$T/reset.bz" --serial "file:$T/no/such"
	check_eq "no /dev/kvm, serial file in a missing directory: named" "$RC:$ERR" \
		"1:kavm: serial file:$T/no/such: No such file or directory"
	KAVM_RUNDIR=$T/run nokvm missing --kernel "$T/reset.bz" --name web1 -q
	check_eq "no /dev/kvm with --name: the /dev/kvm line" "$RC:$ERR" \
		"1:kavm: /dev/kvm: No such file or directory: this host offers no KVM (load kvm_intel or kvm_amd; inside a VM, enable nested virtualization)"
	check_eq "--name made KAVM_RUNDIR, mode 0700" "$(stat -c %a "$T/run")" 700
	check "a failed start leaves no control socket" test ! -e "$T/run/web1.sock"
	nokvm missing --kernel "$T/reset.bz" --control "$T/no/such/c.sock"
	check_eq "no /dev/kvm, control socket in a missing directory: named" "$RC:$ERR" \
		"1:kavm: control $T/no/such/c.sock: No such file or directory"
	nokvm missing --kernel "$T/reset.bz" --netdev tap,id=n0,fd=5 --device virtio-net-pci,netdev=n0
	check_eq "no /dev/kvm, fd= not a tap: the netdev is named" "$RC:$ERR" \
		"1:kavm: netdev n0: tap fd 5: Inappropriate ioctl for device"
else
	not_ok "no-/dev/kvm checks need root and unshare(1)"
fi

done_testing
