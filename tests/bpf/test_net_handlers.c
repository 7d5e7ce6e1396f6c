// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The network programs of bpf/net.bpf.c run through BPF_PROG_TEST_RUN on
 * synthetic packets and softirq numbers, without being attached, so
 * nothing else on the host feeds the maps.
 *
 * cgroup_skb test runs: the kernel (bpf_prog_test_run_skb) takes the
 * packet from its Ethernet header, pulls that header, and hands the
 * program an skb whose data starts at the IP header and whose socket it
 * allocated for the run.  That socket takes the cgroup v2 of the task that
 * makes the call, as any socket does when it is created (cgroup_sk_alloc).
 * Observed on the development machine: bpf_skb_cgroup_id() gave this
 * process's cgroup2 id (it sat in the root, id 1), and a child process
 * that joined a scratch cgroup got that cgroup's id, not the root's.  The
 * tests key their lookups on exactly that, and use such children as a
 * second real owner.  For the same reason a test run cannot tell the
 * socket's cgroup from current's: both are the caller's.
 *
 * Softirq runs: the per-CPU run state must be the same for the softirq
 * programs (raw_tp, run on CPU 0 with BPF_F_TEST_RUN_ON_CPU) and the
 * packet programs in between (cgroup_skb runs cannot be sent to a CPU;
 * they run where the caller is), so every process that runs one is pinned
 * to CPU 0 first.  A raw_tp run aimed at the caller's own CPU runs in the
 * caller's context, so current is this test process, as it is for a
 * softirq that interrupts it.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/perf_event.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <bpf/btf.h>

#include "bpf_test.h"
#include "fake_vcpu.skel.h"
#include "iotrace.h"
#include "iotrace.skel.h"
#include "net_share.h"

/* Softirq vector numbers (enum in the kernel, not in UAPI). */
#define HI_SOFTIRQ 0
#define TIMER_SOFTIRQ 1
#define NET_TX_SOFTIRQ 2
#define NET_RX_SOFTIRQ 3
#define BLOCK_SOFTIRQ 4
#define RCU_SOFTIRQ 9

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_HOPOPTS_ 0
#define IP_MF_ 0x2000
#define IP_DF_ 0x4000

/*
 * bpf/net.bpf.c's struct softirq_run, private to the BPF side: the value
 * of the softirq_runs per-CPU array.  load_net() checks the size.
 */
struct softirq_run {
	__u64 start_ns; /* 0: none in progress */
	__u64 lag_start;
	__u64 pmu_start;
	__u64 other;
	__u32 nr;
	__u32 pad;
	struct iotrace_softirq_owner owners[IOTRACE_SOFTIRQ_OWNERS];
};

/* The scratch cgroup of the second owner, made once for all the tests. */
static struct {
	char mount[4096];
	char dir[4096];
	uint64_t id;
} scratch;

static int pin_cpu0_nofail(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static void pin_cpu0(void)
{
	assert_int_equal(pin_cpu0_nofail(), 0);
}

/*
 * The network programs and the flush, nothing else (the tp_btf variants
 * share the raw_tp ones' bodies).  use_pmu: read a cycle counter from
 * `pmu`, which the test fills.
 */
static struct iotrace_bpf *load_net_pmu(bool use_pmu)
{
	static const char *const wanted[] = {
		"net_egress",	  "net_ingress",    "net_softirq_entry_raw", "net_softirq_exit_raw",
		"net_dev_rx_raw", "net_dev_tx_raw", "iotrace_flush",
	};
	struct iotrace_bpf *skel = iotrace_bpf__open();
	struct bpf_program *prog;

	assert_non_null(skel);
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);
		bool load = false;

		for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
			load |= !strcmp(name, wanted[i]);
		bpf_program__set_autoload(prog, load);
	}
	skel->rodata->use_pmu = use_pmu;
	bpf_map__set_max_entries(skel->maps.pmu, libbpf_num_possible_cpus());
	if (iotrace_bpf__load(skel))
		fail_msg("cannot load the network programs: %s", strerror(errno));
	assert_int_equal(bpf_map__value_size(skel->maps.softirq_runs), sizeof(struct softirq_run));
	return skel;
}

static struct iotrace_bpf *load_net(void)
{
	return load_net_pmu(false);
}

/* ---- packets ------------------------------------------------------------ */

/*
 * A frame as BPF_PROG_TEST_RUN takes it: from the Ethernet header, two
 * bytes past an aligned address so that the IP header is 4-byte aligned
 * (the kernel's NET_IP_ALIGN).
 */
struct pkt {
	uint8_t ip_align[2];
	uint8_t b[2048];
	size_t len;
};

static void *eth(struct pkt *p, uint16_t proto)
{
	struct ethhdr *e = (struct ethhdr *)p->b;

	memset(p, 0, sizeof(*p));
	memcpy(e->h_dest, "\x02\x00\x00\x00\x00\x02", ETH_ALEN);
	memcpy(e->h_source, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	e->h_proto = htons(proto);
	return p->b + ETH_HLEN;
}

/*
 * An IPv4 header with `opt` bytes of options (NOPs) and `frag` as its
 * flags and fragment offset, followed by `l4` bytes; returns where those
 * start.
 */
static uint8_t *v4(struct pkt *p, uint8_t proto, size_t opt, uint16_t frag, size_t l4)
{
	struct iphdr *ip = eth(p, ETH_P_IP);
	size_t hdr = sizeof(*ip) + opt;

	assert_true(opt % 4 == 0 && hdr <= 60);
	ip->version = 4;
	ip->ihl = hdr / 4;
	ip->tot_len = htons(hdr + l4);
	ip->frag_off = htons(frag);
	ip->ttl = 64;
	ip->protocol = proto;
	ip->saddr = htonl(0x0a000001);
	ip->daddr = htonl(0x0a000002);
	memset(ip + 1, 1, opt);
	p->len = ETH_HLEN + hdr + l4;
	assert_true(p->len <= sizeof(p->b));
	memset((uint8_t *)ip + hdr, 0xa5, l4);
	return (uint8_t *)ip + hdr;
}

static uint8_t *v6(struct pkt *p, uint8_t nexthdr, size_t l4)
{
	struct ipv6hdr *ip = eth(p, ETH_P_IPV6);

	ip->version = 6;
	ip->payload_len = htons(l4);
	ip->nexthdr = nexthdr;
	ip->hop_limit = 64;
	ip->saddr.s6_addr[0] = 0xfd;
	ip->saddr.s6_addr[15] = 1;
	ip->daddr.s6_addr[0] = 0xfd;
	ip->daddr.s6_addr[15] = 2;
	p->len = ETH_HLEN + sizeof(*ip) + l4;
	assert_true(p->len <= sizeof(p->b));
	memset(ip + 1, 0xa5, l4);
	return (uint8_t *)(ip + 1);
}

static void udp(uint8_t *l4, size_t payload)
{
	struct udphdr *u = (struct udphdr *)l4;

	u->source = htons(40000);
	u->dest = htons(5001);
	u->len = htons(sizeof(*u) + payload);
	u->check = 0;
}

/* A TCP header with `opt` bytes of options (NOPs): doff = 5 + opt / 4. */
static void tcp(uint8_t *l4, size_t opt, bool syn)
{
	struct tcphdr *t = (struct tcphdr *)l4;

	memset(t, 0, sizeof(*t));
	t->source = htons(40000);
	t->dest = htons(5001);
	t->seq = htonl(1000);
	t->ack_seq = htonl(2000);
	t->doff = (sizeof(*t) + opt) / 4;
	t->ack = 1;
	t->syn = syn;
	t->window = htons(65535);
	memset(t + 1, 1, opt);
}

static void ipv4_udp(struct pkt *p, size_t opt, size_t payload)
{
	udp(v4(p, IPPROTO_UDP_, opt, 0, sizeof(struct udphdr) + payload), payload);
}

static void ipv4_tcp(struct pkt *p, size_t opt, size_t payload)
{
	/* Linux sets DF on TCP: a flag, not a fragment offset. */
	tcp(v4(p, IPPROTO_TCP_, 0, IP_DF_, sizeof(struct tcphdr) + opt + payload), opt, false);
}

/* A cgroup_skb test run of `p`, with gso_segs in the context when not 0. */
static void run_skb(struct bpf_program *prog, const struct pkt *p, __u32 gso_segs)
{
	struct __sk_buff ctx = { .gso_segs = gso_segs };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->b, .data_size_in = p->len);

	if (gso_segs) {
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		fail_msg("test run of %s failed: %s", bpf_program__name(prog), strerror(errno));
	/* 1: the packet goes on; a counter must never drop traffic. */
	if (opts.retval != 1)
		fail_msg("%s returned %u, expected 1 (allow)", bpf_program__name(prog),
			 opts.retval);
}

/*
 * The same run in a child process that joined the scratch cgroup (and CPU
 * 0): its socket, hence its packet, belongs to that cgroup.  The child
 * cannot use cmocka; it says what failed in its exit status.
 */
static void run_skb_in_scratch(struct bpf_program *prog, const struct pkt *p, __u32 gso_segs)
{
	char procs[4200], pid_s[32];
	int status, fd, n;
	pid_t pid;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", scratch.dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct __sk_buff ctx = { .gso_segs = gso_segs };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->b, .data_size_in = p->len);

		if (gso_segs) {
			opts.ctx_in = &ctx;
			opts.ctx_size_in = sizeof(ctx);
		}
		n = snprintf(pid_s, sizeof(pid_s), "%d", (int)getpid());
		fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, pid_s, n) != n)
			_exit(2);
		close(fd);
		if (pin_cpu0_nofail())
			_exit(3);
		if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
			_exit(4);
		_exit(opts.retval == 1 ? 0 : 5);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("child in %s: %s (status %#x)", scratch.dir,
			 WIFEXITED(status) && WEXITSTATUS(status) == 2 ? "cannot join the cgroup" :
			 WIFEXITED(status) && WEXITSTATUS(status) == 3 ? "cannot pin to CPU 0" :
			 WIFEXITED(status) && WEXITSTATUS(status) == 4 ? "test run failed" :
			 WIFEXITED(status) && WEXITSTATUS(status) == 5 ? "program did not allow" :
									 "died",
			 status);
}

