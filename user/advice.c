// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The rules of `iotrace advise`: see advice.h, and docs/advice.md for why
 * each threshold is what it is.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "advice.h"

const char *const advice_rule_ids[ADVICE_NRULES] = {
	"vm.io_main_loop",
	"vm.no_hugepages",
	"vm.cpu_topology",
	"vm.unpinned_vcpu",
};

/* The rules that know QEMU's threads and options: the first ADVICE_QEMU_RULES ids. */
#define ADVICE_QEMU_RULES 3

const char *advice_severity_name(enum advice_severity s)
{
	return s == ADVICE_WARNING ? "warning" : "info";
}

const char *advice_status_name(enum advice_status s)
{
	switch (s) {
	case ADVICE_RAISED:
		return "raised";
	case ADVICE_THIN:
		return "thin";
	default:
		return "passed";
	}
}

uint64_t advice_block_ops(const struct advice_vm_measure *m)
{
	uint64_t n = 0;

	for (int k = 0; k < VM_ROLE_MAX; k++)
		n += m->role_ops[k];
	return n;
}

/* No iothread anywhere: none configured for a device, none running. */
static bool no_iothread(const struct advice_vm *vm)
{
	return vm->cfg.cmdline_read && !vm->cfg.iothread_devices &&
	       !vm->m.role_threads[VM_ROLE_IOTHREAD];
}

uint64_t advice_main_loop_ops(const struct advice_vm *vm, bool *with_pool)
{
	uint64_t n = vm->m.role_ops[VM_ROLE_MAIN];

	*with_pool = false;
	if (no_iothread(vm)) {
		n += vm->m.role_ops[VM_ROLE_WORKER] + vm->m.role_ops[VM_ROLE_IO_URING];
		*with_pool = true;
	}
	return n;
}

double advice_io_path_cycles_per_io(const struct advice_vm_measure *m)
{
	uint64_t ops = advice_block_ops(m), ns = 0;

	if (!ops)
		return -1;
	for (int k = 0; k < VM_ROLE_MAX; k++)
		if (k != VM_ROLE_VCPU)
			ns += m->role_cpu_ns[k];
	return (double)ns * m->cycles_per_ns / (double)ops;
}

/* ---- building a finding ---- */

static struct advice_fig *fig_add(struct advice_fig *figs, size_t *n, size_t cap, const char *key)
{
	struct advice_fig *f;

	if (*n >= cap)
		return NULL;
	f = &figs[(*n)++];
	memset(f, 0, sizeof(*f));
	f->key = key;
	return f;
}

void advice_ev_num(struct advice_finding *fd, const char *key, double v, int prec)
{
	struct advice_fig *f = fig_add(fd->evidence, &fd->nevidence, ADVICE_MAX_FIGS, key);

	if (!f)
		return;
	f->type = v < 0 ? ADVICE_FIG_NULL : ADVICE_FIG_NUM;
	f->num = v;
	f->prec = prec;
}

void advice_ev_str(struct advice_finding *fd, const char *key, const char *s)
{
	struct advice_fig *f = fig_add(fd->evidence, &fd->nevidence, ADVICE_MAX_FIGS, key);

	if (!f)
		return;
	f->type = s ? ADVICE_FIG_STR : ADVICE_FIG_NULL;
	snprintf(f->str, sizeof(f->str), "%s", s ? s : "");
}

void advice_sv_num(struct advice_finding *fd, const char *key, double v, int prec)
{
	struct advice_fig *f = fig_add(fd->saving, &fd->nsaving, ADVICE_MAX_SAVING, key);

	if (!f)
		return;
	f->type = ADVICE_FIG_NUM;
	f->num = v;
	f->prec = prec;
}

void advice_setf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

static struct advice_finding *raise(struct advice_result *res, struct advice_check *c,
				    const char *id, enum advice_severity sev)
{
	struct advice_finding *fd = &res->findings[res->nfindings++];

	memset(fd, 0, sizeof(*fd));
	fd->id = id;
	fd->severity = sev;
	c->status = ADVICE_RAISED;
	return fd;
}

