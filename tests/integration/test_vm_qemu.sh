#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A real QEMU (TCG, no KVM) VM doing a fixed amount of virtio-blk I/O: the
# host block I/O lands on the QEMU process's VM row, on the thread role that
# did it.
#
# The VM of tools/mkvm.sh boots under tools/qemu-vm.sh with a loop device
# over /dev/shm as its disk (cache=none: QEMU's I/O is O_DIRECT and reaches
# the host block layer) and does READS 4 KiB reads then WRITES 4 KiB writes
# on it, once per aio mode, all in one test cgroup under one
# `iotrace record --cgroup`:
#
#   threads   aio=threads: QEMU's thread pool ("worker") does the I/O
#   native    aio=native: the main-loop thread (tid == pid) does it
#   iothread  aio=native with -object iothread: "IO io0" does it
#
# For each, the VM row of QEMU's pid (from its -pidfile) must exist with no
# configuration, be named from -name, and carry exactly the I/O the disk
# saw, on the right role, the other roles carrying none of it.
#
# Ground truth, per run (nothing but this QEMU touches the loop device):
#   - the guest prints its own view, /sys/block/vda/stat before and after
#     its dd's: "boot" (the guest kernel's partition scan, 3 x 4 KiB reads
#     on a zeroed disk, done by the same host thread as the dd's) and
#     "total" (scan + dd's).  Each guest request is one host request
#     (synchronous O_DIRECT 4 KiB, one in flight: no merge, no split), so
#     the I/O role must carry exactly the guest's total.
#   - the host's /sys/block/loopN/stat before and after the run.  Beyond the
#     guest's I/O it holds QEMU's O_DIRECT alignment probes (QEMU 7.2,
#     raw_probe_alignment: a 4 KiB read of sector 0 into a misaligned
#     buffer, which the kernel fails with EINVAL before it becomes a
#     request -- block_bio_queue, then block_bio_complete with -EINVAL, no
#     block_rq_* -- then one into a 512-aligned buffer, which completes),
#     all by the main thread: twice at start, once at exit (seen with
#     bpftrace), so 3 reads; and one flush at exit when the guest wrote (a
#     0-byte preflush write, which the stat counts as a write and a flush
#     and iotrace does not count at all).  So the main thread must carry
#     exactly loop reads - guest reads, and the test checks that this is 3.
#
# QEMU's own files (binary, libraries, modules, firmware) are locked in the
# page cache with vmtouch for the test's duration: this host's DAMON
# pageout scheme evicts file pages it finds idle, even ones read seconds
# before (seen: a `cat` of them just before QEMU's start did not help), and
# a page fault of QEMU's on one of them is a read from the root disk by the
# faulting thread (usually main), rightly counted but not a fixed amount.
# The VM's kernel and initramfs are copied to $TEST_TMP (tmpfs) so that
# QEMU's reads of them are no block I/O either.
#
# Env: IOTRACE, VM_DIR (default build/vm, made by tools/mkvm.sh if missing).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VM_DIR=${VM_DIR:-$REPO_ROOT/build/vm}
READS=1000
WRITES=250
BS=4096
PROBES=3 # QEMU 7.2's alignment probes on a cache=none image, see above

require_root
require_cmd jq losetup qemu-system-x86_64 vmtouch ldd
require_exec "$IOTRACE"
grep -qx tcg <<<"$(qemu-system-x86_64 -accel help 2>/dev/null)" ||
	fatal "qemu-system-x86_64 has no TCG accelerator ('-accel help' does not list tcg)"

# The test VM: built (or found up to date) by mkvm.sh, then copied to tmpfs.
vm=$TEST_TMP/vm
test_vm_copy "$vm"
lock_qemu_in_memory

cg=$(mk_cgroup qemu)
rel=$(cg_rel "$cg")
loop=$(mk_loop 64)
out=$TEST_TMP/out.json
err=$TEST_TMP/iotrace.err

# loop_stat: reads read_sectors writes write_sectors flushes of the loop
# device (fields 1, 3, 5, 7 and 16 of its stat file).
loop_stat() {
	local -a f
	read -ra f <"/sys/block/${loop#/dev/}/stat"
	echo "${f[0]} ${f[2]} ${f[4]} ${f[6]} ${f[15]:-0}"
}

