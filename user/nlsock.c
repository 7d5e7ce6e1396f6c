// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Netlink requests and answers.  See nlsock.h. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>

#include "nlsock.h"

int nlsock_open(struct nlsock *s, int proto)
{
	struct timeval tv = { .tv_sec = 1 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int err;

	if (s->fd >= 0)
		return 0;
	if (!s->buf) {
		s->buf = malloc(NLSOCK_BUF);
		if (!s->buf)
			return -ENOMEM;
	}
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (s->fd < 0)
		return -errno;
	/* The kernel answers at once; the bound is for a kernel that does not. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    bind(s->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(s->fd);
		s->fd = -1;
		return err;
	}
	return 0;
}

void nlsock_close(struct nlsock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->buf);
	s->buf = NULL;
}

void nlsock_put_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* One datagram of the answer; -EMSGSIZE if it did not fit (it cannot). */
static ssize_t nlsock_recv(struct nlsock *s)
{
	struct iovec iov = { .iov_base = s->buf, .iov_len = NLSOCK_BUF };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	do
		r = recvmsg(s->fd, &msg, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (msg.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	return r ? r : -EIO;
}

int nlsock_request(struct nlsock *s, struct nlmsghdr *h,
		   int (*parse)(void *ctx, const void *buf, size_t len, uint32_t seq), void *ctx)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	ssize_t r;
	int err;

	if (s->fd < 0)
		return -EBADF;
	h->nlmsg_seq = ++s->seq;
	if (sendto(s->fd, h, h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		r = nlsock_recv(s);
		if (r < 0)
			return (int)r;
		err = parse(ctx, s->buf, (size_t)r, s->seq);
		if (err < 0)
			return err;
		if (err == 1)
			return 0;
	}
}

int nlsock_error(const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return -EBADMSG;
	return e->error > 0 ? -e->error : e->error;
}

int nl_parse_nsid(const void *buf, size_t len, uint32_t seq, int32_t *nsid)
{
	const struct nlmsghdr *h = buf;
	unsigned int left = len > UINT_MAX ? UINT_MAX : (unsigned int)len;
	const size_t hdr = NLMSG_ALIGN(sizeof(struct rtgenmsg));
	const struct rtattr *a;
	uint32_t v;
	int err, alen;

	for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		if (h->nlmsg_seq != seq)
			continue;
		if (h->nlmsg_type == NLMSG_ERROR) {
			err = nlsock_error(h);
			if (err)
				return err;
			continue;
		}
		if (h->nlmsg_type != RTM_NEWNSID)
			continue;
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtgenmsg)))
			return -EBADMSG;
		*nsid = NETNSA_NSID_NOT_ASSIGNED;
		/* The attributes follow the header's padding; without any, so may the end. */
		a = (const struct rtattr *)((const char *)NLMSG_DATA(h) + hdr);
		alen = (int)h->nlmsg_len - (int)NLMSG_LENGTH(hdr);
		for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
			if (a->rta_type != NETNSA_NSID || RTA_PAYLOAD(a) < sizeof(v))
				continue;
			memcpy(&v, RTA_DATA(a), sizeof(v));
			*nsid = (int32_t)v;
		}
		return 1;
	}
	return left ? -EBADMSG : 0;
}

static int parse_nsid(void *ctx, const void *buf, size_t len, uint32_t seq)
{
	return nl_parse_nsid(buf, len, seq, ctx);
}

int nlsock_nsid_of(struct nlsock *s, int ns_fd, int32_t *nsid)
{
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
		char attrs[16];
	} req = { 0 };
	__u32 fd = (__u32)ns_fd;

	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.g));
	req.h.nlmsg_type = RTM_GETNSID;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.g.rtgen_family = AF_UNSPEC;
	nlsock_put_attr(&req.h, NETNSA_FD, &fd, sizeof(fd));
	return nlsock_request(s, &req.h, parse_nsid, nsid);
}
