// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of user/proc_ident.c: /proc/PID/stat parsing with hostile
 * comms and broken lines, pid reuse on a fake procfs tree under /tmp, thread
 * comms, guest time (field 43), and the real /proc for this process and a
 * child.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_fs.h"
#include "proc_ident.h"

/* ---- helpers ---- */

/*
 * A 52-field stat line.  Field 3 is "S", field 22 is start, and every other
 * field holds its own number, so that a parser reading the wrong field gets
 * 21 or 23 instead of start.
 */
static void make_stat(char *buf, size_t len, const char *pid, const char *comm, const char *start)
{
	size_t n;

	n = (size_t)snprintf(buf, len, "%s (%s) S", pid, comm);
	assert_true(n < len);
	for (int f = 4; f <= 52; f++) {
		if (f == 22)
			n += (size_t)snprintf(buf + n, len - n, " %s", start);
		else
			n += (size_t)snprintf(buf + n, len - n, " %d", f);
		assert_true(n < len);
	}
	n += (size_t)snprintf(buf + n, len - n, "\n");
	assert_true(n < len);
}

/*
 * A stat line of nfields fields: field 43 (guest_time) is guest, field 22
 * 777, every other numeric field its own number, so that reading field 42 or
 * 44 instead gives 42 or 44.
 */
static void make_stat_guest(char *buf, size_t len, const char *comm, const char *guest, int nfields)
{
	size_t n;

	n = (size_t)snprintf(buf, len, "4242 (%s) S", comm);
	assert_true(n < len);
	for (int f = 4; f <= nfields; f++) {
		if (f == 43)
			n += (size_t)snprintf(buf + n, len - n, " %s", guest);
		else if (f == 22)
			n += (size_t)snprintf(buf + n, len - n, " 777");
		else
			n += (size_t)snprintf(buf + n, len - n, " %d", f);
		assert_true(n < len);
	}
	n += (size_t)snprintf(buf + n, len - n, "\n");
	assert_true(n < len);
}

static void write_stat(const char *root, int pid, const char *comm, uint64_t start)
{
	char rel[64], pidstr[16], startstr[32], line[1024];

	snprintf(rel, sizeof(rel), "%d/stat", pid);
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	snprintf(startstr, sizeof(startstr), "%llu", (unsigned long long)start);
	make_stat(line, sizeof(line), pidstr, comm, startstr);
	write_str_at(root, rel, line);
}

/* ---- parsing ---- */

static void test_parse_real_line(void **state)
{
	/* A line as Linux 6.x writes it for a QEMU process. */
	static const char line[] =
		"31337 (qemu-system-x86) S 1 31330 31330 0 -1 4194624 51234 0 12 0 "
		"91234 40211 0 0 20 0 9 0 1234567 4321239040 102400 18446744073709551615 "
		"94183712051200 94183728193233 140726511863216 0 0 0 0 4096 17475 0 0 0 17 1 "
		"0 0 3 0 0 94183733031504 94183734400808 94183739994112 140726511867491 "
		"140726511867851 140726511867851 140726511869912 0\n";
	struct proc_ident id;

	(void)state;
	assert_int_equal(proc_ident_parse_stat(line, &id), 0);
	assert_int_equal(id.pid, 31337);
	assert_int_equal(id.start_ticks, 1234567);
}

static void test_parse_field_22(void **state)
{
	char line[1024];
	struct proc_ident id;

	(void)state;
	make_stat(line, sizeof(line), "42", "x", "777");
	assert_int_equal(proc_ident_parse_stat(line, &id), 0);
	assert_int_equal(id.pid, 42);
	assert_int_equal(id.start_ticks, 777);

	/* Full range of the start time, both ends. */
	make_stat(line, sizeof(line), "1", "init", "0");
	assert_int_equal(proc_ident_parse_stat(line, &id), 0);
	assert_int_equal(id.pid, 1);
	assert_true(id.start_ticks == 0);
	make_stat(line, sizeof(line), "2147483647", "x", "18446744073709551615");
	assert_int_equal(proc_ident_parse_stat(line, &id), 0);
	assert_int_equal(id.pid, INT_MAX);
	assert_true(id.start_ticks == UINT64_MAX);
}

