// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of user/docker_names.c against a fake Docker Engine API: a
 * child process listening on a unix socket in a directory under /tmp, which
 * records each request it reads and answers with canned bytes, in one piece
 * or a few bytes at a time, or not at all.  Good answers (with and without
 * Content-Length, dripped, on a connection left open), 404 and other
 * statuses, malformed and cut-short bodies, non-HTTP and chunked answers,
 * answers over the size limit, a server that never answers, ids that must
 * not reach the request line, no daemon at all, and $DOCKER_HOST with the
 * retry delay after a timeout.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "docker_names.h"
#include "fake_fs.h"

#define ID1 "88bd076be8e2e7dbd37512c0c3bdad0adc17bc02db85756b1dcdd781d5c03b59"
#define SHORT1 "88bd076be8e2"
#define TIMEOUT_MS 200

/* What `docker inspect` gives, cut down: "Name" after nested ones. */
#define BODY                                                                                   \
	"{\"Id\":\"" ID1 "\",\"Created\":\"2026-11-25T07:45:39.1Z\",\"Path\":\"/bin/netgen\"," \
	"\"Args\":[\"udp-recv\",\"--bind\"],\"State\":{\"Status\":\"running\",\"Pid\":23209,"  \
	"\"Name\":\"/not-this\"},\"Image\":\"sha256:39c6\",\"Name\":\"/web-1\","               \
	"\"Config\":{\"Hostname\":\"a895c512003e\",\"Name\":\"/nor-this\"}}"

enum fake_mode {
	FAKE_ANSWER, /* write the answer, close */
	FAKE_DRIP, /* the same, 3 bytes at a time */
	FAKE_HOLD, /* write the answer, keep the connection open */
};

struct fake {
	char dir[64];
	char sock[128];
	pid_t pid; /* 0: not running */
	int log_fd; /* the requests the server read, each ended by a NUL */
};

static struct fake fk;

/* ---- the fake Engine API ---- */

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w <= 0)
			return; /* the client gave up: that is what some tests want */
		p += w;
		len -= (size_t)w;
	}
}

static void fake_serve(int lfd, int log_fd, enum fake_mode mode, const char *ans, size_t len)
{
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int c = accept(lfd, NULL, NULL);
		char req[4096];
		size_t n = 0;

		if (c < 0)
			_exit(1);
		while (n < sizeof(req) && !memmem(req, n, "\r\n\r\n", 4)) {
			ssize_t r = read(c, req + n, sizeof(req) - n);

			if (r <= 0)
				break;
			n += (size_t)r;
		}
		write_all(log_fd, req, n);
		write_all(log_fd, "", 1);
		if (mode == FAKE_DRIP) {
			for (size_t i = 0; i < len; i += 3) {
				write_all(c, ans + i, len - i < 3 ? len - i : 3);
				usleep(50);
			}
		} else {
			write_all(c, ans, len);
		}
		if (mode == FAKE_HOLD)
			pause();
		close(c);
	}
}

/* Start the fake, answering every connection with ans[0..len). */
static void fake_start_n(enum fake_mode mode, const char *ans, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, pfd[2];

	assert_int_equal(fk.pid, 0);
	strcpy(fk.dir, "/tmp/iotrace-test-XXXXXX");
	assert_non_null(mkdtemp(fk.dir));
	snprintf(fk.sock, sizeof(fk.sock), "%s/docker.sock", fk.dir);
	strcpy(sa.sun_path, fk.sock);
	/* Listening before the fork: the client never races the server. */
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	fk.pid = fork();
	assert_true(fk.pid >= 0);
	if (fk.pid == 0) {
		close(pfd[0]);
		fake_serve(lfd, pfd[1], mode, ans, len);
	}
	close(lfd);
	close(pfd[1]);
	fk.log_fd = pfd[0];
}

static void fake_start(enum fake_mode mode, const char *ans)
{
	fake_start_n(mode, ans, strlen(ans));
}

static void fake_stop(void)
{
	if (fk.pid > 0) {
		kill(fk.pid, SIGKILL);
		waitpid(fk.pid, NULL, 0);
		close(fk.log_fd);
		unlink(fk.sock);
		rmdir(fk.dir);
	}
	fk.pid = 0;
}

static int fake_teardown(void **state)
{
	(void)state;
	fake_stop();
	return 0;
}

/* The next request the fake read ("" when none came within wait_ms). */
static const char *fake_request(int wait_ms)
{
	static char req[4096];
	struct pollfd p = { .fd = fk.log_fd, .events = POLLIN };
	size_t n = 0;

	while (n + 1 < sizeof(req) && poll(&p, 1, wait_ms) == 1) {
		if (read(fk.log_fd, req + n, 1) != 1 || req[n] == '\0')
			break;
		n++;
	}
	req[n] = '\0';
	return req;
}

