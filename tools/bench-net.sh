#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Network-path cost benchmark (`make bench`, after the block one).  Prints
# figures; never fails on a number.
#
# The same TCP transfer (netgen, BYTES of payload) from a sender cgroup in
# the host's network namespace to a receiver over three paths:
#   loopback  receiver in the host's netns, at 127.0.0.1 (--net=host)
#   bridge    receiver in a netns on a veth to a bridge, at its own address
#   nat       the same behind DNAT: the sender connects to a host address
#             and port that is forwarded to it (docker run -p)
# For each, iotrace's cycles per payload byte for the sender, the receiver
# and both (CPU and network softirq share), medians over ROUNDS, and the
# NAT/loopback ratio.  Then iperf3 over the NAT path, iotrace attached vs
# detached, interleaved.
#
#   ROUNDS=3 BYTES=1073741824 IPERF_SECONDS=3 bash tools/bench-net.sh [BUILD_DIR]
#
# The fixtures are the integration tests' (tests/integration/netlib.sh):
# everything is removed at exit.

build=$(cd "${1:-build}" && pwd)
export IOTRACE=$build/iotrace NETGEN=$build/tools/netgen
# shellcheck source-path=SCRIPTDIR source=../tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/integration/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../tests/integration/netlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/integration/netlib.sh"

rounds=${ROUNDS:-3}
bytes=${BYTES:-1073741824}
iperf_secs=${IPERF_SECONDS:-3}
DPORT=5000

require_root
require_cmd ip iptables jq iperf3
require_exec "$IOTRACE" "$NETGEN"

mk_bridge
mk_netns_container nat "$(net_ip 2)"
mk_netns_container br "$(net_ip 3)"
mk_host_container snd
mk_host_container lo
HPORT=$(net_port 0)
mk_port_forward "$HPORT" nat "$DPORT"

declare -A REL
for c in snd lo br nat; do
	REL[$c]=$(cg_rel "${CT_CG[$c]}")
done

# transfer PATH: one TCP transfer of $bytes over PATH under iotrace; appends
# "PATH sender_cpb receiver_cpb total_cpb" to $TEST_TMP/results.
transfer() {
	local path=$1 rcv to bind out rc=0
	case $path in
	loopback) rcv=lo to=127.0.0.1:PORT bind=127.0.0.1:0 ;;
	bridge) rcv=br to=${CT_IP[br]}:PORT bind=${CT_IP[br]}:0 ;;
	nat) rcv=nat to=$NET_BR_IP:$HPORT bind=${CT_IP[nat]}:$DPORT ;;
	esac
	iotrace_start "$TEST_TMP/rec.err" record --interval 60 \
		--cgroup "${REL[snd]}" --cgroup "${REL[$rcv]}"
	iotrace_wait_ready "$IOTRACE_PID" "$TEST_TMP/rec.err" >/dev/null
	ct_netgen_bg "$rcv" "$TEST_TMP/recv" tcp-recv --bind "$bind" --bytes "$bytes" --timeout 60
	to=${to/PORT/$NETGEN_PORT}
	ct_netgen snd tcp-send --to "$to" --bytes "$bytes" --timeout 60 >"$TEST_TMP/send" 2>&1 ||
		rc=$?
	netgen_wait "$NETGEN_PID" 60
	iotrace_stop "$IOTRACE_PID"
	((rc == 0 && NETGEN_RC == 0)) || fatal "$path transfer failed: $(cat "$TEST_TMP/send")"
	out=$TEST_TMP/rec.err.stdout
	jq -nR -r --arg s "${REL[snd]}" --arg r "${REL[$rcv]}" --arg p "$path" --argjson b "$bytes" '
		[inputs | fromjson? | select(.type == "summary")] as $rows
		| def cost($c): ($rows[] | select(.workload.cgroup_path == $c)
			| .derived.cycles_per_byte * (.net.tx_bytes + .net.rx_bytes));
		  (cost($s)) as $cs | (cost($r)) as $cr
		| "\($p) \($cs / $b) \($cr / $b) \(($cs + $cr) / $b)"' "$out" >>"$TEST_TMP/results"
}

# iperf NAME ATTACHED: iperf3 over the NAT path for $iperf_secs; appends
# "iperf ATTACHED gbits".
iperf() {
	local attached=$1 srv
	ip netns exec "${CT_NS[nat]}" iperf3 -s -1 -p "$DPORT" >/dev/null 2>&1 &
	srv=$!
	on_exit kill_wait "$srv"
	sleep 0.3
	if [[ $attached == attached ]]; then
		iotrace_start "$TEST_TMP/iperf.err" record --interval 60 -o /dev/null
		iotrace_wait_ready "$IOTRACE_PID" "$TEST_TMP/iperf.err" >/dev/null
	fi
	iperf3 -c "$NET_BR_IP" -p "$HPORT" -t "$iperf_secs" -J >"$TEST_TMP/iperf.json" ||
		fatal "iperf3 failed: $(head -c 500 "$TEST_TMP/iperf.json")"
	[[ $attached == attached ]] && iotrace_stop "$IOTRACE_PID"
	wait "$srv" 2>/dev/null || true
	echo "iperf $attached $(jq '.end.sum_received.bits_per_second / 1e9' "$TEST_TMP/iperf.json")" \
		>>"$TEST_TMP/results"
}

echo "iotrace network benchmark: TCP transfer of $bytes payload bytes per path," \
	"$rounds rounds, iperf3 ${iperf_secs}s x $rounds per mode, $(nproc) CPUs, $(uname -r)"
: >"$TEST_TMP/results"
for r in $(seq "$rounds"); do
	for p in loopback bridge nat; do
		transfer "$p"
	done
	iperf detached
	iperf attached
	echo "  round $r/$rounds done"
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v p="$1" -v c="$2" '$1 == p { print $c }' "$TEST_TMP/results" | median; }

echo
printf '%-9s %16s %18s %14s %12s\n' path "sender cyc/B" "receiver cyc/B" "total cyc/B" "vs loopback"
base=$(col loopback 4)
for p in loopback bridge nat; do
	printf '%-9s %16.3f %18.3f %14.3f %11.2fx\n' "$p" "$(col "$p" 2)" "$(col "$p" 3)" \
		"$(col "$p" 4)" "$(awk -v t="$(col "$p" 4)" -v b="$base" 'BEGIN { print t / b }')"
done
echo
det=$(awk '$1 == "iperf" && $2 == "detached" { print $3 }' "$TEST_TMP/results" | median)
att=$(awk '$1 == "iperf" && $2 == "attached" { print $3 }' "$TEST_TMP/results" | median)
printf 'iperf3 over NAT: %.2f Gbit/s detached, %.2f Gbit/s with iotrace attached (%.1f%%)\n' \
	"$det" "$att" "$(awk -v a="$att" -v d="$det" 'BEGIN { print 100 * a / d }')"
_lib_finished=1
