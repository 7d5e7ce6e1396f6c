// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the container rules (user/advice_ct.c) on synthetic
 * tables: net.nat, net.bridge and storage.writable_layer raised and not,
 * thin evidence (said why), the reference chosen for the saving, the
 * study's ratio when there is none, the remedies' wording; and the fact
 * parsers they rely on (user/ct_net.c: nf_tables rules and links;
 * user/ct_mounts.c: mountinfo).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "advice_ct.h"
#include "advice_lookup.h"

enum { NAT, BRIDGE, LAYER };

/* A container on bridge br0 (10.1.2.1/25) with a MASQUERADE rule, sending 10k x 1000 B over 10 s. */
static struct advice_ct nat_ct(void)
{
	struct advice_ct c;

	memset(&c, 0, sizeof(c));
	c.name = "web";
	c.cgroup_path = "/docker/abc";
	c.pid = 100;
	c.judged = true;
	c.m.seconds = 10;
	c.m.tx_packets = 10000;
	c.m.tx_bytes = 10000000;
	c.m.cost_cycles = 30e6; /* 3 cycles per byte */
	c.m.cycles_per_ns = 2.0;
	c.m.cycles_source = "tsc-estimate";
	c.net.read = true;
	snprintf(c.net.veth, sizeof(c.net.veth), "veth1");
	c.net.nveths = 1;
	snprintf(c.net.master_kind, sizeof(c.net.master_kind), "bridge");
	snprintf(c.net.bridge, sizeof(c.net.bridge), "br0");
	c.net.bridge_addr[0] = 10;
	c.net.bridge_addr[1] = 1;
	c.net.bridge_addr[2] = 2;
	c.net.bridge_addr[3] = 1;
	c.net.bridge_prefixlen = 25;
	c.net.nat_known = true;
	c.net.nat_rules = 1;
	c.net.rules_seen = 9;
	snprintf(c.net.nat_kinds, sizeof(c.net.nat_kinds), "masquerade");
	snprintf(c.net.nat_where, sizeof(c.net.nat_where), "ip nat POSTROUTING");
	c.mounts.read = true;
	return c;
}

/* The same traffic in the host's namespace at 2 cycles per byte. */
static struct advice_ct host_ct(void)
{
	struct advice_ct c = nat_ct();

	c.name = "hostc";
	c.cgroup_path = "/hostc";
	memset(&c.net, 0, sizeof(c.net));
	c.net.read = true;
	c.net.host_netns = true;
	c.m.cost_cycles = 20e6;
	return c;
}

static const struct advice_check *eval(const struct advice_ct *cts, size_t n, size_t which,
				       struct advice_ct_result *res, int rule)
{
	advice_ct_evaluate(cts, n, which, res);
	return &res->checks[rule];
}

static const struct advice_finding *finding(const struct advice_ct_result *res, const char *id)
{
	return finding_of(res->findings, res->nfindings, id);
}

static double ev(const struct advice_finding *fd, const char *key)
{
	const struct advice_fig *f = fig(fd->evidence, fd->nevidence, key);

	assert_non_null(f);
	assert_int_equal(f->type, ADVICE_FIG_NUM);
	return f->num;
}

static const char *ev_s(const struct advice_finding *fd, const char *key)
{
	const struct advice_fig *f = fig(fd->evidence, fd->nevidence, key);

	assert_non_null(f);
	return f->type == ADVICE_FIG_STR ? f->str : NULL;
}

static void test_ids(void **state)
{
	(void)state;
	assert_string_equal(advice_ct_rule_ids[NAT], "net.nat");
	assert_string_equal(advice_ct_rule_ids[BRIDGE], "net.bridge");
	assert_string_equal(advice_ct_rule_ids[LAYER], "storage.writable_layer");
}

