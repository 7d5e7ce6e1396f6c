#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# VMs found by their KVM events, checked against the VMM's own counts.
#
# build/tools/vmm (see test_vmm.sh, which checks its counts against the
# kernel's) runs in a test cgroup under one `iotrace record`, three times:
#
#   pio  --io-thread  REQUESTS port doorbells, the I/O done by "IO iothread0"
#   mmio --io-thread  REQUESTS MMIO doorbells, likewise
#   pio               SHORT port doorbells, the I/O done by the vCPU thread
#
# For each, iotrace must report a row of kind "vm" for the VMM's pid, with
# no configuration: exits to the VMM, port and MMIO exits and block ops
# equal to the VMM's counts exactly, exits per I/O within 1 % of the VMM's
# ratio, and the I/O on the thread role that did it.  Once a VMM has
# exited, its VM must leave iotrace's kernel tables (vm_procs).
#
# This host never fires kvm_exit/kvm_entry (DESIGN.md), so exits are the
# exits to the VMM ("exits_source": "userspace_exit") and the exit-handling
# time is null; tests/bpf covers the kvm_exit path.
#
# Env: IOTRACE, VMM (default build/tools/vmm).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VMM=${VMM:-$REPO_ROOT/build/tools/vmm}
REQUESTS=10000
SHORT=2000
WRITE_EVERY=4
BS=4096

require_root
require_cmd jq losetup bpftool
require_exec "$IOTRACE" "$VMM"
lock_in_memory "$VMM"
[[ -c /dev/kvm ]] || fatal "/dev/kvm is missing: KVM is needed for the VM tests"

cg=$(mk_cgroup vm)
rel=$(cg_rel "$cg")
loop=$(mk_loop 64)
out=$TEST_TMP/out.json
err=$TEST_TMP/iotrace.err

iotrace_start "$err" record --interval 0.5 --cgroup "$rel" --output "$out"
iotrace_wait_ready "$IOTRACE_PID" "$err"

# run_vmm NAME ARG...: run the VMM in the test cgroup; sets VMM_PID and
# leaves its output in $TEST_TMP/NAME.out.
# The VMM runs as our direct child (its pid is the VM's), with a watchdog
# instead of timeout(1), which would put itself in between.
run_vmm() {
	local name=$1 rc=0 dog
	shift
	"$VMM" --disk "$loop" --cgroup "$cg" --write-every "$WRITE_EVERY" "$@" \
		>"$TEST_TMP/$name.out" 2>&1 &
	VMM_PID=$!
	(sleep 120 && kill -KILL "$VMM_PID") 2>/dev/null &
	dog=$!
	wait "$VMM_PID" || rc=$?
	kill "$dog" 2>/dev/null || true
	wait "$dog" 2>/dev/null || true
	assert_eq "$rc" 0 "$name: vmm exits 0 ($(cat "$TEST_TMP/$name.out"))"
}

# vmm_count NAME KEY: KEY=N from the VMM's summary line.
vmm_count() {
	sed -n "s/.*\b$2=\([0-9]*\).*/\1/p" "$TEST_TMP/$1.out"
}

run_vmm pio --mode pio --io-thread --requests "$REQUESTS"
pid_pio=$VMM_PID
run_vmm mmio --mode mmio --io-thread --requests "$REQUESTS"
pid_mmio=$VMM_PID
run_vmm vcpu --mode pio --requests "$SHORT"
pid_vcpu=$VMM_PID

# Two intervals after the last VMM exited: it must be gone from vm_procs.
sleep 1.2
procs=$(bpftool map dump name vm_procs -j 2>&1)
for p in "$pid_pio" "$pid_mmio" "$pid_vcpu"; do
	n=$(jq --argjson p "$p" '[.[] | select(.key == $p)] | length' <<<"$procs" 2>/dev/null)
	assert_eq "${n:-<bpftool: $procs>}" 0 "pid $p left vm_procs after its VMM exited"
done

iotrace_stop_ok "$IOTRACE_PID" "$err" "iotrace record exits 0"
assert_eq "$(json_bad_lines "$out")" "" "every line is a JSON object"

# vm JQPATH PID, role JQPATH PID ROLE: lib.sh's vm_summary and vm_role on $out.
vm() { vm_summary "$out" "$2" "$1"; }
role() { vm_role "$out" "$2" "$3" "$1"; }

