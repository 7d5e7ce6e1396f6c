#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Install every Debian package iotrace needs to build, test and benchmark.
# Idempotent: when everything is present it changes nothing.
set -euo pipefail

packages=(
	# build
	make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev libvirt-dev
	libncurses-dev
	# tests
	libcmocka-dev jq util-linux iproute2 procps
	# `make fuzz`: clang's libFuzzer and sanitizer runtimes (only recommended
	# by clang, so not installed with it here)
	libclang-rt-14-dev
	# iotrace top as a person sees it (tests/integration/test_top.sh)
	tmux
	# what ships beside the binary (tests/integration/test_packaging.sh):
	# systemd-analyze verify for the unit, groff for the man page
	systemd groff-base
	# network fixtures (tests/integration/netlib.sh: DNAT + MASQUERADE)
	iptables
	# test VM (tools/qemu-vm.sh; tools/mkvm.sh only downloads its .debs);
	# vmtouch keeps QEMU's files in memory during the VM tests
	qemu-system-x86 vmtouch
	# libvirt VM test (libvirtd, virtlogd, virsh; tools/libvirt-vm.sh)
	libvirt-daemon-system
	# a real Docker container in the network test (dockerd started by the
	# test itself; busybox-static is the container's root file system)
	docker.io busybox-static
	# workloads and benchmarks
	fio bpftrace iperf3
	# iotrace serve's HTTP endpoint; a real Prometheus server and promtool
	# scrape and lint it (tests/integration/test_serve.sh)
	libmicrohttpd-dev prometheus
)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (apt-get); try: sudo make deps" >&2
	exit 1
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages present"
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