/* ---- maps --------------------------------------------------------------- */

/* net_stats of `id` summed over CPUs; false when there is no entry. */
static bool net_stats_of(struct iotrace_bpf *skel, uint64_t id, struct iotrace_net_stats *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_net_stats *v = calloc(ncpus, sizeof(*v));
	__u64 key = id;
	bool found;

	assert_non_null(v);
	memset(sum, 0, sizeof(*sum));
	found = bpf_map_lookup_elem(bpf_map__fd(skel->maps.net_stats), &key, v) == 0;
	for (int i = 0; found && i < ncpus; i++) {
		sum->tx_packets += v[i].tx_packets;
		sum->tx_bytes += v[i].tx_bytes;
		sum->rx_packets += v[i].rx_packets;
		sum->rx_bytes += v[i].rx_bytes;
		sum->softirq_ns += v[i].softirq_ns;
	}
	free(v);
	return found;
}

static struct iotrace_net_stats net_stats_present(struct iotrace_bpf *skel, uint64_t id)
{
	struct iotrace_net_stats s;

	if (!net_stats_of(skel, id, &s))
		fail_msg("no net_stats entry for cgroup %llu", (unsigned long long)id);
	return s;
}

static void assert_no_net_stats(struct iotrace_bpf *skel, uint64_t id)
{
	struct iotrace_net_stats s;

	if (net_stats_of(skel, id, &s))
		fail_msg("unexpected net_stats entry for cgroup %llu (softirq_ns %llu)",
			 (unsigned long long)id, (unsigned long long)s.softirq_ns);
}

/* How many workloads net_stats holds, and their softirq time altogether. */
static size_t net_stats_entries(struct iotrace_bpf *skel, uint64_t *softirq_ns)
{
	int fd = bpf_map__fd(skel->maps.net_stats);
	__u64 key, next, *prev = NULL;
	size_t n = 0;

	*softirq_ns = 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		*softirq_ns += net_stats_present(skel, next).softirq_ns;
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

static void assert_net_stats(const char *what, struct iotrace_net_stats got,
			     struct iotrace_net_stats want)
{
	if (memcmp(&got, &want, sizeof(got)))
		fail_msg("%s: tx %llu packets %llu bytes, rx %llu packets %llu bytes, "
			 "softirq %llu ns; expected tx %llu/%llu, rx %llu/%llu, softirq %llu",
			 what, (unsigned long long)got.tx_packets, (unsigned long long)got.tx_bytes,
			 (unsigned long long)got.rx_packets, (unsigned long long)got.rx_bytes,
			 (unsigned long long)got.softirq_ns, (unsigned long long)want.tx_packets,
			 (unsigned long long)want.tx_bytes, (unsigned long long)want.rx_packets,
			 (unsigned long long)want.rx_bytes, (unsigned long long)want.softirq_ns);
}

static uint64_t counter_of(struct iotrace_bpf *skel, __u32 idx)
{
	return percpu_u64_sum(bpf_map__fd(skel->maps.counters), idx);
}

/* CPU 0's softirq run state. */
static struct softirq_run run_get(struct iotrace_bpf *skel)
{
	int ncpus = libbpf_num_possible_cpus();
	struct softirq_run *v = calloc(ncpus, sizeof(*v)), r;
	__u32 zero = 0;

	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.softirq_runs), &zero, v), 0);
	r = v[0];
	free(v);
	return r;
}

/* Set CPU 0's softirq run state, as if its entry and packets had run. */
static void run_put(struct iotrace_bpf *skel, const struct softirq_run *r)
{
	int ncpus = libbpf_num_possible_cpus();
	struct softirq_run *v = calloc(ncpus, sizeof(*v));
	__u32 zero = 0;

	assert_non_null(v);
	v[0] = *r;
	assert_int_equal(
		bpf_map_update_elem(bpf_map__fd(skel->maps.softirq_runs), &zero, v, BPF_ANY), 0);
	free(v);
}

static void assert_run_equal(const char *what, const struct softirq_run *got,
			     const struct softirq_run *want)
{
	if (memcmp(got, want, sizeof(*got)))
		fail_msg("%s: softirq run changed: start_ns %llu nr %u other %llu, "
			 "expected start_ns %llu nr %u other %llu",
			 what, (unsigned long long)got->start_ns, got->nr,
			 (unsigned long long)got->other, (unsigned long long)want->start_ns,
			 want->nr, (unsigned long long)want->other);
}

static void softirq_run_cpu0(struct bpf_program *prog, unsigned int vec)
{
	__u64 args[1] = { vec };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args),
		    .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = 0);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		fail_msg("test run of %s failed: %s", bpf_program__name(prog), strerror(errno));
}

static void entry(struct iotrace_bpf *skel, unsigned int vec)
{
	softirq_run_cpu0(skel->progs.net_softirq_entry_raw, vec);
}

static void exit_(struct iotrace_bpf *skel, unsigned int vec)
{
	softirq_run_cpu0(skel->progs.net_softirq_exit_raw, vec);
}

static void assert_within(const char *what, uint64_t v, uint64_t lo, uint64_t hi)
{
	if (v < lo || v > hi)
		fail_msg("%s %llu, expected within [%llu, %llu]", what, (unsigned long long)v,
			 (unsigned long long)lo, (unsigned long long)hi);
}

/*
 * CPU 0's task clock lag now (bpf/net.bpf.c, task_clock_lag()), as a NET_RX
 * entry records it: the steal time the scheduler has left out of run
 * times so far.  It starts a run, so comes after the run under test.
 */
static uint64_t lag_now(struct iotrace_bpf *skel)
{
	entry(skel, NET_RX_SOFTIRQ);
	return run_get(skel).lag_start;
}

/*
 * A run's charged time: its wall time, from start_ns to the exit (called
 * between t2 and t3), less the steal time the exit saw since the entry's
 * lag lag0; that is at most the lag's growth until now.  Without steal
 * (bare metal, or a quiet hypervisor) the lower bound is the wall time.
 */
