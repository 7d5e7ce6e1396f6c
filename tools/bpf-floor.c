// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf-floor: attach the benchmark's reference programs to iotrace's
 * tracepoints until SIGINT or SIGTERM.  By default the empty programs (the
 * floor); with --carrier, the least per-I/O work that charging a completion
 * to its submitter needs (tools/bpf/carrier.bpf.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "carrier.skel.h"
#include "floor.skel.h"

static void wait_for_signal(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fprintf(stderr, "bpf-floor: attached\n");
	sigwait(&set, &sig);
}

/*
 * Attach the object's cgroup_skb programs to the cgroup2 root, as iotrace
 * does (the skeleton cannot: they need a cgroup).  The links go with the
 * object.  0 or -errno.
 */
static int attach_cgroup_progs(struct bpf_object *obj, struct bpf_link **links, int max)
{
	const char *roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	struct bpf_program *prog;
	int fd = -1, n = 0;

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]) && fd < 0; i++) {
		fd = open(roots[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* The v2 root has cgroup.procs but no cgroup.clone_children. */
		if (fd >= 0 && !faccessat(fd, "cgroup.clone_children", F_OK, 0)) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		fprintf(stderr, "bpf-floor: no cgroup2 root found\n");
		return -ENOENT;
	}
	bpf_object__for_each_program(prog, obj) {
		if (bpf_program__type(prog) != BPF_PROG_TYPE_CGROUP_SKB || n == max)
			continue;
		links[n] = bpf_program__attach_cgroup(prog, fd);
		if (!links[n]) {
			fprintf(stderr, "bpf-floor: cannot attach %s: %s\n",
				bpf_program__name(prog), strerror(errno));
			close(fd);
			return -errno;
		}
		n++;
	}
	close(fd);
	return 0;
}

static void destroy_links(struct bpf_link **links, int max)
{
	for (int i = 0; i < max; i++)
		bpf_link__destroy(links[i]);
}

static int run_floor(void)
{
	struct floor_bpf *skel = floor_bpf__open_and_load();
	struct bpf_link *links[2] = {};
	int err;

	if (!skel) {
		fprintf(stderr, "bpf-floor: cannot load the empty programs\n");
		return 1;
	}
	err = floor_bpf__attach(skel);
	if (err)
		fprintf(stderr, "bpf-floor: cannot attach: %s\n", strerror(-err));
	else
		err = attach_cgroup_progs(skel->obj, links, 2);
	if (!err)
		wait_for_signal();
	destroy_links(links, 2);
	floor_bpf__destroy(skel);
	return err ? 1 : 0;
}

static int run_carrier(void)
{
	struct carrier_bpf *skel = carrier_bpf__open_and_load();
	struct bpf_link *links[2] = {};
	int err;

	if (!skel) {
		fprintf(stderr, "bpf-floor: cannot load the carrier programs\n");
		return 1;
	}
	err = carrier_bpf__attach(skel);
	if (err)
		fprintf(stderr, "bpf-floor: cannot attach: %s\n", strerror(-err));
	else
		err = attach_cgroup_progs(skel->obj, links, 2);
	if (!err)
		wait_for_signal();
	destroy_links(links, 2);
	carrier_bpf__destroy(skel);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 1)
		return run_floor();
	if (argc == 2 && !strcmp(argv[1], "--carrier"))
		return run_carrier();
	fprintf(stderr, "usage: bpf-floor [--carrier]\n");
	return 2;
}
