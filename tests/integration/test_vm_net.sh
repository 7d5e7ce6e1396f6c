#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# A VM's network traffic, counted at its tap device, against traffic known
# exactly.
#
# build/tools/vmm --tap (see tools/vmm.c) is a VM with a network card: its
# guest rings a port doorbell REQUESTS times and each doorbell is answered
# by one IPv4/UDP frame of SIZE payload bytes written to a tap device, by
# the vCPU thread "CPU 0/KVM" or, with --io-thread, by "IO iothread0"; its
# reader thread "IO rx0" reads frames from the tap until RX datagrams for
# the VM's address arrived.  Around it, in the host's netns:
#
#   host receiver (netgen udp-recv, cgroup vrxK) <-- REQUESTS -- VM (vmm)
#   host sender   (netgen udp-send, cgroup vtxK) --    RX    --> VM
#
# The tap carries nothing else: IPv6 is off on it before it comes up (no
# router solicitation, DAD or MLD), the VM's MAC is a static neighbour (no
# ARP), and the tap's queue holds every datagram the sender sends even if
# the reader lags (no drop).  The tap's own counters check that: the host
# received REQUESTS frames from it and transmitted RX to it.
#
# iotrace finds a VM by its KVM events, and its taps in /proc/PID/fdinfo at
# its next read; traffic before that is not the VM's.  So the VMM holds its
# first doorbell for HOLD_MS (two reads at --interval 1, and slack) before
# it sends anything, and the host sends to the VM only once the VM's first
# frame has arrived (without the hold, iotrace sees none of the traffic of
# so short a run).  Then, from the VM's summary row:
#
#   net.tx_packets == REQUESTS, net.tx_bytes == REQUESTS x SIZE (the host
#   received them from the tap), net.rx_packets == RX, net.rx_bytes ==
#   RX x SIZE (the host transmitted them to it), payload bytes only;
#   kvm.pio_exits == REQUESTS; derived.exits_per_io == exits / (REQUESTS +
#   RX) to its 4 decimals; the role that wrote the frames has CPU time;
#
# and from the sockets' side: vrxK received REQUESTS datagrams, vtxK sent
# RX, and the VMM's own cgroup row has no socket traffic.
#
# Two runs, each with its own tap, cgroups and addresses, under one
# recording: the frames written by the vCPU thread, then by the I/O thread.
#
# Env: IOTRACE, NETGEN, VMM (default build/tools/vmm).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=netlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/netlib.sh"

VMM=${VMM:-$REPO_ROOT/build/tools/vmm}
REQUESTS=2000 # frames the VM sends, one per doorbell
RX=1000       # datagrams the host sends to the VM
SIZE=512      # UDP payload of every datagram, both ways
HDRS=42       # Ethernet + IPv4 + UDP headers: the tap counts whole frames
VM_MAC=02:76:6d:6d:00:01 # vmm's fixed MAC (vmm --help)
VM_PORT=5000             # and UDP port
HOLD_MS=2500
TIMEOUT_S=15

require_root
require_cmd ip jq sysctl
require_exec "$IOTRACE" "$VMM" "$NETGEN"
[[ -c /dev/kvm ]] || fatal "/dev/kvm is missing: KVM is needed for the VM tests"
[[ -c /dev/net/tun ]] || fatal "/dev/net/tun is missing: the tun driver is needed for taps"
lock_in_memory "$VMM" "$NETGEN"

vmcg=$(mk_cgroup vmnet)
vmrel=$(cg_rel "$vmcg")
declare -A REL
for k in 1 2; do
	mk_host_container "vrx$k"
	mk_host_container "vtx$k"
	REL[vrx$k]=$(cg_rel "${CT_CG[vrx$k]}")
	REL[vtx$k]=$(cg_rel "${CT_CG[vtx$k]}")
done

