#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# iotrace serve, scraped by a real Prometheus server.
#
# Bad input first: a --listen that is not HOST:PORT or not an address, a
# port already in use, a textfile directory that is missing or read-only:
# each is refused at once with a clear message, before anything is attached.
#
# Then Prometheus (Debian's, started here on 127.0.0.1 with a temporary
# config and TSDB, scraping every second) scrapes `iotrace serve`, which
# also writes a textfile, while a test cgroup does exactly READS reads and
# WRITES writes (4k, O_DIRECT) on a loop device.  `promtool check metrics`
# passes on the endpoint's output and on the textfile with the host's live
# workloads present; a PromQL query through Prometheus's HTTP API returns
# the cgroup's exact read and write counts, and its latency histogram counts
# every one of them; labels are only the bounded ones.  SIGINT and SIGTERM
# stop iotrace in under a second with exit status 0, and the textfile goes.
#
# Env: IOTRACE, IOGEN.

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

READS=3000
WRITES=1000
BS=4096
# Labels a series may carry: the workload's, the op/direction/bucket ones,
# the info metrics' and the self metrics'.  Nothing per thread or request.
ALLOWED_LABELS="kind name id op direction le cgroup runtime container_id reason map what program version prog_type cycles_source network"

require_root
# Missing tools fail the test (lib.sh): CI must have installed them.
require_cmd promtool prometheus curl jq ss losetup dd truncate mount umount
require_exec "$IOTRACE" "$IOGEN"
lock_in_memory "$IOGEN"

# free_port [EXCEPT]: a TCP port nothing listens on, other than EXCEPT.
free_port() {
	local p i used
	used=$(ss -Htln | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u)
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 30000))
		[[ $p != "${1:-}" ]] || continue
		grep -qx "$p" <<<"$used" || {
			echo "$p"
			return 0
		}
	done
	fatal "no free TCP port found"
}

# run_refused WHAT EXPECTED_RC PATTERN ARG...: iotrace ARG... must exit
# EXPECTED_RC within 5 s, saying PATTERN on stderr.
run_refused() {
	local what=$1 want_rc=$2 pattern=$3 rc=0 out
	shift 3
	out=$(timeout 5 "$IOTRACE" "$@" 2>&1 >/dev/null) || rc=$?
	assert_eq "$rc" "$want_rc" "$what: exit status"
	assert_match "$out" "$pattern" "$what: the message says why"
}

# ---- bad input: refused before anything is attached --------------------------

run_refused "--listen without a port" 2 "is not HOST:PORT" serve --listen 127.0.0.1
run_refused "--listen with a bad port" 2 "port is not a number from 0 to 65535" \
	serve --listen 127.0.0.1:70000
run_refused "--listen with a bad address" 1 \
	"^iotrace serve: bad --listen address '300\.1\.1\.1:9464'" serve --listen 300.1.1.1:9464
run_refused "--textfile directory missing" 1 \
	"^iotrace serve: cannot write to textfile directory $TEST_TMP/none: No such file" \
	serve --textfile "$TEST_TMP/none"
mkdir "$TEST_TMP/ro"
mount -t tmpfs -o ro,size=1m iotrace-test-ro "$TEST_TMP/ro" || fatal "cannot mount a read-only tmpfs"
on_exit umount "$TEST_TMP/ro"
run_refused "--textfile directory read-only" 1 \
	"^iotrace serve: cannot write to textfile directory $TEST_TMP/ro: Read-only file system" \
	serve --textfile "$TEST_TMP/ro"

# ---- Prometheus ------------------------------------------------------------------

pport=$(free_port)
iport=$(free_port "$pport")
pdir=$TEST_TMP/prometheus
mkdir -p "$pdir/data"
cat >"$pdir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: iotrace
    static_configs:
      - targets: ['127.0.0.1:$iport']
EOF
prometheus --config.file="$pdir/prometheus.yml" --storage.tsdb.path="$pdir/data" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn \
	>"$pdir/log" 2>&1 </dev/null &
prom_pid=$!
on_exit kill_wait "$prom_pid" 10
for ((i = 0; i < 100; i++)); do
	curl -sf --max-time 1 "http://127.0.0.1:$pport/-/ready" >/dev/null && break
	kill -0 "$prom_pid" 2>/dev/null || fatal "prometheus exited: $(tail -c 2000 "$pdir/log")"
	sleep 0.1
done
curl -sf --max-time 1 "http://127.0.0.1:$pport/-/ready" >/dev/null ||
	fatal "prometheus not ready after 10 s: $(tail -c 2000 "$pdir/log")"