static void test_nat_measured(void **state)
{
	struct advice_ct cts[2] = { nat_ct(), host_ct() };
	struct advice_ct_result res;
	const struct advice_finding *fd;

	(void)state;
	assert_int_equal(eval(cts, 2, 0, &res, NAT)->status, ADVICE_RAISED);
	assert_int_equal(res.checks[BRIDGE].status, ADVICE_PASSED);
	fd = finding(&res, "net.nat");
	assert_non_null(fd);
	assert_int_equal(fd->severity, ADVICE_WARNING);
	assert_float_equal(ev(fd, "cycles_per_byte"), 3.0, 1e-9);
	assert_float_equal(ev(fd, "reference_cycles_per_byte"), 2.0, 1e-9);
	assert_float_equal(ev(fd, "cycles_per_byte_ratio"), 1.5, 1e-9);
	assert_float_equal(ev(fd, "cycles_per_packet"), 3000, 1e-9);
	assert_string_equal(ev_s(fd, "reference"), "hostc");
	assert_string_equal(ev_s(fd, "ratio_source"), "measured");
	assert_string_equal(ev_s(fd, "path"), "veth+bridge+nat");
	assert_string_equal(ev_s(fd, "nat"), "masquerade");
	assert_non_null(strstr(fd->summary, "veth1, bridge br0 and NAT (masquerade)"));
	assert_non_null(strstr(fd->summary, "(1.50x)"));
	assert_non_null(strstr(fd->remedy, "docker run --net=host"));
	assert_non_null(strstr(fd->remedy, "podman run --network=host"));
	assert_non_null(strstr(fd->remedy, "drop -p/--publish"));
	/* 1 cycle per byte saved at 1 MB/s = 1M cycles/s of a 2 GHz CPU: 0.05 %. */
	assert_int_equal(fd->nsaving, 2);
	assert_string_equal(fd->saving[0].key, "cycles_per_byte");
	assert_float_equal(fd->saving[0].num, 1.0, 1e-9);
	assert_float_equal(fd->saving[1].num, 0.05, 1e-9);
	assert_non_null(strstr(fd->saving_basis, "measured on this host: hostc"));
	/* The host-network workload itself: passed, nothing raised. */
	assert_int_equal(eval(cts, 2, 1, &res, NAT)->status, ADVICE_PASSED);
	assert_int_equal(res.checks[BRIDGE].status, ADVICE_PASSED);
	assert_non_null(strstr(res.checks[NAT].reason, "host's network namespace"));
	assert_null(finding(&res, "net.nat"));
	assert_null(finding(&res, "net.bridge"));
}

static void test_nat_study_ratio(void **state)
{
	struct advice_ct c = nat_ct();
	struct advice_ct_result res;
	const struct advice_finding *fd;

	(void)state;
	assert_int_equal(eval(&c, 1, 0, &res, NAT)->status, ADVICE_RAISED);
	fd = finding(&res, "net.nat");
	assert_string_equal(ev_s(fd, "reference"), "study");
	assert_string_equal(ev_s(fd, "ratio_source"), "study");
	assert_float_equal(ev(fd, "cycles_per_byte_ratio"),
			   ADVICE_STUDY_NAT_CPB / ADVICE_STUDY_NATIVE_CPB, 1e-3);
	assert_float_equal(fd->saving[0].num, 3.0 * (1 - 2.1 / 2.55), 1e-3);
	assert_non_null(strstr(fd->saving_basis, "the study's ratio, not measured here"));
}

static void test_nat_reference_no_gain(void **state)
{
	struct advice_ct cts[2] = { nat_ct(), host_ct() };
	struct advice_ct_result res;
	const struct advice_finding *fd;

	(void)state;
	cts[1].m.cost_cycles = 40e6; /* the host's path costs more here */
	eval(cts, 2, 0, &res, NAT);
	fd = finding(&res, "net.nat");
	assert_non_null(fd);
	assert_int_equal(fd->nsaving, 0);
	assert_non_null(strstr(fd->saving_basis, "no cycles to save measured"));
	assert_float_equal(ev(fd, "cycles_per_byte_ratio"), 0.75, 1e-9);
}

static void test_reference_choice(void **state)
{
	struct advice_ct cts[5] = { nat_ct(), host_ct(), host_ct(), host_ct(), host_ct() };
	struct advice_ct_result res;

	(void)state;
	/* A receiver: other direction.  A thin one.  One with other packet sizes. */
	cts[1].name = "receiver";
	cts[1].m.rx_packets = cts[1].m.tx_packets;
	cts[1].m.rx_bytes = cts[1].m.tx_bytes;
	cts[1].m.tx_packets = cts[1].m.tx_bytes = 0;
	cts[2].name = "thin";
	cts[2].m.tx_packets = ADVICE_NET_MIN_PACKETS - 1;
	cts[3].name = "small";
	cts[3].m.tx_packets = 100000; /* 100-byte packets */
	cts[4].name = "alike";
	eval(cts, 5, 0, &res, NAT);
	assert_string_equal(ev_s(finding(&res, "net.nat"), "reference"), "alike");
	/* A reference not in the host's namespace is none. */
	cts[4].net = nat_ct().net;
	cts[3].net = nat_ct().net;
	eval(cts, 5, 0, &res, NAT);
	assert_string_equal(ev_s(finding(&res, "net.nat"), "reference"), "study");
}