# mk_tap K: tap iotap$$-K, silent (IPv6 off before it comes up), with
# TAP_IP/30 on it and a static neighbour VM_IP -> VM_MAC, a queue longer
# than RX (tun drops what does not fit while the reader lags), up.  Sets
# TAP, TAP_IP, TAP_MAC, VM_IP.  Removed at exit.  Main shell only.
mk_tap() {
	local k=$1
	_net_main_shell mk_tap
	TAP=iotap$$-$k
	TAP_IP=$NET_PREFIX.$((4 * k + 1))
	VM_IP=$NET_PREFIX.$((4 * k + 2))
	ip tuntap add dev "$TAP" mode tap || fatal "cannot create tap $TAP"
	on_exit _net_link_del "$TAP"
	sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" >/dev/null ||
		fatal "cannot disable IPv6 on $TAP"
	ip link set "$TAP" txqueuelen $((RX + 1000)) ||
		fatal "cannot set the queue length of $TAP"
	ip addr add "$TAP_IP/30" dev "$TAP" || fatal "cannot add $TAP_IP/30 to $TAP"
	ip neigh replace "$VM_IP" lladdr "$VM_MAC" dev "$TAP" nud permanent ||
		fatal "cannot add neighbour $VM_IP on $TAP"
	ip link set "$TAP" up || fatal "cannot bring $TAP up"
	TAP_MAC=$(if_mac "" "$TAP")
}

# tap_stats IF: "rx_packets rx_bytes tx_packets tx_bytes rx_dropped
# tx_dropped" of IF, from the host's side (rx: frames the VM wrote).
tap_stats() {
	ip -s -j link show dev "$1" |
		jq -r '.[0].stats64 | "\(.rx.packets) \(.rx.bytes) \(.tx.packets) \(.tx.bytes) \(.rx.dropped) \(.tx.dropped)"' ||
		fatal "cannot read the counters of $1"
}

# delta BEFORE AFTER: field-wise AFTER - BEFORE of two tap_stats lines.
delta() {
	local -a b a
	local i out=""
	read -ra b <<<"$1"
	read -ra a <<<"$2"
	for i in "${!a[@]}"; do
		out+="${out:+ }$((a[i] - b[i]))"
	done
	echo "$out"
}

# vmm_count K KEY: KEY=N from run K's VMM summary line.
vmm_count() {
	sed -nE "s/^vmm: .*\b$2=([0-9]+).*/\1/p" "$TEST_TMP/vmm$1.out"
}