/* ---- helpers ---- */

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void docker_cls(struct wl_class *c, const char *id)
{
	wl_classify("/docker/" ID1, c);
	assert_string_equal(c->runtime, "docker");
	snprintf(c->container_id, sizeof(c->container_id), "%s", id);
}

/* Ask the fake about ID1; the name stays the short id unless 0. */
static int ask(struct wl_class *c)
{
	docker_cls(c, ID1);
	return docker_api_name(fk.sock, TIMEOUT_MS, c);
}

/* An answer like dockerd's, with Content-Length (spelt oddly) or without. */
static char *http(const char *status, const char *body, bool with_length)
{
	char *s;

	if (with_length)
		assert_true(asprintf(&s,
				     "HTTP/1.1 %s\r\nApi-Version: 1.41\r\n"
				     "Content-Type: application/json\r\ncontent-length:  %zu \r\n"
				     "Date: Wed, 25 Nov 2026 07:45:40 GMT\r\n\r\n%s",
				     status, strlen(body), body) > 0);
	else
		assert_true(asprintf(&s, "HTTP/1.0 %s\r\nContent-Type: application/json\r\n\r\n%s",
				     status, body) > 0);
	return s;
}

static char *http_200(const char *body, bool with_length)
{
	return http("200 OK", body, with_length);
}

/* Served ans, the client must fail with err and leave the name alone. */
static void expect_refused(const char *ans, int err)
{
	struct wl_class c;

	fake_start(FAKE_ANSWER, ans);
	assert_int_equal(ask(&c), err);
	assert_string_equal(c.name, SHORT1);
	fake_stop();
}

/* ---- good answers ---- */

/* BODY served as mode says; the name must come out.  Returns the ms taken. */
static long long expect_web1(enum fake_mode mode, bool with_length)
{
	char *ans = http_200(BODY, with_length);
	struct wl_class c;
	long long t0 = ms_now();

	fake_start(mode, ans);
	assert_int_equal(ask(&c), 0);
	assert_string_equal(c.name, "web-1");
	assert_string_equal(c.container_id, ID1);
	free(ans);
	return ms_now() - t0;
}

static void test_good_answer(void **state)
{
	const char *req;

	(void)state;
	expect_web1(FAKE_ANSWER, true);
	req = fake_request(1000);
	assert_true(!strncmp(req, "GET /containers/" ID1 "/json HTTP/1.0\r\n",
			     strlen("GET /containers/" ID1 "/json HTTP/1.0\r\n")));
	assert_non_null(strstr(req, "\r\nHost: docker\r\n"));
	assert_non_null(strstr(req, "\r\nConnection: close\r\n"));
}

/* HTTP/1.0 without Content-Length: the body ends with the connection. */
static void test_good_until_eof(void **state)
{
	(void)state;
	expect_web1(FAKE_ANSWER, false);
}

static void test_good_dripped(void **state)
{
	(void)state;
	expect_web1(FAKE_DRIP, true);
}

/* Content-Length bytes in and the connection still open: done, no wait. */
static void test_good_connection_held(void **state)
{
	(void)state;
	assert_true(expect_web1(FAKE_HOLD, true) < TIMEOUT_MS / 2);
}

/* Just under the size limit is still read whole. */
static void test_good_large(void **state)
{
	size_t pad = DOCKER_API_MAX_ANSWER - 4096;
	char *body = malloc(pad + 64), *ans;
	struct wl_class c;

	(void)state;
	assert_non_null(body);
	strcpy(body, "{\"Pad\":\"");
	memset(body + 8, 'x', pad);
	strcpy(body + 8 + pad, "\",\"Name\":\"/big\"}");
	ans = http_200(body, false);
	assert_true(strlen(ans) < DOCKER_API_MAX_ANSWER);
	fake_start(FAKE_ANSWER, ans);
	assert_int_equal(ask(&c), 0);
	assert_string_equal(c.name, "big");
	free(ans);
	free(body);
}

/* ---- statuses and malformed answers ---- */

static void test_404(void **state)
{
	char *ans = http("404 Not Found", "{\"message\":\"No such container: " ID1 "\"}", true);

	(void)state;
	expect_refused(ans, -ESRCH);
	free(ans);
}

static void test_other_status(void **state)
{
	(void)state;
	expect_refused("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}",
		       -EPROTO);
	expect_refused("HTTP/1.1 301 Moved Permanently\r\nLocation: /v1.41/containers\r\n\r\n",
		       -EPROTO);
}