static void assert_run_time(struct iotrace_bpf *skel, const char *what, uint64_t v,
			    uint64_t start_ns, uint64_t lag0, uint64_t t2, uint64_t t3)
{
	uint64_t steal = lag_now(skel) - lag0, lo = t2 - start_ns;

	assert_within(what, v, lo > steal ? lo - steal : 0, t3 - start_ns);
}

/* Set CPU 0's softirq run state as run_put() does, with the lag of now. */
static void run_put_started(struct iotrace_bpf *skel, struct softirq_run *r)
{
	r->lag_start = lag_now(skel);
	run_put(skel, r);
}

/* ---- packets and bytes -------------------------------------------------- */

struct pkt_case {
	const char *name;
	void (*build)(struct pkt *p);
	__u32 gso_segs; /* in the test run's context; 0: none */
	__u64 packets;
	__u64 bytes;
};

static void udp512(struct pkt *p)
{
	ipv4_udp(p, 0, 512);
}

/* ihl = 6: the options are header, not payload (204 if they were). */
static void udp_ip_options(struct pkt *p)
{
	ipv4_udp(p, 4, 200);
}

/* doff = 8: 12 bytes of TCP options are header too. */
static void tcp_options(struct pkt *p)
{
	ipv4_tcp(p, 12, 100);
}

static void tcp_pure_ack(struct pkt *p)
{
	ipv4_tcp(p, 0, 0);
}

static void tcp_syn_options(struct pkt *p)
{
	/* A SYN with the usual 20 bytes of options (MSS, SACK, timestamps, window). */
	tcp(v4(p, IPPROTO_TCP_, 0, IP_DF_, sizeof(struct tcphdr) + 20), 20, true);
}

static void v6_udp(struct pkt *p)
{
	udp(v6(p, IPPROTO_UDP_, sizeof(struct udphdr) + 300), 300);
}

static void v6_tcp(struct pkt *p)
{
	tcp(v6(p, IPPROTO_TCP_, sizeof(struct tcphdr) + 12 + 700), 12, false);
}

/* An extension header is payload (documented in net.bpf.c): 8 + 8 + 64. */
static void v6_hopopts(struct pkt *p)
{
	uint8_t *ext = v6(p, IPPROTO_HOPOPTS_, 8 + sizeof(struct udphdr) + 64);

	ext[0] = IPPROTO_UDP_;
	ext[1] = 0; /* 8 bytes */
	memset(ext + 2, 0, 6); /* PadN-free: Pad1 options */
	udp(ext + 8, 64);
}

/*
 * A later fragment has no UDP header: all 100 bytes after the IP header
 * are payload, however they look (92 if read as UDP).
 */
static void frag_later(struct pkt *p)
{
	udp(v4(p, IPPROTO_UDP_, 0, 185 /* x 8 = byte 1480 */, 100), 92);
}

/* An offset in the high bits only: byte 6 of the header, byte 7 zero. */
static void frag_later_high(struct pkt *p)
{
	udp(v4(p, IPPROTO_UDP_, 0, 256 /* x 8 = byte 2048 */, 100), 92);
}

/* The first fragment (MF, offset 0) does carry the UDP header. */
static void frag_first(struct pkt *p)
{
	udp(v4(p, IPPROTO_UDP_, 0, IP_MF_, sizeof(struct udphdr) + 1472), 3000);
}

/* An echo request: 8 bytes of ICMP header + 56, all after the IP header. */
static void icmp(struct pkt *p)
{
	uint8_t *l4 = v4(p, IPPROTO_ICMP_, 0, 0, 64);

	l4[0] = 8;
	l4[1] = 0;
}

static void tcp_gso(struct pkt *p)
{
	/* 5 segments of 200 bytes in one packet: its bytes are still 1000. */
	ipv4_tcp(p, 12, 1000);
}

static void udp_gso(struct pkt *p)
{
	ipv4_udp(p, 0, 5 * 300);
}

static const struct pkt_case pkt_cases[] = {
	{ "IPv4 UDP 512", udp512, 0, 1, 512 },
	{ "IPv4 options + UDP", udp_ip_options, 0, 1, 200 },
	{ "IPv4 TCP doff=8", tcp_options, 0, 1, 100 },
	{ "IPv4 TCP pure ACK", tcp_pure_ack, 0, 1, 0 },
	{ "IPv4 TCP SYN with options", tcp_syn_options, 0, 1, 0 },
	{ "IPv6 UDP", v6_udp, 0, 1, 300 },
	{ "IPv6 TCP doff=8", v6_tcp, 0, 1, 700 },
	{ "IPv6 hop-by-hop + UDP", v6_hopopts, 0, 1, 8 + 8 + 64 },
	{ "IPv4 later fragment", frag_later, 0, 1, 100 },
	{ "IPv4 later fragment, offset >= 256", frag_later_high, 0, 1, 100 },
	{ "IPv4 first fragment", frag_first, 0, 1, 1472 },
	{ "IPv4 ICMP", icmp, 0, 1, 64 },
	{ "IPv4 TCP gso_segs=5", tcp_gso, 5, 5, 1000 },
	{ "IPv4 UDP gso_segs=5", udp_gso, 5, 5, 1500 },
};

/*
 * Each packet once out and once in: egress counts tx only, ingress rx
 * only, both with the same packets and payload bytes, and no softirq time
 * (no run in progress).  Every count lands under this process's cgroup
 * and nowhere else.
 */
static void test_packets_and_payload_bytes(void **state)
{
	struct iotrace_bpf *skel = load_net();
	uint64_t id = own_cgroup_id(), softirq;
	__u64 key = id;
	struct pkt p;

	(void)state;
	for (size_t i = 0; i < sizeof(pkt_cases) / sizeof(pkt_cases[0]); i++) {
		const struct pkt_case *c = &pkt_cases[i];
		char what[128];

		c->build(&p);
		run_skb(skel->progs.net_egress, &p, c->gso_segs);
		snprintf(what, sizeof(what), "%s, egress", c->name);
		assert_net_stats(what, net_stats_present(skel, id),
				 (struct iotrace_net_stats){ .tx_packets = c->packets,
							     .tx_bytes = c->bytes });
		run_skb(skel->progs.net_ingress, &p, c->gso_segs);
		snprintf(what, sizeof(what), "%s, egress + ingress", c->name);
		assert_net_stats(what, net_stats_present(skel, id),
				 (struct iotrace_net_stats){ .tx_packets = c->packets,
							     .tx_bytes = c->bytes,
							     .rx_packets = c->packets,
							     .rx_bytes = c->bytes });
		if (net_stats_entries(skel, &softirq) != 1)
			fail_msg("%s: counted under another cgroup than %llu", c->name,
				 (unsigned long long)id);
		assert_int_equal(bpf_map_delete_elem(bpf_map__fd(skel->maps.net_stats), &key), 0);
	}
	iotrace_bpf__destroy(skel);
}

/* Counts add up over packets of both directions. */
static void test_counts_accumulate(void **state)
{
	struct iotrace_bpf *skel = load_net();
	uint64_t id = own_cgroup_id();
	struct pkt u, t;

	(void)state;
	udp512(&u);
	tcp_options(&t);
	run_skb(skel->progs.net_egress, &u, 0);
	run_skb(skel->progs.net_egress, &t, 0);
	run_skb(skel->progs.net_egress, &t, 3);
	run_skb(skel->progs.net_ingress, &u, 0);
	run_skb(skel->progs.net_ingress, &u, 0);
	assert_net_stats("mixed", net_stats_present(skel, id),
			 (struct iotrace_net_stats){ .tx_packets = 1 + 1 + 3,
						     .tx_bytes = 512 + 100 + 100,
						     .rx_packets = 2,
						     .rx_bytes = 1024 });
	iotrace_bpf__destroy(skel);
}

/*
 * The owner is the cgroup of the task that made the socket: a child in the
 * scratch cgroup counts there, not under this process's cgroup (nor the
 * root, nor whoever runs the softirq).
 */
