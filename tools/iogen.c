// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * iogen - a workload generator whose I/O count is known exactly.
 *
 * Used by the integration tests (tests/integration) and by hand to give
 * iotrace workloads with an unambiguous expected result: every read and
 * write is one synchronous, block-aligned O_DIRECT call of exactly --bs
 * bytes, and nothing else touches the device.  `--cgroup` moves iogen into
 * a cgroup before it does any work, so all of it is charged there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

const char tool_name[] = "iogen";

#define BUF_ALIGN 4096
#define SPIN_CHECK_EVERY (1UL << 20)

enum mode {
	MODE_NONE,
	MODE_RAND,
	MODE_BUFFERED,
	MODE_SPIN,
};

struct env {
	const char *cgroup;
	uint64_t seed;
	enum mode mode;
	const char *dev;
	uint64_t refused; /* misaligned reads the kernel must refuse */
	uint64_t reads;
	uint64_t writes;
	uint64_t bs;
	double seconds;
	bool have_reads, have_writes, have_seconds;
};

static const char usage_text[] =
	"Usage: iogen [--cgroup DIR] [--seed N] MODE [MODE OPTIONS]\n"
	"\n"
	"Generate a workload whose I/O is known exactly.\n"
	"\n"
	"Options:\n"
	"  --cgroup DIR   first move iogen into cgroup2 directory DIR\n"
	"                 (absolute path), so all its work is charged there\n"
	"  --seed N       seed of the offset and read/write order PRNG (1)\n"
	"  -h, --help     show this help\n"
	"\n"
	"Modes:\n"
	"  rand --dev PATH --reads N --writes M [--bs BYTES] [--refused K]\n"
	"      exactly N preads and M pwrites of BYTES (4096) at random\n"
	"      BYTES-aligned offsets, O_DIRECT, in random order; --refused:\n"
	"      before each of the first K reads, one read into a misaligned\n"
	"      buffer, which the block layer must refuse (EINVAL)\n"
	"  buffered --dev PATH --writes M [--bs BYTES]\n"
	"      M sequential buffered pwrites of BYTES from offset 0, then fsync\n"
	"  spin --seconds S\n"
	"      burn CPU in user space for S seconds (may be fractional)\n"
	"\n"
	"Examples:\n"
	"  iogen rand --dev /dev/loop0 --reads 20000 --writes 5000\n"
	"  iogen --cgroup /sys/fs/cgroup/unified/test spin --seconds 2\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

static double parse_seconds(const char *opt, const char *s)
{
	double v;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0)
		usage_error("%s needs a non-negative number of seconds, got "
			    "'%s'",
			    opt, s);
	return v;
}

static void parse_args(int argc, char **argv, struct env *env)
{
	const char *v;
	int i;

	/* Global options, up to the mode. */
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			usage(stdout);
			exit(0);
		} else if ((v = opt_value(argc, argv, &i, "--cgroup"))) {
			if (v[0] != '/')
				usage_error("--cgroup needs an absolute cgroup2 "
					    "directory, got '%s'",
					    v);
			env->cgroup = v;
		} else if ((v = opt_value(argc, argv, &i, "--seed"))) {
			env->seed = parse_u64("--seed", v, UINT64_MAX);
		} else if (arg[0] == '-') {
			usage_error("unknown option '%s'", arg);
		} else {
			break;
		}
	}
	if (i >= argc)
		usage_error("no mode given (rand, buffered or spin)");
	if (!strcmp(argv[i], "rand"))
		env->mode = MODE_RAND;
	else if (!strcmp(argv[i], "buffered"))
		env->mode = MODE_BUFFERED;
	else if (!strcmp(argv[i], "spin"))
		env->mode = MODE_SPIN;
	else
		usage_error("unknown mode '%s' (rand, buffered or spin)", argv[i]);

	/* Mode options. */
	for (i++; i < argc; i++) {
		bool io_mode = env->mode != MODE_SPIN;
		const char *arg = argv[i];

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			usage(stdout);
			exit(0);
		} else if (io_mode && (v = opt_value(argc, argv, &i, "--dev"))) {
			env->dev = v;
		} else if (env->mode == MODE_RAND && (v = opt_value(argc, argv, &i, "--refused"))) {
			env->refused = parse_u64("--refused", v, UINT64_MAX);
		} else if (env->mode == MODE_RAND && (v = opt_value(argc, argv, &i, "--reads"))) {
			env->reads = parse_u64("--reads", v, UINT64_MAX);
			env->have_reads = true;
		} else if (io_mode && (v = opt_value(argc, argv, &i, "--writes"))) {
			env->writes = parse_u64("--writes", v, UINT64_MAX);
			env->have_writes = true;
		} else if (io_mode && (v = opt_value(argc, argv, &i, "--bs"))) {
			env->bs = parse_u64("--bs", v, UINT64_MAX);
		} else if (env->mode == MODE_SPIN && (v = opt_value(argc, argv, &i, "--seconds"))) {
			env->seconds = parse_seconds("--seconds", v);
			env->have_seconds = true;
		} else {
			usage_error("unknown option or argument '%s' for mode "
				    "%s",
				    arg,
				    env->mode == MODE_RAND     ? "rand" :
				    env->mode == MODE_BUFFERED ? "buffered" :
								 "spin");
		}
	}

	if (env->mode == MODE_SPIN) {
		if (!env->have_seconds)
			usage_error("spin needs --seconds");
		return;
	}
	if (!env->dev)
		usage_error("%s needs --dev", env->mode == MODE_RAND ? "rand" : "buffered");
	if (env->mode == MODE_RAND && !env->have_reads)
		usage_error("rand needs --reads");
	if (!env->have_writes)
		usage_error("%s needs --writes", env->mode == MODE_RAND ? "rand" : "buffered");
	if (env->bs == 0 || env->bs % 512 || env->bs > (1U << 30))
		usage_error("--bs must be a multiple of 512 up to 1 GiB, got "
			    "%llu",
			    (unsigned long long)env->bs);
}