static void test_parse_nasty_comms(void **state)
{
	static const char *const comms[] = {
		"a) (b",
		"x y",
		"",
		" ",
		")",
		"(",
		"))",
		"((",
		") S 1 2 3 4 5",
		"a) 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9",
		"a\nb",
		"12 34 56",
		"CPU 0/KVM",
		"kworker/u8:2-events_unbound",
		"()",
		") (",
	};
	char line[1024];
	struct proc_ident id;

	(void)state;
	for (size_t i = 0; i < sizeof(comms) / sizeof(comms[0]); i++) {
		make_stat(line, sizeof(line), "4242", comms[i], "5000");
		memset(&id, 0, sizeof(id));
		if (proc_ident_parse_stat(line, &id))
			fail_msg("comm \"%s\": did not parse", comms[i]);
		if (id.pid != 4242 || id.start_ticks != 5000)
			fail_msg("comm \"%s\": pid %d start %llu", comms[i], id.pid,
				 (unsigned long long)id.start_ticks);
	}
}

static void test_parse_garbage(void **state)
{
	static const char *const lines[] = {
		"",
		" ",
		"\n",
		"42",
		"42 ",
		"42 (x",
		"42 (x)",
		"42 (x) ",
		"42 (x)\n",
		"42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18", /* to 21 */
		"42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n999", /* line ends */
		"42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 ",
		"42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17  18 999", /* empty field */
		"42 (x)S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999",
		"42 x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999",
		"42  (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999",
		"(x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999",
		"abc (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999",
		"-5 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999",
		"+5 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999",
		"0 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999",
		"42x (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999",
		"2147483648 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999",
		"99999999999999999999 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 9",
		"42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 abc 23",
		"42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -1 23",
		"42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 +1 23",
		"42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999x 23",
		"42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 18446744073709551616 23",
		"42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 99999999999999999999 23",
		"\x01\x02\x03 garbage \xff",
	};
	struct proc_ident id;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		id.pid = -7;
		id.start_ticks = 7;
		if (proc_ident_parse_stat(lines[i], &id) != -EINVAL)
			fail_msg("line %zu \"%s\" parsed", i, lines[i]);
		/* out is not touched on failure */
		assert_int_equal(id.pid, -7);
		assert_int_equal(id.start_ticks, 7);
	}
	assert_int_equal(proc_ident_parse_stat(NULL, &id), -EINVAL);
	assert_int_equal(proc_ident_parse_stat("42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 "
					       "16 17 18 999",
					       NULL),
			 -EINVAL);
	/* The same line with field 22 complete parses (ends at NUL, no newline). */
	assert_int_equal(proc_ident_parse_stat("42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 "
					       "16 17 18 999",
					       &id),
			 0);
	assert_int_equal(id.start_ticks, 999);
}

/* ---- identity ---- */

static void test_same(void **state)
{
	struct proc_ident a = { .pid = 100, .start_ticks = 5000 };
	struct proc_ident b = { .pid = 100, .start_ticks = 5000 };
	struct proc_ident reused = { .pid = 100, .start_ticks = 5001 };
	struct proc_ident other = { .pid = 101, .start_ticks = 5000 };
	struct proc_ident unset = { 0 };
	struct proc_ident bad = { .pid = -1, .start_ticks = 0 };

	(void)state;
	assert_true(proc_ident_same(&a, &b));
	assert_true(proc_ident_same(&a, &a));
	assert_false(proc_ident_same(&a, &reused));
	assert_false(proc_ident_same(&reused, &a));
	assert_false(proc_ident_same(&a, &other));
	assert_false(proc_ident_same(&unset, &unset));
	assert_false(proc_ident_same(&bad, &bad));
	assert_false(proc_ident_same(&a, NULL));
	assert_false(proc_ident_same(NULL, &a));
	assert_false(proc_ident_same(NULL, NULL));
}