static void test_owner_is_socket_cgroup(void **state)
{
	struct iotrace_bpf *skel = load_net();
	uint64_t id = own_cgroup_id(), softirq;
	struct pkt p;

	(void)state;
	assert_true(scratch.id != id);
	udp512(&p);
	run_skb_in_scratch(skel->progs.net_ingress, &p, 0);
	assert_net_stats("scratch cgroup", net_stats_present(skel, scratch.id),
			 (struct iotrace_net_stats){ .rx_packets = 1, .rx_bytes = 512 });
	assert_no_net_stats(skel, id);
	run_skb(skel->progs.net_egress, &p, 0);
	assert_net_stats("own cgroup", net_stats_present(skel, id),
			 (struct iotrace_net_stats){ .tx_packets = 1, .tx_bytes = 512 });
	assert_int_equal(net_stats_entries(skel, &softirq), 2);
	iotrace_bpf__destroy(skel);
}

/* ---- softirq time ------------------------------------------------------- */

/*
 * A NET_RX run serves two packets of this process's cgroup (A) and one of
 * the scratch cgroup (B): B gets elapsed / 3 rounded down, A the rest, so
 * the two add up to the run's time exactly; nothing is unattributed.  The
 * entry starts afresh whatever a previous run left.
 */
static void test_softirq_shares_follow_packets(void **state)
{
	struct iotrace_bpf *skel = load_net();
	const struct softirq_run stale = { .nr = 3, .other = 9, .owners = { { 77, 1 } } };
	uint64_t a = own_cgroup_id(), t0, t1, t2, t3, total;
	struct iotrace_net_stats sa, sb;
	struct softirq_run r;
	struct pkt p;

	(void)state;
	pin_cpu0();
	run_put(skel, &stale);
	udp512(&p);
	t0 = now_ns();
	entry(skel, NET_RX_SOFTIRQ);
	t1 = now_ns();
	r = run_get(skel);
	assert_within("start_ns", r.start_ns, t0, t1);
	assert_int_equal(r.nr, 0);
	assert_int_equal(r.other, 0);
	assert_int_equal(r.pmu_start, 0); /* no counter in use */

	run_skb(skel->progs.net_ingress, &p, 0);
	run_skb_in_scratch(skel->progs.net_ingress, &p, 0);
	run_skb(skel->progs.net_ingress, &p, 0);
	r = run_get(skel);
	assert_int_equal(r.nr, 2);
	assert_int_equal(r.owners[0].cgroup_id, a);
	assert_int_equal(r.owners[0].packets, 2);
	assert_int_equal(r.owners[1].cgroup_id, scratch.id);
	assert_int_equal(r.owners[1].packets, 1);
	assert_int_equal(r.other, 0);

	spin_ns(2 * 1000 * 1000);
	t2 = now_ns();
	exit_(skel, NET_RX_SOFTIRQ);
	t3 = now_ns();
	assert_int_equal(run_get(skel).start_ns, 0);

	sa = net_stats_present(skel, a);
	sb = net_stats_present(skel, scratch.id);
	assert_int_equal(sa.rx_packets, 2);
	assert_int_equal(sb.rx_packets, 1);
	assert_run_time(skel, "elapsed", sa.softirq_ns + sb.softirq_ns, r.start_ns, r.lag_start, t2,
			t3);
	assert_int_equal(sb.softirq_ns, (sa.softirq_ns + sb.softirq_ns) / 3);
	assert_no_net_stats(skel, IOTRACE_UNATTRIBUTED_ID);
	assert_int_equal(net_stats_entries(skel, &total), 2);
	assert_int_equal(total, sa.softirq_ns + sb.softirq_ns);
	iotrace_bpf__destroy(skel);
}

/* NET_TX is a network softirq too: a packet sent during it names its owner. */
static void test_softirq_tx_run(void **state)
{
	struct iotrace_bpf *skel = load_net();
	uint64_t a = own_cgroup_id(), t2, t3;
	struct iotrace_net_stats s;
	struct softirq_run r;
	struct pkt p;

	(void)state;
	pin_cpu0();
	tcp_options(&p);
	entry(skel, NET_TX_SOFTIRQ);
	run_skb(skel->progs.net_egress, &p, 4);
	r = run_get(skel);
	assert_int_equal(r.nr, 1);
	assert_int_equal(r.owners[0].cgroup_id, a);
	assert_int_equal(r.owners[0].packets, 4);
	spin_ns(1000 * 1000);
	t2 = now_ns();
	exit_(skel, NET_TX_SOFTIRQ);
	t3 = now_ns();
	s = net_stats_present(skel, a);
	assert_int_equal(s.tx_packets, 4);
	assert_run_time(skel, "elapsed", s.softirq_ns, r.start_ns, r.lag_start, t2, t3);
	assert_no_net_stats(skel, IOTRACE_UNATTRIBUTED_ID);
	iotrace_bpf__destroy(skel);
}

/*
 * A run that handled no owned packet (forwarding, ARP, drops) is charged
 * whole to the unattributed workload.
 */
static void test_softirq_without_owner_is_unattributed(void **state)
{
	struct iotrace_bpf *skel = load_net();
	uint64_t t0, t1, t2, t3, total;
	struct iotrace_net_stats s;
	struct softirq_run r;

	(void)state;
	pin_cpu0();
	t0 = now_ns();
	entry(skel, NET_RX_SOFTIRQ);
	t1 = now_ns();
	r = run_get(skel);
	assert_within("start_ns", r.start_ns, t0, t1);
	spin_ns(1000 * 1000);
	t2 = now_ns();
	exit_(skel, NET_RX_SOFTIRQ);
	t3 = now_ns();
	s = net_stats_present(skel, IOTRACE_UNATTRIBUTED_ID);
	assert_run_time(skel, "unattributed softirq_ns", s.softirq_ns, r.start_ns, r.lag_start, t2,
			t3);
	s.softirq_ns = 0;
	assert_net_stats("unattributed", s, (struct iotrace_net_stats){ 0 });
	assert_int_equal(net_stats_entries(skel, &total), 1);
	iotrace_bpf__destroy(skel);
}

/*
 * Other softirqs (timers, block completions, RCU...) neither start, end
 * nor disturb a network run: with a run in progress (set from user space)
 * their entries and exits leave its state as it was and charge nothing,
 * and the NET_RX exit that follows still charges the whole run.
 */
static void test_softirq_other_vectors_ignored(void **state)
{
	static const unsigned int vecs[] = { HI_SOFTIRQ, TIMER_SOFTIRQ, BLOCK_SOFTIRQ,
					     RCU_SOFTIRQ };
	struct iotrace_bpf *skel = load_net();
	struct softirq_run run = { .nr = 1, .owners = { { 4242, 1 } } }, r;
	uint64_t t2, t3, total;

	(void)state;
	pin_cpu0();
	run.start_ns = now_ns() - 1000 * 1000;
	run_put_started(skel, &run);
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		entry(skel, vecs[i]);
		r = run_get(skel);
		assert_run_equal("entry of another softirq", &r, &run);
		exit_(skel, vecs[i]);
		r = run_get(skel);
		assert_run_equal("exit of another softirq", &r, &run);
		assert_int_equal(net_stats_entries(skel, &total), 0);
	}
	t2 = now_ns();
	exit_(skel, NET_RX_SOFTIRQ);
	t3 = now_ns();
	assert_run_time(skel, "elapsed", net_stats_present(skel, 4242).softirq_ns, run.start_ns,
			run.lag_start, t2, t3);
	assert_int_equal(net_stats_entries(skel, &total), 1);
	iotrace_bpf__destroy(skel);
}

/*
 * Outside a run (start_ns 0), a packet names no owner and an exit (whose
 * entry was missed, e.g. before attach) charges nothing, whatever owners
 * the state still lists.
 */