static void test_malformed_body(void **state)
{
	static const char *const bodies[] = {
		"{\"Id\":\"" ID1 "\",\"Name\":", /* cut in the middle */
		"{\"Id\":\"" ID1 "\",\"Name\":\"/web-1", /* inside the string */
		"<html><body>Bad Gateway</body></html>",
		"[{\"Name\":\"/web-1\"}]", /* not an object */
		"{\"Id\":\"" ID1 "\"}", /* no Name */
		"{\"Name\":null}",
		"{\"Name\":\"/\"}", /* an empty name */
		"{\"Name\":\"/web\\q\"}", /* a bad escape */
		"{\"State\":{\"Name\":\"/web-1\"}}", /* only a nested Name */
		"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char *ans = http_200(bodies[i], i % 2);

		expect_refused(ans, -EBADMSG);
		free(ans);
	}
}

/* Fewer body bytes than Content-Length before the connection closes. */
static void test_cut_short(void **state)
{
	(void)state;
	expect_refused("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"Name\":\"/web-1\"}",
		       -EBADMSG);
}

static void test_not_http(void **state)
{
	static const char *const answers[] = {
		"SSH-2.0-OpenSSH_9.2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", /* no blank line */
		"HTTP/1.1 2x0 OK\r\n\r\n{\"Name\":\"/web-1\"}",
		"HTTP/2 200\r\n\r\n{\"Name\":\"/web-1\"}",
		"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n{}",
		"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++)
		expect_refused(answers[i], -EPROTO);
}

/* An HTTP/1.0 client is never sent chunks; a server that does is refused. */
static void test_chunked(void **state)
{
	(void)state;
	expect_refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		       "11\r\n{\"Name\":\"/web-1\"}\r\n0\r\n\r\n",
		       -EPROTO);
}

/* ---- limits ---- */

static void test_oversized(void **state)
{
	size_t big = 2 * DOCKER_API_MAX_ANSWER;
	char *ans = malloc(big + 1);
	struct wl_class c;
	int n;

	(void)state;
	assert_non_null(ans);
	/* no Content-Length: refused once the limit is passed */
	n = sprintf(ans, "HTTP/1.0 200 OK\r\n\r\n{\"Pad\":\"");
	memset(ans + n, 'x', big - (size_t)n);
	ans[big] = '\0';
	fake_start_n(FAKE_ANSWER, ans, big);
	assert_int_equal(ask(&c), -EFBIG);
	assert_string_equal(c.name, SHORT1);
	fake_stop();

	/* headers that never end */
	memset(ans, 'x', big);
	memcpy(ans, "HTTP/1.1 200 OK\r\nX-Pad: ", 24);
	fake_start_n(FAKE_ANSWER, ans, big);
	assert_int_equal(ask(&c), -EFBIG);
	fake_stop();

	/* a Content-Length over the limit is refused before the body */
	fake_start(FAKE_HOLD, "HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n{");
	assert_int_equal(ask(&c), -EFBIG);
	free(ans);
}

static void test_timeout(void **state)
{
	struct wl_class c;
	long long t0, dt;

	(void)state;
	/* accepts, reads the request, never answers */
	fake_start(FAKE_HOLD, "");
	t0 = ms_now();
	assert_int_equal(ask(&c), -ETIMEDOUT);
	dt = ms_now() - t0;
	assert_true(dt >= TIMEOUT_MS - 1);
	assert_true(dt < TIMEOUT_MS + 300);
	assert_string_equal(c.name, SHORT1);
	assert_true(!strncmp(fake_request(1000), "GET /containers/", 16));
	fake_stop();

	/* half an answer, then nothing */
	fake_start(FAKE_HOLD, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"Name\":");
	t0 = ms_now();
	assert_int_equal(ask(&c), -ETIMEDOUT);
	assert_true(ms_now() - t0 < TIMEOUT_MS + 300);
}

/* ---- what is never asked ---- */

static void test_bad_id(void **state)
{
	static const char *const ids[] = {
		"",
		"88BD076BE8E2", /* docker ids are lowercase */
		"../../images/json",
		"88bd076be8e2 HTTP/1.0\r\nX: y",
		"88bd076be8e2?all=1",
		ID1 "0", /* 65 digits */
		"web-1", /* a name is not an id */
	};
	char *ans = http_200(BODY, true);
	struct wl_class c;

	(void)state;
	fake_start(FAKE_ANSWER, ans);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		docker_cls(&c, ids[i]);
		assert_int_equal(docker_api_name(fk.sock, TIMEOUT_MS, &c), -EINVAL);
		assert_string_equal(c.name, SHORT1);
	}
	assert_string_equal(fake_request(100), "");
	/* a short id is a valid request */
	docker_cls(&c, SHORT1);
	assert_int_equal(docker_api_name(fk.sock, TIMEOUT_MS, &c), 0);
	assert_true(!strncmp(fake_request(1000), "GET /containers/" SHORT1 "/json ", 34));
	free(ans);
}

