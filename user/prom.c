// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The Prometheus text exposition format.  See prom.h and docs/metrics.md. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

/* ---- the buffer ------------------------------------------------------------ */

void prom_buf_init(struct prom_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void prom_buf_reset(struct prom_buf *b)
{
	b->len = 0;
	b->full = false;
	if (b->data)
		b->data[0] = '\0';
}

void prom_buf_free(struct prom_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *prom_buf_take(struct prom_buf *b, size_t *len)
{
	char *p = b->data;

	*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/* Room for n more bytes and a NUL; false (and full) if the bound forbids it. */
static bool reserve(struct prom_buf *b, size_t n)
{
	size_t need = b->len + n + 1, cap;
	char *p;

	if (b->full)
		return false;
	if (need <= b->cap)
		return true;
	if (need > b->max) {
		b->full = true;
		return false;
	}
	cap = b->cap ? b->cap : 4096;
	while (cap < need)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	p = realloc(b->data, cap);
	if (!p) {
		b->full = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void prom_printf(struct prom_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void put(struct prom_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void put_str(struct prom_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/*
 * Length of the valid UTF-8 sequence at s (1 to 4), or 0 if the bytes there
 * are not one: a stray continuation byte, a truncated sequence, an overlong
 * form, a surrogate or a code point above U+10FFFF.
 */
static size_t utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void prom_label_value(struct prom_buf *b, const char *v)
{
	const unsigned char *s = (const unsigned char *)(v ? v : "");

	while (*s) {
		size_t n = utf8_seq_len(s);

		if (!n) {
			put_str(b, "\xef\xbf\xbd"); /* U+FFFD */
			s++;
		} else if (*s == '\\') {
			put_str(b, "\\\\");
			s++;
		} else if (*s == '"') {
			put_str(b, "\\\"");
			s++;
		} else if (*s == '\n') {
			put_str(b, "\\n");
			s++;
		} else {
			put(b, (const char *)s, n);
			s += n;
		}
	}
}

/* ---- values ------------------------------------------------------------------ */

/* Nanoseconds as seconds, exactly: 1234567890 -> "1.234567890". */
static void put_ns_as_s(struct prom_buf *b, uint64_t ns)
{
	prom_printf(b, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
}

/* A gauge from a double; never NaN or Inf (0 instead). */
static void put_double(struct prom_buf *b, double v, int decimals)
{
	prom_printf(b, "%.*f", decimals, isfinite(v) ? v : 0.0);
}

static void family(struct prom_buf *b, const char *name, const char *type, const char *help)
{
	prom_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ---- the latency histogram ---------------------------------------------------- */

uint64_t prom_lat_bucket_ns(int k)
{
	return 1ULL << (PROM_LAT_FIRST_LOG2 + k * PROM_LAT_STEP_LOG2);
}

uint64_t prom_lat_buckets(const uint64_t *slots, uint64_t *cum)
{
	uint64_t sum = 0;
	int k = 0;

	_Static_assert(PROM_LAT_FIRST_LOG2 + (PROM_LAT_BUCKETS - 1) * PROM_LAT_STEP_LOG2 <=
			       IOTRACE_LAT_SLOTS,
		       "the last bucket is the edge of a kernel slot");
	for (int i = 0; i < IOTRACE_LAT_SLOTS; i++) {
		/* Slot i ends at 2^(i+1) ns: it is in every bucket from that bound on. */
		while (k < PROM_LAT_BUCKETS && prom_lat_bucket_ns(k) < (2ULL << i))
			cum[k++] = sum;
		sum += slots[i];
	}
	while (k < PROM_LAT_BUCKETS)
		cum[k++] = sum;
	return sum;
}

/* ---- workloads ----------------------------------------------------------------- */

enum wl_when {
	W_ALL,
	W_NET, /* network figures on */
	W_VM,
	W_HW_EXITS, /* VMs on a host that fires kvm_exit */
};

/* A counter family of workloads: one or two uint64_t fields of prom_wl. */
struct wl_family {
	const char *name, *help;
	enum wl_when when;
	bool ns; /* the field is in ns: written in seconds */
	const char *label; /* a second label telling the fields apart; NULL: one field */
	const char *label_vals[2];
	size_t off[2];
};

#define F(field) offsetof(struct prom_wl, field)

static const struct wl_family wl_families[] = {
	{ "iotrace_cpu_seconds_total",
	  "On-CPU time of the workload's tasks (of a VM: all its threads, guest time included).",
	  W_ALL,
	  true,
	  NULL,
	  { NULL },
	  { F(cpu_ns) } },
	{ "iotrace_cpu_cycles_total",
	  "CPU cycles of the workload's tasks: the hardware counter, or on-CPU time times the "
	  "TSC frequency (iotrace_info's cycles_source says which).",
	  W_ALL,
	  false,
	  NULL,
	  { NULL },
	  { F(cycles) } },
	{ "iotrace_block_ops_total",
	  "Block I/O operations completed, charged to the workload that submitted them.",
	  W_ALL,
	  false,
	  "op",
	  { "read", "write" },
	  { F(read_ops), F(write_ops) } },
	{ "iotrace_block_bytes_total",
	  "Bytes of the block I/O operations completed.",
	  W_ALL,
	  false,
	  "op",
	  { "read", "write" },
	  { F(read_bytes), F(write_bytes) } },
	/* iotrace_block_latency_seconds goes here (write_latency). */
	{ "iotrace_network_packets_total",
	  "Packets sent (tx) and received (rx) by the workload's sockets, in any network "
	  "namespace; of a VM, at its tap devices.",
	  W_NET,
	  false,
	  "direction",
	  { "tx", "rx" },
	  { F(tx_packets), F(rx_packets) } },
	{ "iotrace_network_bytes_total",
	  "Payload bytes of those packets.",
	  W_NET,
	  false,
	  "direction",
	  { "tx", "rx" },
	  { F(tx_bytes), F(rx_bytes) } },
	{ "iotrace_network_softirq_seconds_total",
	  "The workload's share of the kernel's network softirq time (NET_RX, NET_TX).",
	  W_NET,
	  true,
	  NULL,
	  { NULL },
	  { F(softirq_ns) } },
	{ "iotrace_vm_guest_seconds_total",
	  "Time the VM's vCPU threads ran the guest.",
	  W_VM,
	  true,
	  NULL,
	  { NULL },
	  { F(guest_ns) } },
	{ "iotrace_vm_exits_total",
	  "KVM exits of the VM's vCPUs (kvm_exit).",
	  W_HW_EXITS,
	  false,
	  NULL,
	  { NULL },
	  { F(exits) } },
	{ "iotrace_vm_userspace_exits_total",
	  "KVM exits of the VM that reached its VMM process.",
	  W_VM,
	  false,
	  NULL,
	  { NULL },
	  { F(userspace_exits) } },
	{ "iotrace_vm_pio_exits_total",
	  "KVM exits of the VM for port I/O.",
	  W_VM,
	  false,
	  NULL,
	  { NULL },
	  { F(pio_exits) } },
	{ "iotrace_vm_mmio_exits_total",
	  "KVM exits of the VM for MMIO.",
	  W_VM,
	  false,
	  NULL,
	  { NULL },
	  { F(mmio_exits) } },
};

#define N_WL_FAMILIES (sizeof(wl_families) / sizeof(wl_families[0]))
/* The histogram comes after the families before this index. */
#define LATENCY_AT 4

static bool applies(enum wl_when when, const struct prom_wl *w)
{
	switch (when) {
	case W_ALL:
		return true;
	case W_NET:
		return w->has_net;
	case W_VM:
		return w->is_vm;
	case W_HW_EXITS:
		return w->is_vm && w->has_hw_exits;
	}
	return false;
}

static bool has_latency(const struct prom_wl *w)
{
	if (!w->lat_hist)
		return false;
	for (int i = 0; i < IOTRACE_LAT_SLOTS; i++)
		if (w->lat_hist[i])
			return true;
	return false;
}

/* `name{kind="..",name="..",id=".."` with no closing brace. */
static void series(struct prom_buf *b, const char *name, const struct prom_wl *w)
{
	prom_printf(b, "%s{kind=\"", name);
	prom_label_value(b, w->kind);
	put_str(b, "\",name=\"");
	prom_label_value(b, w->name);
	prom_printf(b, "\",id=\"%" PRIu64 "\"", w->id);
}

static uint64_t field(const struct prom_wl *w, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)w + off, sizeof(v));
	return v;
}

static void write_family(struct prom_buf *b, const struct wl_family *f, const struct prom_wl *wls,
			 size_t n)
{
	bool any = false;

	for (size_t i = 0; i < n && !any; i++)
		any = applies(f->when, &wls[i]);
	if (!any)
		return;
	family(b, f->name, "counter", f->help);
	for (size_t i = 0; i < n; i++) {
		if (!applies(f->when, &wls[i]))
			continue;
		for (int k = 0; k < (f->label ? 2 : 1); k++) {
			uint64_t v = field(&wls[i], f->off[k]);

			series(b, f->name, &wls[i]);
			if (f->label)
				prom_printf(b, ",%s=\"%s\"", f->label, f->label_vals[k]);
			put_str(b, "} ");
			if (f->ns)
				put_ns_as_s(b, v);
			else
				prom_printf(b, "%" PRIu64, v);
			put_str(b, "\n");
		}
	}
}

static void write_latency(struct prom_buf *b, const struct prom_wl *wls, size_t n)
{
	static const char name[] = "iotrace_block_latency_seconds";
	uint64_t cum[PROM_LAT_BUCKETS], count;
	bool any = false;

	for (size_t i = 0; i < n && !any; i++)
		any = has_latency(&wls[i]);
	if (!any)
		return;
	family(b, name, "histogram",
	       "Block I/O latency, issue to completion, of the workload's operations (log2 "
	       "buckets a factor of 4 apart; no _sum: the kernel keeps no sum).");
	for (size_t i = 0; i < n; i++) {
		if (!has_latency(&wls[i]))
			continue;
		count = prom_lat_buckets(wls[i].lat_hist, cum);
		for (int k = 0; k < PROM_LAT_BUCKETS; k++) {
			series(b, "iotrace_block_latency_seconds_bucket", &wls[i]);
			put_str(b, ",le=\"");
			put_ns_as_s(b, prom_lat_bucket_ns(k));
			prom_printf(b, "\"} %" PRIu64 "\n", cum[k]);
		}
		series(b, "iotrace_block_latency_seconds_bucket", &wls[i]);
		prom_printf(b, ",le=\"+Inf\"} %" PRIu64 "\n", count);
		series(b, "iotrace_block_latency_seconds_count", &wls[i]);
		prom_printf(b, "} %" PRIu64 "\n", count);
	}
}

static void write_info(struct prom_buf *b, const struct prom_wl *wls, size_t n)
{
	if (!n)
		return;
	family(b, "iotrace_workload_info", "gauge",
	       "Always 1: a workload's identity (cgroup path, container runtime and id) by its "
	       "kind, name and id labels.");
	for (size_t i = 0; i < n; i++) {
		series(b, "iotrace_workload_info", &wls[i]);
		put_str(b, ",cgroup=\"");
		prom_label_value(b, wls[i].cgroup);
		put_str(b, "\",runtime=\"");
		prom_label_value(b, wls[i].runtime);
		put_str(b, "\",container_id=\"");
		prom_label_value(b, wls[i].container_id);
		put_str(b, "\"} 1\n");
	}
}

bool prom_write_workloads(struct prom_buf *b, const struct prom_wl *wls, size_t n)
{
	write_info(b, wls, n);
	for (size_t f = 0; f < N_WL_FAMILIES; f++) {
		if (f == LATENCY_AT)
			write_latency(b, wls, n);
		write_family(b, &wl_families[f], wls, n);
	}
	return !b->full;
}

/* ---- iotrace itself ------------------------------------------------------------- */

/* A self counter family with one label, or none (label NULL, one value). */
static void self_counter(struct prom_buf *b, const char *name, const char *help, const char *label,
			 const char *const *vals, const uint64_t *v, int n)
{
	family(b, name, "counter", help);
	for (int i = 0; i < n; i++) {
		if (label)
			prom_printf(b, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label, vals[i], v[i]);
		else
			prom_printf(b, "%s %" PRIu64 "\n", name, v[i]);
	}
}

static void prog_family(struct prom_buf *b, const char *name, const char *help,
			const struct prom_self *s, int which)
{
	family(b, name, "counter", help);
	for (size_t i = 0; i < s->nprogs; i++) {
		const struct prom_prog *p = &s->progs[i];

		prom_printf(b, "%s{program=\"", name);
		prom_label_value(b, p->name);
		put_str(b, "\"} ");
		if (which == 0)
			put_ns_as_s(b, p->run_ns);
		else
			prom_printf(b, "%" PRIu64, which == 1 ? p->runs : p->recursion_misses);
		put_str(b, "\n");
	}
}

bool prom_write_self(struct prom_buf *b, const struct prom_self *s)
{
	static const char *const lost[] = { "prog_recursion", "unseen_completion",
					    "pmu_read_failure" };
	static const char *const maps[] = { "workload_stats", "inflight", "vm", "blk_dev" };
	static const char *const untracked[] = { "workload", "device" };
	const uint64_t *c = s->counters;
	uint64_t v[4];

	family(b, "iotrace_info", "gauge",
	       "Always 1: the iotrace version, the BPF program type in use, where cycle counts "
	       "come from, whether network figures are on.");
	put_str(b, "iotrace_info{version=\"");
	prom_label_value(b, s->version);
	put_str(b, "\",prog_type=\"");
	prom_label_value(b, s->prog_type);
	put_str(b, "\",cycles_source=\"");
	prom_label_value(b, s->cycles_source);
	prom_printf(b, "\",network=\"%s\"} 1\n", s->net_off ? "off" : "on");

	family(b, "iotrace_workloads", "gauge", "Workloads (cgroups and VMs) in this exposition.");
	prom_printf(b, "iotrace_workloads %zu\n", s->workloads);
	family(b, "iotrace_workloads_limit", "gauge", "Most cgroup workloads iotrace tracks.");
	prom_printf(b, "iotrace_workloads_limit %zu\n", s->workloads_limit);

	v[0] = s->prog_missed;
	v[1] = c[IOTRACE_CNT_UNSEEN_COMPLETE];
	v[2] = c[IOTRACE_CNT_PMU_READ_FAIL];
	self_counter(b, "iotrace_events_lost_total",
		     "Events iotrace could not count: handler runs the kernel skipped (nested), "
		     "completions whose issue was not seen, cycle counter reads that failed.",
		     "reason", lost, v, 3);
	v[0] = c[IOTRACE_CNT_STATS_FULL];
	v[1] = c[IOTRACE_CNT_INFLIGHT_FULL];
	v[2] = c[IOTRACE_CNT_VM_FULL];
	v[3] = c[IOTRACE_CNT_BLK_DEV_FULL];
	self_counter(b, "iotrace_map_update_failures_total",
		     "Updates of iotrace's kernel tables that failed because the table was full: "
		     "the figures they carried are lost.",
		     "map", maps, v, 4);
	v[0] = c[IOTRACE_CNT_RQ_NO_OWNER];
	self_counter(b, "iotrace_unattributed_requests_total",
		     "Block requests whose owner could not be decided, charged to the "
		     "unattributed workload (id 0).",
		     NULL, NULL, v, 1);
	v[0] = c[IOTRACE_CNT_RECOVERED];
	self_counter(b, "iotrace_recovered_completions_total",
		     "Completions missed and counted late, when their key came back.", NULL, NULL,
		     v, 1);
	v[0] = c[IOTRACE_CNT_NET_OWNERS_FULL];
	self_counter(b, "iotrace_network_softirq_owner_overflows_total",
		     "Network softirq runs that served too many owners: their share is charged "
		     "to the unattributed workload.",
		     NULL, NULL, v, 1);
	v[0] = s->workloads_untracked;
	v[1] = s->devices_untracked;
	self_counter(b, "iotrace_untracked_total",
		     "Workloads (cgroups) and per-workload devices refused because iotrace's "
		     "user-space tables were full.",
		     "what", untracked, v, 2);
	v[0] = s->pruned;
	self_counter(b, "iotrace_cgroups_pruned_total",
		     "Removed cgroups whose entries iotrace deleted from its kernel tables after "
		     "reading them for the last time.",
		     NULL, NULL, v, 1);
	v[0] = s->evicted;
	self_counter(b, "iotrace_workloads_evicted_total",
		     "Removed cgroups dropped from the workload table to make room: their series "
		     "are gone from this exposition.",
		     NULL, NULL, v, 1);

	family(b, "iotrace_bpf_stats_enabled", "gauge",
	       "1 when the kernel's BPF run-time statistics are on (needs CAP_SYS_ADMIN): only "
	       "then are the program run time and run counts exported.");
	prom_printf(b, "iotrace_bpf_stats_enabled %d\n", s->bpf_stats ? 1 : 0);
	if (s->nprogs && s->bpf_stats) {
		prog_family(b, "iotrace_bpf_program_run_seconds_total",
			    "Time the kernel spent running each iotrace BPF program.", s, 0);
		prog_family(b, "iotrace_bpf_program_runs_total",
			    "Runs of each iotrace BPF program.", s, 1);
	}
	if (s->nprogs)
		prog_family(b, "iotrace_bpf_program_recursion_misses_total",
			    "Runs of each iotrace BPF program the kernel skipped because it was "
			    "already running on that CPU.",
			    s, 2);

	family(b, "iotrace_scrape_duration_seconds", "gauge",
	       "Time iotrace took to read its kernel tables and format these metrics.");
	put_str(b, "iotrace_scrape_duration_seconds ");
	put_double(b, s->collect_s, 6);
	put_str(b, "\n");
	family(b, "iotrace_last_collect_timestamp_seconds", "gauge",
	       "When these figures were read from the kernel, in seconds since the epoch.");
	put_str(b, "iotrace_last_collect_timestamp_seconds ");
	put_double(b, s->timestamp_s, 3);
	put_str(b, "\n");
	return !b->full;
}
