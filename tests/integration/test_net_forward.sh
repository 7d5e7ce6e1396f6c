#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Forwarding softirq time goes to the container whose packets the host
# forwards, through the host end of the container's veth.
#
# Containers built by hand (netlib.sh): fwd, a cgroup + netns on a veth to
# the bridge, with a long-lived process (its "init", through which iotrace
# finds its namespace); ext, an outside host on its own routed link, which
# drops UDP to DPORT in its INPUT chain (no socket, no ICMP answer).
#
# fwd sends COUNT datagrams to ext: the host receives each from fwd's veth,
# bridges, routes and masquerades it out of ext's link, in NET_RX softirq.
# No socket on the host sees those packets, so before iotrace knew fwd's
# veth, these runs went to the unattributed workload.  Now:
#   - iotrace enters fwd's veth (host end) in net_devs, owned by fwd's
#     cgroup (IOTRACE_DEV_CGROUP), within a few intervals of fwd's first
#     activity (a short warm-up);
#   - ext's link counted COUNT packets out of the host: they were forwarded;
#   - fwd's tx_packets are exactly WARM + COUNT (its socket counts them;
#     the device adds no second count), rx 0;
#   - over the intervals of the phase, fwd's softirq time is > 0 and at
#     least half of fwd's + the unattributed workload's (all of these runs
#     would be unattributed without the device; the rest is the host's
#     background, and other tests running at the same time).
#
# Env: IOTRACE, NETGEN.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=netlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/netlib.sh"

COUNT=50000
WARM=200
SIZE=256
DPORT=5009

require_root
require_cmd ip iptables bridge jq sysctl bpftool stat
require_exec "$IOTRACE" "$NETGEN"

mk_bridge
mk_netns_container fwd "$(net_ip 2)"
mk_netns_external ext
REL=$(cg_rel "${CT_CG[fwd]}")
CGID=$(stat -c %i "${CT_CG[fwd]}")
HOST_NS=$(stat -L -c %i /proc/self/ns/net)
FWD_IFINDEX=$(ip -j link show dev "${CT_IF[fwd]}" | jq -r '.[0].ifindex')

# The destination has no socket: ext's own firewall drops the datagrams
# (a rule in ext's namespace, gone with it).
ip netns exec "${CT_NS[ext]}" iptables -w 10 -A INPUT -p udp --dport "$DPORT" -j DROP ||
	fatal "cannot add a DROP rule in ${CT_NS[ext]}"

# fwd's long-lived process, in its cgroup and namespace.
(
	echo "$BASHPID" >"${CT_CG[fwd]}/cgroup.procs" &&
		exec ip netns exec "${CT_NS[fwd]}" sleep 600
) </dev/null &
INIT_PID=$!
on_exit kill_wait "$INIT_PID"

