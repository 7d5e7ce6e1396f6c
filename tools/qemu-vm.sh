#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Boot the test VM made by tools/mkvm.sh under QEMU/TCG with PATH as a
# virtio-blk disk (cache=none: host I/O is O_DIRECT and reaches the host
# block layer), let the guest do exactly N 4 KiB reads and M 4 KiB writes on
# it, and wait for it to power off.  Exit 0 only if the guest printed its
# done marker; otherwise print the guest console to stderr.
#
# Which host thread issues the guest's disk I/O (names from debug-threads=on;
# measured with QEMU 7.2 on Linux 6.18):
#   threads   aio=threads: QEMU's thread-pool threads, named "worker"
#   native    aio=native: io_submit from the main-loop thread (comm
#             "qemu-system-x86", tid == pid), which services the
#             virtqueue kick (ioeventfd), not the vCPU thread "CPU 0/TCG"
#   iothread  aio=native with -object iothread: the iothread "IO io0"
#             (aio=threads there would hand the I/O to "worker" threads)
# Besides the guest's I/O the host sees: the guest kernel's partition scan
# (3 x 4 KiB reads on a zeroed disk, same thread as the guest's I/O, printed
# by the guest as "boot I/O on vda"); QEMU's O_DIRECT alignment probe, in the
# main thread, twice at start and once at exit (each one 4 KiB read of
# sector 0, preceded by a misaligned bio the kernel rejects with EINVAL, so
# block_bio_queue sees it but block_rq_issue does not); and, only if the
# guest wrote, one flush at exit (a 0-byte preflush write queued by a
# "worker", issued by a kworker).
#
#   qemu-vm.sh --disk PATH --aio threads|native|iothread [--name NAME]
#              [--reads N] [--writes N] [--vm DIR] [--pidfile FILE]
#              [--timeout SEC] [--qemu-arg ARG]...
#
# --qemu-arg adds ARG, as one argument, at the end of QEMU's command line
# (repeat it for an option and its value), e.g. a memory backend:
#   --qemu-arg -mem-path --qemu-arg /mnt/huge
set -euo pipefail

usage() {
	cat >&2 <<'EOF'
usage: qemu-vm.sh --disk PATH --aio threads|native|iothread [--name NAME]
                  [--reads N] [--writes N] [--vm DIR] [--pidfile FILE]
                  [--timeout SEC] [--qemu-arg ARG]...
EOF
	exit 2
}
die() { echo "qemu-vm: $*" >&2; exit 1; }

disk="" aio="" name=iotrace-vm reads=0 writes=0 vm=build/vm pidfile="" timeout=120
extra=()
while [[ $# -gt 0 ]]; do
	[[ $# -ge 2 ]] || usage
	case $1 in
	--disk) disk=$2 ;;
	--aio) aio=$2 ;;
	--name) name=$2 ;;
	--reads) reads=$2 ;;
	--writes) writes=$2 ;;
	--vm) vm=$2 ;;
	--pidfile) pidfile=$2 ;;
	--timeout) timeout=$2 ;;
	--qemu-arg) extra+=("$2") ;;
	*) usage ;;
	esac
	shift 2
done
[[ -n $disk && -n $aio ]] || usage
[[ $reads =~ ^[0-9]+$ && $writes =~ ^[0-9]+$ && $timeout =~ ^[1-9][0-9]*$ ]] ||
	die "--reads, --writes and --timeout take whole numbers"
[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || die "--name: letters, digits, '_', '.', '-' only"
[[ -e $disk ]] || die "no disk $disk"
[[ $disk != *,* ]] || die "--disk: QEMU cannot take a path with a comma"
[[ -f $vm/vmlinuz && -f $vm/initramfs.cpio.gz ]] || die "no VM in $vm; build it with: bash tools/mkvm.sh $vm"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing; run: bash tools/install-deps.sh"

drive="file=$disk,if=none,id=disk0,format=raw,cache=none"
# Explicit CHS geometry: without it QEMU reads sector 0 (512 B) to guess one.
dev=virtio-blk-pci,drive=disk0,cyls=1024,heads=16,secs=63
case $aio in
threads) drive+=",aio=threads" ;;
native) drive+=",aio=native" ;;
iothread) drive+=",aio=native" dev+=",iothread=io0" ;;
*) die "--aio must be threads, native or iothread, not '$aio'" ;;
esac

args=(
	-accel tcg -name "guest=$name,debug-threads=on"
	# qboot (in qemu-system-data) boots the kernel straight from fw_cfg and,
	# unlike SeaBIOS, reads nothing from the disk; it also boots faster.
	-bios qboot.rom
	-m 256M -smp 1 -nodefaults -nographic -serial stdio -no-reboot
	-kernel "$vm/vmlinuz" -initrd "$vm/initramfs.cpio.gz"
	-append "console=ttyS0 panic=-1 iotrace.reads=$reads iotrace.writes=$writes"
	-drive "$drive" -device "$dev"
)
[[ $aio != iothread ]] || args+=(-object "iothread,id=io0")
[[ -z $pidfile ]] || args+=(-pidfile "$pidfile")
args+=("${extra[@]}")

log=$(mktemp /tmp/iotrace-qemu-vm.XXXXXX)
qpid=""
# If we are killed, take QEMU down too rather than leave it to the timeout.
trap '[[ -z $qpid ]] || kill "$qpid" 2>/dev/null || true; rm -f "$log"' EXIT
trap 'exit 130' INT TERM

start=$(date +%s.%N)
timeout -k 5 "$timeout" qemu-system-x86_64 "${args[@]}" </dev/null >"$log" 2>&1 &
qpid=$!
rc=0
wait "$qpid" || rc=$?
qpid=""
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

# The console is CRLF; only a whole marker line counts.
if grep -qx "iotrace-vm: done reads=$reads writes=$writes" <<<"$(tr -d '\r' <"$log")"; then
	tr -d '\r' <"$log" | grep '^iotrace-vm: '
	echo "qemu-vm: guest done in $secs s (aio mode $aio)"
	exit 0
fi
{
	echo "--- guest console ---"
	tr -d '\r' <"$log"
	echo "---"
	if [[ $rc -eq 124 ]]; then
		echo "qemu-vm: timed out after $timeout s"
	else
		echo "qemu-vm: no done marker (QEMU exit status $rc, $secs s)"
	fi
} >&2
exit 1
