#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The VM fixture: build/tools/vmm, a tiny KVM VMM whose real-mode guest rings
# a doorbell (an `out` to port 0x10, or a store to the unmapped GPA 0xd0000)
# once per request, each answered by one 4 KiB O_DIRECT read or write of a
# loop device -- in the vCPU thread "CPU 0/KVM" or, with --io-thread, in the
# thread "IO iothread0".  The VM tests of iotrace rely on its counts, so they
# are checked here against the kernel's own, for both doorbells, with and
# without the I/O thread:
#
#   (a) the VMM's counts agree with themselves and with --requests;
#   (b) /sys/block/loopN/stat: completed reads and writes == the VMM's ios;
#   (c) the kvm_pio / kvm_mmio / kvm_userspace_exit tracepoints, from the
#       VMM's threads only (set_event_pid + event-fork), == its exit counts,
#       and all of them fire in the thread named "CPU 0/KVM";
#   (d) block_bio_queue on the loop device: every bio is submitted by the
#       thread that should do the I/O ("IO iothread0" with --io-thread,
#       else "CPU 0/KVM"), and none by the other.
#
# ftrace is used through two instances of our own (instances/NAME), so the
# global buffer size, events and filters are never changed, and removing the
# instances at exit removes every event, filter and buffer we set.
#
# What the trace looks like on the nested PVM host (Linux 6.18), where the
# real-mode guest is emulated instruction by instruction and kvm_exit /
# kvm_entry never fire:
#
#   CPU 0/KVM-5195 [000] ..... 4586.546908: kvm_pio: pio_write at 0x10 size 1 count 1 val 0x3
#   CPU 0/KVM-5195 [000] ..... 4586.546910: kvm_userspace_exit: reason KVM_EXIT_IO (2)
#   CPU 0/KVM-5195 [000] ..... 4586.546920: block_bio_queue: 7,1 RS 3584 + 8 [CPU 0/KVM]
#   CPU 0/KVM-5192 [001] ..... 4586.544302: kvm_mmio: mmio write len 1 gpa 0xd0000 val 0x3
#   CPU 0/KVM-5192 [001] ..... 4586.544305: kvm_userspace_exit: reason KVM_EXIT_MMIO (6)
#   IO iothread0-5191 [000] ..... 4586.544352: block_bio_queue: 7,1 RS 3584 + 8 [IO iothread0]
#   CPU 0/KVM-5192 [000] ..... 4586.544670: kvm_userspace_exit: reason KVM_EXIT_HLT (5)
#
# kvm_mmio has three types (unsatisfied-read, read, write); a doorbell store
# that goes to user space traces exactly one "mmio write" (the read types
# belong to guest loads), so that is the one counted.
#
# Env: VMM (default build/tools/vmm next to this tree).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VMM=${VMM:-$REPO_ROOT/build/tools/vmm}
REQUESTS=2000
WRITE_EVERY=4 # with --io-thread: every 4th request a write
TIMEOUT_S=120
TRACEFS=/sys/kernel/tracing
DOORBELL_PORT=0x10
DOORBELL_GPA=0xd0000

require_root
require_cmd awk grep losetup mount mountpoint timeout
require_exec "$VMM"
[[ -e /dev/kvm ]] ||
	fatal "/dev/kvm does not exist: KVM is not available on this host (module kvm / kvm_intel / kvm_amd, or a nested hypervisor, needed)"
[[ -c /dev/kvm && -r /dev/kvm && -w /dev/kvm ]] ||
	fatal "/dev/kvm is not a read-write character device for us: $(ls -l /dev/kvm)"

# ---- ftrace -----------------------------------------------------------------

if ! mountpoint -q "$TRACEFS"; then
	mount -t tracefs nodev "$TRACEFS" || fatal "cannot mount tracefs at $TRACEFS"
	on_exit umount "$TRACEFS"
fi
for ev in kvm/kvm_pio kvm/kvm_mmio kvm/kvm_userspace_exit block/block_bio_queue; do
	[[ -d $TRACEFS/events/$ev ]] ||
		fatal "the kernel has no tracepoint $ev ($TRACEFS/events/$ev missing)"
done

# instance_remove DIR: stop and empty trace instance DIR, then remove it.
# shellcheck disable=SC2317 # run by the EXIT trap (on_exit)
instance_remove() {
	local dir=$1 i
	[[ -d $dir ]] || return 0
	echo 0 >"$dir/tracing_on"
	echo 0 >"$dir/events/enable"
	: >"$dir/set_event_pid"
	for ((i = 0; i < 50; i++)); do
		rmdir "$dir" 2>/dev/null && return 0
		sleep 0.1
	done
	rmdir "$dir"
}

# mk_instance NAME BUFFER_KB: a new trace instance, stopped; echoes its path.
mk_instance() {
	local dir=$TRACEFS/instances/iotrace-test-vmm-$1-$$
	mkdir "$dir" || fatal "cannot create trace instance $dir"
	on_exit instance_remove "$dir"
	echo 0 >"$dir/tracing_on"
	echo "$2" >"$dir/buffer_size_kb" || fatal "cannot size trace buffer of $dir"
	echo "$dir"
}