pass "prometheus serves on 127.0.0.1:$pport"

# A port in use (Prometheus's) is refused, and nothing is left running.
run_refused "--listen on a port in use" 1 \
	"^iotrace serve: cannot listen on 127\.0\.0\.1:$pport: Address already in use" \
	serve --listen "127.0.0.1:$pport"

# prom_sample QUERY: "TIMESTAMP VALUE" of the one series QUERY returns, or nothing.
prom_sample() {
	curl -sf --max-time 5 "http://127.0.0.1:$pport/api/v1/query" \
		--data-urlencode "query=$1" |
		jq -r 'select(.status == "success" and (.data.result | length) == 1)
			| .data.result[0].value | "\(.[0]) \(.[1])"'
}

# fresh_value QUERY SINCE: QUERY's value from a scrape after SINCE (Unix
# time), waiting up to 20 s for one; "<no sample after SINCE: LAST>" if none.
fresh_value() {
	local q=$1 since=$2 s ts v i
	for ((i = 0; i < 100; i++)); do
		s=$(prom_sample "timestamp($q)") || s=
		if [[ -n $s ]] && awk -v t="${s#* }" -v s="$since" 'BEGIN { exit !(t > s) }'; then
			v=$(prom_sample "$q") || v=
			echo "${v#* }"
			return 0
		fi
		sleep 0.2
	done
	echo "<no sample after $since: '${s:-none}'>"
}

# ---- iotrace serve, and a workload doing exact I/O ----------------------------

cg=$(mk_cgroup serve)
rel=$(cg_rel "$cg")
cgid=$(stat -c %i "$cg")
loop=$(mk_loop 64)
tf=$TEST_TMP/textfile
mkdir "$tf"
err=$TEST_TMP/iotrace.err

iotrace_start "$err" serve --listen "127.0.0.1:$iport" --textfile "$tf" --interval 1
iotrace_wait_ready "$IOTRACE_PID" "$err"
assert_match "$(cat "$err")" "serving http://127\.0\.0\.1:$iport/metrics" \
	"the ready line gives the URL"

"$IOGEN" --cgroup "$cg" rand --dev "$loop" --reads "$READS" --writes "$WRITES" --bs "$BS" \
	>"$TEST_TMP/iogen.out" 2>&1 || fatal "iogen failed: $(cat "$TEST_TMP/iogen.out")"
done_at=$(date +%s.%N)

# ---- the endpoint, as promtool sees it -----------------------------------------

metrics=$TEST_TMP/metrics.txt
http=$(curl -s --max-time 10 -o "$metrics" -w '%{http_code} %{content_type}' \
	"http://127.0.0.1:$iport/metrics") || http="curl failed"
assert_eq "$http" "200 text/plain; version=0.0.4; charset=utf-8" "GET /metrics: status and type"
lint=$(promtool check metrics <"$metrics" 2>&1) && lint_rc=0 || lint_rc=$?
assert_eq "$lint_rc" 0 "promtool check metrics passes on /metrics (${lint:0:500})"
nwl=$(grep -c '^iotrace_workload_info{' "$metrics" || true)
assert_gt "$nwl" 1 "live workloads are present (the test cgroup and others)"
series="kind=\"cgroup\",name=\"${rel##*/}\",id=\"$cgid\""
assert_eq "$(awk -v s="iotrace_block_ops_total{$series,op=\"read\"}" '$1 == s { print $2 }' "$metrics")" \
	"$READS" "/metrics: the cgroup's read ops"
assert_eq "$(grep -ciE ' (nan|[+-]?inf)$' "$metrics" || true)" 0 "no NaN or Inf values"
labels=$(grep -v '^#' "$metrics" | grep -oE '[{,][a-z_]+="' | tr -d '{,="' | sort -u)
bad=$(comm -23 <(tr ' ' '\n' <<<"$labels" | sort -u) <(tr ' ' '\n' <<<"$ALLOWED_LABELS" | sort -u) | tr '\n' ' ')
assert_eq "${bad:-none}" none "only bounded labels (no per-thread or per-request ones)"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$iport/nope")" 404 \
	"an unknown path is 404"

# ---- Prometheus's view: the exact counts ----------------------------------------

assert_eq "$(fresh_value "iotrace_block_ops_total{id=\"$cgid\",op=\"read\"}" "$done_at")" \
	"$READS" "PromQL: the cgroup's reads, scraped after the I/O, are exact"