/* ---- fake procfs ---- */

static void test_fake_procfs_reuse(void **state)
{
	const char *root = *state;
	struct proc_ident first, again, reused;
	char big[4096];

	mkdir_at(root, "100");
	write_stat(root, 100, "qemu-system-x86", 5000);

	assert_int_equal(proc_ident_read(root, 100, &first), 0);
	assert_int_equal(first.pid, 100);
	assert_int_equal(first.start_ticks, 5000);
	assert_int_equal(proc_ident_read(root, 100, &again), 0);
	assert_true(proc_ident_same(&first, &again));

	/* pid 100 exits and is reused by a later process: a different one. */
	write_stat(root, 100, "bash", 7000);
	assert_int_equal(proc_ident_read(root, 100, &reused), 0);
	assert_int_equal(reused.pid, 100);
	assert_int_equal(reused.start_ticks, 7000);
	assert_false(proc_ident_same(&first, &reused));

	/* Reused by a process whose comm is built to look like fields. */
	write_stat(root, 100, "x) S 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 5000", 9000);
	assert_int_equal(proc_ident_read(root, 100, &reused), 0);
	assert_int_equal(reused.start_ticks, 9000);
	assert_false(proc_ident_same(&first, &reused));

	/* A stat naming another pid, garbage, too long, empty. */
	write_stat(root, 100, "x", 5000);
	assert_int_equal(proc_ident_read(root, 100, &again), 0);
	mkdir_at(root, "200");
	write_stat(root, 200, "x", 5000);
	write_str_at(root, "100/stat", "");
	assert_int_equal(proc_ident_read(root, 100, &again), -ENOENT);
	write_str_at(root, "100/stat", "not a stat line\n");
	assert_int_equal(proc_ident_read(root, 100, &again), -EINVAL);
	{
		char line[1024];

		make_stat(line, sizeof(line), "200", "x", "5000");
		write_str_at(root, "100/stat", line);
		assert_int_equal(proc_ident_read(root, 100, &again), -EINVAL);
	}
	memset(big, '7', sizeof(big));
	write_at(root, "100/stat", big, sizeof(big));
	assert_int_equal(proc_ident_read(root, 100, &again), -EINVAL);
	/* what failed did not overwrite the last good reading */
	assert_int_equal(again.pid, 100);
	assert_int_equal(again.start_ticks, 5000);

	/* A line longer than the read buffer (fields a future kernel may add). */
	{
		char line[1024];
		size_t n;

		make_stat(line, sizeof(line), "100", "x", "6000");
		n = strlen(line) - 1; /* drop the newline, then pad with fields */
		memcpy(big, line, n);
		for (; n + 2 <= sizeof(big) - 1; n += 2)
			memcpy(big + n, " 0", 2);
		big[n++] = '\n';
		write_at(root, "100/stat", big, n);
		assert_int_equal(proc_ident_read(root, 100, &again), 0);
		assert_int_equal(again.start_ticks, 6000);
	}

	assert_int_equal(proc_ident_read(root, 200, &again), 0);
	assert_int_equal(again.pid, 200);

	/* Gone, never there, bad pid. */
	rm_tree(root);
	assert_int_equal(proc_ident_read(root, 100, &again), -ENOENT);
	assert_int_equal(proc_ident_read(root, 101, &again), -ENOENT);
	assert_int_equal(proc_ident_read(root, 0, &again), -EINVAL);
	assert_int_equal(proc_ident_read(root, -5, &again), -EINVAL);
	assert_int_equal(proc_ident_read(root, 100, NULL), -EINVAL);
}