# check_vm NAME PID DOORBELL IO_ROLE IDLE_ROLE
check_vm() {
	local name=$1 pid=$2 doorbell=$3 io_role=$4 idle_role=$5
	local exits pio mmio ios reads writes
	exits=$(vmm_count "$name" userspace_exits)
	pio=$(vmm_count "$name" pio_exits)
	mmio=$(vmm_count "$name" mmio_exits)
	ios=$(vmm_count "$name" ios)
	reads=$(vmm_count "$name" reads)
	writes=$(vmm_count "$name" writes)

	assert_eq "$(vm .workload.kind "$pid")" vm "$name: a row of kind vm for pid $pid"
	assert_eq "$(vm .workload.cgroup_path "$pid")" "$rel" "$name: the VM's cgroup"
	assert_eq "$(vm .workload.vm_name "$pid")" "kvm-$pid" "$name: named kvm-PID (no -name, no libvirt)"
	assert_eq "$(vm .workload.vm_uuid "$pid")" null "$name: no uuid"
	assert_eq "$(vm .kvm.exits_source "$pid")" userspace_exit "$name: exits are exits to the VMM here"
	assert_eq "$(vm .kvm.userspace_exits "$pid")" "$exits" "$name: userspace_exits == the VMM's"
	assert_eq "$(vm .kvm.exits "$pid")" "$exits" "$name: exits == the VMM's exits"
	assert_eq "$(vm .kvm.pio_exits "$pid")" "$pio" "$name: pio_exits == the VMM's"
	assert_eq "$(vm .kvm.mmio_exits "$pid")" "$mmio" "$name: mmio_exits == the VMM's"
	assert_eq "$(vm .kvm.exit_handling_ns "$pid")" null "$name: no exit handling time without kvm_exit"
	assert_eq "$(vm 'done(.read_ops)' "$pid")" "$reads" "$name: read_ops == the VMM's reads"
	assert_eq "$(vm 'done(.write_ops)' "$pid")" "$writes" "$name: write_ops == the VMM's writes"
	assert_eq "$(vm 'done(.read_bytes)' "$pid")" "$((reads * BS))" "$name: read_bytes"
	assert_eq "$(vm 'done(.write_bytes)' "$pid")" "$((writes * BS))" "$name: write_bytes"
	check_vm_unfinished "$out" "$pid"
	assert_within_pct "$(vm .derived.exits_per_io "$pid")" \
		"$(awk -v e="$exits" -v i="$ios" 'BEGIN { printf "%.6f", e / i }')" 1 \
		"$name: exits_per_io within 1% of the VMM's exits / ios"
	assert_gt "$(vm .derived.host_cycles_per_io "$pid")" 0 "$name: host_cycles_per_io"
	if [[ $doorbell == pio ]]; then
		assert_eq "$(vm '.kvm.userspace_exits_by_reason.KVM_EXIT_IO' "$pid")" "$pio" \
			"$name: KVM_EXIT_IO exits"
		assert_eq "$(vm '.kvm.pio_exits_by_port."0x10"' "$pid")" "$pio" \
			"$name: port exits in the doorbell's range 0x10"
	else
		assert_eq "$(vm '.kvm.userspace_exits_by_reason.KVM_EXIT_MMIO' "$pid")" "$mmio" \
			"$name: KVM_EXIT_MMIO exits"
		assert_eq "$(vm '.kvm.mmio_exits_by_page."0xd0000"' "$pid")" "$mmio" \
			"$name: MMIO exits in the doorbell's page 0xd0000"
	fi
	assert_eq "$(vm '.kvm.userspace_exits_by_reason.KVM_EXIT_HLT' "$pid")" 1 \
		"$name: the guest's final hlt"
	assert_eq "$((reads + writes))" "$ios" "$name: the VMM's I/Os are its reads and writes"
	assert_vm_role_io "$out" "$pid" "$io_role" "$reads $writes $((reads * BS)) $((writes * BS))" \
		"$name: all block ops on the $io_role thread"
	assert_gt "$(role .cpu_ns "$pid" vcpu)" 0 "$name: the vcpu thread's CPU time"
	if [[ -n $idle_role ]]; then
		assert_eq "$(role '.read_ops + .write_ops' "$pid" "$idle_role")" 0 \
			"$name: no block ops on the $idle_role thread"
	fi
	assert_eq "$(vm '([.threads[].cpu_ns] | add) == .cpu.ns' "$pid")" true \
		"$name: the roles' CPU time adds up to the VM's"
	assert_eq "$(vm '.cpu.host_ns + .cpu.guest_ns == .cpu.ns' "$pid")" true \
		"$name: host + guest time == CPU time"
}

check_vm pio "$pid_pio" pio iothread vcpu
check_vm mmio "$pid_mmio" mmio iothread vcpu
check_vm vcpu "$pid_vcpu" pio vcpu ""

finish
