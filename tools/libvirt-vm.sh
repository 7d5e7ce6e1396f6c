#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Boot the test VM made by tools/mkvm.sh as a transient libvirt domain of
# type 'qemu' (TCG) through a running libvirtd, with PATH (a block device)
# as its virtio disk, let the guest do exactly N 4 KiB reads and M 4 KiB
# writes on it, and wait for the domain to end.  Exit 0 only if the guest
# printed its done marker; otherwise print the guest console to stderr.
# The libvirt counterpart of tools/qemu-vm.sh; libvirtd must be running.
#
# The domain: direct kernel boot of VMDIR/vmlinuz + initramfs.cpio.gz with
# qboot as firmware (SeaBIOS would read the disk), the disk as
# <driver cache='none' io=IO> (host I/O is O_DIRECT), with an explicit CHS
# geometry (else QEMU reads sector 0 to guess one), the serial console to a
# file, no balloon, no USB; QEMU runs as root without relabelling (so the
# loop device and the files need no chown); it powers off when the guest
# is done, and the transient domain is gone then.
#
# libvirt names QEMU's threads (-name guest=NAME,debug-threads=on) and puts
# them in /machine/qemu-ID-NAME.libvirt-qemu/{emulator,vcpu0} (cgroupfs, no
# systemd) and QEMU's pid in /run/libvirt/qemu/NAME.pid while it runs.
#
#   libvirt-vm.sh --disk PATH --name NAME --uuid UUID [--io threads|native]
#                 [--reads N] [--writes N] [--vm DIR] [--pidfile FILE]
#                 [--timeout SEC]
#
# --pidfile FILE: QEMU's pid is written there as soon as libvirt knows it.
# --timeout SEC (default 120) covers `virsh create`, which right after a
# libvirtd start waits for its QEMU capability probe, and the guest's run.
set -euo pipefail

usage() {
	cat >&2 <<'EOF'
usage: libvirt-vm.sh --disk PATH --name NAME --uuid UUID [--io threads|native]
                     [--reads N] [--writes N] [--vm DIR] [--pidfile FILE]
                     [--timeout SEC]
EOF
	exit 2
}
die() { echo "libvirt-vm: $*" >&2; exit 1; }

disk="" name="" uuid="" io=threads reads=0 writes=0 vm=build/vm pidfile="" timeout=120
while [[ $# -gt 0 ]]; do
	[[ $# -ge 2 ]] || usage
	case $1 in
	--disk) disk=$2 ;;
	--name) name=$2 ;;
	--uuid) uuid=$2 ;;
	--io) io=$2 ;;
	--reads) reads=$2 ;;
	--writes) writes=$2 ;;
	--vm) vm=$2 ;;
	--pidfile) pidfile=$2 ;;
	--timeout) timeout=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[[ -n $disk && -n $name && -n $uuid ]] || usage
[[ $reads =~ ^[0-9]+$ && $writes =~ ^[0-9]+$ && $timeout =~ ^[1-9][0-9]*$ ]] ||
	die "--reads, --writes and --timeout take whole numbers"
[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || die "--name: letters, digits, '_', '.', '-' only"
[[ $uuid =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] ||
	die "--uuid: a lower-case UUID, not '$uuid'"
[[ $io == threads || $io == native ]] || die "--io must be threads or native, not '$io'"
[[ -b $disk ]] || die "no block device $disk"
vm=$(cd "$vm" 2>/dev/null && pwd) || die "no directory $vm"
[[ -f $vm/vmlinuz && -f $vm/initramfs.cpio.gz ]] || die "no VM in $vm; build it with: bash tools/mkvm.sh $vm"
command -v virsh >/dev/null || die "virsh missing; run: bash tools/install-deps.sh"
qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 missing; run: bash tools/install-deps.sh"
qboot=$(readlink -f "${qemu%/bin/*}/share/qemu/qboot.rom")
[[ -f $qboot ]] || die "no qboot firmware at $qboot (package qemu-system-data)"

export LIBVIRT_DEFAULT_URI=qemu:///system
work=$(mktemp -d /tmp/iotrace-libvirt-vm.XXXXXX)
console=$work/console.log
created=0
# If we are killed or time out, take the domain down too.
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	if ((created)); then
		virsh destroy "$name" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$work/domain.xml" <<EOF
<domain type='qemu'>
  <name>$name</name>
  <uuid>$uuid</uuid>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <loader type='rom'>$qboot</loader>
    <kernel>$vm/vmlinuz</kernel>
    <initrd>$vm/initramfs.cpio.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 iotrace.reads=$reads iotrace.writes=$writes</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$qemu</emulator>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='$io'/>
      <source dev='$disk'/>
      <geometry cyls='1024' heads='16' secs='63'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='$console'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
  <seclabel type='static' model='dac' relabel='no'>
    <label>+0:+0</label>
  </seclabel>
</domain>
EOF

start=$(date +%s.%N)
deadline=$(($(date +%s) + timeout))
created=1
timeout -k 5 "$timeout" virsh create "$work/domain.xml" >"$work/create.out" 2>&1 || {
	cat "$work/create.out" >&2
	die "virsh create failed"
}
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "libvirt-vm: virsh create took $secs s"

# QEMU's pid: libvirt's pid file for the domain, there while it runs.
pid=""
while :; do
	state=$(virsh domstate "$name" 2>/dev/null) || break
	if [[ -z $pid ]]; then
		pid=$(cat "/run/libvirt/qemu/$name.pid" 2>/dev/null) || pid=""
		[[ $pid =~ ^[0-9]+$ ]] || pid=""
		if [[ -n $pid ]]; then
			echo "libvirt-vm: QEMU pid $pid"
			[[ -z $pidfile ]] || echo "$pid" >"$pidfile"
		fi
	fi
	if (($(date +%s) >= deadline)); then
		echo "--- guest console ---" >&2
		tr -d '\r' <"$console" >&2 2>/dev/null || true
		die "timed out after $timeout s (domain $name is $state)"
	fi
	sleep 0.2
done
created=0
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

if grep -qx "iotrace-vm: done reads=$reads writes=$writes" <<<"$(tr -d '\r' <"$console")"; then
	tr -d '\r' <"$console" | grep '^iotrace-vm: '
	echo "libvirt-vm: guest done in $secs s (io=$io)"
	exit 0
fi
{
	echo "--- guest console ---"
	tr -d '\r' <"$console"
	echo "---"
	echo "libvirt-vm: no done marker after $secs s (QEMU log: /var/log/libvirt/qemu/$name.log)"
} >&2
exit 1