static void test_bridge(void **state)
{
	struct advice_ct cts[2] = { nat_ct(), host_ct() };
	struct advice_ct_result res;
	const struct advice_finding *fd;

	(void)state;
	cts[0].net.nat_rules = 0;
	cts[0].net.nat_kinds[0] = '\0';
	assert_int_equal(eval(cts, 1, 0, &res, BRIDGE)->status, ADVICE_RAISED);
	assert_int_equal(res.checks[NAT].status, ADVICE_PASSED);
	assert_non_null(strstr(res.checks[NAT].reason, "no NAT rule for it among 9"));
	fd = finding(&res, "net.bridge");
	assert_int_equal(fd->severity, ADVICE_INFO);
	assert_string_equal(ev_s(fd, "path"), "veth+bridge");
	assert_null(ev_s(fd, "nat"));
	assert_null(ev_s(fd, "reference"));
	assert_non_null(strstr(fd->summary, "(no NAT)"));
	assert_non_null(strstr(fd->remedy, "--net=host"));
	/* No reference: the study measured NAT, not a bridge alone. */
	assert_int_equal(fd->nsaving, 0);
	assert_non_null(strstr(fd->saving_basis, "not estimated"));
	/* With one: measured. */
	eval(cts, 2, 0, &res, BRIDGE);
	fd = finding(&res, "net.bridge");
	assert_int_equal(fd->nsaving, 2);
	assert_float_equal(ev(fd, "cycles_per_byte_ratio"), 1.5, 1e-9);
}

static void test_net_thin_and_passed(void **state)
{
	struct advice_ct c;
	struct advice_ct_result res;

	(void)state;
	c = nat_ct();
	c.m.tx_packets = ADVICE_NET_MIN_PACKETS - 1;
	assert_int_equal(eval(&c, 1, 0, &res, NAT)->status, ADVICE_THIN);
	assert_int_equal(res.checks[BRIDGE].status, ADVICE_THIN);
	assert_non_null(strstr(res.checks[NAT].reason, "needs at least 1000 packets and 1 MiB"));
	assert_int_equal(res.nfindings, 0);

	c = nat_ct();
	c.m.tx_bytes = ADVICE_NET_MIN_BYTES - 1;
	assert_int_equal(eval(&c, 1, 0, &res, NAT)->status, ADVICE_THIN);

	c = nat_ct();
	c.m.seconds = 2.9;
	assert_int_equal(eval(&c, 1, 0, &res, NAT)->status, ADVICE_THIN);

	c = nat_ct();
	c.m.tx_packets = ADVICE_NET_MIN_PACKETS;
	c.m.tx_bytes = ADVICE_NET_MIN_BYTES;
	c.m.seconds = ADVICE_MIN_SECONDS;
	assert_int_equal(eval(&c, 1, 0, &res, NAT)->status, ADVICE_RAISED);

	c = nat_ct();
	c.net.nat_known = false;
	snprintf(c.net.nat_unknown, sizeof(c.net.nat_unknown),
		 "cannot read the nf_tables rules: Operation not permitted (needs CAP_NET_ADMIN)");
	assert_int_equal(eval(&c, 1, 0, &res, NAT)->status, ADVICE_THIN);
	assert_int_equal(res.checks[BRIDGE].status, ADVICE_THIN);
	assert_non_null(strstr(res.checks[NAT].reason, "CAP_NET_ADMIN"));

	c = nat_ct();
	c.net.read = false;
	assert_int_equal(eval(&c, 1, 0, &res, NAT)->status, ADVICE_THIN);

	c = nat_ct();
	snprintf(c.net.master_kind, sizeof(c.net.master_kind), "openvswitch");
	assert_int_equal(eval(&c, 1, 0, &res, NAT)->status, ADVICE_THIN);
	assert_non_null(strstr(res.checks[NAT].reason, "openvswitch"));

	c = nat_ct();
	c.net.master_kind[0] = '\0';
	assert_int_equal(eval(&c, 1, 0, &res, NAT)->status, ADVICE_PASSED);

	c = nat_ct();
	c.net.veth[0] = '\0';
	assert_int_equal(eval(&c, 1, 0, &res, NAT)->status, ADVICE_PASSED);
	assert_non_null(strstr(res.checks[NAT].reason, "not on a veth"));
}