# enable_event DIR EVENT [FILTER]
enable_event() {
	local dir=$1 ev=$2
	if [[ -n ${3:-} ]]; then
		echo "$3" >"$dir/events/$ev/filter" ||
			fatal "cannot set filter '$3' on $ev"
	fi
	echo 1 >"$dir/events/$ev/enable" || fatal "cannot enable event $ev in $dir"
}

# count FILE ERE: the number of lines of FILE that match ERE.
count() {
	grep -cE -- "$2" "$1" || true
}

# not_lost NAME TRACEFILE: the buffer kept every event ("entries-in-buffer/
# entries-written: N/N" in the header of the trace file).
not_lost() {
	local kept='' written=''
	read -r kept written < <(sed -nE \
		's|^# entries-in-buffer/entries-written: ([0-9]+)/([0-9]+).*|\1 \2|p' "$2") ||
		true
	assert_eq "${kept:-<none>}" "${written:-<no header>}" \
		"$1: the trace buffer lost no event (kept = written)"
}

dev=$(mk_loop 64)
name=$(basename "$dev")
devt=$(awk -F: '{ print $1 * 1048576 + $2 }' "/sys/block/$name/dev")

# kvm: events of the VMM's threads only.  The runner below writes its pid to
# set_event_pid and execs the VMM; event-fork adds every thread it creates.
kvm_tr=$(mk_instance kvm 16384)
echo 1 >"$kvm_tr/options/event-fork"
enable_event "$kvm_tr" kvm/kvm_pio
enable_event "$kvm_tr" kvm/kvm_mmio
enable_event "$kvm_tr" kvm/kvm_userspace_exit
# blk: every bio on our loop device, whoever submits it.
blk_tr=$(mk_instance blk 4096)
enable_event "$blk_tr" block/block_bio_queue "dev == $devt"

# loop_ios: completed reads and writes of the loop device.
loop_ios() {
	awk '{ print $1, $5 }' "/sys/block/$name/stat"
}

# ---- the runs ---------------------------------------------------------------