/* Size in bytes of a block device or regular file. */
static uint64_t dev_size(int fd, const char *path)
{
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st))
		die("fstat %s: %s", path, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size))
			die("ioctl BLKGETSIZE64 %s: %s", path, strerror(errno));
		return size;
	}
	if (S_ISREG(st.st_mode))
		return st.st_size;
	die("%s is neither a block device nor a regular file", path);
}

static void *alloc_buf(uint64_t bs, uint64_t *rng)
{
	uint64_t *p;
	void *buf;
	int err;

	err = posix_memalign(&buf, BUF_ALIGN, bs);
	if (err)
		die("posix_memalign(%d, %llu): %s", BUF_ALIGN, (unsigned long long)bs,
		    strerror(err));
	/* Non-zero data, so nothing along the way can special-case it. */
	for (p = buf; (char *)p < (char *)buf + bs; p++)
		*p = rng_next(rng);
	return buf;
}

static void xpread(int fd, void *buf, uint64_t bs, uint64_t off, const char *path)
{
	ssize_t n = pread(fd, buf, bs, off);

	if (n < 0)
		die("read of %llu bytes at offset %llu of %s: %s", (unsigned long long)bs,
		    (unsigned long long)off, path, strerror(errno));
	if ((uint64_t)n != bs)
		die("short read at offset %llu of %s: %zd of %llu bytes", (unsigned long long)off,
		    path, n, (unsigned long long)bs);
}

static void xpwrite(int fd, const void *buf, uint64_t bs, uint64_t off, const char *path)
{
	ssize_t n = pwrite(fd, buf, bs, off);

	if (n < 0)
		die("write of %llu bytes at offset %llu of %s: %s", (unsigned long long)bs,
		    (unsigned long long)off, path, strerror(errno));
	if ((uint64_t)n != bs)
		die("short write at offset %llu of %s: %zd of %llu bytes", (unsigned long long)off,
		    path, n, (unsigned long long)bs);
}

static void print_summary(uint64_t reads, uint64_t writes, uint64_t bs)
{
	printf("iogen: reads=%llu writes=%llu bytes_read=%llu "
	       "bytes_written=%llu\n",
	       (unsigned long long)reads, (unsigned long long)writes,
	       (unsigned long long)(reads * bs), (unsigned long long)(writes * bs));
}

/* A read the kernel must refuse with EINVAL; anything else is fatal. */
static void refuse_read(int fd, void *buf, uint64_t bs, uint64_t off, const char *path)
{
	ssize_t n = pread(fd, buf, bs, off);

	if (n >= 0)
		die("pread %s into a misaligned buffer succeeded (%zd bytes): this kernel "
		    "accepts it, so --refused cannot test refusal here",
		    path, n);
	if (errno != EINVAL)
		die("pread %s into a misaligned buffer: %s (expected EINVAL)", path,
		    strerror(errno));
}