static void test_softirq_exit_without_entry(void **state)
{
	struct iotrace_bpf *skel = load_net();
	const struct softirq_run run = { .nr = 1, .other = 2, .owners = { { 4242, 5 } } };
	uint64_t id = own_cgroup_id(), total;
	struct softirq_run r;
	struct pkt p;

	(void)state;
	pin_cpu0();
	run_put(skel, &run);
	udp512(&p);
	run_skb(skel->progs.net_ingress, &p, 0);
	r = run_get(skel);
	assert_run_equal("packet outside a run", &r, &run);
	exit_(skel, NET_RX_SOFTIRQ);
	r = run_get(skel);
	assert_run_equal("exit without entry", &r, &run);
	assert_no_net_stats(skel, 4242);
	assert_no_net_stats(skel, IOTRACE_UNATTRIBUTED_ID);
	assert_net_stats("own cgroup", net_stats_present(skel, id),
			 (struct iotrace_net_stats){ .rx_packets = 1, .rx_bytes = 512 });
	assert_int_equal(net_stats_entries(skel, &total), 1);
	iotrace_bpf__destroy(skel);
}

/*
 * A run whose owner list is full (set from user space: seven made-up
 * cgroups and this process's): another packet of a listed owner still
 * counts for it, but the packets of a ninth owner (the scratch cgroup) go
 * to `other`, are counted in IOTRACE_CNT_NET_OWNERS_FULL, and their share
 * of the time is unattributed.  Every share is elapsed * packets / total
 * rounded down, the first owner getting what rounding leaves; the shares
 * add up to the elapsed time.
 */
static void test_softirq_owners_beyond_list(void **state)
{
	struct iotrace_bpf *skel = load_net();
	uint64_t a = own_cgroup_id(), t2, t3, elapsed, total, given, want, other;
	__u64 packets[IOTRACE_SOFTIRQ_OWNERS];
	struct softirq_run run = { .nr = IOTRACE_SOFTIRQ_OWNERS }, r;
	struct iotrace_net_stats s;
	struct pkt p;

	(void)state;
	pin_cpu0();
	for (__u32 i = 0; i < IOTRACE_SOFTIRQ_OWNERS; i++) {
		run.owners[i].cgroup_id = i + 1 < IOTRACE_SOFTIRQ_OWNERS ? 1001 + i : a;
		run.owners[i].packets = i + 1;
	}
	run.start_ns = now_ns() - 1000 * 1000;
	run_put_started(skel, &run);
	udp512(&p);

	run_skb(skel->progs.net_ingress, &p, 0); /* a, listed last */
	r = run_get(skel);
	assert_int_equal(r.nr, IOTRACE_SOFTIRQ_OWNERS);
	assert_int_equal(r.owners[IOTRACE_SOFTIRQ_OWNERS - 1].cgroup_id, a);
	assert_int_equal(r.owners[IOTRACE_SOFTIRQ_OWNERS - 1].packets, IOTRACE_SOFTIRQ_OWNERS + 1);
	assert_int_equal(r.other, 0);
	assert_int_equal(counter_of(skel, IOTRACE_CNT_NET_OWNERS_FULL), 0);

	run_skb_in_scratch(skel->progs.net_ingress, &p, 3);
	run_skb_in_scratch(skel->progs.net_ingress, &p, 0);
	r = run_get(skel);
	assert_int_equal(r.nr, IOTRACE_SOFTIRQ_OWNERS);
	assert_int_equal(r.other, 4);
	for (__u32 i = 0; i < IOTRACE_SOFTIRQ_OWNERS; i++)
		assert_int_equal(r.owners[i].cgroup_id, run.owners[i].cgroup_id);
	assert_int_equal(counter_of(skel, IOTRACE_CNT_NET_OWNERS_FULL), 2);

	t2 = now_ns();
	exit_(skel, NET_RX_SOFTIRQ);
	t3 = now_ns();
	assert_int_equal(net_stats_entries(skel, &elapsed), IOTRACE_SOFTIRQ_OWNERS + 2);
	assert_run_time(skel, "elapsed", elapsed, run.start_ns, run.lag_start, t2, t3);

	/* 1 + 2 + ... + 7 of the made-up owners, 8 + 1 of a, 4 other: 41 packets. */
	total = r.other;
	for (__u32 i = 0; i < IOTRACE_SOFTIRQ_OWNERS; i++) {
		packets[i] = r.owners[i].packets;
		total += packets[i];
	}
	assert_int_equal(total, 41);
	other = elapsed * r.other / total;
	given = other;
	for (__u32 i = 1; i < IOTRACE_SOFTIRQ_OWNERS; i++)
		given += elapsed * packets[i] / total;
	for (__u32 i = 0; i < IOTRACE_SOFTIRQ_OWNERS; i++) {
		want = elapsed * packets[i] / total;
		if (i == 0)
			want = elapsed - given;
		s = net_stats_present(skel, r.owners[i].cgroup_id);
		if (s.softirq_ns != want)
			fail_msg("owner %u (%llu packets of %llu): %llu ns of %llu, expected %llu",
				 i, (unsigned long long)packets[i], (unsigned long long)total,
				 (unsigned long long)s.softirq_ns, (unsigned long long)elapsed,
				 (unsigned long long)want);
	}
	assert_int_equal(net_stats_present(skel, IOTRACE_UNATTRIBUTED_ID).softirq_ns, other);
	s = net_stats_present(skel, scratch.id);
	assert_net_stats("ninth owner", s,
			 (struct iotrace_net_stats){ .rx_packets = 4, .rx_bytes = 2 * 512 });
	iotrace_bpf__destroy(skel);
}

/*
 * This task's se.sum_exec_runtime as /proc/self/schedstat shows it: the
 * field the flush reads, as of the scheduler's last update of it (a tick,
 * a switch), so it only grows.
 */
static uint64_t own_runtime_ns(void)
{
	unsigned long long ns = 0;
	FILE *f = fopen("/proc/self/schedstat", "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%llu", &ns), 1);
	fclose(f);
	return ns;
}

static uint64_t cpu_ns_of(struct iotrace_bpf *skel, uint64_t id)
{
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_cpu_stats *v = calloc(ncpus, sizeof(*v));
	uint64_t sum = 0;

	assert_non_null(v);
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.cpu_stats), &id, v) == 0)
		for (int i = 0; i < ncpus; i++)
			sum += v[i].cpu_ns;
	free(v);
	return sum;
}

