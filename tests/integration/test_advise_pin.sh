#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# `iotrace advise`'s vm.unpinned_vcpu on the test VMM (build/tools/vmm, see
# test_vmm.sh) beside CPU hogs, twice (docs/advice.md):
#
#   run 1  the VMM unpinned, four hogs pinned two to each CPU: its vCPU
#          thread must queue behind them wherever it runs
#          -> vm.unpinned_vcpu raised, with the vCPU thread's migrations
#             (more than 0) and its run-queue wait, at least what the
#             kernel showed for the thread in /proc while it ran
#             (se.nr_migrations in .../sched, run_delay in .../schedstat);
#             record, beside it, reports the same figures in the vcpu
#             role of the VM's summary
#   run 2  the VMM pinned to CPU 0 (taskset), two hogs pinned to CPU 1
#          -> not raised: passed, "pinned"
#
# The vCPU thread computes --cpu-us 1000 (1 ms of CPU) before answering
# each doorbell, as a device model emulating in the vCPU thread would, so
# that it competes with the hogs for whole slices: on this 2-CPU host its
# waits were 1.1 to 2.3 ms each (the rule asks 50 us) and 63 to 80 % of its
# runnable time (the rule asks 10 %), with 19 to 60 migrations.  The hold
# after the first doorbell (--hold-ms) makes sure the VM is watched longer
# than the rule's 3 s, however fast the host.  No pass/fail depends on
# timing beyond the rule's own thresholds.
#
# The VMM is not QEMU: the QEMU rules are reported thin for it, and this
# one judged (advice_evaluate).
#
# Env: IOTRACE, VMM (default build/tools/vmm).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VMM=${VMM:-$(dirname "$IOTRACE")/tools/vmm}
REQUESTS=2000
CPU_US=1000
HOLD_MS=3000

require_root
require_cmd jq losetup taskset nproc tmux
require_exec "$IOTRACE" "$VMM"
lock_in_memory "$VMM"
[[ -c /dev/kvm ]] || fatal "/dev/kvm is missing: KVM is needed for the VM tests"
(($(nproc) >= 2)) || fatal "needs 2 CPUs (CPU 0 for the VMM, CPU 1 for the hogs); this host has $(nproc)"

cg=$(mk_cgroup pin)
rel=$(cg_rel "$cg")
hogcg=$(mk_cgroup pinhog)
loop=$(mk_loop 64)

hogs=()
# start_hogs CPU...: one busy loop pinned to each CPU given, in the hog cgroup.
start_hogs() {
	local c
	for c in "$@"; do
		(
			echo "$BASHPID" >"$hogcg/cgroup.procs" || exit 1
			exec taskset -c "$c" bash -c 'while :; do :; done'
		) &
		hogs+=($!)
	done
}

stop_hogs() {
	kill "${hogs[@]}" 2>/dev/null || true
	wait "${hogs[@]}" 2>/dev/null || true
	hogs=()
}

