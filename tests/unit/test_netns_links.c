// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Finding containers' veths (user/netns_links.c): the parsing of rtnetlink
 * answers built here byte by byte, the choice of the cgroups looked at in
 * an interval (a fake cgroup tree whose processes are this test's), and a
 * real round trip to the kernel from the test's own namespace, which needs
 * no privilege.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "fake_fs.h"
#include "netns_links.h"
#include "vm_taps.h"

#define SEQ 77

/* ---- building messages -------------------------------------------------- */

struct msgbuf {
	_Alignas(4) unsigned char b[8192];
	size_t len;
};

static struct nlmsghdr *msg_start(struct msgbuf *m, uint16_t type, uint32_t seq, size_t hdr)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(m->b + m->len);

	assert_true(m->len + NLMSG_LENGTH(hdr) <= sizeof(m->b));
	memset(h, 0, NLMSG_LENGTH(hdr));
	h->nlmsg_len = NLMSG_LENGTH(hdr);
	h->nlmsg_type = type;
	h->nlmsg_seq = seq;
	return h;
}

static void msg_end(struct msgbuf *m, struct nlmsghdr *h)
{
	m->len += NLMSG_ALIGN(h->nlmsg_len);
}

static struct rtattr *attr(struct nlmsghdr *h, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void attr_u32(struct nlmsghdr *h, uint16_t type, uint32_t v)
{
	attr(h, type, &v, sizeof(v));
}

/* An RTM_NEWLINK; kind NULL: no IFLA_LINKINFO; netnsid < 0: none. */
static void add_link(struct msgbuf *m, uint32_t seq, int ifindex, const char *kind, uint32_t link,
		     int32_t netnsid)
{
	struct nlmsghdr *h = msg_start(m, RTM_NEWLINK, seq, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct rtattr *info;

	ifi->ifi_index = ifindex;
	attr(h, IFLA_IFNAME, "eth", 4);
	attr_u32(h, IFLA_MTU, 1500);
	if (link)
		attr_u32(h, IFLA_LINK, link);
	if (netnsid >= 0)
		attr_u32(h, IFLA_LINK_NETNSID, (uint32_t)netnsid);
	if (kind) {
		info = attr(h, IFLA_LINKINFO, NULL, 0);
		attr(h, IFLA_INFO_KIND, kind, strlen(kind) + 1);
		info->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)info);
	}
	msg_end(m, h);
}

static void add_done(struct msgbuf *m, uint32_t seq, int error)
{
	struct nlmsghdr *h = msg_start(m, NLMSG_DONE, seq, sizeof(int));

	memcpy(NLMSG_DATA(h), &error, sizeof(error));
	msg_end(m, h);
}

static void add_error(struct msgbuf *m, uint32_t seq, int error)
{
	struct nlmsghdr *h = msg_start(m, NLMSG_ERROR, seq, sizeof(struct nlmsgerr));
	struct nlmsgerr *e = NLMSG_DATA(h);

	e->error = error;
	msg_end(m, h);
}

static void add_nsid(struct msgbuf *m, uint32_t seq, int32_t nsid)
{
	struct nlmsghdr *h = msg_start(m, RTM_NEWNSID, seq, sizeof(struct rtgenmsg));

	attr_u32(h, NETNSA_NSID, (uint32_t)nsid);
	msg_end(m, h);
}

static int parse(const struct msgbuf *m, struct nl_link *links, size_t max, size_t *n, size_t *more)
{
	*n = 0;
	*more = 0;
	return nl_parse_links(m->b, m->len, SEQ, links, max, n, more);
}

/* ---- link dumps --------------------------------------------------------- */

/*
 * A host's dump: lo, a physical link, a bridge, the host end of a
 * container's veth (peer ifindex 2 in netnsid 3), a veth pair with both
 * ends here (no netnsid), and a VXLAN whose underlay is in netnsid 3 too.
 */
static void host_dump(struct msgbuf *m)
{
	memset(m, 0, sizeof(*m));
	add_link(m, SEQ, 1, NULL, 0, -1);
	add_link(m, SEQ, 2, NULL, 0, -1);
	add_link(m, SEQ, 5, "bridge", 0, -1);
	add_link(m, SEQ, 7, "veth", 2, 3);
	add_link(m, SEQ, 8, "veth", 9, -1);
	add_link(m, SEQ, 11, "vxlan", 4, 3);
}

