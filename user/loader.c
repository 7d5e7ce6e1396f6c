// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Loader: privileges and BTF checked up front, program type probed by a
 * trial load (tp_btf first, raw_tp if the kernel refuses it), the cycle
 * counter opened per CPU when the host has one, every program attached by
 * link so that closing the links detaches them.  Nothing is pinned.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "cgroupfs.h"
#include "iotrace.h"
#include "iotrace.skel.h"
#include "kvm_layout.h"
#include "loader.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool verbose_libbpf;
/* The last libbpf warnings, quoted when a load fails. */
static char libbpf_log[2048];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t used = strlen(libbpf_log);
	va_list aq;

	if (verbose_libbpf)
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_DEBUG)
		return 0;
	va_copy(aq, ap);
	if (used > sizeof(libbpf_log) / 2)
		used = 0;
	vsnprintf(libbpf_log + used, sizeof(libbpf_log) - used, fmt, aq);
	va_end(aq);
	return 0;
}

const char *prog_mode_name(enum prog_mode m)
{
	switch (m) {
	case PROG_TP_BTF:
		return "tp_btf";
	case PROG_RAW_TP:
		return "raw_tp";
	default:
		return "auto";
	}
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1U << (cap % 32));
}

static int check_privileges(struct loader *l, char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data)) {
		snprintf(err, errlen, "cannot read own capabilities: %s", strerror(errno));
		return -errno;
	}
	/* Socket programs (cgroup_skb) are network administration. */
	l->net_cap = has_cap(data, CAP_NET_ADMIN) || has_cap(data, CAP_SYS_ADMIN);
	if (has_cap(data, CAP_SYS_ADMIN))
		return 0;
	if (has_cap(data, CAP_BPF) && has_cap(data, CAP_PERFMON))
		return 0;
	snprintf(err, errlen,
		 "missing privileges: iotrace needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); "
		 "run it as root or grant them, e.g. setcap cap_bpf,cap_perfmon+ep iotrace");
	return -EPERM;
}

static int check_btf(char *err, size_t errlen)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		return 0;
	snprintf(err, errlen,
		 "this kernel exposes no BTF (/sys/kernel/btf/vmlinux: %s); iotrace's CO-RE "
		 "programs need a kernel built with CONFIG_DEBUG_INFO_BTF=y",
		 strerror(errno));
	return -ENOENT;
}

static int perf_open_cpu(int type, int config, int cpu)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = type,
		.config = config,
	};

	return syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/*
 * Open the cycle counter on every CPU.  Returns 1 when counters are in use,
 * 0 when the host has none (the TSC estimate is used), -errno on failure of
 * an explicitly requested event.
 */
static int setup_pmu(struct loader *l, enum pmu_mode mode, char *err, size_t errlen)
{
	int type = PERF_TYPE_HARDWARE, config = PERF_COUNT_HW_CPU_CYCLES;
	int cpu, fd;

	if (mode == PMU_NONE)
		return 0;
	if (mode == PMU_CPU_CLOCK) {
		type = PERF_TYPE_SOFTWARE;
		config = PERF_COUNT_SW_CPU_CLOCK;
	}
	l->pmu_fds = calloc(l->ncpus, sizeof(*l->pmu_fds));
	if (!l->pmu_fds) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* All -1 first: a failure below leaves the later CPUs unopened. */
	for (cpu = 0; cpu < l->ncpus; cpu++)
		l->pmu_fds[cpu] = -1;
	for (cpu = 0; cpu < l->ncpus; cpu++) {
		fd = perf_open_cpu(type, config, cpu);
		if (fd >= 0) {
			l->pmu_fds[cpu] = fd;
			continue;
		}
		/* Possible but offline CPUs have no counter and run nothing. */
		if (errno == ENODEV && cpu > 0)
			continue;
		if (mode == PMU_AUTO)
			return 0;
		snprintf(err, errlen, "cannot open the %s perf event on CPU %d: %s",
			 mode == PMU_CPU_CLOCK ? "cpu-clock" : "cycles", cpu, strerror(errno));
		return -errno;
	}
	return 1;
}

static void close_pmu(struct loader *l)
{
	int cpu;

	if (!l->pmu_fds)
		return;
	for (cpu = 0; cpu < l->ncpus; cpu++)
		if (l->pmu_fds[cpu] >= 0)
			close(l->pmu_fds[cpu]);
	free(l->pmu_fds);
	l->pmu_fds = NULL;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * Whether the kernel has the tracepoint a program's section names
 * ("tp_btf/kvm_exit"): every tracepoint has a btf_trace_<name> typedef in
 * the kernel's BTF.  The block and sched ones are always there; the KVM
 * ones only with KVM, and kvm_exit/kvm_entry only on x86.
 */
static bool has_tracepoint(const struct btf *vmlinux, const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog), *tp = strchr(sec, '/');
	const struct btf_type *t;
	char name[128];
	int id;

	if (!tp || !vmlinux)
		return true;
	snprintf(name, sizeof(name), "btf_trace_%s", tp + 1);
	id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return false;
	if (strcmp(tp + 1, "kvm_exit"))
		return true;
	/*
	 * kvm_exit took (exit_reason, vcpu, isa) before Linux 5.16 and takes
	 * (vcpu, isa) since: the handlers are written for the latter, so on an
	 * older kernel they stay out rather than read a reason as a pointer.
	 * The typedef is a pointer to (void *ctx, args...).
	 */
	t = btf__type_by_id(vmlinux, id);
	while (t && (btf_is_typedef(t) || btf_is_ptr(t)))
		t = btf__type_by_id(vmlinux, t->type);
	return t && btf_is_func_proto(t) && btf_vlen(t) == 3;
}

