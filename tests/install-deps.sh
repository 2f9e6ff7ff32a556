#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install what kavm's build and tests need on Debian 12 (run as root).
set -e
PKGS="build-essential pkg-config git make gcc clang llvm libclang-rt-dev clang-format \
libnl-3-dev libnl-route-3-dev libnl-genl-3-dev libbpf-dev bpftool libelf-dev \
zlib1g-dev libkmod-dev iproute2 busybox-static qemu-system-x86 cpio kmod \
jq valgrind iperf3 tshark python3 bc linux-headers-amd64 libseccomp-dev libjson-c-dev acpica-tools xxd \
dpdk-dev librte-net-vhost23 librte-mempool-ring23"
# dpdk-dev brings dpdk-testpmd, the vhost-user backend of tests/native/vhost_user_testpmd
# and tests/bench/vhost-user-testpmd; the two librte packages are its vhost PMD and mempool.
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root (apt-get install)" >&2
	exit 1
fi
missing=$(for p in $PKGS; do dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	grep -q 'install ok installed' || echo "$p"; done)
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
echo "install-deps: all packages present"