/* ---- storage.writable_layer ---- */

/* 200 MiB written to device dev over 10 s. */
static struct advice_ct writer(const char *name, uint32_t major, uint32_t minor)
{
	struct advice_ct c = nat_ct();

	c.name = name;
	c.m.tx_packets = c.m.tx_bytes = 0;
	c.m.wr_bytes = 200ull << 20;
	c.m.wr_ops = 1600;
	c.m.cost_cycles = 200e6;
	c.m.ndevs = 1;
	c.m.devs[0].major = major;
	c.m.devs[0].minor = minor;
	c.m.devs[0].wr_bytes = c.m.wr_bytes;
	c.m.devs[0].wr_ops = c.m.wr_ops;
	c.mounts.read = true;
	c.mounts.layer_known = true;
	c.mounts.layer_major = 7;
	c.mounts.layer_minor = 1;
	snprintf(c.mounts.layer_fstype, sizeof(c.mounts.layer_fstype), "overlay");
	snprintf(c.mounts.layer_upper, sizeof(c.mounts.layer_upper), "/var/lib/docker/x/diff");
	c.mounts.nvol = 1;
	c.mounts.vol[0].major = 7;
	c.mounts.vol[0].minor = 2;
	snprintf(c.mounts.vol[0].mountpoint, sizeof(c.mounts.vol[0].mountpoint), "/data");
	return c;
}

static void test_layer_raised(void **state)
{
	struct advice_ct cts[2] = { writer("layer", 7, 1), writer("volume", 7, 2) };
	struct advice_ct_result res;
	const struct advice_finding *fd;

	(void)state;
	assert_int_equal(eval(cts, 2, 0, &res, LAYER)->status, ADVICE_RAISED);
	fd = finding(&res, "storage.writable_layer");
	assert_int_equal(fd->severity, ADVICE_WARNING);
	assert_float_equal(ev(fd, "layer_wr_bytes"), (200 << 20), 0);
	assert_float_equal(ev(fd, "volume_wr_bytes"), 0, 0);
	assert_float_equal(ev(fd, "layer_share"), 1.0, 1e-9);
	assert_string_equal(ev_s(fd, "layer_device"), "7:1");
	assert_string_equal(ev_s(fd, "attribution"), "layer");
	assert_null(ev_s(fd, "volumes_on_layer_device"));
	assert_non_null(strstr(fd->summary, "not on a volume"));
	assert_non_null(strstr(fd->remedy, "--mount type=volume,src=NAME,dst=/path"));
	assert_non_null(strstr(fd->remedy, "--mount type=bind,src=/host/dir,dst=/path"));
	assert_non_null(strstr(fd->remedy, "docker run -v NAME:/path"));
	/* Equal cost per written byte: no cycles to save. */
	assert_int_equal(fd->nsaving, 0);
	assert_non_null(strstr(fd->saving_basis, "no cycles to save measured: volume"));
	/* Costlier on the layer: measured. */
	cts[0].m.cost_cycles = 400e6;
	eval(cts, 2, 0, &res, LAYER);
	fd = finding(&res, "storage.writable_layer");
	assert_int_equal(fd->nsaving, 2);
	assert_float_equal(fd->saving[0].num, 1.0 / (1 << 20) * 1e6, 1e-6);
	/* Without a volume writer: not estimated. */
	eval(cts, 1, 0, &res, LAYER);
	assert_non_null(
		strstr(finding(&res, "storage.writable_layer")->saving_basis, "not estimated"));
	/* The volume writer: passed. */
	assert_int_equal(eval(cts, 2, 1, &res, LAYER)->status, ADVICE_PASSED);
	assert_non_null(strstr(res.checks[LAYER].reason, "0% of 200.0 MiB"));
	/* ... naming the volumes it writes to. */
	assert_non_null(strstr(res.checks[LAYER].reason, "(200.0 MiB on volumes: /data)"));
	cts[1].mounts.nvol = 2;
	cts[1].mounts.vol[1] = cts[1].mounts.vol[0];
	cts[1].mounts.vol[1].minor = 3;
	snprintf(cts[1].mounts.vol[1].mountpoint, sizeof(cts[1].mounts.vol[1].mountpoint), "/logs");
	cts[1].m.ndevs = 2;
	cts[1].m.devs[0].wr_bytes = 150ull << 20;
	cts[1].m.devs[1] = cts[1].m.devs[0];
	cts[1].m.devs[1].minor = 3;
	cts[1].m.devs[1].wr_bytes = 50ull << 20;
	assert_int_equal(eval(cts, 2, 1, &res, LAYER)->status, ADVICE_PASSED);
	assert_non_null(strstr(res.checks[LAYER].reason, "(200.0 MiB on volumes: /data,/logs)"));
}

