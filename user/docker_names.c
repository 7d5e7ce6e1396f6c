// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Docker container names from the Engine API.  See docker_names.h.
 *
 * One HTTP/1.0 request per container, on a connection of its own: an
 * HTTP/1.0 answer is never chunked and ends when the daemon closes the
 * connection (or after Content-Length bytes), so no HTTP library is needed.
 * The body is parsed by classify.c's JSON reader, the one that reads
 * config.v2.json: both carry the container's "Name".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "docker_names.h"

#define ID_MAX 64 /* a full container id; the API also takes a prefix */
#define FIRST_BUF 16384

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd has one of events, or the deadline (now_ms()) passes. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0; /* POLLHUP and POLLERR too: the next call says */
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* A non-blocking connected socket, or -errno. */
static int api_connect(const char *path, long long deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	socklen_t elen = sizeof(int);
	int fd, err = 0;

	if (!n)
		return -EINVAL;
	if (n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fd;
	err = errno;
	/* Unix sockets connect at once or fail; other families may not. */
	if (err == EINPROGRESS) {
		err = -wait_fd(fd, POLLOUT, deadline);
		if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen))
			err = errno;
		if (!err)
			return fd;
	}
	close(fd);
	return -err;
}

static int send_all(int fd, const char *buf, size_t len, long long deadline)
{
	while (len) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
		int ret;

		if (w > 0) {
			buf += w;
			len -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN)
			return -errno;
		ret = wait_fd(fd, POLLOUT, deadline);
		if (ret)
			return ret;
	}
	return 0;
}

struct http_head {
	int status;
	long long clen; /* Content-Length, -1 when absent: until EOF */
	bool chunked; /* a Transfer-Encoding other than identity */
	size_t body; /* offset of the body */
};

/* Header line p (len bytes, no CRLF) is "name:"; *val is its trimmed value. */
static bool header_is(const char *p, size_t len, const char *name, const char **val, size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || p[n] != ':' || strncasecmp(p, name, n))
		return false;
	p += n + 1;
	len -= n + 1;
	while (len && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	*val = p;
	*vlen = len;
	return true;
}

/*
 * Parse the status line and the headers of buf[0..n).  -EAGAIN while the
 * blank line that ends them has not arrived, -EPROTO when it is not HTTP,
 * -EFBIG when Content-Length is over the limit.
 */
static int parse_head(const char *buf, size_t n, struct http_head *h)
{
	const char *end = memmem(buf, n, "\r\n\r\n", 4);
	const char *p, *val;
	size_t vlen;

	if (!end)
		return -EAGAIN;
	h->body = (size_t)(end - buf) + 4;
	h->clen = -1;
	h->chunked = false;
	/* "HTTP/1.x NNN reason" */
	if (end - buf < 12 || memcmp(buf, "HTTP/1.", 7) || buf[8] != ' ')
		return -EPROTO;
	h->status = 0;
	for (int i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EPROTO;
		h->status = h->status * 10 + (buf[i] - '0');
	}
	if (buf[12] != ' ' && buf[12] != '\r')
		return -EPROTO;

	p = (const char *)memchr(buf, '\n', (size_t)(end + 2 - buf)) + 1;
	while (p < end + 2) {
		const char *eol = memchr(p, '\n', (size_t)(end + 2 - p));
		size_t len = (size_t)(eol - p);

		if (len && p[len - 1] == '\r')
			len--;
		if (header_is(p, len, "Content-Length", &val, &vlen)) {
			if (!vlen)
				return -EPROTO;
			h->clen = 0;
			for (size_t i = 0; i < vlen; i++) {
				if (val[i] < '0' || val[i] > '9')
					return -EPROTO;
				h->clen = h->clen * 10 + (val[i] - '0');
				if (h->clen > DOCKER_API_MAX_ANSWER)
					return -EFBIG;
			}
		} else if (header_is(p, len, "Transfer-Encoding", &val, &vlen)) {
			h->chunked = !(vlen == 8 && !strncasecmp(val, "identity", 8));
		}
		p = eol + 1;
	}
	return 0;
}

/*
 * Read the answer into *out (NUL-terminated, *outlen bytes, to free), until
 * the daemon closes the connection or Content-Length bytes of body are in.
 */
static int recv_answer(int fd, long long deadline, char **out, size_t *outlen, struct http_head *h)
{
	size_t cap = FIRST_BUF, n = 0;
	char *buf = malloc(cap);
	bool head = false;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n + 1 == cap) {
			/* n <= the limit here; room for one byte more tells */
			size_t ncap = cap * 2 > DOCKER_API_MAX_ANSWER + 2 ?
					      DOCKER_API_MAX_ANSWER + 2 :
					      cap * 2;
			char *nbuf = realloc(buf, ncap);

			if (!nbuf) {
				ret = -ENOMEM;
				break;
			}
			buf = nbuf;
			cap = ncap;
		}
		r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				ret = -errno;
				break;
			}
			ret = wait_fd(fd, POLLIN, deadline);
			if (ret)
				break;
			continue;
		}
		n += (size_t)r;
		if (n > DOCKER_API_MAX_ANSWER) {
			ret = -EFBIG;
			break;
		}
		if (!head) {
			/* only the new bytes: an answer dripped byte by byte stays linear */
			size_t from = n - (size_t)r < 3 ? 0 : n - (size_t)r - 3;

			if (!memmem(buf + from, n - from, "\r\n\r\n", 4))
				continue;
			ret = parse_head(buf, n, h);
			if (ret)
				break;
			head = true;
		}
		/* A daemon that keeps the connection open is not waited for. */
		if (h->clen >= 0 && n - h->body >= (size_t)h->clen)
			break;
	}
	if (!ret && !head)
		ret = parse_head(buf, n, h) == 0 ? 0 : -EPROTO;
	if (ret) {
		free(buf);
		return ret;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
}