# vcpu_tid PID: the tid of the VMM's thread "CPU 0/KVM" (empty if none yet).
vcpu_tid() {
	local t
	for t in /proc/"$1"/task/*; do
		if [[ $(cat "$t/comm" 2>/dev/null) == "CPU 0/KVM" ]]; then
			basename "$t"
			return 0
		fi
	done
	return 0
}

# run_vmm NAME [taskset -c CPU]: run the VMM in the test cgroup as our child
# (prefixed by the command given, which execs it) and, while it runs, keep
# the last /proc figures of its vCPU thread: sets VMM_PID, SEEN_MIG,
# SEEN_WAIT_NS, SEEN_AFF.
run_vmm() {
	local name=$1 rc=0 dog tid='' line
	shift
	SEEN_MIG=0 SEEN_WAIT_NS=0 SEEN_AFF=''
	"$@" "$VMM" --disk "$loop" --cgroup "$cg" --requests "$REQUESTS" --cpu-us "$CPU_US" \
		--hold-ms "$HOLD_MS" >"$TEST_TMP/$name.out" 2>&1 &
	VMM_PID=$!
	(sleep 300 && kill -KILL "$VMM_PID") 2>/dev/null &
	dog=$!
	while kill -0 "$VMM_PID" 2>/dev/null; do
		[[ -n $tid ]] || tid=$(vcpu_tid "$VMM_PID")
		if [[ -n $tid ]]; then
			line=$(awk '$1 == "se.nr_migrations" { print $3 }' \
				"/proc/$VMM_PID/task/$tid/sched" 2>/dev/null) && [[ -n $line ]] &&
				SEEN_MIG=$line
			line=$(awk '{ print $2 }' "/proc/$VMM_PID/task/$tid/schedstat" 2>/dev/null) &&
				[[ -n $line ]] && SEEN_WAIT_NS=$line
			line=$(awk '$1 == "Cpus_allowed_list:" { print $2 }' \
				"/proc/$VMM_PID/task/$tid/status" 2>/dev/null) && [[ -n $line ]] &&
				SEEN_AFF=$line
		fi
		sleep 0.2
	done
	wait "$VMM_PID" || rc=$?
	kill "$dog" 2>/dev/null || true
	wait "$dog" 2>/dev/null || true
	assert_eq "$rc" 0 "$name: vmm exits 0 ($(cat "$TEST_TMP/$name.out"))"
	echo "# $name: vCPU thread $tid as last seen in /proc: se.nr_migrations $SEEN_MIG," \
		"run_delay $SEEN_WAIT_NS ns, Cpus_allowed_list $SEEN_AFF"
}

# advise_start NAME: iotrace advise on the test cgroup, JSON, until stopped.
advise_start() {
	local i
	ADV_ERR=$TEST_TMP/$1.advise.err
	iotrace_start "$ADV_ERR" advise --duration 600 --format json --cgroup "$rel"
	ADV_PID=$IOTRACE_PID
	for ((i = 0; i < 300; i++)); do
		grep -q '^iotrace: advise: watching' "$ADV_ERR" 2>/dev/null && return 0
		kill -0 "$ADV_PID" 2>/dev/null || fatal "iotrace advise exited: $(cat "$ADV_ERR")"
		sleep 0.1
	done
	fatal "iotrace advise did not start: $(cat "$ADV_ERR")"
}

# advise_stop NAME: SIGINT, exit status 0, every line JSON.
advise_stop() {
	iotrace_stop "$ADV_PID"
	assert_eq "$IOTRACE_RC" 0 "$1: iotrace advise exits 0 after SIGINT"
	[[ $IOTRACE_RC -eq 0 ]] || sed 's/^/#   /' "$ADV_ERR"
	assert_eq "$(json_bad_lines "$ADV_ERR.stdout")" "" "$1: every line is a JSON object"
}

# finding NAME PID JQ: JQ on vm.unpinned_vcpu of PID in run NAME ("none" if not raised).
finding() { advise_find "$TEST_TMP/$1.advise.err.stdout" pid "$2" vm.unpinned_vcpu "$3"; }
# check NAME PID ID: "STATUS REASON" of rule ID for PID, from the advise line.
check() { advise_check "$TEST_TMP/$1.advise.err.stdout" pid "$2" "$3"; }

# ---- run 1: unpinned, queued behind the hogs ----------------------------------

rec=$TEST_TMP/record.json
rec_err=$TEST_TMP/record.err
iotrace_start "$rec_err" record --interval 1 --cgroup "$rel" --output "$rec"
REC_PID=$IOTRACE_PID
iotrace_wait_ready "$REC_PID" "$rec_err"
advise_start unpinned
start_hogs 0 0 1 1
run_vmm unpinned
pid1=$VMM_PID
stop_hogs
sleep 1.5 # the VM's last figures are read at the next interval
advise_stop unpinned
iotrace_stop_ok "$REC_PID" "$rec_err" "run 1: iotrace record exits 0"

f1() { finding unpinned "$pid1" "$1"; }
echo "# run 1 finding: $(f1 '.summary')"
echo "# run 1 evidence: $(f1 '.evidence | del(.source) | tostring')"
assert_eq "$(f1 .severity)" warning "run 1 (unpinned, hogs on both CPUs): vm.unpinned_vcpu raised"
assert_eq "$(f1 .workload.name)" "kvm-$pid1" "run 1: the finding names the VM"
assert_eq "$(f1 .evidence.vcpu_threads)" 1 "run 1: one vCPU thread"
assert_eq "$(f1 .evidence.vcpus_pinned)" 0 "run 1: none pinned"
assert_match "$(f1 .evidence.affinity)" "^[0-9]+:${SEEN_AFF}\$" \
	"run 1: the affinity in the evidence is the thread's Cpus_allowed_list ($SEEN_AFF)"
assert_gt "$(f1 .evidence.migrations)" 0 "run 1: a migration count, more than 0"
assert_ge "$(f1 .evidence.migrations)" "$SEEN_MIG" \
	"run 1: migrations >= the thread's se.nr_migrations last seen in /proc ($SEEN_MIG)"
assert_ge "$(f1 .evidence.runq_wait_ms)" "$(awk -v n="$SEEN_WAIT_NS" 'BEGIN { printf "%.1f", n / 1e6 - 0.1 }')" \
	"run 1: run-queue wait >= the thread's run_delay last seen in /proc"
assert_ge "$(f1 .evidence.runq_wait_share)" 0.1 "run 1: the wait share crossed 10%"
assert_ge "$(f1 .evidence.mean_wait_us)" 50 "run 1: at 50 us a wait or more"
assert_ge "$(f1 .evidence.seconds)" 3 "run 1: watched 3 s or more"
assert_gt "$(f1 .saving.runq_wait_ms_per_s)" 0 "run 1: the saving estimated from the wait"
assert_eq "$(f1 .saving.estimated)" true "run 1: and labelled an estimate"
assert_match "$(f1 .remedy)" "taskset -p -c 2 [0-9]+" "run 1: the remedy gives taskset per vCPU thread"
assert_match "$(f1 .remedy)" "<vcpupin vcpu='0' cpuset='2'/>.*<emulatorpin" "run 1: and libvirt's"
for id in vm.io_main_loop vm.no_hugepages vm.cpu_topology; do
	assert_match "$(check unpinned "$pid1" "$id")" "^thin not a QEMU process \\(vmm\\)" \
		"run 1: $id not judged for a VMM that is not QEMU"
done

# record: the same figures per role, in the VM's summary.
role() { vm_role "$rec" "$pid1" vcpu "$1"; }
assert_ge "$(role .migrations)" "$(f1 .evidence.migrations)" \
	"run 1: record's vcpu role counts the migrations advise saw (or more: it ran longer)"
assert_ge "$(role .runq_wait_ns)" "$SEEN_WAIT_NS" "run 1: record's vcpu role has the run-queue wait"
assert_ge "$(role .runq_waits)" "$(f1 .evidence.runq_waits)" "run 1: and the waits"
assert_eq "$(vm_summary "$rec" "$pid1" '[.findings[].id] | join(" ")')" vm.unpinned_vcpu \
	"run 1: record's summary of the VM lists the finding"

# ---- run 2: pinned to CPU 0, the hogs on CPU 1 ----------------------------------

advise_start pinned
start_hogs 1 1
run_vmm pinned taskset -c 0
pid2=$VMM_PID
stop_hogs
sleep 1.5
advise_stop pinned

echo "# run 2: $(check pinned "$pid2" vm.unpinned_vcpu)"
assert_eq "$(finding pinned "$pid2" .id)" none "run 2 (pinned to CPU 0, hogs on CPU 1): not raised"
assert_match "$(check pinned "$pid2" vm.unpinned_vcpu)" \
	"^passed pinned: each vCPU thread to a CPU of its own \\([0-9]+:0\\)" \
	"run 2: passed, pinned to CPU 0"
assert_eq "$SEEN_AFF" 0 "run 2: /proc agrees: the vCPU thread may run on CPU 0 only"

# ---- run 3: top's drill-down says the same, live -----------------------------------

SESSION=iotrace-pin-$$
on_exit tmux_kill "$SESSION"
tmux new-session -d -s "$SESSION" -x 160 -y 50 \
	"$(printf '%q ' "$IOTRACE" top -d 0.5 --cgroup "$rel") 2>$TEST_TMP/top.err; echo \$? >$TEST_TMP/top.exit; sleep 600"
tmux_wait_for "$SESSION" "run 3: top attached" 30 tmux_screen_has "$SESSION" "^NAME "
start_hogs 0 0 1 1
# Longer than runs 1 and 2: the drill-down is read while the VM still runs.
"$VMM" --disk "$loop" --cgroup "$cg" --requests $((REQUESTS * 5)) --cpu-us "$CPU_US" \
	>"$TEST_TMP/top-vmm.out" 2>&1 &
pid3=$!
tmux_wait_for "$SESSION" "run 3: top lists the VM" 20 tmux_screen_has "$SESSION" "kvm-$pid3"
tmux send-keys -t "$SESSION" / "kvm-$pid3" Enter
sleep 0.5
tmux send-keys -t "$SESSION" Enter
tmux_wait_for "$SESSION" "run 3: the drill-down raises vm.unpinned_vcpu once the VM was watched 3 s" 30 \
	tmux_screen_has "$SESSION" "\\[warning\\] vm\\.unpinned_vcpu: "
assert_match "$(tmux_screen "$SESSION")" "remedy: Pin each vCPU thread" \
	"run 3: with its remedy"
assert_match "$(tmux_screen "$SESSION")" "vm\\.io_main_loop not judged: not a QEMU process" \
	"run 3: and the rules it could not judge, with why"
kill "$pid3" 2>/dev/null || true
wait "$pid3" 2>/dev/null || true
stop_hogs
tmux send-keys -t "$SESSION" q
tmux_wait_for "$SESSION" "run 3: top exits on q" 10 test -s "$TEST_TMP/top.exit"
assert_eq "$(cat "$TEST_TMP/top.exit")" 0 "run 3: iotrace top exits 0 ($(head -c 300 "$TEST_TMP/top.err"))"
tmux_kill "$SESSION"

if grep -qv '^ok$' "$_lib_results"; then
	echo "# advise output:"
	sed 's/^/#   /' "$TEST_TMP"/*.advise.err.stdout
fi

finish