static void flush_cpu0(struct iotrace_bpf *skel)
{
	softirq_run_cpu0(skel->progs.iotrace_flush, 0);
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/*
 * The run's time leaves the task it interrupted, this process here: the
 * softirq programs run in its context on CPU 0, around 20 ms of its own
 * run time.  Between the two flushes its run time grows by D, which lies
 * between the schedstat deltas inside and around them (the field only
 * grows); the softirq run lasted E, exactly what it charged (to the
 * unattributed workload, having served no owner).  Without
 * CONFIG_IRQ_TIME_ACCOUNTING the scheduler counts the softirq in the
 * task's run time, so the run moved the task's charged baseline on by E
 * and the second flush charges max(0, D - E), not D; with it, D leaves
 * the softirq out already and the flush charges D.  No tolerance: if the
 * time were not taken back, the flush would charge D, about 20 ms above
 * the bound.
 */
static void test_softirq_time_leaves_interrupted_task(void **state)
{
	struct iotrace_bpf *skel = load_net();
	uint64_t id = own_cgroup_id(), r0, r1, r2, r3, c1, charged, e, lo, hi, lag0;

	(void)state;
	pin_cpu0();
	r0 = own_runtime_ns();
	flush_cpu0(skel);
	r1 = own_runtime_ns();
	c1 = cpu_ns_of(skel, id); /* the first sighting: the slice so far */
	entry(skel, NET_RX_SOFTIRQ);
	lag0 = run_get(skel).lag_start;
	spin_ns(20 * 1000 * 1000);
	exit_(skel, NET_RX_SOFTIRQ);
	r2 = own_runtime_ns();
	flush_cpu0(skel);
	r3 = own_runtime_ns();
	charged = cpu_ns_of(skel, id) - c1;
	e = net_stats_present(skel, IOTRACE_UNATTRIBUTED_ID).softirq_ns;
	assert_true(e + (lag_now(skel) - lag0) >= 20 * 1000 * 1000); /* less steal, if any */
	if (skel->kconfig->CONFIG_IRQ_TIME_ACCOUNTING) {
		lo = r2 - r1;
		hi = r3 - r0;
	} else {
		lo = sub0(r2 - r1, e);
		hi = sub0(r3 - r0, e);
	}
	if (charged < lo || charged > hi)
		fail_msg("charged %llu ns after a %llu ns softirq run (run time %llu..%llu ns), "
			 "expected within [%llu, %llu] (CONFIG_IRQ_TIME_ACCOUNTING=%d)",
			 (unsigned long long)charged, (unsigned long long)e,
			 (unsigned long long)(r2 - r1), (unsigned long long)(r3 - r0),
			 (unsigned long long)lo, (unsigned long long)hi,
			 skel->kconfig->CONFIG_IRQ_TIME_ACCOUNTING);
	iotrace_bpf__destroy(skel);
}

/*
 * Steal time in a run (the hypervisor stalled the CPU, and the scheduler
 * left the stall out of the interrupted task's run time) is nobody's: the
 * run charges its wall time less the task clock lag's growth over it, and
 * nothing when the lag grew by more than the run lasted.  The steal is
 * made up by moving the run's start lag back: 10 s for a run of no time,
 * then 1 ms for a run of 3 ms.
 */
static void test_softirq_steal_left_out(void **state)
{
	const uint64_t stolen = 1000 * 1000;
	struct iotrace_bpf *skel = load_net();
	uint64_t t2, t3, total;
	struct softirq_run r;

	(void)state;
	pin_cpu0();
	entry(skel, NET_RX_SOFTIRQ);
	r = run_get(skel);
	r.lag_start -= 10000 * stolen;
	run_put(skel, &r);
	exit_(skel, NET_RX_SOFTIRQ);
	assert_int_equal(run_get(skel).start_ns, 0);
	assert_int_equal(net_stats_entries(skel, &total), 0);

	entry(skel, NET_RX_SOFTIRQ);
	r = run_get(skel);
	r.lag_start -= stolen;
	run_put(skel, &r);
	spin_ns(3 * stolen);
	t2 = now_ns();
	exit_(skel, NET_RX_SOFTIRQ);
	t3 = now_ns();
	assert_run_time(skel, "charged + the 1 ms made up",
			net_stats_present(skel, IOTRACE_UNATTRIBUTED_ID).softirq_ns + stolen,
			r.start_ns, r.lag_start + stolen, t2, t3);
	assert_int_equal(net_stats_entries(skel, &total), 1);
	iotrace_bpf__destroy(skel);
}

/* CPU 0's cycle counter state: the task whose slice it counts, and since when. */
static struct iotrace_cpu_state cpu_state0(struct iotrace_bpf *skel)
{
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_cpu_state *v = calloc(ncpus, sizeof(*v)), r;
	__u32 zero = 0;

	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.cpu_state), &zero, v), 0);
	r = v[0];
	free(v);
	return r;
}

/* The cycles charged to cgroup `id`, summed over CPUs. */
static uint64_t cycles_of(struct iotrace_bpf *skel, uint64_t id)
{
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_cpu_stats *v = calloc(ncpus, sizeof(*v));
	uint64_t sum = 0;

	assert_non_null(v);
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.cpu_stats), &id, v) == 0)
		for (int i = 0; i < ncpus; i++)
			sum += v[i].cpu_cycles;
	free(v);
	return sum;
}

/*
 * The same for the cycle counter, with the software cpu-clock event
 * standing in for hardware cycles (this machine has no PMU; a CPU-wide
 * cpu-clock event counts the CPU's wall time, as in test_handlers.c).
 * The flushes and the exit run on CPU 0 in this process's context, and
 * only the exit changes CPU 0's cpu_state between the flushes: it moves
 * the counting slice's start on by the run's counter delta, which spans
 * the run (between the spans inside and around the entry and exit calls),
 * and the second flush charges from there.
 */
static void test_softirq_cycles_leave_interrupted_task(void **state)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
	};
	struct iotrace_bpf *skel = load_net_pmu(true);
	uint64_t id = own_cgroup_id(), t0, t1, t2, t3, p1, p1x, p2, c1, q1;
	struct iotrace_cpu_state st;
	int fd, cpu = 0;

	(void)state;
	fd = syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		fail_msg("cannot open the cpu-clock event on CPU 0: %s", strerror(errno));
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.pmu), &cpu, &fd, BPF_ANY), 0);
	pin_cpu0();
	flush_cpu0(skel);
	st = cpu_state0(skel);
	p1 = st.pmu_start;
	assert_true(p1 != 0 && st.task != 0); /* a flush restarts current's slice */
	c1 = cycles_of(skel, id);
	t0 = now_ns();
	entry(skel, NET_RX_SOFTIRQ);
	t1 = now_ns();
	q1 = run_get(skel).pmu_start;
	assert_true(q1 >= p1);
	spin_ns(20 * 1000 * 1000);
	t2 = now_ns();
	exit_(skel, NET_RX_SOFTIRQ);
	t3 = now_ns();
	st = cpu_state0(skel);
	p1x = st.pmu_start;
	assert_within("the softirq run's counter delta", p1x - p1, t2 - t1, t3 - t0);
	flush_cpu0(skel);
	p2 = cpu_state0(skel).pmu_start;
	assert_int_equal(cycles_of(skel, id) - c1, p2 - p1x);
	assert_int_equal(counter_of(skel, IOTRACE_CNT_PMU_READ_FAIL), 0);
	close(fd);
	iotrace_bpf__destroy(skel);
}

/*
 * An owner that is a VM (IOTRACE_OWNER_VM | tgid, named by its tap
 * device's packets) is charged in vm_net under its tgid, not in net_stats.
 */
static void test_softirq_vm_owner(void **state)
{
	struct iotrace_bpf *skel = load_net();
	const __u32 tgid = 4321;
	struct softirq_run run = {
		.nr = 2,
		.owners = { { IOTRACE_OWNER_VM | tgid, 3 }, { 4242, 1 } },
	};
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_net_stats *v = calloc(ncpus, sizeof(*v));
	uint64_t t2, t3, vm = 0, cg, total;

	(void)state;
	assert_non_null(v);
	pin_cpu0();
	run.start_ns = now_ns() - 1000 * 1000;
	run_put_started(skel, &run);
	t2 = now_ns();
	exit_(skel, NET_RX_SOFTIRQ);
	t3 = now_ns();
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.vm_net), &tgid, v), 0);
	for (int i = 0; i < ncpus; i++) {
		vm += v[i].softirq_ns;
		assert_int_equal(v[i].tx_packets + v[i].rx_packets, 0);
	}
	cg = net_stats_present(skel, 4242).softirq_ns;
	assert_run_time(skel, "elapsed", vm + cg, run.start_ns, run.lag_start, t2, t3);
	assert_int_equal(cg, (vm + cg) / 4);
	assert_int_equal(net_stats_entries(skel, &total), 1);
	free(v);
	iotrace_bpf__destroy(skel);
}

/* ---- devices ------------------------------------------------------------ */

/*
 * The device programs (netif_receive_skb, net_dev_start_xmit) take a struct
 * sk_buff and a struct net_device that they read with the probe helper
 * (CO-RE in the raw_tp variants).  Synthetic ones live in kernel memory:
 * the value of tests/bpf/fake_vcpu.bpf.c's array, whose kernel address a
 * test run tells, laid out at the kernel's own offsets, read from its BTF.
 * Only the fields the programs read are placed: a pointer may point
 * before the buffer as long as the fields it is read at lie inside.
 *
 *   0x000 sk_buff          0x100 head (0x120: the IP header)
 *   0x200 skb_shared_info  0x300 net's ns.inum
 *   0x400.. the device's ifindex and nd_net.net
 */
#define FAKE_SIZE 4096
#define FAKE_HEAD 0x100
#define FAKE_IP 0x120
#define FAKE_SHINFO 0x200
#define FAKE_NS_INUM 0x300
#define FAKE_DEV 0x400