/* Whether the kernel's struct `type` has a member `member` (as CO-RE will find it). */
static bool has_member(const struct btf *btf, const char *type, const char *member)
{
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
	const struct btf_type *t = id < 0 ? NULL : btf__type_by_id(btf, id);
	const struct btf_member *m;

	if (!t)
		return false;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), member))
			return true;
	return false;
}

static bool is_kvm_prog(const char *name)
{
	return strncmp(name, "kvm_", 4) == 0;
}

static bool is_net_prog(const char *name)
{
	return strncmp(name, "net_", 4) == 0;
}

/*
 * The network programs count sockets' packets from the cgroup2 root, so
 * they need that root open and CAP_NET_ADMIN.  Without either, iotrace
 * runs without network figures and says why (loader.net_off).
 */
static void open_cgroup_root(struct loader *l)
{
	char mount[512];
	int err;

	l->cgroup_root_fd = -1;
	if (!l->net_cap) {
		l->net_off = "needs CAP_NET_ADMIN";
		return;
	}
	err = cgfs_find_mount("/proc/mounts", mount, sizeof(mount));
	if (err) {
		l->net_off = err == -ENOENT ? "no cgroup2 hierarchy mounted" :
					      "cannot find the cgroup2 mount";
		return;
	}
	l->cgroup_root_fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->cgroup_root_fd < 0)
		l->net_off = "cannot open the cgroup2 root";
}

/* Open and load one variant of the programs. 0 or -errno. */
static int load_variant(struct loader *l, enum prog_mode mode, bool use_pmu,
			const struct btf *vmlinux, const struct iotrace_kvm_layout *layout)
{
	struct bpf_program *prog;
	int err;

	l->skel = iotrace_bpf__open();
	if (!l->skel)
		return -errno;
	l->kvm = l->kvm_exit = false;
	bpf_object__for_each_program(prog, l->skel->obj) {
		const char *name = bpf_program__name(prog);
		bool load;

		if (ends_with(name, "_btf"))
			load = mode == PROG_TP_BTF;
		else if (ends_with(name, "_raw"))
			load = mode == PROG_RAW_TP;
		else if (is_net_prog(name))
			load = true; /* cgroup_skb: one variant */
		else
			continue;
		if (load && is_net_prog(name) && l->cgroup_root_fd < 0)
			load = false;
		/* A host without KVM runs no VMs: its KVM programs stay out. */
		if (load && is_kvm_prog(name) && !has_tracepoint(vmlinux, prog))
			load = false;
		if (load && is_kvm_prog(name)) {
			l->kvm = true;
			if (!strncmp(name, "kvm_exit", 8))
				l->kvm_exit = true;
		}
		bpf_program__set_autoload(prog, load);
	}
	l->skel->rodata->use_pmu = use_pmu;
	l->skel->rodata->kvm_layout = *layout;
	l->skel->rodata->attach_ns = mono_ns();
	bpf_map__set_max_entries(l->skel->maps.pmu, l->ncpus);
	err = iotrace_bpf__load(l->skel);
	if (err) {
		iotrace_bpf__destroy(l->skel);
		l->skel = NULL;
		return err;
	}
	l->mode = mode;
	return 0;
}

static int attach_all(struct loader *l, char *err, size_t errlen)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, l->skel->obj)
		n++;
	l->links = calloc(n, sizeof(*l->links));
	l->progs = calloc(n, sizeof(*l->progs));
	if (!l->links || !l->progs) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	bpf_object__for_each_program(prog, l->skel->obj) {
		struct bpf_link *link;

		if (!bpf_program__autoload(prog) || prog == l->skel->progs.iotrace_flush)
			continue;
		if (bpf_program__type(prog) == BPF_PROG_TYPE_CGROUP_SKB)
			link = bpf_program__attach_cgroup(prog, l->cgroup_root_fd);
		else
			link = bpf_program__attach(prog);
		if (!link) {
			int e = -errno;

			snprintf(err, errlen, "cannot attach %s (%s): %s", bpf_program__name(prog),
				 bpf_program__section_name(prog), strerror(-e));
			return e;
		}
		l->progs[l->nlinks] = prog;
		l->links[l->nlinks++] = link;
	}
	return 0;
}