# net_devs_id PID: the id of the net_devs map iotrace PID holds.
net_devs_id() {
	local id
	while read -r id; do
		if [[ $(bpftool map show id "$id" -j 2>/dev/null | jq -r .name) == net_devs ]]; then
			echo "$id"
			return 0
		fi
	done < <(awk '$1 == "map_id:" { print $2 }' /proc/"$1"/fdinfo/* 2>/dev/null)
	return 1
}

# dev_owner MAPID: "ID KIND" of the entry for fwd's veth (host end), or nothing.
dev_owner() {
	bpftool map dump id "$1" -j 2>/dev/null |
		jq -r --argjson ns "$HOST_NS" --argjson ifx "$FWD_IFINDEX" '.[] | .formatted
			| select(.key.netns == $ns and .key.ifindex == $ifx)
			| "\(.value.id) \(.value.kind)"'
}

now_s() {
	date +%s.%N
}

# send N RATE: fwd sends N datagrams to ext (RATE 0: as fast as it can).
send() {
	local n=$1 rate=$2 rc=0
	local -a rate_arg=()
	((rate == 0)) || rate_arg=(--rate "$rate")
	ct_netgen fwd udp-send --to "${CT_IP[ext]}:$DPORT" --count "$n" --size "$SIZE" \
		"${rate_arg[@]}" --timeout 30 >"$TEST_TMP/send-$n.out" 2>&1 || rc=$?
	assert_eq "$rc" 0 "fwd sent $n datagrams to ext ($(tail -n1 "$TEST_TMP/send-$n.out"))"
}

# Every workload, the unattributed one included: no --cgroup.
iotrace_start "$TEST_TMP/rec.err" record --interval 1
iotrace_wait_ready "$IOTRACE_PID" "$TEST_TMP/rec.err"
MAP=$(net_devs_id "$IOTRACE_PID") || fatal "iotrace ($IOTRACE_PID) holds no net_devs map"

# ---- warm-up: iotrace finds fwd's veth --------------------------------------------

send "$WARM" 100
owner=""
for ((i = 0; i < 100; i++)); do
	owner=$(dev_owner "$MAP")
	[[ -z $owner ]] || break
	sleep 0.1
done
assert_eq "$owner" "$CGID 2" \
	"fwd's veth (host end, ifindex $FWD_IFINDEX) is in net_devs, owned by fwd's cgroup (kind 2: cgroup)"
# Let the warm-up's intervals end before the phase starts.
sleep 1.2

# ---- the phase: forwarded traffic -----------------------------------------------------

ext_before=$(if_stats "" "${CT_IF[ext]}")
fwd_before=$(if_stats "" "${CT_IF[fwd]}")
t0=$(now_s)
send "$COUNT" 0
t1=$(now_s)
read -r _ _ ext_tx _ <<<"$(stats_delta "$ext_before" "$(if_stats "" "${CT_IF[ext]}")")"
read -r fwd_rx _ _ _ <<<"$(stats_delta "$fwd_before" "$(if_stats "" "${CT_IF[fwd]}")")"
assert_eq "$fwd_rx" "$COUNT" "the host received $COUNT packets from fwd's veth"
assert_eq "$ext_tx" "$COUNT" "the host forwarded $COUNT packets out of ext's link"
sleep 1.5

iotrace_stop_ok "$IOTRACE_PID" "$TEST_TMP/rec.err" "iotrace record exits 0"
kill_wait "$INIT_PID"
OUT=$TEST_TMP/rec.err.stdout
assert_eq "$(json_bad_lines "$OUT")" "" "every line is a JSON object"

# phase_sirq JQ_SELECT: softirq_ns summed over the interval lines of the
# workload JQ_SELECT picks whose interval overlaps the phase [t0, t1].
phase_sirq() {
	jq -nR -r --argjson t0 "$t0" --argjson t1 "$t1" "$_JQ_RECS"'
		def end_s: .ts | capture("^(?<s>[^.]+)\\.(?<ms>[0-9]+)Z$")
			| (.s + "Z" | fromdateiso8601) + (.ms | tonumber) / 1000;
		[recs[] | select(.type == "interval" and ('"$1"'))
		 | select(end_s > $t0 and end_s - .interval_s < $t1) | .net.softirq_ns]
		| add // 0' "$OUT"
}

read -r tx_p tx_b rx_p <<<"$(summary_field "$OUT" "$REL" \
	'"\(.net.tx_packets) \(.net.tx_bytes) \(.net.rx_packets)"')"
assert_eq "$tx_p $tx_b" "$((WARM + COUNT)) $(((WARM + COUNT) * SIZE))" \
	"fwd's tx packets and bytes are exact: the device counts nothing twice"
assert_eq "$rx_p" 0 "fwd received nothing"

fwd_sirq=$(phase_sirq ".workload.cgroup_path == \"$REL\"")
un_sirq=$(phase_sirq ".workload.cgroup_id == 0")
echo "# phase $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s, $COUNT datagrams forwarded:" \
	"fwd softirq $fwd_sirq ns, unattributed $un_sirq ns" \
	"(fwd's share $(awk -v f="$fwd_sirq" -v u="$un_sirq" 'BEGIN { if (f + u) printf "%.1f", 100 * f / (f + u); else print "-" }') %," \
	"$(awk -v f="$fwd_sirq" -v n="$COUNT" 'BEGIN { printf "%.0f", f / n }') ns per datagram)"
assert_gt "$fwd_sirq" 0 "fwd gets softirq time for the packets the host forwarded"
assert_ge "$((2 * fwd_sirq))" "$((fwd_sirq + un_sirq))" \
	"fwd's share of the phase's softirq time (fwd + unattributed) is at least 50 %"

finish