/* "1.23M", "4.56k", "789": a count or rate in a sentence. */
static const char *human(double v, char *buf, size_t len)
{
	if (v >= 1e9)
		snprintf(buf, len, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

static double mib(uint64_t bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

/* ---- vm.io_main_loop ---- */

/* The VM's I/O is on an iothread: the remedy already in place. */
static bool io_on_iothread(const struct advice_vm *vm)
{
	uint64_t ops = advice_block_ops(&vm->m);

	return ops >= ADVICE_MIN_BLOCK_OPS && vm->m.seconds >= ADVICE_MIN_SECONDS &&
	       vm->m.role_ops[VM_ROLE_IOTHREAD] >= ADVICE_MAIN_LOOP_MIN_SHARE * (double)ops;
}

static void io_main_loop_saving(const struct advice_vm *vms, size_t nvms, size_t which,
				struct advice_finding *fd)
{
	const struct advice_vm *vm = &vms[which], *ref = NULL;
	double mine = advice_io_path_cycles_per_io(&vm->m), best = -1, iops, cpu_pct;
	char a[32], b[32];

	for (size_t j = 0; j < nvms; j++) {
		double c;

		if (j == which || !io_on_iothread(&vms[j]))
			continue;
		c = advice_io_path_cycles_per_io(&vms[j].m);
		if (c >= 0 && (!ref || c < best)) {
			ref = &vms[j];
			best = c;
		}
	}
	if (!ref) {
		ADVICE_SETF(
			fd->saving_basis,
			"not estimated: no VM doing its disk I/O on an iothread was measured on this "
			"host in this run (at least %d block ops over %.0f s); run one with the same "
			"disk and workload to compare. The study (Felter et al. 2014) measured KVM at "
			"about half the native random-read IOPS (46k vs 84k), every I/O going "
			"through QEMU",
			ADVICE_MIN_BLOCK_OPS, ADVICE_MIN_SECONDS);
		return;
	}
	if (best >= mine) {
		ADVICE_SETF(
			fd->saving_basis,
			"no cycles to save measured: %s (pid %d), with its I/O on an iothread on this "
			"host, costs %s cycles per I/O outside its vCPU threads against this VM's %s; "
			"expect the gain in the main loop's freedom (latency, IOPS under load), not "
			"in host CPU",
			ref->name, ref->pid, human(best, a, sizeof(a)), human(mine, b, sizeof(b)));
		return;
	}
	iops = vm->m.seconds > 0 ? advice_block_ops(&vm->m) / vm->m.seconds : 0;
	cpu_pct = vm->m.cycles_per_ns > 0 ?
			  (mine - best) * iops / (vm->m.cycles_per_ns * 1e9) * 100 :
			  0;
	advice_sv_num(fd, "cycles_per_io", mine - best, 1);
	advice_sv_num(fd, "cpu_pct_of_one_cpu", cpu_pct, 2);
	ADVICE_SETF(
		fd->saving_basis,
		"measured on this host: %s (pid %d) does its disk I/O on an iothread at %s cycles per "
		"I/O outside its vCPU threads, this VM at %s; the difference at this VM's %.0f IOPS",
		ref->name, ref->pid, human(best, a, sizeof(a)), human(mine, b, sizeof(b)), iops);
}

static void rule_io_main_loop(const struct advice_vm *vms, size_t nvms, size_t which,
			      struct advice_result *res, struct advice_check *c)
{
	const struct advice_vm *vm = &vms[which];
	const struct advice_vm_measure *m = &vm->m;
	uint64_t ops = advice_block_ops(m), main_ops;
	struct advice_finding *fd;
	bool pool;
	double share, iops, main_cpu;
	char h1[32];

	if (ops < ADVICE_MIN_BLOCK_OPS || m->seconds < ADVICE_MIN_SECONDS) {
		ADVICE_SETF(
			c->reason,
			"%llu block ops over %.1f s: needs at least %d over %.0f s to judge where the "
			"VM's I/O is submitted",
			(unsigned long long)ops, m->seconds, ADVICE_MIN_BLOCK_OPS,
			ADVICE_MIN_SECONDS);
		c->status = ADVICE_THIN;
		return;
	}
	main_ops = advice_main_loop_ops(vm, &pool);
	share = (double)main_ops / (double)ops;
	if (share < ADVICE_MAIN_LOOP_MIN_SHARE) {
		ADVICE_SETF(c->reason,
			    "%.0f%% of %llu block ops on the main loop (%s), under %.0f%%",
			    share * 100, (unsigned long long)ops,
			    pool ? "main, worker, io_uring" : "main",
			    ADVICE_MAIN_LOOP_MIN_SHARE * 100);
		c->status = ADVICE_PASSED;
		return;
	}
	fd = raise(res, c, c->id, ADVICE_WARNING);
	iops = ops / m->seconds;
	main_cpu = m->role_cpu_ns[VM_ROLE_MAIN] / (m->seconds * 1e9) * 100;
	ADVICE_SETF(
		fd->summary,
		"%.0f%% of the VM's %llu disk I/Os are submitted by QEMU's main loop%s (no iothread); "
		"%s host cycles per I/O, %.2f exits per I/O",
		share * 100, (unsigned long long)ops,
		pool && main_ops > m->role_ops[VM_ROLE_MAIN] ? " and the thread pool it feeds" : "",
		m->host_cycles_per_io >= 0 ? human(m->host_cycles_per_io, h1, sizeof(h1)) : "-",
		m->exits_per_io >= 0 ? m->exits_per_io : 0.0);
	advice_ev_num(fd, "block_ops", (double)ops, 0);
	advice_ev_num(fd, "main_loop_ops", (double)main_ops, 0);
	advice_ev_num(fd, "main_loop_share", share, 3);
	advice_ev_str(fd, "main_loop_roles", pool ? "main,worker,io_uring" : "main");
	advice_ev_num(fd, "main_ops", (double)m->role_ops[VM_ROLE_MAIN], 0);
	advice_ev_num(fd, "worker_ops", (double)m->role_ops[VM_ROLE_WORKER], 0);
	advice_ev_num(fd, "iothread_ops", (double)m->role_ops[VM_ROLE_IOTHREAD], 0);
	advice_ev_num(fd, "iops", iops, 1);
	advice_ev_num(fd, "main_cpu_pct", main_cpu, 2);
	advice_ev_num(fd, "exits_per_io", m->exits_per_io, 4);
	advice_ev_str(fd, "exits_source", m->exits_source);
	advice_ev_num(fd, "host_cycles_per_io", m->host_cycles_per_io, 1);
	advice_ev_num(fd, "io_path_cycles_per_io", advice_io_path_cycles_per_io(m), 1);
	advice_ev_num(fd, "seconds", m->seconds, 1);
	ADVICE_SETF(
		fd->source,
		"iotrace: block I/O by submitting thread (role from QEMU's thread names), KVM "
		"exits and CPU time of the QEMU process over %.1f s; cycles: %s; iothreads on the "
		"command line: %u",
		m->seconds, m->cycles_source ? m->cycles_source : "unknown", vm->cfg.iothreads);
	ADVICE_SETF(
		fd->remedy,
		"Give the disk an iothread, so that its I/O leaves the main loop (and the big QEMU "
		"lock). QEMU: -object iothread,id=io0 -device virtio-blk-pci,drive=DRIVE,iothread=io0 "
		"(virtio-scsi: -device virtio-scsi-pci,iothread=io0), with aio=native and "
		"cache.direct=on (or aio=io_uring) on the drive. libvirt: <iothreads>1</iothreads> in "
		"<domain> and <driver name='qemu' type='raw' cache='none' io='native' iothread='1'/> "
		"in the <disk>.");
	io_main_loop_saving(vms, nvms, which, fd);
}

/* ---- vm.no_hugepages ---- */

static const char *backend_name(const struct vm_config *cfg)
{
	return cfg->mem_backend[0] ? cfg->mem_backend : "anonymous";
}

static void rule_no_hugepages(const struct advice_vm *vm, struct advice_result *res,
			      struct advice_check *c)
{
	const struct vm_config *cfg = &vm->cfg;
	bool cmd_huge = cfg->memfd_hugetlb || cfg->mem_path_hugetlbfs;
	uint64_t huge, base, pt4k, pt2m;
	struct advice_finding *fd;
	double coverage;

	if (!cfg->cmdline_read && !cfg->smaps_read) {
		ADVICE_SETF(
			c->reason,
			"the VM process's command line and smaps could not be read (gone before iotrace looked?)");
		c->status = ADVICE_THIN;
		return;
	}
	if (!cfg->smaps_read || !cfg->ram_maps) {
		if (cmd_huge) {
			ADVICE_SETF(c->reason,
				    "the command line backs guest RAM with hugetlbfs (%s)",
				    cfg->memfd_hugetlb ? "memory-backend-memfd,hugetlb=on" :
							 cfg->mem_path);
			c->status = ADVICE_PASSED;
			return;
		}
		ADVICE_SETF(c->reason, "%s",
			    !cfg->smaps_read ? "smaps could not be read" :
					       "no guest RAM mapping found in smaps");
		c->status = ADVICE_THIN;
		return;
	}
	if (!cfg->ram_hugetlb_bytes && cfg->ram_rss_bytes < ADVICE_HUGE_MIN_RSS) {
		ADVICE_SETF(
			c->reason,
			"%.1f MiB of guest RAM resident: needs %llu MiB to judge its transparent huge "
			"pages",
			mib(cfg->ram_rss_bytes), ADVICE_HUGE_MIN_RSS >> 20);
		c->status = ADVICE_THIN;
		return;
	}
	huge = cfg->ram_hugetlb_bytes + cfg->ram_thp_bytes;
	base = cfg->ram_hugetlb_bytes + cfg->ram_rss_bytes;
	coverage = base ? (double)huge / (double)base : 0;
	if (coverage >= ADVICE_HUGE_MIN_COVERAGE) {
		ADVICE_SETF(c->reason, "%.0f%% of the resident guest RAM is on huge pages (%s)",
			    coverage * 100,
			    cfg->ram_hugetlb_bytes ? "hugetlbfs" : "transparent huge pages");
		c->status = ADVICE_PASSED;
		return;
	}
	fd = raise(res, c, c->id, cfg->accel == VM_ACCEL_TCG ? ADVICE_INFO : ADVICE_WARNING);
	/* Last-level page tables: 8 bytes per 4 KiB page, or per 2 MiB page. */
	pt4k = cfg->ram_map_bytes / 512;
	pt2m = cfg->ram_map_bytes / (512 * 512);
	ADVICE_SETF(fd->summary,
		    "guest RAM (%.0f MiB, %s) is on 4 KiB pages: huge pages back %.0f%% of the "
		    "%.0f MiB resident",
		    mib(cfg->ram_map_bytes), backend_name(cfg), coverage * 100,
		    mib(cfg->ram_rss_bytes));
	advice_ev_num(fd, "ram_bytes", (double)cfg->ram_bytes, 0);
	advice_ev_num(fd, "ram_mapped_bytes", (double)cfg->ram_map_bytes, 0);
	advice_ev_num(fd, "ram_resident_bytes",
		      (double)(cfg->ram_rss_bytes + cfg->ram_hugetlb_bytes), 0);
	advice_ev_num(fd, "thp_bytes", (double)cfg->ram_thp_bytes, 0);
	advice_ev_num(fd, "hugetlb_bytes", (double)cfg->ram_hugetlb_bytes, 0);
	advice_ev_num(fd, "huge_coverage", coverage, 3);
	advice_ev_str(fd, "backend", backend_name(cfg));
	advice_ev_str(fd, "mem_path", cfg->mem_path[0] ? cfg->mem_path : NULL);
	advice_ev_str(fd, "accel", vm_accel_name(cfg->accel));
	ADVICE_SETF(
		fd->source,
		"/proc/%d/smaps (%zu guest RAM mapping%s%s: Rss, AnonHugePages, ShmemPmdMapped, "
		"KernelPageSize) and the QEMU command line (-m, -mem-path, memory backends)",
		vm->pid, cfg->ram_maps, cfg->ram_maps == 1 ? "" : "s",
		cfg->smaps_truncated ? ", smaps cut at 16 MiB" : "");
	ADVICE_SETF(
		fd->remedy,
		"Back guest RAM with huge pages. Host: reserve them (echo N > "
		"/proc/sys/vm/nr_hugepages, N = RAM / 2 MiB; or hugepages= on the kernel command "
		"line) and mount hugetlbfs (/dev/hugepages). QEMU: -object "
		"memory-backend-file,id=mem0,size=%lluM,mem-path=/dev/hugepages,share=off,"
		"prealloc=on -machine memory-backend=mem0 (or -object "
		"memory-backend-memfd,id=mem0,size=%lluM,hugetlb=on), or at least transparent huge "
		"pages for anonymous RAM (/sys/kernel/mm/transparent_hugepage/enabled: madvise or "
		"always). libvirt: <memoryBacking><hugepages/></memoryBacking>.%s",
		(unsigned long long)(cfg->ram_bytes >> 20),
		(unsigned long long)(cfg->ram_bytes >> 20),
		cfg->accel == VM_ACCEL_TCG ?
			" Under TCG the guest's memory accesses go through QEMU's soft MMU: the gain "
			"is smaller than under KVM." :
			"");
	advice_sv_num(fd, "page_table_bytes", (double)(pt4k - pt2m), 0);
	ADVICE_SETF(
		fd->saving_basis,
		"host page tables for the %.0f MiB of guest RAM measured in smaps: %.2f MiB with 4 "
		"KiB pages, %.3f MiB with 2 MiB pages (8 bytes per page%s). The CPU saving (TLB "
		"misses, two-level page walks under KVM) needs a hardware TLB miss counter: not "
		"measured",
		mib(cfg->ram_map_bytes), mib(pt4k), mib(pt2m),
		cfg->accel == VM_ACCEL_KVM ? "; the EPT/NPT tables shrink alike" : "");
}

/* ---- vm.cpu_topology ---- */

static bool passthrough(const struct vm_config *cfg)
{
	return !strcmp(cfg->cpu_model, "host") ||
	       (!strcmp(cfg->cpu_model, "max") && cfg->accel == VM_ACCEL_KVM);
}

static void rule_cpu_topology(const struct advice_vm *vm, struct advice_result *res,
			      struct advice_check *c)
{
	const struct vm_config *cfg = &vm->cfg;
	bool model_hides, topo_missing;
	struct advice_finding *fd;
	char model[96], topo[96];
	unsigned int n;

	if (!cfg->cmdline_read) {
		ADVICE_SETF(
			c->reason,
			"the VM process's command line could not be read (gone before iotrace looked?)");
		c->status = ADVICE_THIN;
		return;
	}
	model_hides = !passthrough(cfg);
	topo_missing = cfg->smp_cpus > 1 && !cfg->smp_topology;
	if (!model_hides && !topo_missing) {
		ADVICE_SETF(c->reason, "-cpu %s passes the host's CPU through%s", cfg->cpu_model,
			    cfg->smp_cpus > 1 ? ", with an explicit -smp topology" : "");
		c->status = ADVICE_PASSED;
		return;
	}
	fd = raise(res, c, c->id, ADVICE_INFO);
	ADVICE_SETF(model, "%s%s", cfg->cpu_model[0] ? cfg->cpu_model : "qemu64",
		    cfg->cpu_model[0] ? "" : " (QEMU's default: no -cpu)");
	if (cfg->smp_topology)
		ADVICE_SETF(topo, "sockets=%u,dies=%u,cores=%u,threads=%u",
			    cfg->sockets ? cfg->sockets : 1, cfg->dies ? cfg->dies : 1,
			    cfg->cores ? cfg->cores : 1, cfg->threads ? cfg->threads : 1);
	else
		ADVICE_SETF(topo, "%s",
			    cfg->smp_cpus > 1 ? "not given (QEMU chooses)" : "one vCPU");
	if (model_hides && topo_missing)
		ADVICE_SETF(
			fd->summary,
			"the guest sees CPU model %s, not the host's CPU and cache layout, and its %u "
			"vCPUs have no sockets/cores/threads",
			model, cfg->smp_cpus);
	else if (model_hides)
		ADVICE_SETF(fd->summary,
			    "the guest sees CPU model %s, not the host's CPU and cache layout",
			    model);
	else
		ADVICE_SETF(
			fd->summary,
			"the guest's %u vCPUs have no sockets/cores/threads: QEMU picks a layout that "
			"need not match the host's",
			cfg->smp_cpus);
	advice_ev_str(fd, "cpu_model", cfg->cpu_model[0] ? cfg->cpu_model : NULL);
	advice_ev_num(fd, "vcpus", cfg->smp_cpus, 0);
	advice_ev_str(fd, "topology", topo);
	advice_ev_str(fd, "accel", vm_accel_name(cfg->accel));
	ADVICE_SETF(fd->source, "the QEMU command line (/proc/%d/cmdline: -cpu, -smp, -accel)",
		    vm->pid);
	n = cfg->smp_cpus ? cfg->smp_cpus : 1;
	ADVICE_SETF(
		fd->remedy,
		"Pass the host CPU through and give the vCPUs a topology that matches the host's "
		"cores and threads. QEMU: -cpu host -smp %u,sockets=1,cores=%u,threads=1 (KVM only: "
		"-accel kvm; -cpu host is refused under TCG%s). libvirt: <cpu mode='host-passthrough' "
		"check='none'><topology sockets='1' dies='1' cores='%u' threads='1'/><cache "
		"mode='passthrough'/></cpu>.",
		n, n, cfg->accel == VM_ACCEL_TCG ? ", which this VM uses" : "", n);
	ADVICE_SETF(fd->saving_basis,
		    "not estimated: the gain is inside the guest (its scheduler's cache-aware "
		    "placement, instruction sets it may use), which iotrace does not see");
}

/* ---- vm.unpinned_vcpu ---- */

static void rule_unpinned_vcpu(const struct advice_vm *vm, struct advice_result *res,
			       struct advice_check *c)
{
	const struct advice_vm_measure *m = &vm->m;
	const struct vm_vcpu_pinning *pin = &vm->cfg.pin;
	uint64_t cpu = m->role_cpu_ns[VM_ROLE_VCPU], wait = m->role_runq_wait_ns[VM_ROLE_VCPU];
	uint64_t waits = m->role_runq_waits[VM_ROLE_VCPU], mig = m->role_migrations[VM_ROLE_VCPU];
	unsigned int vcpus = m->role_threads[VM_ROLE_VCPU];
	double rate, share, mean_us, wait_s;
	bool mig_hit, wait_hit;
	struct advice_finding *fd;
	char w1[64];

	if (!vcpus) {
		ADVICE_SETF(c->reason,
			    "no vCPU thread seen (none fired a KVM event or had a vCPU's name)");
		c->status = ADVICE_THIN;
		return;
	}
	if (m->seconds < ADVICE_MIN_SECONDS || cpu < ADVICE_PIN_MIN_VCPU_NS) {
		ADVICE_SETF(
			c->reason,
			"the vCPU threads ran %.0f ms over %.1f s: needs at least %.0f ms over %.0f s to "
			"judge where they run",
			cpu / 1e6, m->seconds, ADVICE_PIN_MIN_VCPU_NS / 1e6, ADVICE_MIN_SECONDS);
		c->status = ADVICE_THIN;
		return;
	}
	if (!pin->read) {
		ADVICE_SETF(
			c->reason,
			"the CPU affinity of the vCPU threads could not be read (gone before iotrace "
			"looked?)");
		c->status = ADVICE_THIN;
		return;
	}
	share = wait + cpu ? (double)wait / (double)(wait + cpu) : 0;
	mean_us = waits ? (double)wait / (double)waits / 1e3 : 0;
	wait_s = (double)wait / 1e9;
	if (m->runq_wait_known)
		ADVICE_SETF(w1, "%.0f%% of their runnable time waiting, %.0f us a wait",
			    share * 100, mean_us);
	else
		ADVICE_SETF(w1, "run-queue wait unknown (kernel without CONFIG_SCHED_INFO)");
	if (pin->pinned == pin->read) {
		ADVICE_SETF(c->reason, "pinned: each vCPU thread to a CPU of its own (%s); %s",
			    pin->affinity, w1);
		c->status = ADVICE_PASSED;
		return;
	}
	rate = (double)mig / m->seconds / vcpus;
	mig_hit = rate >= ADVICE_PIN_MIN_MIGRATIONS_PER_S;
	wait_hit = m->runq_wait_known && share >= ADVICE_PIN_MIN_WAIT_SHARE &&
		   mean_us >= ADVICE_PIN_MIN_MEAN_WAIT_US;
	if (!mig_hit && !wait_hit) {
		ADVICE_SETF(
			c->reason,
			"not pinned (%s), but %.1f migrations/s a vCPU (under %.0f) and %s (raised from "
			"%.0f%% at %.0f us a wait)",
			pin->affinity, rate, ADVICE_PIN_MIN_MIGRATIONS_PER_S, w1,
			ADVICE_PIN_MIN_WAIT_SHARE * 100, ADVICE_PIN_MIN_MEAN_WAIT_US);
		c->status = ADVICE_PASSED;
		return;
	}
	fd = raise(res, c, c->id, ADVICE_WARNING);
	if (m->runq_wait_known)
		ADVICE_SETF(
			fd->summary,
			"%u vCPU thread%s not pinned one to a CPU (%s): %llu migrations (%.1f/s a vCPU), "
			"%.2f s runnable but waiting for a CPU (%.0f%% of their runnable time, %.0f us a "
			"wait)",
			vcpus, vcpus == 1 ? "" : "s", pin->affinity, (unsigned long long)mig, rate,
			wait_s, share * 100, mean_us);
	else
		ADVICE_SETF(
			fd->summary,
			"%u vCPU thread%s not pinned one to a CPU (%s): %llu migrations (%.1f/s a vCPU)",
			vcpus, vcpus == 1 ? "" : "s", pin->affinity, (unsigned long long)mig, rate);
	advice_ev_num(fd, "vcpu_threads", vcpus, 0);
	advice_ev_num(fd, "vcpus_pinned", pin->pinned, 0);
	advice_ev_num(fd, "vcpus_sharing_a_cpu", pin->shared, 0);
	advice_ev_str(fd, "affinity", pin->affinity);
	advice_ev_num(fd, "migrations", (double)mig, 0);
	advice_ev_num(fd, "migrations_per_s", (double)mig / m->seconds, 2);
	advice_ev_num(fd, "runq_wait_ms", m->runq_wait_known ? wait / 1e6 : -1, 1);
	advice_ev_num(fd, "runq_waits", m->runq_wait_known ? (double)waits : -1, 0);
	advice_ev_num(fd, "mean_wait_us", m->runq_wait_known && waits ? mean_us : -1, 1);
	advice_ev_num(fd, "runq_wait_share", m->runq_wait_known ? share : -1, 3);
	advice_ev_num(fd, "vcpu_cpu_ms", cpu / 1e6, 1);
	advice_ev_num(fd, "seconds", m->seconds, 1);
	ADVICE_SETF(fd->source,
		    "iotrace: the kernel's scheduler counts of the VM's vCPU threads over %.1f s "
		    "(se.nr_migrations; sched_info.run_delay and pcount: wakeup or preemption to "
		    "switch-in), read at each switch-out; affinity: /proc/%d/task/TID/status "
		    "Cpus_allowed_list",
		    m->seconds, vm->pid);
	ADVICE_SETF(
		fd->remedy,
		"Pin each vCPU thread to a host CPU of its own and keep other work off those CPUs. "
		"Any VMM: move the process's other threads away first (taskset -a -p -c OTHER_CPUS "
		"%d; -a takes every thread), then one CPU per vCPU thread: taskset -p -c CPU TID "
		"(e.g. taskset -p -c 2 %d; the TIDs are in the evidence). QEMU has no option for it: "
		"find the vCPU threads with QMP query-cpus-fast (thread-id) or, with -name "
		"...,debug-threads=on, as 'CPU n/KVM' in /proc/%d/task/*/comm. libvirt: "
		"<cputune><vcpupin vcpu='0' cpuset='2'/> (one per vCPU) <emulatorpin "
		"cpuset='0-1'/></cputune>, or virsh vcpupin and virsh emulatorpin on a running "
		"domain. Keep host processes and other VMs off those CPUs (a cpuset cgroup, systemd "
		"AllowedCPUs=, or isolcpus=).",
		vm->pid, pin->first_tid, vm->pid);
	if (m->runq_wait_known) {
		advice_sv_num(fd, "runq_wait_ms_per_s", wait / 1e6 / m->seconds, 1);
		ADVICE_SETF(
			fd->saving_basis,
			"estimated as the measured time the vCPU threads were ready to run but waited for "
			"a CPU (%.1f ms per second, which the guest sees as steal time): at most what "
			"pinning them to CPUs kept free of other work gives back, since a wakeup's own "
			"latency (microseconds) stays. The cost of the %llu migrations (cold caches, "
			"the vCPU state reloaded on the new CPU) needs hardware cache counters: not "
			"measured",
			wait / 1e6 / m->seconds, (unsigned long long)mig);
	} else {
		ADVICE_SETF(
			fd->saving_basis,
			"not estimated: this kernel keeps no run-queue wait per task "
			"(CONFIG_SCHED_INFO), and the cost of the %llu migrations (cold caches, the vCPU "
			"state reloaded on the new CPU) needs hardware cache counters",
			(unsigned long long)mig);
	}
}

void advice_evaluate(const struct advice_vm *vms, size_t nvms, size_t which,
		     struct advice_result *res)
{
	const struct vm_config *cfg;

	memset(res, 0, sizeof(*res));
	if (!vms || which >= nvms)
		return;
	for (int i = 0; i < ADVICE_NRULES; i++)
		res->checks[i].id = advice_rule_ids[i];
	cfg = &vms[which].cfg;
	if (cfg->cmdline_read && !cfg->is_qemu) {
		/*
		 * Thread roles, options and remedies of these are QEMU's: another
		 * VMM is not judged on them.
		 */
		for (int i = 0; i < ADVICE_QEMU_RULES; i++) {
			ADVICE_SETF(
				res->checks[i].reason,
				"not a QEMU process (%s): the rule knows QEMU's threads and settings only",
				cfg->argv0);
			res->checks[i].status = ADVICE_THIN;
		}
	} else {
		rule_io_main_loop(vms, nvms, which, res, &res->checks[0]);
		rule_no_hugepages(&vms[which], res, &res->checks[1]);
		rule_cpu_topology(&vms[which], res, &res->checks[2]);
	}
	/* Any VMM: vCPU threads are known by their KVM events. */
	rule_unpinned_vcpu(&vms[which], res, &res->checks[3]);
}