/* No daemon: connect() fails at once, whatever the reason. */
static void test_no_daemon(void **state)
{
	const char *dir = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[100], longp[200];
	struct wl_class c;
	long long t0 = ms_now();
	int fd;

	snprintf(path, sizeof(path), "%s/missing.sock", dir);
	docker_cls(&c, ID1);
	assert_int_equal(docker_api_name(path, TIMEOUT_MS, &c), -ENOENT);

	/* a socket file left behind by a daemon that died */
	snprintf(path, sizeof(path), "%s/dead.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(docker_api_name(path, TIMEOUT_MS, &c), -ECONNREFUSED);

	/* not a socket */
	assert_int_equal(docker_api_name(dir, TIMEOUT_MS, &c), -ECONNREFUSED);

	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(docker_api_name(longp, TIMEOUT_MS, &c), -ENAMETOOLONG);
	assert_int_equal(docker_api_name("", TIMEOUT_MS, &c), -EINVAL);
	assert_int_equal(docker_api_name(NULL, TIMEOUT_MS, &c), -EINVAL);

	assert_true(ms_now() - t0 < 50);
	assert_string_equal(c.name, SHORT1);
}

/* ---- the entry point record.c uses ---- */

/*
 * Last: after its timeout, docker_name_from_api() leaves the API alone for
 * DOCKER_API_RETRY_S seconds, for the rest of this process.
 */
static void test_from_api(void **state)
{
	const char *dir = *state;
	char *ans = http_200(BODY, true), env[256];
	struct wl_class c;
	long long t0, dt;

	fake_start(FAKE_ANSWER, ans);
	snprintf(env, sizeof(env), "unix://%s", fk.sock);
	assert_int_equal(setenv("DOCKER_HOST", env, 1), 0);
	docker_cls(&c, ID1);
	assert_int_equal(docker_name_from_api(&c), 0);
	assert_string_equal(c.name, "web-1");

	/* only docker containers are asked about */
	wl_classify("/machine.slice/libpod-" ID1 ".scope", &c);
	assert_int_equal(docker_name_from_api(&c), -EINVAL);
	assert_string_equal(c.name, SHORT1);
	assert_string_not_equal(fake_request(1000), "");
	assert_string_equal(fake_request(100), "");
	fake_stop();

	/* DOCKER_HOST names a socket that is not there: silent, at once */
	snprintf(env, sizeof(env), "unix://%s/gone.sock", dir);
	assert_int_equal(setenv("DOCKER_HOST", env, 1), 0);
	docker_cls(&c, ID1);
	assert_int_equal(docker_name_from_api(&c), -ENOENT);

	/* a daemon that never answers costs the timeout once ... */
	fake_start(FAKE_HOLD, "");
	snprintf(env, sizeof(env), "unix://%s", fk.sock);
	assert_int_equal(setenv("DOCKER_HOST", env, 1), 0);
	t0 = ms_now();
	assert_int_equal(docker_name_from_api(&c), -ETIMEDOUT);
	dt = ms_now() - t0;
	assert_true(dt >= DOCKER_API_TIMEOUT_MS - 1 && dt < DOCKER_API_TIMEOUT_MS + 300);
	assert_string_not_equal(fake_request(1000), "");
	/* ... and is not asked again for a while */
	t0 = ms_now();
	assert_int_equal(docker_name_from_api(&c), -ETIMEDOUT);
	assert_true(ms_now() - t0 < 20);
	assert_string_equal(fake_request(100), "");
	assert_string_equal(c.name, SHORT1);
	unsetenv("DOCKER_HOST");
	free(ans);
}

static int from_api_teardown(void **state)
{
	fake_stop();
	return tmpdir_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_good_answer, fake_teardown),
		cmocka_unit_test_teardown(test_good_until_eof, fake_teardown),
		cmocka_unit_test_teardown(test_good_dripped, fake_teardown),
		cmocka_unit_test_teardown(test_good_connection_held, fake_teardown),
		cmocka_unit_test_teardown(test_good_large, fake_teardown),
		cmocka_unit_test_teardown(test_404, fake_teardown),
		cmocka_unit_test_teardown(test_other_status, fake_teardown),
		cmocka_unit_test_teardown(test_malformed_body, fake_teardown),
		cmocka_unit_test_teardown(test_cut_short, fake_teardown),
		cmocka_unit_test_teardown(test_not_http, fake_teardown),
		cmocka_unit_test_teardown(test_chunked, fake_teardown),
		cmocka_unit_test_teardown(test_oversized, fake_teardown),
		cmocka_unit_test_teardown(test_timeout, fake_teardown),
		cmocka_unit_test_teardown(test_bad_id, fake_teardown),
		cmocka_unit_test_setup_teardown(test_no_daemon, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_from_api, tmpdir_setup, from_api_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