static void run_rand(const struct env *env)
{
	uint64_t rng = env->seed, size, blocks, left_r, left_w;
	void *buf, *bad = NULL;
	int fd;

	fd = open(env->dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		die("open %s O_RDWR|O_DIRECT: %s", env->dev, strerror(errno));
	size = dev_size(fd, env->dev);
	blocks = size / env->bs;
	if (blocks == 0 && (env->reads || env->writes))
		die("%s is %llu bytes, smaller than one %llu-byte block", env->dev,
		    (unsigned long long)size, (unsigned long long)env->bs);
	buf = alloc_buf(env->bs, &rng);

	/*
	 * Each step picks a read with probability reads-left / ops-left:
	 * every interleaving of the N reads and M writes is equally likely.
	 */
	left_r = env->reads;
	left_w = env->writes;
	if (env->refused > env->reads)
		usage_error("--refused %llu: more than the %llu reads",
			    (unsigned long long)env->refused, (unsigned long long)env->reads);
	if (env->refused) {
		/* One byte off: the bio is queued, then refused before a request. */
		bad = alloc_buf(env->bs + BUF_ALIGN, &rng);
	}
	while (left_r + left_w) {
		uint64_t off = rng_below(&rng, blocks) * env->bs;

		if (rng_below(&rng, left_r + left_w) < left_r) {
			if (env->reads - left_r < env->refused)
				refuse_read(fd, (char *)bad + 1, env->bs, off, env->dev);
			xpread(fd, buf, env->bs, off, env->dev);
			left_r--;
		} else {
			xpwrite(fd, buf, env->bs, off, env->dev);
			left_w--;
		}
	}
	if (close(fd))
		die("close %s: %s", env->dev, strerror(errno));
	free(buf);
	free(bad);
	print_summary(env->reads, env->writes, env->bs);
	if (env->refused)
		printf("iogen: refused=%llu\n", (unsigned long long)env->refused);
}

static void run_buffered(const struct env *env)
{
	uint64_t rng = env->seed, i;
	struct stat st;
	void *buf;
	int fd;

	fd = open(env->dev, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s O_WRONLY: %s", env->dev, strerror(errno));
	if (fstat(fd, &st))
		die("fstat %s: %s", env->dev, strerror(errno));
	/* A device cannot grow: refuse up front rather than fail midway. */
	if (S_ISBLK(st.st_mode) && env->writes > dev_size(fd, env->dev) / env->bs)
		die("%llu blocks of %llu bytes do not fit in %s (%llu bytes)",
		    (unsigned long long)env->writes, (unsigned long long)env->bs, env->dev,
		    (unsigned long long)dev_size(fd, env->dev));
	buf = alloc_buf(env->bs, &rng);

	for (i = 0; i < env->writes; i++) {
		/* Distinct contents per block, as a real writer would have. */
		*(uint64_t *)buf = i;
		xpwrite(fd, buf, env->bs, i * env->bs, env->dev);
	}
	if (fsync(fd))
		die("fsync %s: %s", env->dev, strerror(errno));
	if (close(fd))
		die("close %s: %s", env->dev, strerror(errno));
	free(buf);
	print_summary(0, env->writes, env->bs);
}

static double now_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		die("clock_gettime: %s", strerror(errno));
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run_spin(const struct env *env)
{
	double start = now_s(), elapsed;
	volatile uint64_t sink = env->seed;
	uint64_t x = env->seed;
	unsigned long n;

	for (;;) {
		for (n = 0; n < SPIN_CHECK_EVERY; n++)
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		sink = x;
		elapsed = now_s() - start;
		if (elapsed >= env->seconds)
			break;
	}
	(void)sink;
	printf("iogen: spun=%.3f\n", elapsed);
}

int main(int argc, char **argv)
{
	struct env env = {
		.seed = 1,
		.bs = 4096,
	};

	parse_args(argc, argv, &env);
	if (env.cgroup)
		join_cgroup(env.cgroup);

	switch (env.mode) {
	case MODE_RAND:
		run_rand(&env);
		break;
	case MODE_BUFFERED:
		run_buffered(&env);
		break;
	case MODE_SPIN:
		run_spin(&env);
		break;
	case MODE_NONE:
		usage_error("no mode given");
	}
	if (fflush(stdout) || ferror(stdout))
		die("writing to stdout: %s", strerror(errno));
	return 0;
}
