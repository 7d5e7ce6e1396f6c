#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A libvirt domain is named by libvirt: the VM of test_vm_qemu.sh as a
# transient type='qemu' (TCG) domain, started through a libvirtd that this
# test starts (`virtlogd -d; libvirtd -d`) unless one runs already, and
# stops again.  Under one `iotrace record` of the whole host (the domain's
# cgroup, /machine/qemu-ID-NAME.libvirt-qemu/emulator, is not known before
# libvirt makes it), the VM row of QEMU's pid (libvirt's pid file) must:
#
#   - carry the domain's name and uuid, runtime "libvirt", and the cgroup
#     libvirt put QEMU's main thread in;
#   - carry exactly the I/O the loop device saw, with the guest's I/O on
#     the thread-pool role (io='threads' makes it aio=threads: "worker"),
#     QEMU's alignment probes on the main thread, none on the others
#     (vCPU "CPU 0/TCG", QEMU's monitor iothread "IO mon_iothread").
#
# Ground truth and the extra I/O are those of test_vm_qemu.sh (see there):
# the guest prints its own counts (its 3 partition-scan reads included),
# the loop device's stat gives the host's, and beyond the guest's I/O the
# device sees QEMU's 3 alignment-probe reads by the main thread (the same
# count with libvirt's -blockdev as with qemu-vm.sh's -drive) and one exit
# flush, which iotrace does not count.
#
# libvirt on this host: /dev/kvm is 0600 root:root (no udev), so libvirt's
# QEMU user cannot open it, and libvirtd (9.0) then throws its capability
# cache away at every lookup ("KVM was enabled when probing, but it is not
# available now") and re-probes QEMU many times per `virsh create`:
# measured 47-48 s per create.  The test gives /dev/kvm the group and mode
# udev gives it on a stock host (kvm, 0660) while it runs, and restores
# them; then a create takes 0.2-0.3 s.  A libvirtd start itself takes
# 0.1 s, or ~8 s when it finds its cached capabilities outdated ("host
# cpuid changed", seen at about every other start here) and re-probes.
#
# Cleanup: the domain (destroyed if still there), the daemons this test
# started, the "machine" cgroups libvirt created that were not there
# before, /dev/kvm's owner and mode.
#
# Env: IOTRACE, VM_DIR (default build/vm, made by tools/mkvm.sh if missing).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VM_DIR=${VM_DIR:-$REPO_ROOT/build/vm}
NAME=iotrace-test-libvirt
UUID=6f1e4c2a-9b3d-4e5f-8a7b-1c2d3e4f5a6b
READS=1000
WRITES=250
BS=4096
PROBES=3 # QEMU 7.2's alignment probes on a cache=none image
export LIBVIRT_DEFAULT_URI=qemu:///system

require_root
require_cmd jq losetup qemu-system-x86_64 vmtouch ldd virsh libvirtd virtlogd setpriv
require_exec "$IOTRACE"
grep -qx tcg <<<"$(qemu-system-x86_64 -accel help 2>/dev/null)" ||
	fatal "qemu-system-x86_64 has no TCG accelerator ('-accel help' does not list tcg)"

vm=$TEST_TMP/vm
test_vm_copy "$vm"
lock_qemu_in_memory

loop=$(mk_loop 64)
out=$TEST_TMP/out.json
err=$TEST_TMP/iotrace.err

# ---- libvirt ----------------------------------------------------------------

# The user libvirt runs QEMU as (qemu.conf, Debian's default libvirt-qemu).
qemu_user=$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' \
	/etc/libvirt/qemu.conf 2>/dev/null | tail -1)
qemu_user=${qemu_user:-libvirt-qemu}
id "$qemu_user" >/dev/null 2>&1 || fatal "libvirt's QEMU user '$qemu_user' does not exist"

# kvm_restore OWNER:GROUP MODE
# shellcheck disable=SC2317 # run at exit, through on_exit
kvm_restore() {
	chown "$1" /dev/kvm && chmod "$2" /dev/kvm
}
if [[ -c /dev/kvm ]] &&
	! setpriv --reuid="$qemu_user" --regid="$qemu_user" --init-groups \
		test -r /dev/kvm -a -w /dev/kvm; then
	getent group kvm >/dev/null || fatal "/dev/kvm is not usable by $qemu_user and there is no group kvm"
	on_exit kvm_restore "$(stat -c %u:%g /dev/kvm)" "$(stat -c %a /dev/kvm)"
	if ! chgrp kvm /dev/kvm || ! chmod 0660 /dev/kvm; then
		fatal "cannot give /dev/kvm group kvm, mode 0660"
	fi
	echo "# /dev/kvm: group kvm, mode 0660 for the test (as udev would), restored at exit"