assert_eq "$(fresh_value "iotrace_block_ops_total{id=\"$cgid\",op=\"write\"}" "$done_at")" \
	"$WRITES" "PromQL: the cgroup's writes are exact"
assert_eq "$(fresh_value "sum(iotrace_block_bytes_total{name=\"${rel##*/}\"})" "$done_at")" \
	"$(((READS + WRITES) * BS))" "PromQL by name: the cgroup's bytes"
# Every operation has a latency sample, except one whose completion the
# kernel skipped and iotrace recovered later (counted, no sample: docs/
# record-format.md), which the host-wide recovered counter shows.
hcount=$(fresh_value "iotrace_block_latency_seconds_count{id=\"$cgid\"}" "$done_at")
recovered=$(fresh_value "iotrace_recovered_completions_total" "$done_at")
echo "# latency samples $hcount of $((READS + WRITES)) operations; $recovered recovered completions host-wide"
assert_eq "$(((READS + WRITES - hcount) <= recovered && hcount <= READS + WRITES))" 1 \
	"PromQL: the latency histogram counts every operation (but recovered ones)"
p99=$(fresh_value "histogram_quantile(0.99, iotrace_block_latency_seconds_bucket{id=\"$cgid\"})" \
	"$done_at")
assert_gt "$p99" 0 "PromQL: histogram_quantile gives a p99 latency"
assert_lt "$p99" 0.1 "PromQL: the p99 of a loop device over tmpfs is under 100 ms"
assert_eq "$(prom_sample 'up{job="iotrace"}' | cut -d' ' -f2)" 1 "Prometheus sees the target up"
nprogs=$(prom_sample 'count(iotrace_bpf_program_runs_total)') || nprogs=
assert_gt "${nprogs#* }" 0 "self metrics: BPF runs per program are scraped"

# ---- the textfile ------------------------------------------------------------------

prom_file=$tf/iotrace.prom
for ((i = 0; i < 50; i++)); do
	ts=$(awk '$1 == "iotrace_last_collect_timestamp_seconds" { print $2 }' "$prom_file" 2>/dev/null)
	[[ -n $ts ]] && awk -v t="$ts" -v s="$done_at" 'BEGIN { exit !(t > s) }' && break
	sleep 0.1
done
cp "$prom_file" "$TEST_TMP/textfile.prom" 2>/dev/null || : >"$TEST_TMP/textfile.prom"
lint=$(promtool check metrics <"$TEST_TMP/textfile.prom" 2>&1) && lint_rc=0 || lint_rc=$?
assert_eq "$lint_rc" 0 "promtool check metrics passes on the textfile (${lint:0:500})"
assert_eq "$(awk -v s="iotrace_block_ops_total{$series,op=\"write\"}" '$1 == s { print $2 }' "$TEST_TMP/textfile.prom")" \
	"$WRITES" "textfile: the cgroup's write ops, written after the I/O"

# ---- stopping -----------------------------------------------------------------------

t0=$(date +%s%N)
iotrace_stop "$IOTRACE_PID" 5
ms=$((($(date +%s%N) - t0) / 1000000))
assert_eq "$IOTRACE_RC" 0 "SIGINT: iotrace serve exits 0"
assert_lt "$ms" 1000 "SIGINT: it exits within 1 s (${ms} ms)"
assert_eq "$(ls -A "$tf")" "" "the textfile (and any temporary file) is gone at exit"
code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "http://127.0.0.1:$iport/metrics") || true
assert_eq "$code" 000 "the port is closed at exit"

# SIGTERM, textfile only: the same clean stop.
iotrace_start "$err.2" serve --textfile "$tf" --interval 0.5 --cgroup "$rel"
iotrace_wait_ready "$IOTRACE_PID" "$err.2"
if [[ -s $tf/iotrace.prom ]]; then
	pass "textfile-only mode writes the file"
else
	fail "textfile-only mode writes the file" "no $tf/iotrace.prom"
fi
t0=$(date +%s%N)
kill -TERM "$IOTRACE_PID"
for ((i = 0; i < 500; i++)); do
	kill -0 "$IOTRACE_PID" 2>/dev/null || break
	sleep 0.01
done
kill -KILL "$IOTRACE_PID" 2>/dev/null || true
ms=$((($(date +%s%N) - t0) / 1000000))
rc=0
wait "$IOTRACE_PID" || rc=$?
assert_eq "$rc" 0 "SIGTERM: iotrace serve exits 0"
assert_lt "$ms" 1000 "SIGTERM: it exits within 1 s (${ms} ms)"
assert_eq "$(ls -A "$tf")" "" "SIGTERM: the textfile is gone"

finish