iotrace_start "$err" record --interval 1 --cgroup "$rel" --output "$out"
iotrace_wait_ready "$IOTRACE_PID" "$err"

declare -A qpid=() dreads=() dwrites=() drsec=() dwsec=() greads=() gwrites=() grsec=() gwsec=()

# run_vm MODE: boot the VM in aio mode MODE inside the test cgroup, named
# iotrace-MODE; record QEMU's pid, the loop device's and the guest's counts.
run_vm() {
	local mode=$1 log=$TEST_TMP/$1.out pidfile=$TEST_TMP/$1.pid
	local bg pid="" rc=0 b a total
	local -a s0 s1 t

	read -ra s0 <<<"$(loop_stat)"
	(
		echo "$BASHPID" >"$cg/cgroup.procs" || exit 1
		exec bash "$REPO_ROOT/tools/qemu-vm.sh" --disk "$loop" --aio "$mode" \
			--name "iotrace-$mode" --reads "$READS" --writes "$WRITES" \
			--vm "$vm" --pidfile "$pidfile" --timeout 90
	) >"$log" 2>&1 &
	bg=$!
	# QEMU removes its pid file when it exits: read it while it runs.
	while [[ -z $pid ]] && kill -0 "$bg" 2>/dev/null; do
		b=$(cat "$pidfile" 2>/dev/null) || b=""
		if [[ $b =~ ^[0-9]+$ ]]; then
			pid=$b
		else
			sleep 0.05
		fi
	done
	wait "$bg" || rc=$?
	read -ra s1 <<<"$(loop_stat)"
	assert_eq "$rc" 0 "$mode: qemu-vm.sh exits 0 (guest did its I/O)"
	[[ $rc -eq 0 ]] || sed 's/^/#   /' "$log"
	[[ -n $pid ]] || fatal "$mode: never read QEMU's pid from $pidfile"
	qpid[$mode]=$pid
	dreads[$mode]=$((s1[0] - s0[0]))
	drsec[$mode]=$((s1[1] - s0[1]))
	# The exit flush is a 0-byte write in the stat: not an I/O for iotrace.
	dwrites[$mode]=$((s1[2] - s0[2] - (s1[4] - s0[4])))
	dwsec[$mode]=$((s1[3] - s0[3]))

	total=$(tr -d '\r' <"$log" | sed -n 's/^iotrace-vm: total I\/O on vda: //p')
	read -ra t <<<"$(sed -E 's/[a-z_]+=//g' <<<"$total")"
	[[ ${#t[@]} -eq 4 ]] || fatal "$mode: no 'total I/O on vda' line from the guest: $(cat "$log")"
	greads[$mode]=${t[0]} grsec[$mode]=${t[1]} gwrites[$mode]=${t[2]} gwsec[$mode]=${t[3]}
	a=$(tr -d '\r' <"$log" | sed -n 's/^iotrace-vm: boot I\/O on vda: reads=\([0-9]*\) .*/\1/p')
	assert_eq "${greads[$mode]}" "$((a + READS))" \
		"$mode: guest's total reads = its boot reads ($a) + the $READS it was asked for"
	assert_eq "${gwrites[$mode]}" "$WRITES" "$mode: guest wrote the $WRITES it was asked for"
}

run_vm threads
run_vm native
run_vm iothread

iotrace_stop_ok "$IOTRACE_PID" "$err" "iotrace record exits 0"
assert_eq "$(json_bad_lines "$out")" "" "every line is a JSON object"

# vm JQPATH PID, role JQPATH PID ROLE: lib.sh's vm_summary and vm_role on $out.
vm() { vm_summary "$out" "$2" "$1"; }
role() { vm_role "$out" "$2" "$3" "$1"; }

# others JQPATH PID ROLE ROLE: JQPATH summed over the roles but these two.
others() {
	vm "[.threads[] | select(.role != \"$3\" and .role != \"$4\") | $1] | add // 0" "$2"
}

# check_vm MODE IO_ROLE: the I/O role carries the guest's I/O; main (if it
# is not the I/O role) exactly QEMU's probes; every other role nothing.
check_vm() {
	local mode=$1 io=$2 pid=${qpid[$1]}
	local probes=$((dreads[$1] - greads[$1]))
	local io_reads=${greads[$1]} main_reads=$probes io_rbytes

	[[ $io != main ]] || io_reads=$((greads[$1] + probes))
	assert_eq "$probes" "$PROBES" \
		"$mode: the loop device saw the guest's ${greads[$1]} reads + QEMU's $PROBES alignment probes"
	assert_eq "${dwrites[$1]}" "${gwrites[$1]}" "$mode: the loop device saw the guest's writes"
	assert_eq "${dwsec[$1]}" "${gwsec[$1]}" "$mode: the loop device saw the guest's written sectors"

	assert_eq "$(vm .workload.kind "$pid")" vm "$mode: a row of kind vm for QEMU's pid $pid"
	assert_eq "$(vm .workload.vm_name "$pid")" "iotrace-$mode" "$mode: vm_name from -name guest="
	assert_eq "$(vm .workload.name "$pid")" "iotrace-$mode" "$mode: name is the VM's name"
	assert_eq "$(vm .workload.vm_uuid "$pid")" null "$mode: no uuid (no -uuid, no libvirt)"
	assert_eq "$(vm .workload.cgroup_path "$pid")" "$rel" "$mode: the VM's cgroup"
	assert_eq "$(vm .workload.runtime "$pid")" null "$mode: no runtime"
	assert_eq "$(vm .kvm.exits "$pid")" 0 "$mode: no KVM exits under TCG"
	assert_eq "$(vm .cpu.guest_ns "$pid")" 0 "$mode: no guest time under TCG"

	assert_eq "$(vm 'done(.read_ops)' "$pid")" "${dreads[$1]}" \
		"$mode: read_ops == the loop device's reads (guest + probes)"
	assert_eq "$(vm 'done(.write_ops)' "$pid")" "${dwrites[$1]}" \
		"$mode: write_ops == the loop device's writes (the guest's)"
	assert_eq "$(vm 'done(.read_bytes)' "$pid")" "$((drsec[$1] * 512))" "$mode: read_bytes"
	assert_eq "$(vm 'done(.write_bytes)' "$pid")" "$((dwsec[$1] * 512))" "$mode: write_bytes"
	check_vm_unfinished "$out" "$pid"

	io_rbytes=$(((io_reads - greads[$1]) * BS + grsec[$1] * 512))
	assert_vm_role_io "$out" "$pid" "$io" \
		"$io_reads ${gwrites[$1]} $io_rbytes $((gwsec[$1] * 512))" \
		"$mode: the guest's I/O$([[ $io == main ]] && echo " and the probes") on the $io thread"
	if [[ $io != main ]]; then
		assert_vm_role_io "$out" "$pid" main "$main_reads 0 $((main_reads * BS)) 0" \
			"$mode: only the probes on the main thread"
	fi
	assert_eq "$(others '.read_ops + .write_ops' "$pid" "$io" main)" 0 \
		"$mode: no block ops on any other role"
	assert_gt "$(role .cpu_ns "$pid" vcpu)" 0 "$mode: the vcpu thread (CPU 0/TCG) ran"
	assert_eq "$(role .threads "$pid" vcpu)" 1 "$mode: one vcpu thread (-smp 1)"
	assert_eq "$(role '.read_ops + .write_ops' "$pid" vcpu)" 0 "$mode: no block ops on the vcpu thread"
	assert_eq "$(vm '([.threads[].cpu_ns] | add) == .cpu.ns' "$pid")" true \
		"$mode: the roles' CPU time adds up to the VM's"
}

check_vm threads worker
check_vm native main
check_vm iothread iothread

# On a miscount, iotrace's own accounting notes help to tell why.
if grep -qv '^ok$' "$_lib_results"; then
	echo "# iotrace self line: $(jq -c 'select(.type == "self")' "$out" | tail -1)"
	echo "# VM rows:"
	jq -c 'select(.type == "summary" and .workload.kind == "vm")
		| {pid: .workload.pid, name: .workload.vm_name, block, threads}' "$out" |
		sed 's/^/#   /'
fi

finish