static void test_dump_fields(void **state)
{
	struct nl_link l[16];
	struct msgbuf m;
	size_t n, more;

	(void)state;
	host_dump(&m);
	assert_int_equal(parse(&m, l, 16, &n, &more), 0); /* no DONE yet */
	assert_int_equal(n, 6);
	assert_int_equal(more, 0);
	assert_int_equal(l[0].ifindex, 1);
	assert_false(l[0].veth);
	assert_int_equal(l[0].link_netnsid, -1);
	assert_false(l[2].veth); /* a bridge */
	assert_int_equal(l[3].ifindex, 7);
	assert_true(l[3].veth);
	assert_int_equal(l[3].link, 2);
	assert_int_equal(l[3].link_netnsid, 3);
	assert_true(l[4].veth);
	assert_int_equal(l[4].link, 9);
	assert_int_equal(l[4].link_netnsid, -1);
	assert_false(l[5].veth);
	assert_int_equal(l[5].link_netnsid, 3);
}

/* A dump spans several recv()s; DONE ends it, and appends after what is there. */
static void test_dump_done(void **state)
{
	struct nl_link l[16];
	struct msgbuf m = { 0 };
	size_t n = 2, more = 0;

	(void)state;
	add_link(&m, SEQ, 20, "veth", 3, 0);
	add_done(&m, SEQ, 0);
	assert_int_equal(nl_parse_links(m.b, m.len, SEQ, l, 16, &n, &more), 1);
	assert_int_equal(n, 3);
	assert_int_equal(l[2].ifindex, 20);
	assert_int_equal(l[2].link_netnsid, 0);
}

/* Leftovers of an abandoned request (another sequence number) are skipped, DONE too. */
static void test_dump_other_seq(void **state)
{
	struct nl_link l[16];
	struct msgbuf m = { 0 };
	size_t n, more;

	(void)state;
	add_link(&m, SEQ - 1, 30, "veth", 3, 1);
	add_done(&m, SEQ - 1, 0);
	add_link(&m, SEQ, 31, "veth", 3, 2);
	assert_int_equal(parse(&m, l, 16, &n, &more), 0);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].ifindex, 31);
}

static void test_dump_beyond_max(void **state)
{
	struct nl_link l[4];
	struct msgbuf m;
	size_t n, more;

	(void)state;
	host_dump(&m);
	add_done(&m, SEQ, 0);
	assert_int_equal(parse(&m, l, 4, &n, &more), 1);
	assert_int_equal(n, 4);
	assert_int_equal(more, 2);
}

static void test_dump_errors(void **state)
{
	struct nl_link l[4];
	struct msgbuf m = { 0 };
	size_t n, more;

	(void)state;
	add_error(&m, SEQ, -EPERM);
	assert_int_equal(parse(&m, l, 4, &n, &more), -EPERM);

	memset(&m, 0, sizeof(m));
	add_error(&m, SEQ, 0); /* an acknowledgement */
	add_link(&m, SEQ, 3, "veth", 1, 1);
	add_done(&m, SEQ, -EINTR); /* a dump that failed half-way */
	assert_int_equal(parse(&m, l, 4, &n, &more), -EINTR);

	memset(&m, 0, sizeof(m));
	add_error(&m, SEQ + 1, -EPERM); /* not ours */
	assert_int_equal(parse(&m, l, 4, &n, &more), 0);
}

/* Cut short anywhere: an error or the links before the cut, never a read beyond. */
static void test_dump_truncated(void **state)
{
	struct nl_link l[16];
	struct msgbuf m;
	size_t n, more, whole;
	int rc;

	(void)state;
	host_dump(&m);
	whole = m.len;
	for (size_t len = 0; len < whole; len++) {
		unsigned char *copy = malloc(len ? len : 1);

		assert_non_null(copy);
		memcpy(copy, m.b, len);
		n = more = 0;
		rc = nl_parse_links(copy, len, SEQ, l, 16, &n, &more);
		/* Only a cut at a message boundary parses (len 0 included). */
		assert_true(rc == 0 || rc == -EBADMSG);
		assert_true(n <= 6);
		free(copy);
	}
}