# run_net K [--io-thread]: one VM, its tap, its receiver and its sender.
# Sets VM_PID[K] to the VM's pid.
declare -A VM_PID
run_net() {
	local k=$1 iothr=${2:-} tag rc=0 dog before after first=0 i
	local recv=$TEST_TMP/recv$k send=$TEST_TMP/send$k out=$TEST_TMP/vmm$k.out
	tag="(run $k${iothr:+ $iothr})"

	mk_tap "$k"
	ct_netgen_bg "vrx$k" "$recv" udp-recv --bind "$TAP_IP:0" --count "$REQUESTS" \
		--size "$SIZE" --timeout "$TIMEOUT_S"
	before=$(tap_stats "$TAP")
	# Our direct child, so its pid is the VM's; a watchdog, not timeout(1).
	"$VMM" --cgroup "$vmcg" --tap "$TAP" --src "$VM_IP" --dst "$TAP_IP:$NETGEN_PORT" \
		--dst-mac "$TAP_MAC" --mode pio --requests "$REQUESTS" --rx "$RX" \
		--hold-ms "$HOLD_MS" --timeout "$TIMEOUT_S" ${iothr:+"$iothr"} \
		>"$out" 2>&1 </dev/null &
	VM_PID[$k]=$!
	(sleep 60 && kill -KILL "${VM_PID[$k]}") 2>/dev/null &
	dog=$!

	# The VM's first frame comes after its hold: iotrace knows its tap.
	for ((i = 0; i < 200; i++)); do
		read -r first _ < <(delta "$before" "$(tap_stats "$TAP")")
		((first == 0)) || break
		kill -0 "${VM_PID[$k]}" 2>/dev/null || break
		sleep 0.05
	done
	assert_gt "$first" 0 "$tag the VM sent its first frame after its hold"
	ct_netgen "vtx$k" udp-send --to "$VM_IP:$VM_PORT" --count "$RX" --size "$SIZE" \
		--timeout "$TIMEOUT_S" >"$send" 2>&1 || rc=$?
	assert_eq "$rc" 0 "$tag udp-send to the VM exits 0 ($(tail -n1 "$send"))"

	rc=0
	wait "${VM_PID[$k]}" || rc=$?
	kill "$dog" 2>/dev/null || true
	wait "$dog" 2>/dev/null || true
	netgen_wait "$NETGEN_PID" "$TIMEOUT_S"
	after=$(tap_stats "$TAP")
	echo "# $tag $(cat "$out")"

	# The fixture: the VMM, the receiver and the tap agree.
	assert_eq "$rc" 0 "$tag vmm exits 0 ($(head -c 500 "$out"))"
	assert_eq "$(vmm_count "$k" doorbells)/$(vmm_count "$k" pio_exits)" \
		"$REQUESTS/$REQUESTS" "$tag vmm: doorbells == pio_exits == $REQUESTS"
	assert_eq "$(vmm_count "$k" tx_frames) $(vmm_count "$k" tx_bytes)" \
		"$REQUESTS $((REQUESTS * SIZE))" "$tag vmm wrote $REQUESTS frames of $SIZE payload bytes"
	assert_eq "$(vmm_count "$k" rx_frames) $(vmm_count "$k" rx_bytes) $(vmm_count "$k" rx_other)" \
		"$RX $((RX * SIZE)) 0" "$tag vmm read $RX datagrams of $SIZE bytes and nothing else"
	assert_eq "$(vmm_count "$k" ios)" 0 "$tag vmm did no disk I/O"
	assert_eq "$NETGEN_RC $(netgen_field "$recv" datagrams)/$(netgen_field "$recv" dropped)" \
		"0 $REQUESTS/0" "$tag the host receiver got all $REQUESTS datagrams"
	assert_eq "$(delta "$before" "$after")" \
		"$REQUESTS $((REQUESTS * (HDRS + SIZE))) $RX $((RX * (HDRS + SIZE))) 0 0" \
		"$tag tap $TAP: the host received $REQUESTS frames, transmitted $RX, dropped none"
}

iotrace_start "$TEST_TMP/rec.err" record --interval 1 --cgroup "$vmrel" \
	--cgroup "${REL[vrx1]}" --cgroup "${REL[vtx1]}" \
	--cgroup "${REL[vrx2]}" --cgroup "${REL[vtx2]}"
iotrace_wait_ready "$IOTRACE_PID" "$TEST_TMP/rec.err"
run_net 1
run_net 2 --io-thread
iotrace_stop_ok "$IOTRACE_PID" "$TEST_TMP/rec.err" "iotrace record exits 0"
OUT=$TEST_TMP/rec.err.stdout
assert_eq "$(json_bad_lines "$OUT")" "" "every line is a JSON object"

# net_of CGROUP_PATH: "tx_packets tx_bytes rx_packets rx_bytes" of its row.
net_of() {
	summary_field "$OUT" "$1" \
		'"\(.net.tx_packets) \(.net.tx_bytes) \(.net.rx_packets) \(.net.rx_bytes)"'
}