/* The API takes a name or an id; only hex may go into the request line. */
static bool valid_id(const char *id)
{
	size_t n = strnlen(id, WL_ID_MAX);

	return n >= 1 && n <= ID_MAX && strspn(id, "0123456789abcdef") == n;
}

int docker_api_name(const char *sock_path, unsigned int timeout_ms, struct wl_class *cls)
{
	long long deadline = now_ms() + timeout_ms;
	struct http_head h;
	char req[256];
	char *ans = NULL;
	size_t n = 0, blen;
	FILE *f;
	int fd, ret;

	if (!sock_path || !cls || !valid_id(cls->container_id))
		return -EINVAL;
	ret = snprintf(req, sizeof(req),
		       "GET /containers/%s/json HTTP/1.0\r\nHost: docker\r\n"
		       "User-Agent: iotrace\r\nConnection: close\r\n\r\n",
		       cls->container_id);
	if (ret < 0 || (size_t)ret >= sizeof(req))
		return -EINVAL;

	fd = api_connect(sock_path, deadline);
	if (fd < 0)
		return fd;
	ret = send_all(fd, req, strlen(req), deadline);
	if (!ret)
		ret = recv_answer(fd, deadline, &ans, &n, &h);
	close(fd);
	if (ret)
		return ret;

	if (h.status == 404)
		ret = -ESRCH;
	else if (h.status != 200 || h.chunked)
		ret = -EPROTO;
	if (ret)
		goto out;
	blen = n - h.body;
	if (h.clen >= 0) {
		if (blen < (size_t)h.clen) {
			ret = -EBADMSG; /* cut short */
			goto out;
		}
		blen = (size_t)h.clen;
	}
	if (!blen) {
		ret = -EBADMSG;
		goto out;
	}
	f = fmemopen(ans + h.body, blen, "r");
	if (!f) {
		ret = -errno;
		goto out;
	}
	ret = wl_name_from_docker_json(cls, f);
	fclose(f);
	if (ret == -ENOENT)
		ret = -EBADMSG; /* an answer without a name is no container */
out:
	free(ans);
	return ret;
}

/*
 * What docker_name_from_api() remembers between calls (record.c names from
 * one thread): when to ask again after a timeout, and whether it warned.
 */
static struct {
	long long quiet_until; /* now_ms(); 0: ask */
	bool warned;
} api_state;

static void warn_once(const char *sock, int err)
{
	const char *why;
	char buf[128];

	if (api_state.warned)
		return;
	api_state.warned = true;
	switch (err) {
	case -ETIMEDOUT:
	case -EAGAIN:
		snprintf(buf, sizeof(buf), "no answer within %u ms (not asked again for %d s)",
			 DOCKER_API_TIMEOUT_MS, DOCKER_API_RETRY_S);
		why = buf;
		break;
	case -EFBIG:
		snprintf(buf, sizeof(buf), "an answer over %u bytes", DOCKER_API_MAX_ANSWER);
		why = buf;
		break;
	case -EPROTO:
		why = "not an HTTP/1.x 200 answer with a plain body";
		break;
	case -EBADMSG:
		why = "the answer is not a container with a name";
		break;
	default:
		why = strerror(-err);
		break;
	}
	fprintf(stderr,
		"iotrace: warning: Docker Engine API at %s: %s; naming containers from "
		"config.v2.json under /var/lib/docker, else by id (said once)\n",
		sock, why);
}

int docker_name_from_api(struct wl_class *cls)
{
	static const char *const defaults[] = { "/run/docker.sock", "/var/run/docker.sock" };
	const char *host = getenv("DOCKER_HOST");
	const char *sock = defaults[0];
	int ret = -ENOENT;

	if (!cls || !cls->runtime || strcmp(cls->runtime, "docker"))
		return -EINVAL;
	if (api_state.quiet_until && now_ms() < api_state.quiet_until)
		return -ETIMEDOUT;
	api_state.quiet_until = 0;

	/* tcp:// and ssh:// hosts would need TLS or ssh: the local sockets then */
	if (host && !strncmp(host, "unix://", strlen("unix://"))) {
		sock = host + strlen("unix://");
		ret = docker_api_name(sock, DOCKER_API_TIMEOUT_MS, cls);
	} else {
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]) && ret == -ENOENT;
		     i++) {
			sock = defaults[i];
			ret = docker_api_name(sock, DOCKER_API_TIMEOUT_MS, cls);
		}
	}

	switch (ret) {
	case 0:
	case -EINVAL: /* not an id: config.v2.json refuses it too */
	case -ENOENT: /* no daemon: the usual case on a host without docker */
	case -ECONNREFUSED:
	case -ESRCH: /* another daemon's container */
		return ret;
	case -ETIMEDOUT:
	case -EAGAIN:
		api_state.quiet_until = now_ms() + DOCKER_API_RETRY_S * 1000LL;
		break;
	}
	warn_once(sock, ret);
	return ret;
}