/* An attribute whose length runs past its message is ignored, as are short ones. */
static void test_dump_bad_attributes(void **state)
{
	struct nl_link l[4];
	struct msgbuf m = { 0 };
	struct nlmsghdr *h = msg_start(&m, RTM_NEWLINK, SEQ, sizeof(struct ifinfomsg));
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct rtattr *a;
	uint32_t link = 4;
	uint16_t two = 2;
	size_t n, more;

	(void)state;
	ifi->ifi_index = 9;
	attr(h, IFLA_LINK_NETNSID, &two, sizeof(two)); /* 2 bytes: too short for an s32 */
	a = attr(h, IFLA_LINK, &link, sizeof(link));
	a->rta_len = 200; /* past the end */
	msg_end(&m, h);
	assert_int_equal(parse(&m, l, 4, &n, &more), 0);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].ifindex, 9);
	assert_int_equal(l[0].link_netnsid, -1);
	assert_int_equal(l[0].link, 0);

	/* A link message too short for its ifinfomsg. */
	memset(&m, 0, sizeof(m));
	h = msg_start(&m, RTM_NEWLINK, SEQ, 4);
	msg_end(&m, h);
	assert_int_equal(parse(&m, l, 4, &n, &more), -EBADMSG);
}

static void test_veths_to(void **state)
{
	struct nl_link l[16];
	struct msgbuf m;
	uint32_t ifx[4];
	size_t n, more;

	(void)state;
	host_dump(&m);
	assert_int_equal(parse(&m, l, 16, &n, &more), 0);
	/* The veth to netnsid 3, not the VXLAN whose underlay is there. */
	assert_int_equal(nl_veths_to(l, n, 3, ifx, 4), 1);
	assert_int_equal(ifx[0], 7);
	assert_int_equal(nl_veths_to(l, n, 4, ifx, 4), 0);
	assert_int_equal(nl_veths_to(l, n, -1, ifx, 4), 0); /* unassigned: no peer */

	memset(&m, 0, sizeof(m));
	for (int i = 0; i < 6; i++)
		add_link(&m, SEQ, 100 + i, "veth", 2, 5);
	assert_int_equal(parse(&m, l, 16, &n, &more), 0);
	assert_int_equal(nl_veths_to(l, n, 5, ifx, 4), 4);
	assert_int_equal(ifx[3], 103);
}

/* ---- RTM_GETNSID -------------------------------------------------------- */

static void test_nsid(void **state)
{
	struct msgbuf m = { 0 };
	int32_t nsid = 99;
	struct nlmsghdr *h;

	(void)state;
	add_nsid(&m, SEQ - 1, 4); /* a late answer to an earlier request */
	assert_int_equal(nl_parse_nsid(m.b, m.len, SEQ, &nsid), 0);
	assert_int_equal(nsid, 99);
	add_nsid(&m, SEQ, 3);
	assert_int_equal(nl_parse_nsid(m.b, m.len, SEQ, &nsid), 1);
	assert_int_equal(nsid, 3);

	memset(&m, 0, sizeof(m));
	add_nsid(&m, SEQ, NETNSA_NSID_NOT_ASSIGNED);
	assert_int_equal(nl_parse_nsid(m.b, m.len, SEQ, &nsid), 1);
	assert_int_equal(nsid, -1);

	/* No NETNSA_NSID at all: not assigned. */
	memset(&m, 0, sizeof(m));
	h = msg_start(&m, RTM_NEWNSID, SEQ, sizeof(struct rtgenmsg));
	msg_end(&m, h);
	nsid = 5;
	assert_int_equal(nl_parse_nsid(m.b, m.len, SEQ, &nsid), 1);
	assert_int_equal(nsid, -1);

	memset(&m, 0, sizeof(m));
	add_error(&m, SEQ, -EBADF);
	assert_int_equal(nl_parse_nsid(m.b, m.len, SEQ, &nsid), -EBADF);

	memset(&m, 0, sizeof(m));
	add_nsid(&m, SEQ, 3);
	assert_int_equal(nl_parse_nsid(m.b, m.len - 1, SEQ, &nsid), -EBADMSG);
}