static void test_fake_task_comm(void **state)
{
	const char *root = *state;
	char buf[16], longcomm[300];

	mkdir_at(root, "100");
	mkdir_at(root, "100/task");
	mkdir_at(root, "100/task/101");

	write_str_at(root, "100/task/101/comm", "CPU 0/KVM\n");
	assert_int_equal(proc_task_comm(root, 100, 101, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "CPU 0/KVM");

	/* Only the final newline goes; one inside the name stays. */
	write_str_at(root, "100/task/101/comm", "a\nb\n");
	assert_int_equal(proc_task_comm(root, 100, 101, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a\nb");
	write_str_at(root, "100/task/101/comm", "\n\n");
	assert_int_equal(proc_task_comm(root, 100, 101, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "\n");
	write_str_at(root, "100/task/101/comm", "worker");
	assert_int_equal(proc_task_comm(root, 100, 101, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "worker");
	write_str_at(root, "100/task/101/comm", "\n");
	assert_int_equal(proc_task_comm(root, 100, 101, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	/* Cut to the caller's buffer. */
	write_str_at(root, "100/task/101/comm", "CPU 1234567/KVM\n");
	assert_int_equal(proc_task_comm(root, 100, 101, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "CPU 1234567/KVM");
	assert_int_equal(proc_task_comm(root, 100, 101, buf, 4), 0);
	assert_string_equal(buf, "CPU");
	assert_int_equal(proc_task_comm(root, 100, 101, buf, 1), 0);
	assert_string_equal(buf, "");
	memset(longcomm, 'k', sizeof(longcomm));
	write_at(root, "100/task/101/comm", longcomm, sizeof(longcomm));
	assert_int_equal(proc_task_comm(root, 100, 101, buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), 15);
	assert_string_equal(buf, "kkkkkkkkkkkkkkk");

	/* Empty file: the thread died under us. */
	write_str_at(root, "100/task/101/comm", "");
	assert_int_equal(proc_task_comm(root, 100, 101, buf, sizeof(buf)), -ENOENT);

	assert_int_equal(proc_task_comm(root, 100, 102, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(proc_task_comm(root, 999, 101, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(proc_task_comm(root, 100, 101, buf, 0), -EINVAL);
	assert_int_equal(proc_task_comm(root, 100, 101, NULL, 16), -EINVAL);
	assert_int_equal(proc_task_comm(root, 100, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(proc_task_comm(root, 0, 101, buf, sizeof(buf)), -EINVAL);
}

static void test_path_too_long(void **state)
{
	char root[PATH_MAX + 16], buf[16];
	struct proc_ident id;
	uint64_t ticks;

	(void)state;
	/*
	 * "/r/r/...": short components, so that only the library's own check
	 * can say ENAMETOOLONG; a cut path would reach open() and get ENOENT.
	 */
	for (size_t i = 0; i < sizeof(root) - 1; i++)
		root[i] = i % 2 ? 'r' : '/';
	root[sizeof(root) - 1] = '\0';
	assert_int_equal(proc_ident_read(root, 1, &id), -ENAMETOOLONG);
	assert_int_equal(proc_task_comm(root, 1, 1, buf, sizeof(buf)), -ENAMETOOLONG);
	assert_int_equal(proc_task_guest_ticks(root, 1, 1, &ticks), -ENAMETOOLONG);
}

/* ---- the real /proc ---- */

static uint64_t uptime_ticks(void)
{
	double up = 0;
	FILE *f = fopen("/proc/uptime", "re");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lf", &up), 1);
	fclose(f);
	return (uint64_t)(up * (double)sysconf(_SC_CLK_TCK));
}

static void test_real_proc_self(void **state)
{
	struct proc_ident a, b, c, d;
	char line[2048], comm[16], saved[16];
	size_t n;
	FILE *f;

	(void)state;
	assert_int_equal(proc_ident_read("/proc", getpid(), &a), 0);
	assert_int_equal(a.pid, getpid());
	assert_true(a.start_ticks > 0);
	assert_true(a.start_ticks <= uptime_ticks() + 1);
	assert_int_equal(proc_ident_read(NULL, getpid(), &b), 0);
	assert_true(proc_ident_same(&a, &b));

	/* /proc/self/stat through the parser gives the same identity. */
	f = fopen("/proc/self/stat", "re");
	assert_non_null(f);
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	assert_true(n > 0);
	line[n] = '\0';
	assert_int_equal(proc_ident_parse_stat(line, &c), 0);
	assert_true(proc_ident_same(&a, &c));

	/*
	 * Rename ourselves to a hostile comm: the identity does not move, and
	 * the thread's comm reads back as set.
	 */
	assert_int_equal(prctl(PR_GET_NAME, saved), 0);
	assert_int_equal(prctl(PR_SET_NAME, "a) (b 1 2 3"), 0);
	assert_int_equal(proc_ident_read("/proc", getpid(), &d), 0);
	assert_true(proc_ident_same(&a, &d));
	assert_int_equal(
		proc_task_comm(NULL, getpid(), (int)syscall(SYS_gettid), comm, sizeof(comm)), 0);
	assert_string_equal(comm, "a) (b 1 2 3");
	assert_int_equal(prctl(PR_SET_NAME, saved), 0);
	assert_int_equal(proc_task_comm("/proc", getpid(), getpid(), comm, sizeof(comm)), 0);
	assert_string_equal(comm, saved);
}

static void test_real_child_gone(void **state)
{
	struct proc_ident self, child, after;
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(proc_ident_read("/proc", getpid(), &self), 0);
	assert_int_equal(proc_ident_read("/proc", pid, &child), 0);
	assert_int_equal(child.pid, pid);
	assert_true(child.start_ticks >= self.start_ticks);
	assert_false(proc_ident_same(&self, &child));
	assert_int_equal(proc_ident_read("/proc", pid, &after), 0);
	assert_true(proc_ident_same(&child, &after));

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* Reaped: gone (unless the pid was already reused, then not the same). */
	if (proc_ident_read("/proc", pid, &after) == 0)
		assert_false(proc_ident_same(&child, &after));
	else
		assert_int_equal(proc_ident_read("/proc", pid, &after), -ENOENT);
}

/* ---- guest time ---- */

static void test_parse_guest_real_line(void **state)
{
	/* A QEMU vCPU thread's stat as Linux 6.x writes it: guest_time 98765. */
	static const char line[] =
		"31340 (CPU 0/KVM) S 1 31330 31330 0 -1 4194368 120 0 0 0 "
		"123456 4567 0 0 20 0 9 0 1234570 4321239040 102400 18446744073709551615 "
		"94183712051200 94183728193233 140726511863216 0 0 0 0 4096 17475 0 0 0 -1 3 "
		"0 0 3 98765 0 94183733031504 94183734400808 94183739994112 140726511867491 "
		"140726511867851 140726511867851 140726511869912 0\n";
	uint64_t ticks = 1;

	(void)state;
	assert_int_equal(proc_parse_guest_ticks(line, &ticks), 0);
	assert_int_equal(ticks, 98765);
}

static void test_parse_guest_field_43(void **state)
{
	static const char *const comms[] = {
		"CPU 0/KVM",
		"x y",
		")",
		"a) (b",
		") S 1 2 3 4 5",
		"a) 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9",
		"",
		"()",
	};
	char line[1024];
	uint64_t ticks;

	(void)state;
	/* comm holds spaces and ')': fields are counted from the last ')'. */
	for (size_t i = 0; i < sizeof(comms) / sizeof(comms[0]); i++) {
		make_stat_guest(line, sizeof(line), comms[i], "31337", 52);
		ticks = 0;
		if (proc_parse_guest_ticks(line, &ticks) || ticks != 31337)
			fail_msg("comm \"%s\": got %llu", comms[i], (unsigned long long)ticks);
	}
	/* Both ends of the range. */
	make_stat_guest(line, sizeof(line), "x", "0", 52);
	ticks = 9;
	assert_int_equal(proc_parse_guest_ticks(line, &ticks), 0);
	assert_true(ticks == 0);
	make_stat_guest(line, sizeof(line), "x", "18446744073709551615", 52);
	assert_int_equal(proc_parse_guest_ticks(line, &ticks), 0);
	assert_true(ticks == UINT64_MAX);
	/* Field 43 the last one, ending at the newline, then at the NUL. */
	make_stat_guest(line, sizeof(line), "x", "43000", 43);
	assert_int_equal(proc_parse_guest_ticks(line, &ticks), 0);
	assert_int_equal(ticks, 43000);
	line[strlen(line) - 1] = '\0';
	ticks = 0;
	assert_int_equal(proc_parse_guest_ticks(line, &ticks), 0);
	assert_int_equal(ticks, 43000);
}

static void test_parse_guest_garbage(void **state)
{
	static const char *const bad_guest[] = { "-1", "+1", "1x", "x", "18446744073709551616" };
	char line[1024];
	uint64_t ticks;

	(void)state;
	/* Too few fields: up to 42 only. */
	make_stat_guest(line, sizeof(line), "x", "1", 42);
	ticks = 7;
	assert_int_equal(proc_parse_guest_ticks(line, &ticks), -EINVAL);
	assert_int_equal(ticks, 7);
	make_stat_guest(line, sizeof(line), "x) 1 2 3 4 5 6 7 8 9 10 11 12 13", "1", 30);
	assert_int_equal(proc_parse_guest_ticks(line, &ticks), -EINVAL);
	/* Field 42 followed by a space and nothing. */
	make_stat_guest(line, sizeof(line), "x", "1", 42);
	line[strlen(line) - 1] = ' ';
	assert_int_equal(proc_parse_guest_ticks(line, &ticks), -EINVAL);
	assert_int_equal(ticks, 7);
	for (size_t i = 0; i < sizeof(bad_guest) / sizeof(bad_guest[0]); i++) {
		make_stat_guest(line, sizeof(line), "x", bad_guest[i], 52);
		if (proc_parse_guest_ticks(line, &ticks) != -EINVAL)
			fail_msg("guest field \"%s\" parsed", bad_guest[i]);
		assert_int_equal(ticks, 7);
	}
	/* Not a stat line at all. */
	assert_int_equal(proc_parse_guest_ticks("", &ticks), -EINVAL);
	assert_int_equal(proc_parse_guest_ticks("not a stat line\n", &ticks), -EINVAL);
	assert_int_equal(proc_parse_guest_ticks(NULL, &ticks), -EINVAL);
	make_stat_guest(line, sizeof(line), "x", "5", 52);
	assert_int_equal(proc_parse_guest_ticks(line, NULL), -EINVAL);
	memcpy(line, "0000", 4); /* pid 0: no task has it */
	assert_int_equal(proc_parse_guest_ticks(line, &ticks), -EINVAL);
	assert_int_equal(ticks, 7);
}

static void test_fake_task_guest_ticks(void **state)
{
	const char *root = *state;
	char line[1024], big[4096];
	uint64_t ticks;
	size_t n;

	mkdir_at(root, "100");
	mkdir_at(root, "100/task");
	mkdir_at(root, "100/task/101");

	make_stat_guest(line, sizeof(line), "CPU 0/KVM", "4242", 52);
	write_str_at(root, "100/task/101/stat", line);
	ticks = 0;
	assert_int_equal(proc_task_guest_ticks(root, 100, 101, &ticks), 0);
	assert_int_equal(ticks, 4242);

	/* It grows between reads. */
	make_stat_guest(line, sizeof(line), "CPU 0/KVM", "5000", 52);
	write_str_at(root, "100/task/101/stat", line);
	assert_int_equal(proc_task_guest_ticks(root, 100, 101, &ticks), 0);
	assert_int_equal(ticks, 5000);

	/* A line longer than the read buffer: field 43 is in its head. */
	make_stat_guest(line, sizeof(line), "CPU 0/KVM", "6000", 52);
	n = strlen(line) - 1;
	memcpy(big, line, n);
	for (; n + 2 <= sizeof(big) - 1; n += 2)
		memcpy(big + n, " 0", 2);
	big[n++] = '\n';
	write_at(root, "100/task/101/stat", big, n);
	assert_int_equal(proc_task_guest_ticks(root, 100, 101, &ticks), 0);
	assert_int_equal(ticks, 6000);

	/* Too few fields, garbage, empty (the thread died under us). */
	make_stat_guest(line, sizeof(line), "CPU 0/KVM", "1", 42);
	write_str_at(root, "100/task/101/stat", line);
	assert_int_equal(proc_task_guest_ticks(root, 100, 101, &ticks), -EINVAL);
	write_str_at(root, "100/task/101/stat", "garbage\n");
	assert_int_equal(proc_task_guest_ticks(root, 100, 101, &ticks), -EINVAL);
	write_str_at(root, "100/task/101/stat", "");
	assert_int_equal(proc_task_guest_ticks(root, 100, 101, &ticks), -ENOENT);
	assert_int_equal(ticks, 6000);

	/* Gone, never there, bad arguments. */
	assert_int_equal(proc_task_guest_ticks(root, 100, 102, &ticks), -ENOENT);
	assert_int_equal(proc_task_guest_ticks(root, 999, 101, &ticks), -ENOENT);
	assert_int_equal(proc_task_guest_ticks(root, 0, 101, &ticks), -EINVAL);
	assert_int_equal(proc_task_guest_ticks(root, 100, 0, &ticks), -EINVAL);
	assert_int_equal(proc_task_guest_ticks(root, -1, 101, &ticks), -EINVAL);
	assert_int_equal(proc_task_guest_ticks(root, 100, -1, &ticks), -EINVAL);
	assert_int_equal(proc_task_guest_ticks(root, 100, 101, NULL), -EINVAL);
	assert_int_equal(ticks, 6000);
}

static void test_real_guest_ticks(void **state)
{
	int tid = (int)syscall(SYS_gettid);
	char path[64], line[2048];
	uint64_t ticks = 1;
	size_t n;
	FILE *f;

	(void)state;
	/* This test never ran a guest. */
	assert_int_equal(proc_task_guest_ticks("/proc", getpid(), tid, &ticks), 0);
	assert_true(ticks == 0);
	ticks = 1;
	assert_int_equal(proc_task_guest_ticks(NULL, getpid(), tid, &ticks), 0);
	assert_true(ticks == 0);

	/* Same through the parser, on the very file. */
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "re");
	assert_non_null(f);
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	assert_true(n > 0);
	line[n] = '\0';
	ticks = 1;
	assert_int_equal(proc_parse_guest_ticks(line, &ticks), 0);
	assert_true(ticks == 0);

	/* A hostile comm does not move the field. */
	{
		char saved[16];

		assert_int_equal(prctl(PR_GET_NAME, saved), 0);
		assert_int_equal(prctl(PR_SET_NAME, ") 1 2 3 4 5 6 7"), 0);
		ticks = 1;
		assert_int_equal(proc_task_guest_ticks(NULL, getpid(), tid, &ticks), 0);
		assert_int_equal(prctl(PR_SET_NAME, saved), 0);
		assert_true(ticks == 0);
	}
	assert_int_equal(proc_task_guest_ticks(NULL, getpid(), INT_MAX, &ticks), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_real_line),
		cmocka_unit_test(test_parse_field_22),
		cmocka_unit_test(test_parse_nasty_comms),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_same),
		cmocka_unit_test_setup_teardown(test_fake_procfs_reuse, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_fake_task_comm, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_path_too_long),
		cmocka_unit_test(test_real_proc_self),
		cmocka_unit_test(test_real_child_gone),
		cmocka_unit_test(test_parse_guest_real_line),
		cmocka_unit_test(test_parse_guest_field_43),
		cmocka_unit_test(test_parse_guest_garbage),
		cmocka_unit_test_setup_teardown(test_fake_task_guest_ticks, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test(test_real_guest_ticks),
	};

	return cmocka_run_group_tests_name("proc_ident", tests, NULL, NULL);
}