static void test_layer_shared_device(void **state)
{
	struct advice_ct c = writer("shared", 7, 1);
	struct advice_ct_result res;
	const struct advice_finding *fd;

	(void)state;
	c.mounts.vol[0].minor = 1; /* the volume lives on the layer's file system */
	assert_int_equal(eval(&c, 1, 0, &res, LAYER)->status, ADVICE_RAISED);
	fd = finding(&res, "storage.writable_layer");
	assert_int_equal(fd->severity, ADVICE_INFO);
	assert_string_equal(ev_s(fd, "attribution"), "ambiguous");
	assert_string_equal(ev_s(fd, "volumes_on_layer_device"), "/data");
	assert_non_null(strstr(fd->summary, "cannot tell them apart at the block layer"));
	assert_non_null(strstr(fd->remedy, "put it on another device"));
}

static void test_layer_thin(void **state)
{
	struct advice_ct c;
	struct advice_ct_result res;

	(void)state;
	c = writer("w", 7, 1);
	c.m.wr_bytes = ADVICE_CT_MIN_WRITE_BYTES - 1;
	assert_int_equal(eval(&c, 1, 0, &res, LAYER)->status, ADVICE_THIN);
	assert_non_null(strstr(res.checks[LAYER].reason, "needs at least 16 MiB in 64 writes"));
	c = writer("w", 7, 1);
	c.m.wr_ops = ADVICE_CT_MIN_WRITE_OPS - 1;
	assert_int_equal(eval(&c, 1, 0, &res, LAYER)->status, ADVICE_THIN);
	c = writer("w", 7, 1);
	c.m.seconds = 1;
	assert_int_equal(eval(&c, 1, 0, &res, LAYER)->status, ADVICE_THIN);
	c = writer("w", 7, 1);
	c.mounts.read = false;
	assert_int_equal(eval(&c, 1, 0, &res, LAYER)->status, ADVICE_THIN);
	c = writer("w", 7, 1);
	c.mounts.layer_known = false;
	snprintf(c.mounts.layer_error, sizeof(c.mounts.layer_error), "cannot stat the upper dir");
	assert_int_equal(eval(&c, 1, 0, &res, LAYER)->status, ADVICE_THIN);
	assert_non_null(strstr(res.checks[LAYER].reason, "cannot stat the upper dir"));
	/* Half on the layer, half on the volume: raised at 50 %; under: passed. */
	c = writer("w", 7, 1);
	c.m.ndevs = 2;
	c.m.devs[0].wr_bytes = 100ull << 20;
	c.m.devs[1] = c.m.devs[0];
	c.m.devs[1].minor = 2;
	assert_int_equal(eval(&c, 1, 0, &res, LAYER)->status, ADVICE_RAISED);
	c.m.devs[0].wr_bytes -= 1;
	c.m.devs[1].wr_bytes += 1;
	assert_int_equal(eval(&c, 1, 0, &res, LAYER)->status, ADVICE_PASSED);
}

/* ---- ct_rule_nat_for ---- */