/* ---- cgroup.procs ------------------------------------------------------- */

static void test_pids(void **state)
{
	int pids[4];

	(void)state;
	assert_int_equal(nl_parse_pids("", pids, 4), 0);
	assert_int_equal(nl_parse_pids("12\n345\n6\n", pids, 4), 3);
	assert_int_equal(pids[0], 12);
	assert_int_equal(pids[1], 345);
	assert_int_equal(pids[2], 6);
	assert_int_equal(nl_parse_pids("1\n2\n3\n4\n5\n", pids, 4), 4);
	assert_int_equal(pids[3], 4);
	/* Not pids: 0, negative, trailing junk, a last line a short read cut off. */
	assert_int_equal(nl_parse_pids("7\n0\n-3\n8x\n10\n12", pids, 4), 2);
	assert_int_equal(pids[0], 7);
	assert_int_equal(pids[1], 10);
}

/* ---- choosing the cgroups looked at -------------------------------------- */

struct entered {
	uint64_t id[256];
	size_t ndevs[256];
	size_t n;
};

static int record_enter(void *ctx, uint64_t id, const struct iotrace_dev_key *keys, size_t n)
{
	struct entered *e = ctx;

	(void)keys;
	assert_true(e->n < 256);
	e->id[e->n] = id;
	e->ndevs[e->n++] = n;
	return 0;
}

static bool was_entered(const struct entered *e, uint64_t id)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->id[i] == id)
			return true;
	return false;
}

/* Cgroup "cgN" (id 1000 + N) in the fake tree, holding this process. */
static struct wl_entry *add_cgroup(struct wl_table *t, const char *root, int i, bool named)
{
	struct wl_entry *e = wl_table_get(t, 1000 + i);
	char rel[64], pid[32], path[32];

	assert_non_null(e);
	snprintf(rel, sizeof(rel), "cg%d", i);
	mkdir_at(root, rel);
	snprintf(rel, sizeof(rel), "cg%d/cgroup.procs", i);
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	write_str_at(root, rel, pid);
	e->active = true;
	e->path_known = named;
	snprintf(path, sizeof(path), "/cg%d", i);
	assert_int_equal(wl_entry_set_path(e, path), 0);
	return e;
}

struct fixture {
	struct wl_table t;
	struct netns_links nl;
	struct entered got;
	int root_fd;
	uint64_t self_ns;
};

static void fixture_open(struct fixture *f, const char *root)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(wl_table_init(&f->t, 64), 0);
	assert_int_equal(proc_netns_ino(NULL, getpid(), &f->self_ns), 0);
	f->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->root_fd >= 0);
	assert_int_equal(netns_links_init(&f->nl, f->root_fd, f->self_ns), 0);
}

static void fixture_close(struct fixture *f)
{
	netns_links_free(&f->nl);
	wl_table_free(&f->t);
	close(f->root_fd);
}

static int sync_at(struct fixture *f, uint64_t now)
{
	f->got.n = 0;
	return netns_links_sync(&f->nl, &f->t, now, record_enter, &f->got);
}

/*
 * Cgroups in iotrace's own namespace get no devices and cost no netlink
 * request; each is looked at once per NETNS_LINKS_RECHECK_NS while
 * active, not before its path is known, and never when it was not active
 * since its last look.
 */