struct fake_dev {
	struct fake_vcpu_bpf *skel;
	uint64_t addr; /* kernel address of mem's copy */
	uint8_t mem[FAKE_SIZE];
	/* The kernel's offsets. */
	long skb_dev, skb_len, skb_data, skb_head, skb_end, sh_gso_segs, dev_ifindex, dev_net,
		net_inum;
};

/*
 * Offset in bytes of member `name` of the struct or union `id`, looking
 * through anonymous members; its type in *type.  -1 if there is none.
 */
static long member_off(const struct btf *btf, __u32 id, const char *name, __u32 *type)
{
	const struct btf_type *t = btf__type_by_id(btf, btf__resolve_type(btf, id));
	const struct btf_member *m = btf_members(t);
	long off;

	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *mname = btf__name_by_offset(btf, m->name_off);

		if (mname && *mname) {
			if (strcmp(mname, name))
				continue;
			*type = m->type;
			return btf_member_bit_offset(t, i) / 8;
		}
		off = member_off(btf, m->type, name, type);
		if (off >= 0)
			return btf_member_bit_offset(t, i) / 8 + off;
	}
	return -1;
}

/* Offset in bytes of member path "a.b" of struct sname in the kernel. */
static long btf_off(const struct btf *btf, const char *sname, const char *path)
{
	__s32 sid = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);
	char buf[64], *part, *save = NULL;
	long off = 0, o;
	__u32 id;

	if (sid < 0)
		fail_msg("no struct %s in the kernel's BTF", sname);
	id = (__u32)sid;
	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part; part = strtok_r(NULL, ".", &save)) {
		o = member_off(btf, id, part, &id);
		if (o < 0)
			fail_msg("no member %s in struct %s (%s)", part, sname, path);
		off += o;
	}
	return off;
}

static void fake_dev_open(struct fake_dev *f)
{
	__u64 args[1] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));
	struct btf *btf = btf__load_vmlinux_btf();
	__s32 skb_id;

	assert_non_null(btf);
	memset(f, 0, sizeof(*f));
	f->skb_dev = btf_off(btf, "sk_buff", "dev");
	f->skb_len = btf_off(btf, "sk_buff", "len");
	f->skb_data = btf_off(btf, "sk_buff", "data");
	f->skb_head = btf_off(btf, "sk_buff", "head");
	f->skb_end = btf_off(btf, "sk_buff", "end");
	f->sh_gso_segs = btf_off(btf, "skb_shared_info", "gso_segs");
	f->dev_ifindex = btf_off(btf, "net_device", "ifindex");
	f->dev_net = btf_off(btf, "net_device", "nd_net.net");
	f->net_inum = btf_off(btf, "net", "ns.inum");
	skb_id = btf__find_by_name_kind(btf, "sk_buff", BTF_KIND_STRUCT);
	/* The layout above must hold the kernel's structures. */
	assert_true(btf__resolve_size(btf, skb_id) <= FAKE_HEAD);
	assert_true(f->sh_gso_segs + 2 <= FAKE_NS_INUM - FAKE_SHINFO);
	assert_true(labs(f->dev_net - f->dev_ifindex) + 8 <= FAKE_SIZE - FAKE_DEV);
	btf__free(btf);

	f->skel = fake_vcpu_bpf__open_and_load();
	if (!f->skel)
		fail_msg("cannot load the fake kernel memory: %s", strerror(errno));
	assert_int_equal(bpf_map__value_size(f->skel->maps.fake_mem), FAKE_SIZE);
	if (bpf_prog_test_run_opts(bpf_program__fd(f->skel->progs.fake_vcpu_addr), &opts))
		fail_msg("test run of fake_vcpu_addr failed: %s", strerror(errno));
	f->addr = f->skel->bss->fake_addr;
	assert_true(f->addr != 0);
}

static void put(struct fake_dev *f, long off, const void *v, size_t len)
{
	assert_true(off >= 0 && off + (long)len <= FAKE_SIZE);
	memcpy(f->mem + off, v, len);
}

/* Where the device's fields start: the lower of ifindex and nd_net at FAKE_DEV. */
static long dev_base(const struct fake_dev *f)
{
	return FAKE_DEV - (f->dev_ifindex < f->dev_net ? f->dev_ifindex : f->dev_net);
}

/*
 * A packet of `len` bytes from skb->data, l2 of them a link header before
 * the IP header at FAKE_IP (which holds ip), with gso_segs segs, on
 * device ifindex of the namespace whose inode is netns.
 */
static void fake_packet(struct fake_dev *f, const struct pkt *ip, uint32_t len, uint32_t l2,
			uint16_t segs, uint32_t ifindex, uint32_t netns)
{
	uint64_t dev = f->addr + dev_base(f), net = f->addr + FAKE_NS_INUM - f->net_inum;
	uint64_t data = f->addr + FAKE_IP - l2, head = f->addr + FAKE_HEAD;
	uint32_t end = FAKE_SHINFO - FAKE_HEAD;
	__u32 key = 0;

	memset(f->mem, 0xcc, sizeof(f->mem));
	put(f, f->skb_dev, &dev, sizeof(dev));
	put(f, f->skb_len, &len, sizeof(len));
	put(f, f->skb_data, &data, sizeof(data));
	put(f, f->skb_head, &head, sizeof(head));
	put(f, f->skb_end, &end, sizeof(end));
	put(f, FAKE_IP, ip->b + ETH_HLEN, ip->len - ETH_HLEN);
	put(f, FAKE_SHINFO + f->sh_gso_segs, &segs, sizeof(segs));
	put(f, FAKE_NS_INUM, &netns, sizeof(netns));
	put(f, dev_base(f) + f->dev_ifindex, &ifindex, sizeof(ifindex));
	put(f, dev_base(f) + f->dev_net, &net, sizeof(net));
	assert_int_equal(
		bpf_map_update_elem(bpf_map__fd(f->skel->maps.fake_mem), &key, f->mem, BPF_ANY), 0);
}

static void fake_dev_close(struct fake_dev *f)
{
	fake_vcpu_bpf__destroy(f->skel);
}

static void run_args_cpu0(struct bpf_program *prog, __u64 *args, size_t n)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = n * sizeof(*args),
		    .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = 0);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		fail_msg("test run of %s failed: %s", bpf_program__name(prog), strerror(errno));
}

/* netif_receive_skb of the fake packet: the host received it from the device. */
static void dev_rx(struct iotrace_bpf *skel, struct fake_dev *f)
{
	__u64 args[1] = { f->addr };

	run_args_cpu0(skel->progs.net_dev_rx_raw, args, 1);
}

/* net_dev_start_xmit of the fake packet to its device. */
static void dev_tx(struct iotrace_bpf *skel, struct fake_dev *f)
{
	__u64 args[2] = { f->addr, f->addr + dev_base(f) };

	run_args_cpu0(skel->progs.net_dev_tx_raw, args, 2);
}

static void enter_dev(struct iotrace_bpf *skel, uint32_t netns, uint32_t ifindex, uint64_t id,
		      enum iotrace_dev_kind kind)
{
	struct iotrace_dev_key key = { .netns = netns, .ifindex = ifindex };
	struct iotrace_dev_owner owner = { .id = id, .kind = kind };

	assert_int_equal(
		bpf_map_update_elem(bpf_map__fd(skel->maps.net_devs), &key, &owner, BPF_ANY), 0);
	skel->bss->net_state.nr_devs++;
}