static void test_rule_nat_for(void **state)
{
	const uint8_t addr[4] = { 172, 17, 0, 1 };
	struct ct_rule r;

	(void)state;
	memset(&r, 0, sizeof(r));
	snprintf(r.nat, sizeof(r.nat), "masquerade");
	/* -s 172.17.0.0/16: nft compares the 2 bytes the prefix covers. */
	r.ncmp = 1;
	r.cmp[0].len = 2;
	r.cmp[0].data[0] = 172;
	r.cmp[0].data[1] = 17;
	assert_true(ct_rule_nat_for(&r, "docker0", addr, 16));
	assert_false(ct_rule_nat_for(&r, "docker0", addr, 24));
	/* ! -o docker0: the name padded to IFNAMSIZ. */
	memset(&r.cmp[0], 0, sizeof(r.cmp[0]));
	r.cmp[0].len = 16;
	memcpy(r.cmp[0].data, "docker0", 7);
	assert_true(ct_rule_nat_for(&r, "docker0", addr, 0));
	assert_false(ct_rule_nat_for(&r, "docker", addr, 0));
	assert_false(ct_rule_nat_for(&r, "docker01", addr, 0));
	/* Not a NAT rule. */
	r.nat[0] = '\0';
	assert_false(ct_rule_nat_for(&r, "docker0", addr, 16));
	/* /25: 4 bytes, masked. */
	snprintf(r.nat, sizeof(r.nat), "snat");
	memset(&r.cmp[0], 0, sizeof(r.cmp[0]));
	r.cmp[0].len = 4;
	r.cmp[0].data[0] = 10;
	r.cmp[0].data[1] = 1;
	r.cmp[0].data[2] = 2;
	r.cmp[0].data[3] = 0;
	assert_true(ct_rule_nat_for(&r, "br0", (const uint8_t[4]){ 10, 1, 2, 1 }, 25));
	assert_false(ct_rule_nat_for(&r, "br0", (const uint8_t[4]){ 10, 1, 2, 129 }, 25));
}

/* ---- nf_tables and rtnetlink messages ---- */

struct msg {
	char buf[4096];
	size_t len;
};

static struct nlattr *put(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + m->len);

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	m->len += NLA_ALIGN(a->nla_len);
	return a;
}

static void end_nest(struct msg *m, struct nlattr *a)
{
	a->nla_len = (uint16_t)(m->buf + m->len - (char *)a);
}

static struct nlattr *nest(struct msg *m, uint16_t type)
{
	return put(m, type | NLA_F_NESTED, NULL, 0);
}

static void put_expr(struct msg *m, const char *name, uint16_t dtype, const void *d, size_t dlen,
		     uint16_t inner)
{
	struct nlattr *e = nest(m, NFTA_LIST_ELEM), *data, *in;

	put(m, NFTA_EXPR_NAME, name, strlen(name) + 1);
	data = nest(m, NFTA_EXPR_DATA);
	if (inner) {
		in = nest(m, dtype);
		put(m, inner, d, dlen);
		end_nest(m, in);
	} else {
		put(m, dtype, d, dlen);
	}
	end_nest(m, data);
	end_nest(m, e);
}

/* An iptables-nft rule: -s 10.1.2.0/25 ! -o br0 -j MASQUERADE, then NLMSG_DONE. */
static size_t rule_msgs(struct msg *m, uint32_t seq, const char *target)
{
	struct nlmsghdr *h = (struct nlmsghdr *)m->buf, *done;
	struct nfgenmsg *g;
	struct nlattr *exprs;
	const uint8_t net[4] = { 10, 1, 2, 0 };
	char ifname[16] = "br0";

	memset(m, 0, sizeof(*m));
	h->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
	h->nlmsg_seq = seq;
	g = NLMSG_DATA(h);
	g->nfgen_family = 2; /* NFPROTO_IPV4 */
	m->len = NLMSG_LENGTH(sizeof(*g));
	put(m, NFTA_RULE_TABLE, "nat", 4);
	put(m, NFTA_RULE_CHAIN, "POSTROUTING", 12);
	exprs = nest(m, NFTA_RULE_EXPRESSIONS);
	put_expr(m, "cmp", NFTA_CMP_DATA, net, 4, NFTA_DATA_VALUE);
	put_expr(m, "cmp", NFTA_CMP_DATA, ifname, 16, NFTA_DATA_VALUE);
	put_expr(m, "target", NFTA_TARGET_NAME, target, strlen(target) + 1, 0);
	end_nest(m, exprs);
	h->nlmsg_len = (uint32_t)m->len;
	m->len = NLMSG_ALIGN(m->len);
	done = (struct nlmsghdr *)(m->buf + m->len);
	done->nlmsg_type = NLMSG_DONE;
	done->nlmsg_seq = seq;
	done->nlmsg_len = NLMSG_LENGTH(sizeof(int));
	m->len += NLMSG_ALIGN(done->nlmsg_len);
	return m->len;
}