fi

# stop_daemon NAME PIDFILE: SIGTERM the daemon whose pid PIDFILE holds, if
# it is NAME, and wait up to 10 s for it to go (then SIGKILL).
# shellcheck disable=SC2317 # run at exit, through on_exit
stop_daemon() {
	local name=$1 pidfile=$2 pid i
	pid=$(cat "$pidfile" 2>/dev/null) || return 0
	[[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] || return 0
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		[[ -d /proc/$pid ]] || return 0
		sleep 0.1
	done
	echo "$TEST_NAME: $name (pid $pid) ignored SIGTERM, killing it" >&2
	kill -KILL "$pid"
}

# start_daemon NAME: start NAME -d unless a NAME runs already; register its
# stop.  Its pid file is /run/NAME.pid.
start_daemon() {
	local name=$1 pid i
	if pgrep -x "$name" >/dev/null; then
		echo "# $name runs already: used, left running"
		return 0
	fi
	"$name" -d || fatal "'$name -d' failed"
	for ((i = 0; i < 100; i++)); do
		pid=$(cat "/run/$name.pid" 2>/dev/null) || pid=""
		if [[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]]; then
			on_exit stop_daemon "$name" "/run/$name.pid"
			return 0
		fi
		sleep 0.1
	done
	fatal "$name -d started no $name with pid file /run/$name.pid"
}

# The cgroup hierarchies (v1 and v2) and whether /machine was there before.
declare -a machine_new=()
while read -r mnt; do
	[[ -d $mnt/machine ]] || machine_new+=("$mnt/machine")
done < <(awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/mounts)

# remove_new_machine_cgroups: rmdir the /machine cgroups libvirt made in this
# test (empty once the domain is gone; a non-empty one is left, and said).
# shellcheck disable=SC2317 # run at exit, through on_exit
remove_new_machine_cgroups() {
	local d
	for d in "${machine_new[@]}"; do
		[[ -d $d ]] || continue
		rmdir "$d" 2>/dev/null ||
			echo "$TEST_NAME: left $d (libvirt made it, but it is not empty)" >&2
	done
}

# destroy_domain: if the test's domain still runs, destroy it.
# shellcheck disable=SC2317 # run at exit, through on_exit
destroy_domain() {
	if virsh domstate "$NAME" >/dev/null 2>&1; then
		virsh destroy "$NAME" >/dev/null 2>&1 ||
			echo "$TEST_NAME: could not destroy domain $NAME" >&2
	fi
}

t0=$(date +%s.%N)
own_libvirtd=false
if virsh -q version >/dev/null 2>&1; then
	echo "# libvirt answers already: used, left running"
else
	start_daemon virtlogd
	start_daemon libvirtd
	own_libvirtd=true
fi
on_exit remove_new_machine_cgroups
for ((i = 0; ; i++)); do
	virsh -q version >/dev/null 2>&1 && break
	((i < 300)) || fatal "libvirtd does not answer after 30 s: $(virsh version 2>&1)"
	sleep 0.1
done
pass "libvirtd answers (after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s)"
virsh domstate "$NAME" >/dev/null 2>&1 &&
	fatal "a domain $NAME exists already (left by another run?): virsh destroy $NAME"
on_exit destroy_domain

# ---- the run ----------------------------------------------------------------

iotrace_start "$err" record --interval 1 --output "$out"
iotrace_wait_ready "$IOTRACE_PID" "$err"

loop_stat() {
	local -a f
	read -ra f <"/sys/block/${loop#/dev/}/stat"
	echo "${f[0]} ${f[2]} ${f[4]} ${f[6]} ${f[15]:-0}"
}

log=$TEST_TMP/libvirt-vm.out
read -ra s0 <<<"$(loop_stat)"
rc=0
bash "$REPO_ROOT/tools/libvirt-vm.sh" --disk "$loop" --name "$NAME" --uuid "$UUID" \
	--io threads --reads "$READS" --writes "$WRITES" --vm "$vm" \
	--pidfile "$TEST_TMP/qemu.pid" --timeout 180 >"$log" 2>&1 || rc=$?
read -ra s1 <<<"$(loop_stat)"
assert_eq "$rc" 0 "libvirt-vm.sh exits 0 (guest did its I/O)"
sed -n 's/^libvirt-vm: /# /p' "$log"
[[ $rc -eq 0 ]] || sed 's/^/#   /' "$log"
pid=$(cat "$TEST_TMP/qemu.pid" 2>/dev/null) || fatal "never learnt QEMU's pid"

iotrace_stop_ok "$IOTRACE_PID" "$err" "iotrace record exits 0"
assert_eq "$(json_bad_lines "$out")" "" "every line is a JSON object"

dreads=$((s1[0] - s0[0]))
drsec=$((s1[1] - s0[1]))
dwrites=$((s1[2] - s0[2] - (s1[4] - s0[4]))) # the exit flush is no I/O
dwsec=$((s1[3] - s0[3]))
total=$(tr -d '\r' <"$log" | sed -n 's/^iotrace-vm: total I\/O on vda: //p')
read -ra t <<<"$(sed -E 's/[a-z_]+=//g' <<<"$total")"
[[ ${#t[@]} -eq 4 ]] || fatal "no 'total I/O on vda' line from the guest: $(cat "$log")"
greads=${t[0]} grsec=${t[1]} gwrites=${t[2]} gwsec=${t[3]}
boot=$(tr -d '\r' <"$log" | sed -n 's/^iotrace-vm: boot I\/O on vda: reads=\([0-9]*\) .*/\1/p')
assert_eq "$greads" "$((boot + READS))" "guest's total reads = its boot reads ($boot) + the $READS asked for"
assert_eq "$gwrites" "$WRITES" "guest wrote the $WRITES asked for"
assert_eq "$((dreads - greads))" "$PROBES" \
	"the loop device saw the guest's $greads reads + QEMU's $PROBES alignment probes"
assert_eq "$dwrites $dwsec" "$gwrites $gwsec" "the loop device saw the guest's writes"

# ---- the VM row ---------------------------------------------------------------

# vm JQPATH, role JQPATH ROLE: lib.sh's vm_summary and vm_role for QEMU's pid.
vm() { vm_summary "$out" "$pid" "$1"; }
role() { vm_role "$out" "$pid" "$2" "$1"; }

machine_re="^/machine/qemu-[0-9]+-$NAME\\.libvirt-qemu"
assert_eq "$(vm .workload.kind)" vm "a row of kind vm for QEMU's pid $pid"
assert_eq "$(vm .workload.vm_name)" "$NAME" "vm_name is the libvirt domain's name"
assert_eq "$(vm .workload.name)" "$NAME" "name is the libvirt domain's name"
assert_eq "$(vm .workload.vm_uuid)" "$UUID" "vm_uuid is the libvirt domain's uuid"
assert_eq "$(vm .workload.runtime)" libvirt "runtime libvirt"
assert_match "$(vm .workload.cgroup_path)" "$machine_re/emulator\$" \
	"cgroup: libvirt's emulator cgroup of the domain"
assert_eq "$(vm .kvm.exits)" 0 "no KVM exits under TCG"

# QEMU's page faults on files that are not in the page cache are reads
# from the root disk, by QEMU's threads: rightly counted, but not a fixed
# amount (lock_qemu_in_memory prevents most; a libvirt-started QEMU has
# been seen to fault in 2 more on a fresh machine).  The domain's cgroup
# rows split their I/O by device: what is not on the loop device is that
# (with what was left in flight there, as done() counts it).
loop_dev=$(cat "/sys/block/${loop#/dev/}/dev") || fatal "no device number for $loop"
read -r other_reads other_rbytes other_writes < <(jq -nR -r --arg re "$machine_re/" \
	--arg dev "$loop_dev" "$_JQ_RECS"'
	[recs[] | select(.type == "summary" and .workload.pid == null and
			 (.workload.cgroup_path // "" | test($re)))
	 | .block.devices[], .block.unfinished[]? | select(.dev != $dev)]
	| "\(map(.read_ops) | add // 0) \(map(.read_bytes) | add // 0) \(map(.write_ops) | add // 0)"' \
	"$out")
[[ -n $other_reads ]] || fatal "could not read the domain's cgroup rows from $out"
((other_reads == 0)) || echo "# QEMU read $other_reads times ($other_rbytes bytes) from other devices (page faults)"
assert_eq "$other_writes" 0 "QEMU wrote to no other device"

assert_eq "$(vm 'done(.read_ops)')" "$((dreads + other_reads))" \
	"read_ops == the loop device's reads (guest + probes) + QEMU's reads elsewhere"
assert_eq "$(vm 'done(.write_ops)')" "$dwrites" "write_ops == the loop device's writes (the guest's)"
assert_eq "$(vm 'done(.read_bytes)')" "$((drsec * 512 + other_rbytes))" "read_bytes"
assert_eq "$(vm 'done(.write_bytes)')" "$((dwsec * 512))" "write_bytes"
check_vm_unfinished "$out" "$pid"

assert_vm_role_io "$out" "$pid" worker "$greads $gwrites $((grsec * 512)) $((gwsec * 512))" \
	"the guest's I/O on the worker threads"
assert_vm_role_io "$out" "$pid" main "$((PROBES + other_reads)) 0 $((PROBES * BS + other_rbytes)) 0" \
	"only the probes (and QEMU's page faults) on the main thread"
assert_eq "$(vm '[.threads[] | select(.role != "worker" and .role != "main")
		 | .read_ops + .write_ops] | add // 0')" 0 "no block ops on any other role"
assert_gt "$(role .cpu_ns vcpu)" 0 "the vcpu thread (CPU 0/TCG) ran"
assert_eq "$(role .threads vcpu)" 1 "one vcpu thread"
assert_eq "$(vm '([.threads[].cpu_ns] | add) == .cpu.ns')" true \
	"the roles' CPU time adds up to the VM's"

# libvirt put the vCPU thread in the domain's vcpu0 cgroup: its row is the
# domain's too.
vcpu_row=$(jq -nR -c --arg re "$machine_re/vcpu0\$" "$_JQ_RECS"'
	[recs[] | select(.type == "summary" and .workload.pid == null and
			 (.workload.cgroup_path // "" | test($re)))
	 | [.workload.kind, .workload.runtime, .workload.name]]' "$out")
assert_eq "$vcpu_row" "[[\"vm\",\"libvirt\",\"$NAME\"]]" \
	"the domain's vcpu0 cgroup row: kind vm, runtime libvirt, the domain's name"

# ---- a libvirtd that does not answer ----------------------------------------
# libvirt's calls block until libvirtd answers.  With our libvirtd stopped
# (SIGSTOP), iotrace must still name a new VM (from QEMU's -name), warn,
# and exit: never hang.  Only done with a libvirtd this test started.
if $own_libvirtd; then
	lpid=$(cat /run/libvirtd.pid)
	on_exit kill -CONT "$lpid"
	kill -STOP "$lpid"
	err2=$TEST_TMP/iotrace-stuck.err
	out2=$TEST_TMP/out-stuck.json
	iotrace_start "$err2" record --interval 1 --output "$out2"
	iotrace_wait_ready "$IOTRACE_PID" "$err2"
	rc=0
	bash "$REPO_ROOT/tools/qemu-vm.sh" --disk "$loop" --aio threads --name "stuck-$NAME" \
		--reads 50 --writes 0 --vm "$vm" --pidfile "$TEST_TMP/qemu2.pid" \
		>"$TEST_TMP/qemu-stuck.out" 2>&1 &
	qpid_wait=$!
	for ((i = 0; i < 100; i++)); do
		[[ -s $TEST_TMP/qemu2.pid ]] && break
		sleep 0.1
	done
	qpid=$(cat "$TEST_TMP/qemu2.pid" 2>/dev/null) || qpid=""
	wait "$qpid_wait" || rc=$?
	assert_eq "$rc" 0 "with libvirtd stopped: the plain QEMU VM ran"
	iotrace_stop_ok "$IOTRACE_PID" "$err2" "with libvirtd stopped: iotrace record exits 0"
	assert_match "$(cat "$err2")" "libvirtd does not answer" \
		"with libvirtd stopped: iotrace warns that libvirtd does not answer"
	assert_eq "$(jq -nR -r --argjson p "${qpid:-0}" "$_JQ_RECS"'
		[recs[] | select(.type == "summary" and .workload.pid == $p)
		 | .workload.vm_name] | join(",")' "$out2")" "stuck-$NAME" \
		"with libvirtd stopped: the VM is named from QEMU's -name"
	kill -CONT "$lpid"
fi

if grep -qv '^ok$' "$_lib_results"; then
	echo "# iotrace self line: $(jq -c 'select(.type == "self")' "$out" | tail -1)"
	echo "# VM row: $(jq -c --argjson p "$pid" 'select(.type == "summary" and .workload.pid == $p)
		| {workload, block, threads}' "$out")"
fi

finish
