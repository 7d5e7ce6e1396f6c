#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# iotrace doctor says what works here, by doing it:
#   - as root: exit 0, the programs load (tp_btf) and every group that top
#     needs attaches; the test guest's exits were all seen, and kvm_exit is
#     judged (fires or not) when the kernel has it; nothing left loaded;
#   - as an unprivileged user with only CAP_BPF and CAP_PERFMON (the least
#     privilege iotrace documents): exit 0, with warnings naming the
#     network figures (CAP_NET_ADMIN) and the own-cost statistics
#     (CAP_SYS_ADMIN) that it goes without;
#   - with no capabilities: exit 1, and the failure names CAP_BPF.
#   - record, as an unprivileged user with CAP_BPF, CAP_PERFMON and
#     CAP_NET_ADMIN only: it runs, network figures on, own cost off.
#
# Env: IOTRACE.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd setpriv bpftool jq
require_exec "$IOTRACE"
TIMEOUT_S=60

# doctor_as LABEL [SETPRIV ARGS...]: run doctor; output in $TEST_TMP/LABEL,
# exit status in $rc.
doctor_as() {
	local label=$1
	shift
	rc=0
	if (($#)); then
		timeout "$TIMEOUT_S" setpriv "$@" "$bin" doctor >"$TEST_TMP/$label" 2>&1 || rc=$?
	else
		timeout "$TIMEOUT_S" "$bin" doctor >"$TEST_TMP/$label" 2>&1 || rc=$?
	fi
	echo "# doctor ($label):"
	sed 's/^/#   /' "$TEST_TMP/$label"
}

# line LABEL WHAT: doctor's finding lines for WHAT ("ok    block ..." etc).
line() { grep -E "^  [a-zA-Z]+ +$2 " "$TEST_TMP/$1" || true; }

# The binary where an unprivileged user can run it.
bin=$(mktemp /dev/shm/iotrace-doctor.XXXXXX)
on_exit rm -f "$bin"
install -m 755 "$IOTRACE" "$bin"

# ---- root ---------------------------------------------------------------------
doctor_as root
assert_eq "$rc" 0 "as root: doctor exits 0"
assert_match "$(line root programs)" '^  ok +programs +tp_btf' "as root: tp_btf programs load"
for g in sched block net; do
	assert_match "$(line root "$g")" "^  ok +$g " "as root: the $g group attaches"
done
assert_match "$(line root block)" 'block_rq_complete' "block lists block_rq_complete"
assert_match "$(line root sched)" 'sched_switch' "sched lists sched_switch"
assert_match "$(line root cgroups)" '^  ok +cgroups +.*cgroup2 at /' "the cgroup2 mount is named"
assert_match "$(line root privileges)" 'CAP_SYS_ADMIN' "root holds CAP_SYS_ADMIN"
assert_match "$(line root "own cost")" '^  ok ' "as root: BPF run-time statistics turn on"
assert_match "$(tail -n 1 "$TEST_TMP/root")" 'everything iotrace top needs is here' \
	"as root: the verdict"
if grep -q '^btf_trace_kvm_exit$' <(bpftool btf dump file /sys/kernel/btf/vmlinux |
	sed -n "s/^\[[0-9]*\] TYPEDEF '\(btf_trace_kvm_[a-z_]*\)'.*/\1/p"); then
	# The test guest ran: its 64 port exits reached the VMM, all counted,
	# and kvm_exit was judged one way or the other.
	assert_match "$(line root kvm_exit)" '(fires: [0-9]+ hardware exits|does not fire \(0 for)' \
		"kvm_exit is judged by a test guest"
	assert_eq "$(line root kvm_exit | grep -c 'iotrace counted' || true)" 0 \
		"every exit of the test guest was counted"
else
	echo "# this kernel has no kvm_exit tracepoint: no KVM judgement expected"
fi

assert_eq "$(iotrace_programs_left)" 0 "after doctor: none of iotrace's programs is loaded"

# ---- least privilege: CAP_BPF + CAP_PERFMON --------------------------------------
caps=(--reuid=65534 --regid=65534 --clear-groups --inh-caps=+bpf,+perfmon
	--ambient-caps=+bpf,+perfmon --bounding-set=-all,+bpf,+perfmon)
doctor_as least "${caps[@]}"
assert_eq "$rc" 0 "with CAP_BPF + CAP_PERFMON only: doctor exits 0"
assert_match "$(line least programs)" '^  ok +programs' "the programs load and attach"
assert_match "$(line least block)" '^  ok +block ' "the block group attaches"
assert_match "$(line least net)" '^  warn +net +off: needs CAP_NET_ADMIN' \
	"network figures: off, and why"
assert_match "$(line least "own cost")" '^  warn ' "own cost: a warning"
assert_match "$(cat "$TEST_TMP/least")" 'no CAP_SYS_ADMIN' "the missing CAP_SYS_ADMIN is named"

# record itself, with the documented capabilities (docs/privileges.md) and
# no more: it runs, with network figures, and says its own cost is off.
rcaps=(--reuid=65534 --regid=65534 --clear-groups --inh-caps=+bpf,+perfmon,+net_admin
	--ambient-caps=+bpf,+perfmon,+net_admin --bounding-set=-all,+bpf,+perfmon,+net_admin)
rc=0
timeout "$TIMEOUT_S" setpriv "${rcaps[@]}" "$bin" record --duration 1.5 >"$TEST_TMP/rec.json" \
	2>"$TEST_TMP/rec.err" || rc=$?
assert_eq "$rc" 0 "record with CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN only exits 0 ($(head -c 300 "$TEST_TMP/rec.err"))"
self=$(grep '"type":"self"' "$TEST_TMP/rec.json" | tail -n 1)
assert_eq "$(jq -r '.net_off' <<<"$self")" null "record without root: network figures on"
assert_eq "$(jq -r '.bpf.stats' <<<"$self")" false "record without CAP_SYS_ADMIN: own-cost statistics off, and said so"
assert_gt "$(grep -c '"type":"summary"' "$TEST_TMP/rec.json")" 0 "record without root: summary lines"

# ---- no privileges ------------------------------------------------------------
doctor_as none --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all
assert_eq "$rc" 1 "without capabilities: doctor exits 1"
assert_match "$(line none privileges)" '^  FAIL +privileges +missing CAP_BPF and CAP_PERFMON' \
	"the failure names CAP_BPF and CAP_PERFMON"
assert_match "$(tail -n 1 "$TEST_TMP/none")" 'cannot run here' "the verdict says top cannot run"

finish