static void test_parse_rules(void **state)
{
	static struct msg m;
	struct ct_rule rules[2];
	size_t n = 0, more = 0;

	(void)state;
	rule_msgs(&m, 7, "MASQUERADE");
	assert_int_equal(ct_parse_rules(m.buf, m.len, 7, rules, 2, &n, &more), 1);
	assert_int_equal(n, 1);
	assert_string_equal(rules[0].table, "nat");
	assert_string_equal(rules[0].chain, "POSTROUTING");
	assert_string_equal(rules[0].nat, "masquerade");
	assert_int_equal(rules[0].ncmp, 2);
	assert_int_equal(rules[0].cmp[1].len, 16);
	assert_true(ct_rule_nat_for(&rules[0], "br0", (const uint8_t[4]){ 10, 1, 2, 1 }, 25));
	/* Another sequence: skipped, done not seen. */
	n = 0;
	assert_int_equal(ct_parse_rules(m.buf, m.len, 8, rules, 2, &n, &more), 0);
	assert_int_equal(n, 0);
	/* A target that is not NAT. */
	rule_msgs(&m, 7, "ACCEPT");
	n = 0;
	assert_int_equal(ct_parse_rules(m.buf, m.len, 7, rules, 2, &n, &more), 1);
	assert_string_equal(rules[0].nat, "");
	/* No room: counted. */
	rule_msgs(&m, 7, "DNAT");
	n = 0;
	assert_int_equal(ct_parse_rules(m.buf, m.len, 7, rules, 0, &n, &more), 1);
	assert_int_equal(more, 1);
	/* An error answer. */
	{
		struct nlmsghdr *h = (struct nlmsghdr *)m.buf;
		struct nlmsgerr *e = NLMSG_DATA(h);

		memset(&m, 0, sizeof(m));
		h->nlmsg_type = NLMSG_ERROR;
		h->nlmsg_seq = 7;
		h->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
		e->error = -EPERM;
		assert_int_equal(ct_parse_rules(m.buf, h->nlmsg_len, 7, rules, 2, &n, &more),
				 -EPERM);
	}
}

static void test_parse_links(void **state)
{
	static struct msg m;
	struct nlmsghdr *h = (struct nlmsghdr *)m.buf;
	struct ifinfomsg *ifi;
	struct rtattr *a, *info, *k;
	struct ct_link links[2];
	uint32_t master = 5;
	int32_t nsid = 3;
	size_t n = 0, more = 0;

	(void)state;
	memset(&m, 0, sizeof(m));
	h->nlmsg_type = RTM_NEWLINK;
	h->nlmsg_seq = 1;
	ifi = NLMSG_DATA(h);
	ifi->ifi_index = 9;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
#define ADD(type, data, len)                                                             \
	(a = (struct rtattr *)(m.buf + NLMSG_ALIGN(h->nlmsg_len)), a->rta_type = (type), \
	 a->rta_len = (unsigned short)RTA_LENGTH(len), memcpy(RTA_DATA(a), data, len),   \
	 h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len))
	ADD(IFLA_IFNAME, "veth9", 6);
	ADD(IFLA_MASTER, &master, 4);
	ADD(IFLA_LINK_NETNSID, &nsid, 4);
	info = (struct rtattr *)(m.buf + NLMSG_ALIGN(h->nlmsg_len));
	ADD(IFLA_LINKINFO, "", 0);
	k = (struct rtattr *)(m.buf + NLMSG_ALIGN(h->nlmsg_len));
	ADD(IFLA_INFO_KIND, "veth", 5);
	info->rta_len = (unsigned short)((char *)k + RTA_ALIGN(k->rta_len) - (char *)info);
