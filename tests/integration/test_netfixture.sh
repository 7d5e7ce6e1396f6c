#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The network fixtures (netlib.sh) and netgen carry exactly the traffic
# asked for, checked against the kernel's own link counters (no iotrace).
#
# Containers: a and b on a bridge (each a cgroup + netns + veth), ext an
# outside host on its own routed link, h (sender) and rx (receiver) cgroups
# in the host's netns; b is published like `docker run -p HPORT:5000`.
#
#   (a) a -> rx on the host, at the bridge's address
#   (b) ext -> host:HPORT, DNAT to b:5000 (PREROUTING)
#   (c) h -> rx over the host's loopback (--net=host)
#   (d) b -> ext, masqueraded to the host's address on ext's link
#   (e) h -> host:HPORT, DNAT to b:5000 (OUTPUT)
#
# Each UDP path sends exactly COUNT datagrams of SIZE bytes; the receiver
# must get all of them, and every link of ours must move by exactly COUNT
# packets where the path crosses it and by 0 elsewhere: the links send
# nothing of their own (checked first: all counters still 0 a second after
# they came up).  Then a TCP transfer of TCP_BYTES over (a), (b) and (c)
# must arrive complete.
#
# Env: NETGEN (default build/tools/netgen).

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=netlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/netlib.sh"

COUNT=10000
SIZE=512
SMALL=1000 # datagrams for (d) and (e)
TCP_BYTES=1000003
DPORT=5000
ETH=14
FRAME=$((ETH + 20 + 8 + SIZE)) # one datagram on the wire: 554 bytes

require_root
require_cmd ip iptables bridge jq sysctl
require_exec "$NETGEN"

mk_bridge
mk_netns_container a "$(net_ip 2)"
mk_netns_container b "$(net_ip 3)"
mk_netns_external ext
mk_host_container h
mk_host_container rx
HPORT=$(net_port 0)
mk_port_forward "$HPORT" b "$DPORT"

# Our links: LABEL NETNS IF.
LINKS=(
	"br - $NET_BR"
	"a.veth - ${CT_IF[a]}"
	"a.eth0 ${CT_NS[a]} eth0"
	"b.veth - ${CT_IF[b]}"
	"b.eth0 ${CT_NS[b]} eth0"
	"ext.veth - ${CT_IF[ext]}"
	"ext.eth0 ${CT_NS[ext]} eth0"
)

# snap FILE: "LABEL rx_packets rx_bytes tx_packets tx_bytes" per link, and lo.
snap() {
	local l label ns ifname
	for l in "${LINKS[@]}"; do
		read -r label ns ifname <<<"$l"
		[[ $ns != - ]] || ns=""
		echo "$label $(if_stats "$ns" "$ifname")"
	done >"$1"
	echo "lo $(if_stats "" lo)" >>"$1"
}

_stat_of() {
	awk -v l="$2" '$1 == l { print $2, $3, $4, $5 }' "$1"
}