# check_run MODE [--io-thread]: run the VMM and check (a)-(d).
check_run() {
	local mode=$1 iothr=${2:-} tag rc=0 out line
	local -a args=(--disk "$dev" --mode "$mode" --requests "$REQUESTS")
	local r0 w0 r1 w1 exp_writes=0 io_comm=CPU\ 0/KVM other_comm=IO\ iothread0
	local doorbells='' uexits='' pio='' mmio='' ios='' reads='' writes=''
	local ktrace=$TEST_TMP/kvm-$mode$iothr.trace btrace=$TEST_TMP/blk-$mode$iothr.trace

	tag="vmm --mode $mode${iothr:+ $iothr}"
	if [[ -n $iothr ]]; then
		args+=("$iothr" --write-every "$WRITE_EVERY")
		exp_writes=$((REQUESTS / WRITE_EVERY))
		io_comm=IO\ iothread0
		other_comm=CPU\ 0/KVM
	fi

	: >"$kvm_tr/trace"
	: >"$blk_tr/trace"
	echo 1 >"$blk_tr/tracing_on"
	read -r r0 w0 < <(loop_ios)
	# shellcheck disable=SC2016 # $$ and $1 are the inner shell's
	bash -c 'echo $$ >"$1/set_event_pid" && echo 1 >"$1/tracing_on" &&
		shift && exec timeout --kill-after=5 "$@"' \
		vmm-runner "$kvm_tr" "$TIMEOUT_S" "$VMM" "${args[@]}" \
		>"$TEST_TMP/vmm.out" 2>"$TEST_TMP/vmm.err" </dev/null || rc=$?
	echo 0 >"$kvm_tr/tracing_on"
	read -r r1 w1 < <(loop_ios)
	echo 0 >"$blk_tr/tracing_on"
	cp "$kvm_tr/trace" "$ktrace"
	cp "$blk_tr/trace" "$btrace"

	out=$(cat "$TEST_TMP/vmm.out")
	assert_eq "$rc" 0 "$tag exits 0 (stderr: $(head -c 500 "$TEST_TMP/vmm.err"))"
	line='^vmm: doorbells=([0-9]+) userspace_exits=([0-9]+) pio_exits=([0-9]+) mmio_exits=([0-9]+) ios=([0-9]+) reads=([0-9]+) writes=([0-9]+)$'
	assert_match "$out" "$line" "$tag prints its summary line"
	assert_eq "$(wc -l <"$TEST_TMP/vmm.out")" 1 "$tag prints exactly one line"
	read -r doorbells uexits pio mmio ios reads writes < <(
		sed -nE "s/$line/\1 \2 \3 \4 \5 \6 \7/p" <<<"$out") || true
	echo "# $tag: $out"

	# (a) the VMM's own counts
	assert_eq "${doorbells:-}" "$REQUESTS" "$tag: doorbells == requests"
	assert_eq "${ios:-}" "$REQUESTS" "$tag: ios == requests"
	assert_eq "${writes:-}" "$exp_writes" "$tag: writes == $exp_writes"
	assert_eq "$((${reads:-0} + ${writes:-0}))" "${ios:-}" "$tag: reads + writes == ios"
	if [[ $mode == pio ]]; then
		assert_eq "${pio:-}" "$REQUESTS" "$tag: pio_exits == requests"
		assert_eq "${mmio:-}" 0 "$tag: mmio_exits == 0"
	else
		assert_eq "${mmio:-}" "$REQUESTS" "$tag: mmio_exits == requests"
		assert_eq "${pio:-}" 0 "$tag: pio_exits == 0"
	fi
	# Every doorbell and the final HLT return to user space.
	assert_ge "${uexits:-}" "$((REQUESTS + 1))" "$tag: userspace_exits >= requests + 1"

	# (b) the loop device
	assert_eq "$((r1 - r0))" "${reads:-}" "$tag: loop device completed reads == VMM reads"
	assert_eq "$((w1 - w0))" "${writes:-}" "$tag: loop device completed writes == VMM writes"
	assert_eq "$((r1 - r0 + w1 - w0))" "${ios:-}" "$tag: loop device reads + writes == ios"

	# (c) KVM tracepoints of the VMM's threads
	not_lost "$tag kvm" "$ktrace"
	assert_eq "$(count "$ktrace" ": kvm_pio: pio_write at $DOORBELL_PORT size 1 count 1 ")" \
		"${pio:-}" "$tag: kvm_pio doorbell writes == pio_exits"
	assert_eq "$(count "$ktrace" ': kvm_pio: ')" "${pio:-}" \
		"$tag: no other kvm_pio events"
	assert_eq "$(count "$ktrace" ": kvm_mmio: mmio write len 1 gpa $DOORBELL_GPA ")" \
		"${mmio:-}" "$tag: kvm_mmio doorbell writes == mmio_exits"
	assert_eq "$(count "$ktrace" ': kvm_mmio: ')" "${mmio:-}" \
		"$tag: no other kvm_mmio events (reads, unsatisfied reads)"
	assert_eq "$(count "$ktrace" ': kvm_userspace_exit: ')" "${uexits:-}" \
		"$tag: kvm_userspace_exit events == userspace_exits"
	if [[ $mode == pio ]]; then
		assert_eq "$(count "$ktrace" ': kvm_userspace_exit: reason KVM_EXIT_IO ')" \
			"${pio:-}" "$tag: kvm_userspace_exit KVM_EXIT_IO == pio_exits"
	else
		assert_eq "$(count "$ktrace" ': kvm_userspace_exit: reason KVM_EXIT_MMIO ')" \
			"${mmio:-}" "$tag: kvm_userspace_exit KVM_EXIT_MMIO == mmio_exits"
	fi
	assert_eq "$(count "$ktrace" ': kvm_userspace_exit: reason KVM_EXIT_HLT ')" 1 \
		"$tag: one kvm_userspace_exit KVM_EXIT_HLT"
	assert_eq "$(grep -E ': kvm_[a-z_]+: ' "$ktrace" |
		grep -vcE '^ *CPU 0/KVM-[0-9]+ +\[' || true)" 0 \
		"$tag: every KVM event fires in the thread 'CPU 0/KVM'"

	# (d) who submitted the I/O
	not_lost "$tag blk" "$btrace"
	assert_eq "$(count "$btrace" ': block_bio_queue: ')" "${ios:-}" \
		"$tag: block_bio_queue events on $dev == ios"
	assert_eq "$(count "$btrace" ": block_bio_queue: .*\\[$io_comm\\]\$")" "${ios:-}" \
		"$tag: every bio submitted by '$io_comm'"
	assert_eq "$(count "$btrace" ": block_bio_queue: .*\\[$other_comm\\]\$")" 0 \
		"$tag: no bio submitted by '$other_comm'"
}

check_run pio
check_run pio --io-thread
check_run mmio
check_run mmio --io-thread

# ---- failures are clear -----------------------------------------------------

rc=0
"$VMM" --mode pio >/dev/null 2>"$TEST_TMP/usage.err" || rc=$?
assert_eq "$rc" 2 "vmm without --disk exits 2"
assert_match "$(cat "$TEST_TMP/usage.err")" '--disk' "vmm without --disk says --disk is needed"

rc=0
"$VMM" --disk "$dev" --mode pci >/dev/null 2>"$TEST_TMP/mode.err" || rc=$?
assert_eq "$rc" 2 "vmm --mode pci exits 2"

rc=0
"$VMM" --disk "$dev" --requests 1 --cgroup /no-such-cgroup-xyz \
	>/dev/null 2>"$TEST_TMP/cg.err" || rc=$?
assert_eq "$rc" 1 "vmm --cgroup /no-such-cgroup-xyz exits 1"
assert_match "$(cat "$TEST_TMP/cg.err")" 'no-such-cgroup-xyz' \
	"vmm --cgroup of a missing cgroup names it"

finish