static void test_sync_schedule(void **state)
{
	const uint64_t s = 1000000000ULL, t0 = 100 * s;
	struct wl_entry *a, *b, *idle;
	struct fixture f;

	fixture_open(&f, *state);
	a = add_cgroup(&f.t, *state, 1, true);
	b = add_cgroup(&f.t, *state, 2, false);
	idle = add_cgroup(&f.t, *state, 3, true);
	idle->active = false;
	assert_int_equal(sync_at(&f, t0), 1);
	assert_int_equal(f.got.n, 1);
	assert_int_equal(f.got.id[0], a->id);
	assert_int_equal(f.got.ndevs[0], 0);
	assert_int_equal(f.nl.sock.fd, -1); /* nothing to ask the kernel */

	/* b is named now, but was active before: its turn.  a waits. */
	b->active = false;
	b->path_known = true;
	assert_int_equal(sync_at(&f, t0 + s), 1);
	assert_int_equal(f.got.id[0], b->id);
	assert_int_equal(sync_at(&f, t0 + 2 * s), 0);

	/* After the recheck time: a (still active), not b (idle since). */
	assert_int_equal(sync_at(&f, t0 + NETNS_LINKS_RECHECK_NS + s), 1);
	assert_int_equal(f.got.id[0], a->id);
	assert_int_equal(f.nl.looks, 3);
	assert_int_equal(f.nl.last_err, 0);
	fixture_close(&f);
}

/* A cgroup removed, or emptied, has no devices (enter() with none). */
static void test_sync_gone(void **state)
{
	char path[PATH_MAX];
	struct wl_entry *a, *b;
	struct fixture f;

	fixture_open(&f, *state);
	a = add_cgroup(&f.t, *state, 1, true);
	b = add_cgroup(&f.t, *state, 2, true);
	snprintf(path, sizeof(path), "%s/cg1/cgroup.procs", (char *)*state);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/cg1", (char *)*state);
	assert_int_equal(rmdir(path), 0);
	write_str_at(*state, "cg2/cgroup.procs", "");
	assert_int_equal(sync_at(&f, 1), 2);
	assert_true(was_entered(&f.got, a->id));
	assert_true(was_entered(&f.got, b->id));
	assert_int_equal(f.got.ndevs[0] + f.got.ndevs[1], 0);
	fixture_close(&f);
}

/* At most NETNS_LINKS_PER_READ per interval; the rest at the next one. */
static void test_sync_bounded(void **state)
{
	const int n = NETNS_LINKS_PER_READ + 8;
	struct entered all = { 0 };
	struct fixture f;

	fixture_open(&f, *state);
	for (int i = 0; i < n; i++)
		add_cgroup(&f.t, *state, i, true);
	assert_int_equal(sync_at(&f, 1), NETNS_LINKS_PER_READ);
	all = f.got;
	assert_int_equal(sync_at(&f, 2), 8);
	for (size_t i = 0; i < f.got.n; i++) {
		assert_false(was_entered(&all, f.got.id[i]));
		all.id[all.n++] = f.got.id[i];
	}
	for (int i = 0; i < n; i++)
		assert_true(was_entered(&all, 1000 + i));
	assert_int_equal(sync_at(&f, 3), 0);
	fixture_close(&f);
}

/*
 * The same cgroups seen from a namespace iotrace pretends not to be in:
 * now the real kernel is asked (the veths of this namespace, the netnsid
 * of its own namespace, which has none here), which needs no privilege.
 * It must accept both requests and find no devices.
 */
static void test_sync_kernel_round_trip(void **state)
{
	struct fixture f;

	fixture_open(&f, *state);
	netns_links_free(&f.nl);
	assert_int_equal(netns_links_init(&f.nl, f.root_fd, f.self_ns + 1), 0);
	add_cgroup(&f.t, *state, 1, true);
	assert_int_equal(sync_at(&f, 1), 1);
	assert_int_equal(f.nl.last_err, 0);
	assert_true(f.nl.sock.fd >= 0);
	assert_int_equal(f.got.n, 1);
	assert_int_equal(f.got.ndevs[0], 0);
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_fields),
		cmocka_unit_test(test_dump_done),
		cmocka_unit_test(test_dump_other_seq),
		cmocka_unit_test(test_dump_beyond_max),
		cmocka_unit_test(test_dump_errors),
		cmocka_unit_test(test_dump_truncated),
		cmocka_unit_test(test_dump_bad_attributes),
		cmocka_unit_test(test_veths_to),
		cmocka_unit_test(test_nsid),
		cmocka_unit_test(test_pids),
		cmocka_unit_test_setup_teardown(test_sync_schedule, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_sync_gone, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_sync_bounded, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_sync_kernel_round_trip, tmpdir_setup,
						tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
