/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers shared by the workload generators in tools/ (iogen, vmm): error
 * exits, option parsing, a deterministic random sequence, joining a cgroup.
 * Each tool is one .c file that defines tool_name and includes this.
 */
#ifndef IOTRACE_TOOL_H
#define IOTRACE_TOOL_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

/* "iogen", "vmm": the prefix of every message. */
extern const char tool_name[];

static inline void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", tool_name);
	exit(EXIT_USAGE);
}

/* Any thread may die: exit() ends the whole process. */
static inline void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_RUNTIME);
}

/* splitmix64: tiny, good enough, and the same sequence everywhere. */
static inline uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) for n > 0, by Lemire's multiply-shift (bias < 2^-40). */
static inline uint64_t rng_below(uint64_t *state, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(state) * n) >> 64);
}

static inline uint64_t parse_u64(const char *opt, const char *s, uint64_t max)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		usage_error("%s needs a non-negative integer, got '%s'", opt, s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		usage_error("%s needs an integer from 0 to %llu, got '%s'", opt,
			    (unsigned long long)max, s);
	return v;
}

/*
 * Option value: "--opt VALUE" or "--opt=VALUE".  *i is advanced past what
 * was consumed.  Returns NULL when argv[*i] is not opt.
 */
static inline const char *opt_value(int argc, char **argv, int *i, const char *opt)
{
	size_t len = strlen(opt);
	const char *arg = argv[*i];

	if (strncmp(arg, opt, len))
		return NULL;
	if (arg[len] == '=')
		return arg + len + 1;
	if (arg[len])
		return NULL;
	if (*i + 1 >= argc)
		usage_error("%s needs a value", opt);
	*i += 1;
	return argv[*i];
}

/* Write our pid to DIR/cgroup.procs, so everything after is charged there. */
static inline void join_cgroup(const char *dir)
{
	char path[4096], pid[32];
	int fd, n, len;

	n = snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		die("cgroup path too long: %s", dir);
	/*
	 * Sleep first, so the move happens at the start of a fresh time slice:
	 * cpu.stat charges run time at every tick, a tracer at the slice's
	 * end; if the slice spanning the move were long (exec and start-up),
	 * they would disagree about which cgroup had it.
	 */
	usleep(1000);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die("cannot join cgroup %s: open %s: %s", dir, path, strerror(errno));
	len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	n = write(fd, pid, len);
	if (n != len)
		die("cannot join cgroup %s: write to %s: %s", dir, path,
		    n < 0 ? strerror(errno) : "short write");
	if (close(fd))
		die("cannot join cgroup %s: close %s: %s", dir, path, strerror(errno));
}

#endif