# check_vm K WRITER_ROLE
check_vm() {
	local k=$1 role=$2 pid=${VM_PID[$1]} tag exits want got
	tag="(run $k, VM $pid)"
	exits=$(vmm_count "$k" userspace_exits)

	assert_eq "$(vm_summary "$OUT" "$pid" .workload.kind)" vm "$tag a row of kind vm"
	assert_eq "$(vm_summary "$OUT" "$pid" \
		'"\(.net.tx_packets) \(.net.tx_bytes) \(.net.rx_packets) \(.net.rx_bytes)"')" \
		"$REQUESTS $((REQUESTS * SIZE)) $RX $((RX * SIZE))" \
		"$tag VM net: tx $REQUESTS packets / $((REQUESTS * SIZE)) bytes, rx $RX / $((RX * SIZE)) (at its tap)"
	assert_eq "$(vm_summary "$OUT" "$pid" .kvm.pio_exits)" "$REQUESTS" \
		"$tag kvm.pio_exits == $REQUESTS"
	assert_eq "$(vm_summary "$OUT" "$pid" .kvm.exits)" "$exits" \
		"$tag kvm.exits == the VMM's exits ($exits)"
	assert_eq "$(vm_summary "$OUT" "$pid" '.block.read_ops + .block.write_ops')" 0 \
		"$tag no block I/O"
	want=$(awk -v e="$exits" -v n=$((REQUESTS + RX)) 'BEGIN { printf "%.6f", e / n }')
	got=$(vm_summary "$OUT" "$pid" .derived.exits_per_io)
	if _is_num "$got" && awk -v g="$got" -v w="$want" \
		'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= 0.00005 + 1e-9) }'; then
		pass "$tag exits_per_io == exits / (packets + block ops) = $want"
	else
		fail "$tag exits_per_io == exits / (packets + block ops)" \
			"expected $want (to 4 decimals) got ${got:-<empty>}"
	fi
	assert_gt "$(vm_role "$OUT" "$pid" "$role" .cpu_ns)" 0 \
		"$tag the $role thread, which wrote the frames, has CPU time"
	# "IO rx0", and with --io-thread "IO iothread0".
	assert_eq "$(vm_role "$OUT" "$pid" iothread .threads)" \
		"$([[ $role == iothread ]] && echo 2 || echo 1)" \
		"$tag the reader thread counts as an iothread"
	assert_eq "$(net_of "${REL[vrx$k]}")" "0 0 $REQUESTS $((REQUESTS * SIZE))" \
		"$tag host receiver vrx$k: received the VM's $REQUESTS datagrams, sent nothing"
	assert_eq "$(net_of "${REL[vtx$k]}")" "$RX $((RX * SIZE)) 0 0" \
		"$tag host sender vtx$k: sent the VM's $RX datagrams, received nothing"
}

check_vm 1 vcpu
check_vm 2 iothread
# The VMM's cgroup has the two VM rows (workload.pid set) and its own.
assert_eq "$(jq -nR -r --arg p "$vmrel" "$_JQ_RECS"'
	[recs[] | select(.type == "summary" and .workload.cgroup_path == $p and
			 .workload.pid == null)]
	| if length == 1 then .[0].net | "\(.tx_packets) \(.rx_packets)"
	  else "<\(length) cgroup summary lines>" end' "$OUT")" "0 0" \
	"the VMM's cgroup row: no socket traffic (tap traffic is the VM's)"

# ---- failures are clear -----------------------------------------------------

rc=0
"$VMM" --tap "iotap$$-none" --src "$VM_IP" --dst "$TAP_IP:1" --dst-mac "$TAP_MAC" \
	--requests 1 >/dev/null 2>"$TEST_TMP/none.err" || rc=$?
assert_eq "$rc" 1 "vmm --tap of a missing device exits 1"
assert_match "$(cat "$TEST_TMP/none.err")" "iotap$$-none" "and names it"
rc=0
"$VMM" --tap "$TAP" --requests 1 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "vmm --tap without --src/--dst/--dst-mac exits 2"
rc=0
"$VMM" --tap "$TAP" --disk /dev/null --src "$VM_IP" --dst "$TAP_IP:1" \
	--dst-mac "$TAP_MAC" >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "vmm --tap with --disk exits 2"
rc=0
"$VMM" --tap "$TAP" --src "$VM_IP" --dst "$TAP_IP:1" --dst-mac "$TAP_MAC" \
	--requests 0 --rx 1 --timeout 1 >/dev/null 2>"$TEST_TMP/rxto.err" || rc=$?
assert_eq "$rc" 1 "vmm --rx 1 --timeout 1 with nothing sent exits 1"
assert_match "$(cat "$TEST_TMP/rxto.err")" 'timed out after 1 s: read 0 of 1' \
	"and says it timed out"

finish