# check_links WHAT BEFORE AFTER [LABEL=RXP/TXP]...: every link moved by
# exactly the packets given (0/0 when not named), and by that many frames'
# bytes: FRAME on veths and as the bridge's tx, FRAME - ETH as the
# bridge's rx (it counts what it passes up without the Ethernet header).
# One assertion; its message lists "LABEL:rx_p,rx_b,tx_p,tx_b" per link.
check_links() {
	local what=$1 before=$2 after=$3 l label want rxp txp rxb d
	local expected="" got=""
	shift 3
	declare -A exp=()
	for l in "$@"; do
		exp[${l%%=*}]=${l#*=}
	done
	for l in "${LINKS[@]}"; do
		read -r label _ <<<"$l"
		want=${exp[$label]:-0/0}
		rxp=${want%/*}
		txp=${want#*/}
		rxb=$((rxp * FRAME))
		[[ $label != br ]] || rxb=$((rxp * (FRAME - ETH)))
		expected+=" $label:$rxp,$rxb,$txp,$((txp * FRAME))"
		d=$(stats_delta "$(_stat_of "$before" "$label")" "$(_stat_of "$after" "$label")")
		got+=" $label:${d// /,}"
	done
	assert_eq "$got" "$expected" "$what: link counters moved by exactly$expected"
}

# udp_path TAG SENDER TO RECEIVER BIND PEER N: N datagrams from SENDER to TO
# (PORT in it: the receiver's port) at a receiver in RECEIVER bound to BIND;
# the receiver must see them all from PEER (an address).  Leaves the
# counters before and after in $TEST_TMP/TAG.{before,after}.
udp_path() {
	local tag=$1 sender=$2 to=$3 receiver=$4 bind=$5 peer=$6 n=$7
	local out=$TEST_TMP/$tag.recv sout=$TEST_TMP/$tag.send rc=0
	snap "$TEST_TMP/$tag.before"
	ct_netgen_bg "$receiver" "$out" udp-recv --bind "$bind" --count "$n" \
		--size "$SIZE" --timeout 10
	to=${to/PORT/$NETGEN_PORT}
	ct_netgen "$sender" udp-send --to "$to" --count "$n" --size "$SIZE" \
		--timeout 10 >"$sout" 2>&1 || rc=$?
	assert_eq "$rc" 0 "($tag) udp-send $sender -> $to exits 0 ($(tail -n1 "$sout"))"
	assert_eq "$(netgen_field "$sout" datagrams)" "$n" "($tag) sender sent $n"
	netgen_wait "$NETGEN_PID" 10
	assert_eq "$NETGEN_RC" 0 "($tag) udp-recv in $receiver exits 0 ($(cat "$out.err"))"
	snap "$TEST_TMP/$tag.after"
	assert_eq "$(netgen_field "$out" datagrams) $(netgen_field "$out" bytes)" \
		"$n $((n * SIZE))" "($tag) receiver got $n datagrams, $((n * SIZE)) bytes"
	assert_eq "$(netgen_field "$out" bad_size)/$(netgen_field "$out" dropped)/$(netgen_field "$out" other_peers)" \
		0/0/0 "($tag) no datagram of another size, dropped, or from elsewhere"
	assert_eq "$(netgen_field "$out" peer | sed 's/:[0-9]*$//')" "$peer" \
		"($tag) datagrams come from $peer"
}

# tcp_path TAG SENDER TO RECEIVER BIND NETNS IF: TCP_BYTES from SENDER to TO
# arrive complete; SENDER's link IF (in NETNS, "" = host) sent at least that.
tcp_path() {
	local tag=$1 sender=$2 to=$3 receiver=$4 bind=$5 ns=$6 ifname=$7
	local out=$TEST_TMP/$tag.recv sout=$TEST_TMP/$tag.send rc=0 b a
	b=$(if_stats "$ns" "$ifname")
	ct_netgen_bg "$receiver" "$out" tcp-recv --bind "$bind" \
		--bytes "$TCP_BYTES" --timeout 10
	to=${to/PORT/$NETGEN_PORT}
	ct_netgen "$sender" tcp-send --to "$to" --bytes "$TCP_BYTES" \
		--timeout 10 >"$sout" 2>&1 || rc=$?
	assert_eq "$rc" 0 "($tag) tcp-send $sender -> $to exits 0 ($(tail -n1 "$sout"))"
	netgen_wait "$NETGEN_PID" 10
	assert_eq "$NETGEN_RC" 0 "($tag) tcp-recv in $receiver exits 0 ($(cat "$out.err"))"
	assert_eq "$(netgen_field "$out" bytes)" "$TCP_BYTES" \
		"($tag) receiver read $TCP_BYTES bytes"
	a=$(if_stats "$ns" "$ifname")
	read -r _ _ _ txb <<<"$(stats_delta "$b" "$a")"
	assert_ge "$txb" "$TCP_BYTES" "($tag) ${ns:+$ns:}$ifname sent >= $TCP_BYTES bytes"
}

# ---- the links are silent ---------------------------------------------------
# IPv6 autoconfiguration (RS, DAD, MLD) would start within a second of a
# link coming up, ARP with the first datagram, and a snooping bridge's IGMP
# report as soon as it has a port: all counters must still be 0.
sleep 1
snap "$TEST_TMP/quiet"
quiet=$(awk '$1 != "lo" && ($2 || $3 || $4 || $5)' "$TEST_TMP/quiet")
assert_eq "${quiet:-none}" none "no link of ours sent anything of its own in 1 s"
assert_eq "$(if_mac "" "$NET_BR")" "$NET_BR_MAC" \
	"the bridge kept its fixed MAC with ports added"

# ---- UDP ----------------------------------------------------------------------

udp_path a a "$NET_BR_IP:PORT" rx "$NET_BR_IP:0" "${CT_IP[a]}" "$COUNT"
check_links "(a) netns -> host via bridge" "$TEST_TMP/a.before" \
	"$TEST_TMP/a.after" a.eth0=0/$COUNT a.veth=$COUNT/0 br=$COUNT/0

udp_path b ext "${CT_GW[ext]}:$HPORT" b "${CT_IP[b]}:$DPORT" \
	"${CT_IP[ext]}" "$COUNT"
check_links "(b) external -> DNAT -> netns" "$TEST_TMP/b.before" \
	"$TEST_TMP/b.after" ext.eth0=0/$COUNT ext.veth=$COUNT/0 br=0/$COUNT \
	b.veth=0/$COUNT b.eth0=$COUNT/0

udp_path c h "127.0.0.1:PORT" rx "127.0.0.1:0" 127.0.0.1 "$COUNT"
check_links "(c) host netns -> host over lo" "$TEST_TMP/c.before" \
	"$TEST_TMP/c.after"
# lo is the host's: anything else on the machine may use it too.
read -r lo_rxp lo_rxb lo_txp lo_txb <<<"$(stats_delta \
	"$(_stat_of "$TEST_TMP/c.before" lo)" "$(_stat_of "$TEST_TMP/c.after" lo)")"
echo "# (c) lo moved by rx $lo_rxp packets $lo_rxb bytes, tx $lo_txp packets $lo_txb bytes (exactly $COUNT and $((COUNT * (FRAME - ETH))) when nothing else uses lo: lo counts without the Ethernet header)"
assert_ge "$lo_rxp" "$COUNT" "(c) lo received >= $COUNT packets"
assert_ge "$lo_txp" "$COUNT" "(c) lo sent >= $COUNT packets"

udp_path d b "${CT_IP[ext]}:$DPORT" ext "${CT_IP[ext]}:$DPORT" \
	"${CT_GW[ext]}" "$SMALL"
check_links "(d) netns -> MASQUERADE -> external" "$TEST_TMP/d.before" \
	"$TEST_TMP/d.after" b.eth0=0/$SMALL b.veth=$SMALL/0 br=$SMALL/0 \
	ext.veth=0/$SMALL ext.eth0=$SMALL/0

udp_path e h "${CT_GW[ext]}:$HPORT" b "${CT_IP[b]}:$DPORT" \
	"${CT_GW[ext]}" "$SMALL"
check_links "(e) host -> DNAT (OUTPUT) -> netns" "$TEST_TMP/e.before" \
	"$TEST_TMP/e.after" br=0/$SMALL b.veth=0/$SMALL b.eth0=$SMALL/0

# ---- TCP ----------------------------------------------------------------------

tcp_path tcp-a a "$NET_BR_IP:PORT" rx "$NET_BR_IP:0" "${CT_NS[a]}" eth0
tcp_path tcp-b ext "${CT_GW[ext]}:$HPORT" b "${CT_IP[b]}:$DPORT" \
	"${CT_NS[ext]}" eth0
tcp_path tcp-c h "127.0.0.1:PORT" rx "127.0.0.1:0" "" lo

finish