int loader_open(struct loader *l, const struct loader_opts *o, char *err, size_t errlen)
{
	struct iotrace_kvm_layout layout = {};
	struct btf *vmlinux = NULL;
	int ret, pmu;

	memset(l, 0, sizeof(*l));
	l->flush_fd = -1;
	l->cgroup_root_fd = -1;
	l->stats_fd = -1;
	verbose_libbpf = o->verbose;
	libbpf_set_print(libbpf_print);

	ret = check_privileges(l, err, errlen);
	if (ret)
		return ret;
	open_cgroup_root(l);
	ret = check_btf(err, errlen);
	if (ret)
		return ret;
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		snprintf(err, errlen, "cannot count possible CPUs: %s", strerror(-l->ncpus));
		return l->ncpus ? l->ncpus : -EINVAL;
	}

	pmu = setup_pmu(l, o->pmu, err, errlen);
	if (pmu < 0)
		goto fail;
	if (!pmu)
		close_pmu(l);
	l->cycles_source = !pmu ? "tsc-estimate" :
				  (o->pmu == PMU_CPU_CLOCK ? "pmu-cpu-clock" : "pmu");

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		ret = -errno;
		snprintf(err, errlen, "cannot read the kernel's BTF: %s", strerror(errno));
		goto fail;
	}
	l->kvm_reasons = kvm_layout_find(vmlinux, &layout) == 0;
	l->sched_info = has_member(vmlinux, "task_struct", "sched_info");

	libbpf_log[0] = '\0';
	ret = -EINVAL;
	if (o->prog == PROG_AUTO || o->prog == PROG_TP_BTF)
		ret = load_variant(l, PROG_TP_BTF, pmu > 0, vmlinux, &layout);
	if (ret && o->prog != PROG_TP_BTF) {
		if (o->verbose && o->prog == PROG_AUTO)
			fprintf(stderr, "iotrace: tp_btf programs refused (%s), using raw_tp\n",
				strerror(-ret));
		libbpf_log[0] = '\0';
		ret = load_variant(l, PROG_RAW_TP, pmu > 0, vmlinux, &layout);
	}
	btf__free(vmlinux);
	vmlinux = NULL;
	if (ret) {
		snprintf(
			err, errlen,
			"cannot load the BPF programs (%s); run with -v for the verifier log%s%.1500s",
			strerror(-ret), libbpf_log[0] ? "; libbpf said: " : "", libbpf_log);
		goto fail;
	}

	if (pmu > 0) {
		int map_fd = bpf_map__fd(l->skel->maps.pmu);

		for (int cpu = 0; cpu < l->ncpus; cpu++) {
			if (l->pmu_fds[cpu] < 0)
				continue;
			if (bpf_map_update_elem(map_fd, &cpu, &l->pmu_fds[cpu], BPF_ANY)) {
				ret = -errno;
				snprintf(err, errlen,
					 "cannot install the cycle counter of CPU %d: %s", cpu,
					 strerror(errno));
				goto fail;
			}
		}
	}
	l->flush_fd = bpf_program__fd(l->skel->progs.iotrace_flush);

	ret = attach_all(l, err, errlen);
	if (ret)
		goto fail;
	/* Start every CPU's slice now rather than at its next switch. */
	ret = loader_flush(l);
	if (ret) {
		snprintf(err, errlen, "cannot run the flush program: %s", strerror(-ret));
		goto fail;
	}
	return 0;
fail:
	btf__free(vmlinux);
	loader_close(l);
	return ret;
}

int loader_flush(struct loader *l)
{
	__u64 args[1] = { 0 };
	int cpu;

	for (cpu = 0; cpu < l->ncpus; cpu++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args),
			    .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = cpu);

		if (bpf_prog_test_run_opts(l->flush_fd, &opts) == 0)
			continue;
		/* Offline CPUs run no task and have nothing to flush. */
		if (errno == ENXIO)
			continue;
		return -errno;
	}
	return 0;
}

int loader_map_fd(const struct loader *l, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(l->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

void loader_vm_removed(struct loader *l)
{
	struct iotrace_vm_state *vs = &l->skel->bss->vm_state;

	/* BPF updates the same words with atomic adds. */
	__atomic_fetch_sub(&vs->nr_vms, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&vs->generation, 1, __ATOMIC_SEQ_CST);
}

void loader_vm_added(struct loader *l)
{
	struct iotrace_vm_state *vs = &l->skel->bss->vm_state;

	__atomic_fetch_add(&vs->nr_vms, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&vs->generation, 1, __ATOMIC_SEQ_CST);
}

int loader_enable_stats(struct loader *l)
{
	if (l->stats_fd >= 0)
		return 0;
	l->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	return l->stats_fd < 0 ? -errno : 0;
}

void loader_close(struct loader *l)
{
	int i;

	for (i = 0; i < l->nlinks; i++)
		bpf_link__destroy(l->links[i]);
	free(l->links);
	free(l->progs);
	l->links = NULL;
	l->progs = NULL;
	l->nlinks = 0;
	if (l->skel)
		iotrace_bpf__destroy(l->skel);
	l->skel = NULL;
	if (l->cgroup_root_fd >= 0)
		close(l->cgroup_root_fd);
	l->cgroup_root_fd = -1;
	if (l->stats_fd >= 0)
		close(l->stats_fd);
	l->stats_fd = -1;
	close_pmu(l);
}
