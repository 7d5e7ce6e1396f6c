/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A netlink socket in iotrace's own network namespace, for rtnetlink
 * (user/netns_links.c) and nfnetlink (user/ct_net.c): open, send a request,
 * receive its answer datagram by datagram until the parser says it is
 * whole.  Answers are bounded by a 1 s receive timeout, for a kernel that
 * would not answer.  The parsers take raw datagrams, so that they are
 * unit-tested without sockets.
 */
#ifndef IOTRACE_NLSOCK_H
#define IOTRACE_NLSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/netlink.h>

/* Large enough for any one datagram of a dump (the kernel's are 32 KiB at most). */
#define NLSOCK_BUF 65536

struct nlsock {
	int fd; /* -1: not open */
	uint32_t seq; /* of the last request */
	void *buf; /* NLSOCK_BUF bytes, the last datagram received */
};

#define NLSOCK_INIT      \
	{                \
		.fd = -1 \
	}

/* Open (if not open yet) a socket of protocol proto.  0 or -errno. */
int nlsock_open(struct nlsock *s, int proto);
void nlsock_close(struct nlsock *s);

/* Append attribute type to message h (which must have room). */
void nlsock_put_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len);

/*
 * Send request h under a new sequence number, then hand each datagram of
 * the answer to parse(ctx, datagram, length, seq) until it returns 1
 * (whole) or < 0 (-errno, returned).  0 or -errno.
 */
int nlsock_request(struct nlsock *s, struct nlmsghdr *h,
		   int (*parse)(void *ctx, const void *buf, size_t len, uint32_t seq), void *ctx);

/* An NLMSG_ERROR's error: negative errno, 0 for an acknowledgement, -EBADMSG if short. */
int nlsock_error(const struct nlmsghdr *h);

/*
 * One datagram of an RTM_GETNSID answer of sequence seq: 1 and *nsid
 * (NETNSA_NSID_NOT_ASSIGNED when the namespace has none here) once the
 * answer is seen, 0 when it is not in this datagram, -errno.
 */
int nl_parse_nsid(const void *buf, size_t len, uint32_t seq, int32_t *nsid);

/* The netnsid, as seen from iotrace's namespace, of the namespace open at ns_fd.  0 or -errno. */
int nlsock_nsid_of(struct nlsock *s, int ns_fd, int32_t *nsid);

#endif