#undef ADD
	assert_int_equal(ct_parse_links(m.buf, h->nlmsg_len, 1, links, 2, &n, &more), 0);
	assert_int_equal(n, 1);
	assert_int_equal(links[0].ifindex, 9);
	assert_int_equal(links[0].master, 5);
	assert_int_equal(links[0].link_netnsid, 3);
	assert_string_equal(links[0].kind, "veth");
	assert_string_equal(links[0].name, "veth9");
}

/* ---- mountinfo ---- */

static int fake_dev_of(void *ctx, const char *path, uint32_t *major, uint32_t *minor)
{
	(void)ctx;
	if (strcmp(path, "/var/lib/docker/overlay2/abc/diff"))
		return -ENOENT;
	*major = 7;
	*minor = 3;
	return 0;
}

static const char docker_mountinfo[] =
	"600 500 0:60 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/var/lib/docker/"
	"overlay2/l/A:/var/lib/docker/overlay2/l/B,upperdir=/var/lib/docker/overlay2/abc/diff,"
	"workdir=/var/lib/docker/overlay2/abc/work\n"
	"601 600 0:62 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
	"602 600 0:63 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n"
	"603 600 7:4 / /data rw,relatime - ext4 /dev/loop4 rw\n"
	"604 600 7:3 /var/lib/docker/containers/abc/hosts /etc/hosts rw,relatime - ext4 "
	"/dev/loop3 rw\n"
	"605 600 7:3 /srv/my\\040dir /my\\040dir rw,relatime - ext4 /dev/loop3 rw\n";

static void test_mountinfo(void **state)
{
	struct ct_mounts mt;
	const struct ct_mount *v;

	(void)state;
	assert_int_equal(ct_mountinfo_parse(docker_mountinfo, &mt, fake_dev_of, NULL), 0);
	assert_true(mt.read);
	assert_true(mt.layer_known);
	assert_int_equal(mt.layer_major, 7);
	assert_int_equal(mt.layer_minor, 3);
	assert_string_equal(mt.layer_fstype, "overlay");
	assert_string_equal(mt.layer_upper, "/var/lib/docker/overlay2/abc/diff");
	/* /proc, /dev and /etc/hosts are not volumes. */
	assert_int_equal(mt.nvol, 2);
	v = ct_mounts_volume_on(&mt, 7, 4);
	assert_non_null(v);
	assert_string_equal(v->mountpoint, "/data");
	assert_string_equal(v->fstype, "ext4");
	v = ct_mounts_volume_on(&mt, 7, 3);
	assert_non_null(v);
	assert_string_equal(v->mountpoint, "/my dir");
	assert_null(ct_mounts_volume_on(&mt, 8, 1));

	/* The upper dir cannot be stat'ed: the layer is unknown, and says why. */
	assert_int_equal(ct_mountinfo_parse(docker_mountinfo, &mt, NULL, NULL), 0);
	assert_false(mt.layer_known);
	assert_non_null(strstr(mt.layer_error, "cannot stat the upper dir"));

	/* A root that is not overlay is its own layer. */
	assert_int_equal(
		ct_mountinfo_parse("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n", &mt, NULL, NULL), 0);
	assert_true(mt.layer_known);
	assert_int_equal(mt.layer_major, 8);
	assert_int_equal(mt.layer_minor, 1);

	/* Read-only overlay (no upperdir); no root at all. */
	assert_int_equal(ct_mountinfo_parse("1 0 0:5 / / ro - overlay overlay ro,lowerdir=/a:/b\n",
					    &mt, fake_dev_of, NULL),
			 0);
	assert_false(mt.layer_known);
	assert_int_equal(ct_mountinfo_parse("1 0 8:1 / /x rw - ext4 /dev/sda1 rw\n", &mt, NULL,
					    NULL),
			 -EBADMSG);
	assert_false(mt.read);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_nat_measured),
		cmocka_unit_test(test_nat_study_ratio),
		cmocka_unit_test(test_nat_reference_no_gain),
		cmocka_unit_test(test_reference_choice),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_net_thin_and_passed),
		cmocka_unit_test(test_layer_raised),
		cmocka_unit_test(test_layer_shared_device),
		cmocka_unit_test(test_layer_thin),
		cmocka_unit_test(test_rule_nat_for),
		cmocka_unit_test(test_parse_rules),
		cmocka_unit_test(test_parse_links),
		cmocka_unit_test(test_mountinfo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