static size_t vm_net_entries(struct iotrace_bpf *skel)
{
	int fd = bpf_map__fd(skel->maps.vm_net);
	__u32 key, next, *prev = NULL;
	size_t n = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

#define NS_A 4026531840U
#define NS_B 4026532999U
#define CG_FWD 4242

/*
 * The host end of a container's veth (IOTRACE_DEV_CGROUP): each packet
 * the host receives from it or sends to it names the container's cgroup
 * as an owner of the softirq run, for its wire packets (gso_segs), and
 * counts nothing: the container's sockets count its packets.  A transmit
 * the driver refused names no one.  The run's time goes to the cgroup.
 */
static void test_dev_cgroup_owner(void **state)
{
	struct iotrace_bpf *skel = load_net();
	uint64_t t2, t3, total;
	struct softirq_run r, start;
	struct fake_dev f;
	struct pkt p;

	(void)state;
	pin_cpu0();
	fake_dev_open(&f);
	enter_dev(skel, NS_A, 7, CG_FWD, IOTRACE_DEV_CGROUP);
	udp512(&p);
	entry(skel, NET_RX_SOFTIRQ);
	start = run_get(skel);
	fake_packet(&f, &p, p.len - ETH_HLEN, 0, 3, 7, NS_A);
	dev_rx(skel, &f);
	r = run_get(skel);
	assert_int_equal(r.nr, 1);
	assert_int_equal(r.owners[0].cgroup_id, CG_FWD);
	assert_int_equal(r.owners[0].packets, 3);
	fake_packet(&f, &p, p.len, ETH_HLEN, 0, 7, NS_A);
	dev_tx(skel, &f);
	r = run_get(skel);
	assert_int_equal(r.nr, 1);
	assert_int_equal(r.owners[0].packets, 4);
	assert_int_equal(r.other, 0);
	t2 = now_ns();
	exit_(skel, NET_RX_SOFTIRQ);
	t3 = now_ns();
	assert_int_equal(net_stats_entries(skel, &total), 1);
	assert_within("the cgroup's share", total, t2 - start.start_ns, t3 - start.start_ns);
	assert_net_stats("cgroup of the device", net_stats_present(skel, CG_FWD),
			 (struct iotrace_net_stats){ .softirq_ns = total });
	assert_int_equal(vm_net_entries(skel), 0);
	fake_dev_close(&f);
	iotrace_bpf__destroy(skel);
}

/*
 * Nothing is noted for: a device not entered, the same ifindex in another
 * namespace (ifindexes are per namespace), any device while nr_devs is 0
 * (the programs return before the lookup), or a device packet outside a
 * softirq run.
 */
static void test_dev_not_owned(void **state)
{
	struct iotrace_bpf *skel = load_net();
	struct softirq_run r;
	struct fake_dev f;
	uint64_t total;
	struct pkt p;

	(void)state;
	pin_cpu0();
	fake_dev_open(&f);
	enter_dev(skel, NS_A, 7, CG_FWD, IOTRACE_DEV_CGROUP);
	udp512(&p);

	fake_packet(&f, &p, p.len - ETH_HLEN, 0, 0, 7, NS_A);
	dev_rx(skel, &f); /* no run in progress */
	entry(skel, NET_RX_SOFTIRQ);
	fake_packet(&f, &p, p.len - ETH_HLEN, 0, 0, 8, NS_A);
	dev_rx(skel, &f);
	fake_packet(&f, &p, p.len - ETH_HLEN, 0, 0, 7, NS_B);
	dev_rx(skel, &f);
	r = run_get(skel);
	assert_int_equal(r.nr, 0);

	skel->bss->net_state.nr_devs = 0;
	fake_packet(&f, &p, p.len - ETH_HLEN, 0, 0, 7, NS_A);
	dev_rx(skel, &f);
	r = run_get(skel);
	assert_int_equal(r.nr, 0);
	exit_(skel, NET_RX_SOFTIRQ);
	assert_no_net_stats(skel, CG_FWD);
	assert_int_equal(net_stats_entries(skel, &total), 1); /* the run: unattributed */
	net_stats_present(skel, IOTRACE_UNATTRIBUTED_ID);
	fake_dev_close(&f);
	iotrace_bpf__destroy(skel);
}

/*
 * A VM's tap (IOTRACE_DEV_VM): what the host receives from it is the VM's
 * tx, what it sends to it the VM's rx, packets by gso_segs and payload
 * bytes from the copied headers, in vm_net; the VM is noted as an owner.
 */
static void test_dev_vm_counts(void **state)
{
	struct iotrace_bpf *skel = load_net();
	int ncpus = libbpf_num_possible_cpus();
	struct iotrace_net_stats *v = calloc(ncpus, sizeof(*v)), sum = { 0 };
	const __u32 tgid = 4321;
	struct softirq_run r;
	struct fake_dev f;
	struct pkt p;

	(void)state;
	assert_non_null(v);
	pin_cpu0();
	fake_dev_open(&f);
	enter_dev(skel, NS_A, 9, tgid, IOTRACE_DEV_VM);
	udp512(&p);
	entry(skel, NET_RX_SOFTIRQ);
	fake_packet(&f, &p, p.len - ETH_HLEN, 0, 2, 9, NS_A);
	dev_rx(skel, &f);
	fake_packet(&f, &p, p.len, ETH_HLEN, 0, 9, NS_A);
	dev_tx(skel, &f);
	r = run_get(skel);
	assert_int_equal(r.nr, 1);
	assert_int_equal(r.owners[0].cgroup_id, IOTRACE_OWNER_VM | tgid);
	assert_int_equal(r.owners[0].packets, 3);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(skel->maps.vm_net), &tgid, v), 0);
	for (int i = 0; i < ncpus; i++) {
		sum.tx_packets += v[i].tx_packets;
		sum.tx_bytes += v[i].tx_bytes;
		sum.rx_packets += v[i].rx_packets;
		sum.rx_bytes += v[i].rx_bytes;
	}
	assert_net_stats(
		"VM tap", sum,
		(struct iotrace_net_stats){
			.tx_packets = 2, .tx_bytes = 512, .rx_packets = 1, .rx_bytes = 512 });
	exit_(skel, NET_RX_SOFTIRQ);
	free(v);
	fake_dev_close(&f);
	iotrace_bpf__destroy(skel);
}

/* ---- setup -------------------------------------------------------------- */

static int make_scratch(void **state)
{
	char rel[256];

	(void)state;
	if (cgfs_find_mount("/proc/mounts", scratch.mount, sizeof(scratch.mount))) {
		fprintf(stderr, "test_net_handlers: no cgroup2 mount\n");
		return -1;
	}
	snprintf(rel, sizeof(rel), "/iotrace-test-netbpf-%d", (int)getpid());
	if (snprintf(scratch.dir, sizeof(scratch.dir), "%s%s", scratch.mount, rel) >=
	    (int)sizeof(scratch.dir)) {
		fprintf(stderr, "test_net_handlers: cgroup path too long\n");
		return -1;
	}
	if (mkdir(scratch.dir, 0755) || cgfs_path_to_id(scratch.mount, rel, &scratch.id)) {
		fprintf(stderr, "test_net_handlers: cannot make cgroup %s: %s\n", scratch.dir,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* The children have been reaped; a dead task may linger a moment. */
static int remove_scratch(void **state)
{
	(void)state;
	for (int i = 0; i < 100; i++) {
		if (!rmdir(scratch.dir))
			return 0;
		if (errno != EBUSY)
			break;
		usleep(10 * 1000);
	}
	fprintf(stderr, "test_net_handlers: cannot remove cgroup %s: %s\n", scratch.dir,
		strerror(errno));
	return -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packets_and_payload_bytes),
		cmocka_unit_test(test_counts_accumulate),
		cmocka_unit_test(test_owner_is_socket_cgroup),
		cmocka_unit_test(test_softirq_shares_follow_packets),
		cmocka_unit_test(test_softirq_tx_run),
		cmocka_unit_test(test_softirq_without_owner_is_unattributed),
		cmocka_unit_test(test_softirq_other_vectors_ignored),
		cmocka_unit_test(test_softirq_exit_without_entry),
		cmocka_unit_test(test_softirq_owners_beyond_list),
		cmocka_unit_test(test_softirq_time_leaves_interrupted_task),
		cmocka_unit_test(test_softirq_steal_left_out),
		cmocka_unit_test(test_softirq_cycles_leave_interrupted_task),
		cmocka_unit_test(test_softirq_vm_owner),
		cmocka_unit_test(test_dev_cgroup_owner),
		cmocka_unit_test(test_dev_not_owned),
		cmocka_unit_test(test_dev_vm_counts),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_net_handlers: must run as root (loads BPF programs)\n");
		return 1;
	}
	return cmocka_run_group_tests_name("bpf network handlers", tests, make_scratch,
					   remove_scratch);
}
