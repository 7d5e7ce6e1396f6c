// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Collector: BPF maps -> workload table, once per interval. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector.h"
#include "iotrace.skel.h"
#include "proc_ident.h"
#include "vm_taps.h"

_Static_assert(offsetof(struct iotrace_thread_stats, comm) ==
		       offsetof(struct vm_counters, guest_proc_ns),
	       "struct vm_counters must start with struct iotrace_thread_stats' counters");

int collector_init(struct collector *c, struct loader *l)
{
	size_t per_cpu = sizeof(struct iotrace_blk_stats);

	_Static_assert(
		sizeof(struct iotrace_blk_stats) >= sizeof(struct iotrace_thread_stats) &&
			sizeof(struct iotrace_blk_stats) >= sizeof(struct iotrace_net_stats) &&
			sizeof(struct iotrace_blk_stats) >= sizeof(struct iotrace_blk_dev_stats),
		"vals must hold the largest per-CPU value");

	memset(c, 0, sizeof(*c));
	c->veths.sock.fd = -1; /* collector_free() may run before netns_links_init() */
	c->cg_root_fd = -1;
	c->l = l;
	c->cpu_fd = loader_map_fd(l, "cpu_stats");
	c->blk_fd = loader_map_fd(l, "blk_stats");
	c->blk_dev_fd = loader_map_fd(l, "blk_dev_stats");
	c->net_fd = loader_map_fd(l, "net_stats");
	c->cnt_fd = loader_map_fd(l, "counters");
	c->procs_fd = loader_map_fd(l, "vm_procs");
	c->thr_fd = loader_map_fd(l, "thread_stats");
	c->kvm_fd = loader_map_fd(l, "kvm_counts");
	c->vm_net_fd = loader_map_fd(l, "vm_net");
	if (c->cpu_fd < 0 || c->blk_fd < 0 || c->blk_dev_fd < 0 || c->net_fd < 0 || c->cnt_fd < 0 ||
	    c->procs_fd < 0 || c->thr_fd < 0 || c->kvm_fd < 0 || c->vm_net_fd < 0)
		return -ENOENT;
	if (netdevs_init(&c->devs, loader_map_fd(l, "net_devs"), &l->skel->bss->net_state.nr_devs))
		return -ENOMEM;
	if (proc_netns_ino(NULL, getpid(), &c->netns_ino))
		c->netns_ino = 0;
	if (netns_links_init(&c->veths, l->net_off ? -1 : l->cgroup_root_fd, c->netns_ino))
		return -ENOMEM;
	c->clk_tck = sysconf(_SC_CLK_TCK);
	if (c->clk_tck <= 0)
		c->clk_tck = 100;
	/* The largest per-CPU value; all are multiples of 8 as the kernel wants. */
	c->vals = calloc(l->ncpus, per_cpu);
	return c->vals ? 0 : -ENOMEM;
}

int collector_use_cgroups(struct collector *c, const char *mount, struct cgfs_cache *cache)
{
	int fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (c->cgfs)
		close(c->cg_root_fd);
	c->cg_root_fd = fd;
	c->cgfs = cache;
	return 0;
}

void collector_free(struct collector *c)
{
	/* cgfs is set with the descriptor: a collector never set up holds none. */
	if (c->cgfs)
		close(c->cg_root_fd);
	c->cgfs = NULL;
	c->cg_root_fd = -1;
	free(c->vals);
	c->vals = NULL;
	netdevs_free(&c->devs);
	netns_links_free(&c->veths);
}

/* The per-CPU values in c->vals, summed: one per kernel table. */
static void sum_cpu(const struct collector *c, uint64_t *ns, uint64_t *cycles)
{
	const struct iotrace_cpu_stats *v = c->vals;

	*ns = *cycles = 0;
	for (int cpu = 0; cpu < c->l->ncpus; cpu++) {
		*ns += v[cpu].cpu_ns;
		*cycles += v[cpu].cpu_cycles;
	}
}

static void sum_blk(const struct collector *c, struct iotrace_blk_stats *sum)
{
	const struct iotrace_blk_stats *v = c->vals;

	memset(sum, 0, sizeof(*sum));
	for (int cpu = 0; cpu < c->l->ncpus; cpu++) {
		sum->rd_ops += v[cpu].rd_ops;
		sum->wr_ops += v[cpu].wr_ops;
		sum->rd_bytes += v[cpu].rd_bytes;
		sum->wr_bytes += v[cpu].wr_bytes;
		for (int i = 0; i < IOTRACE_LAT_SLOTS; i++)
			sum->lat_hist[i] += v[cpu].lat_hist[i];
	}
}

static void sum_blk_dev(const struct collector *c, struct iotrace_blk_dev_stats *sum)
{
	const struct iotrace_blk_dev_stats *v = c->vals;

	memset(sum, 0, sizeof(*sum));
	for (int cpu = 0; cpu < c->l->ncpus; cpu++) {
		sum->rd_ops += v[cpu].rd_ops;
		sum->wr_ops += v[cpu].wr_ops;
		sum->rd_bytes += v[cpu].rd_bytes;
		sum->wr_bytes += v[cpu].wr_bytes;
	}
}

static void sum_net(const struct collector *c, struct iotrace_net_stats *sum)
{
	const struct iotrace_net_stats *v = c->vals;

	memset(sum, 0, sizeof(*sum));
	for (int cpu = 0; cpu < c->l->ncpus; cpu++) {
		sum->tx_packets += v[cpu].tx_packets;
		sum->tx_bytes += v[cpu].tx_bytes;
		sum->rx_packets += v[cpu].rx_packets;
		sum->rx_bytes += v[cpu].rx_bytes;
		sum->softirq_ns += v[cpu].softirq_ns;
	}
}

static void feed_cpu(struct collector *c, struct wl_table *t, const void *key)
{
	uint64_t ns, cycles;

	sum_cpu(c, &ns, &cycles);
	/* A full table is counted by wl_table_get(). */
	wl_table_feed_cpu(t, *(const __u64 *)key, ns, cycles);
}

static void feed_blk(struct collector *c, struct wl_table *t, const void *key)
{
	struct iotrace_blk_stats sum;

	sum_blk(c, &sum);
	wl_table_feed_blk(t, *(const __u64 *)key, &sum);
}

/* Block I/O per (workload, device): the device list of each workload. */
static void feed_blk_dev(struct collector *c, struct wl_table *t, const void *key)
{
	const struct iotrace_blk_dev_key *k = key;
	struct iotrace_blk_dev_stats sum;

	sum_blk_dev(c, &sum);
	/* A full table or device list is counted by the table. */
	wl_table_feed_blk_dev(t, k->cgroup_id, IOTRACE_DEV_MAJOR(k->dev), IOTRACE_DEV_MINOR(k->dev),
			      &sum);
}

static void feed_net(struct collector *c, struct wl_table *t, const void *key)
{
	struct iotrace_net_stats sum;

	sum_net(c, &sum);
	wl_table_feed_net(t, *(const __u64 *)key, &sum);
}

/*
 * Every entry of a per-CPU workload map into t, its values in c->vals for
 * feed().  An entry deleted between listing and lookup is skipped.  A walk
 * that restarts (its previous key deleted meanwhile) feeds some entries
 * twice, which changes nothing: the figures are cumulative.
 */
static int read_map(struct collector *c, struct wl_table *t, int fd, size_t key_size,
		    void (*feed)(struct collector *c, struct wl_table *t, const void *key))
{
	union {
		__u64 id;
		struct iotrace_blk_dev_key dev;
	} key, next;
	void *prev = NULL;

	if (key_size > sizeof(key))
		return -EINVAL;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		memcpy(&key, &next, key_size);
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, c->vals)) {
			if (errno == ENOENT) /* removed since get_next_key */
				continue;
			return -errno;
		}
		feed(c, t, &key);
	}
	return errno == ENOENT ? 0 : -errno;
}

/*
 * The programs' own figures: runs the kernel skipped (recursion_misses),
 * and, when BPF run-time statistics are on (loader_enable_stats), their run
 * time and run count.  Summed over the programs; deltas tolerate a reset.
 */
static int read_prog_stats(struct collector *c)
{
	uint64_t missed = 0, run_ns = 0, runs = 0;

	for (int i = 0; i < c->l->nlinks; i++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(c->l->progs[i]);

		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			return -errno;
		missed += info.recursion_misses;
		run_ns += info.run_time_ns;
		runs += info.run_cnt;
	}
	c->prog_missed_delta = missed >= c->prog_missed ? missed - c->prog_missed : missed;
	c->prog_missed = missed;
	c->prog_run_ns_delta = run_ns >= c->prog_run_ns ? run_ns - c->prog_run_ns : run_ns;
	c->prog_run_ns = run_ns;
	c->prog_runs_delta = runs >= c->prog_runs ? runs - c->prog_runs : runs;
	c->prog_runs = runs;
	return 0;
}

int collector_prog_stat(const struct collector *c, int i, struct collector_prog_stat *st)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (i < 0 || i >= c->l->nlinks)
		return -EINVAL;
	if (bpf_obj_get_info_by_fd(bpf_program__fd(c->l->progs[i]), &info, &len))
		return -errno;
	st->name = bpf_program__name(c->l->progs[i]);
	st->run_ns = info.run_time_ns;
	st->runs = info.run_cnt;
	st->recursion_misses = info.recursion_misses;
	return 0;
}

static int read_counters(struct collector *c)
{
	const __u64 *v = c->vals;

	for (__u32 i = 0; i < IOTRACE_CNT_MAX; i++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(c->cnt_fd, &i, c->vals))
			return -errno;
		for (int cpu = 0; cpu < c->l->ncpus; cpu++)
			sum += v[cpu];
		c->counters_delta[i] = sum >= c->counters[i] ? sum - c->counters[i] : sum;
		c->counters[i] = sum;
	}
	return 0;
}

/* Call fn for each entry of the in-flight table: the array's slots, then the overflow hash. */
static int inflight_each(struct collector *c,
			 int (*fn)(void *arg, const struct iotrace_io_info *io), void *arg)
{
	int slots_fd = loader_map_fd(c->l, "io_slots"), over_fd = loader_map_fd(c->l, "inflight");
	struct iotrace_io_info io;
	struct iotrace_io_slot slot;
	__u64 key, next, *prev = NULL;
	__u32 i, nslots;
	int err;

	if (slots_fd < 0 || over_fd < 0)
		return -ENOENT;
	nslots = bpf_map__max_entries(bpf_object__find_map_by_name(c->l->skel->obj, "io_slots"));
	for (i = 0; i < nslots; i++) {
		if (bpf_map_lookup_elem(slots_fd, &i, &slot))
			return -errno;
		if (slot.key && (err = fn(arg, &slot.io)))
			return err;
	}
	while (bpf_map_get_next_key(over_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		/* Gone since the key was listed: completed meanwhile. */
		if (bpf_map_lookup_elem(over_fd, &key, &io))
			continue;
		if ((err = fn(arg, &io)))
			return err;
	}
	return 0;
}

static int count_one(void *arg, const struct iotrace_io_info *io)
{
	(void)io;
	(*(uint64_t *)arg)++;
	return 0;
}

int collector_inflight(struct collector *c, uint64_t *n)
{
	*n = 0;
	return inflight_each(c, count_one, n);
}

static int add_one(void *arg, const struct iotrace_io_info *io)
{
	return unfinished_add(arg, io);
}

int collector_unfinished(struct collector *c, struct unfinished *u)
{
	int err = inflight_each(c, add_one, u);

	if (!err)
		unfinished_sort(u);
	return err;
}

int collector_find_vms(struct collector *c)
{
	struct iotrace_vm_proc proc = { 0 };
	struct dirent *d;
	char comm[64], *end;
	int n = 0;
	DIR *dir;
	long pid;

	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		pid = strtol(d->d_name, &end, 10);
		if (*end || pid <= 0 || pid > INT32_MAX)
			continue;
		if (proc_task_comm(NULL, (int)pid, (int)pid, comm, sizeof(comm)) ||
		    strlen(comm) < 8 || !iotrace_is_vmm_comm(comm))
			continue;
		__u32 key = (__u32)pid;

		/* Start time 0: the first of its threads BPF sees fills it in. */
		if (bpf_map_update_elem(c->procs_fd, &key, &proc, BPF_NOEXIST) == 0) {
			loader_vm_added(c->l);
			n++;
		}
	}
	closedir(dir);
	return n;
}

static int read_vm_procs(struct collector *c, struct vm_table *vt)
{
	struct iotrace_vm_proc proc;
	struct vm_entry *vm;
	__u32 key, next, *prev = NULL;

	while (bpf_map_get_next_key(c->procs_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(c->procs_fd, &key, &proc)) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		/* Entered at start and not seen running since: nothing to read. */
		if (!proc.start_ns) {
			if (kill((pid_t)key, 0) && errno == ESRCH &&
			    bpf_map_delete_elem(c->procs_fd, &key) == 0)
				loader_vm_removed(c->l);
			continue;
		}
		/* A full table is counted by vm_table_get(). */
		vm = vm_table_get(vt, key, proc.start_ns);
		if (!vm || vm->ident.pid)
			continue;
		if (proc_ident_read(NULL, (int)key, &vm->ident))
			vm->ident.pid = 0;
		vm->bpf_cgroup_id = proc.cgroup_id;
	}
	return errno == ENOENT ? 0 : -errno;
}

/*
 * A thread's role, from its name when first seen; a thread that turns out
 * to run guest code is a vCPU whatever its name.
 */
static void thread_role(struct vm_entry *vm, struct vm_thread *th, bool created,
			const struct vm_counters *cur, const char *bpf_comm)
{
	bool kvm = vm_counters_kvm_seen(cur);
	char comm[64] = "";

	if (created) {
		/*
		 * /proc has the thread's name now; the name BPF took serves a
		 * thread that is already gone.
		 */
		if (proc_task_comm(NULL, (int)vm->pid, (int)th->tid, comm, sizeof(comm)))
			snprintf(comm, sizeof(comm), "%s", bpf_comm);
		vm_thread_set_role(vm, th, vm_role_classify(comm, (int)th->tid, (int)vm->pid, kvm));
	} else if (kvm && th->role != VM_ROLE_VCPU) {
		vm_thread_set_role(vm, th, VM_ROLE_VCPU);
	}
}

static int read_vm_threads(struct collector *c, struct vm_table *vt)
{
	const struct iotrace_thread_stats *v = c->vals;
	const size_t n = offsetof(struct iotrace_thread_stats, comm) / sizeof(__u64);
	struct iotrace_thread_key key, next, *prev = NULL;
	struct vm_counters cur;
	char comm[16];
	struct vm_thread *th;
	struct vm_entry *vm;
	uint64_t ticks;
	bool created;

	while (bpf_map_get_next_key(c->thr_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(c->thr_fd, &key, c->vals)) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		memset(&cur, 0, sizeof(cur));
		comm[0] = '\0';
		for (int cpu = 0; cpu < c->l->ncpus; cpu++) {
			for (size_t i = 0; i < n; i++)
				((uint64_t *)&cur)[i] += ((const __u64 *)&v[cpu])[i];
			if (!comm[0] && v[cpu].comm[0])
				snprintf(comm, sizeof(comm), "%.15s", v[cpu].comm);
		}
		/* Not a VM of the table (it was full): counted there. */
		vm = vm_table_find(vt, key.tgid);
		if (!vm)
			continue;
		th = vm_thread_get(vm, key.tid, &created);
		if (!th)
			continue;
		thread_role(vm, th, created, &cur, comm);
		/*
		 * Hosts where kvm_entry/kvm_exit never fire: the kernel's tick
		 * sampling.  Read for every new thread too, so that the base is
		 * a real reading should it turn out to be a vCPU later.
		 */
		if ((created || th->role == VM_ROLE_VCPU) && !cur.kvm_exits &&
		    proc_task_guest_ticks(NULL, (int)vm->pid, (int)th->tid, &ticks) == 0)
			cur.guest_proc_ns = ticks * (1000000000ULL / (uint64_t)c->clk_tck);
		else if (th->guest_base_set)
			cur.guest_proc_ns = th->last.guest_proc_ns + th->guest_proc_base;
		vm_thread_feed(vm, th, &cur);
	}
	return errno == ENOENT ? 0 : -errno;
}

static int read_kvm_counts(struct collector *c, struct vm_table *vt)
{
	const struct iotrace_kvm_count *v = c->vals;
	struct iotrace_kvm_key key, next, *prev = NULL;
	struct iotrace_kvm_count sum;
	struct vm_entry *vm;

	while (bpf_map_get_next_key(c->kvm_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(c->kvm_fd, &key, c->vals)) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		memset(&sum, 0, sizeof(sum));
		for (int cpu = 0; cpu < c->l->ncpus; cpu++) {
			sum.count += v[cpu].count;
			sum.ns += v[cpu].ns;
		}
		vm = vm_table_find(vt, key.tgid);
		if (vm)
			vm_bucket_feed(vm, key.kind, key.code, &sum);
	}
	return errno == ENOENT ? 0 : -errno;
}

static bool thread_alive(uint32_t pid, uint32_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/task/%u", pid, tid);
	return access(path, F_OK) == 0;
}

static bool vm_alive(const struct vm_entry *vm)
{
	struct proc_ident now;

	if (proc_ident_read(NULL, (int)vm->pid, &now))
		return false;
	return !vm->ident.pid || proc_ident_same(&now, &vm->ident);
}

/* Remove every kvm_counts entry of a VM process. */
static void delete_kvm_counts(struct collector *c, uint32_t tgid)
{
	struct iotrace_kvm_key key, next, *prev = NULL;

	while (bpf_map_get_next_key(c->kvm_fd, prev, &next) == 0) {
		key = next;
		if (key.tgid == tgid && bpf_map_delete_elem(c->kvm_fd, &key) == 0)
			continue; /* deleted: the next key follows the previous one */
		prev = &key;
	}
}

/*
 * After the read, forget what is gone: dead threads' counters (their last
 * figures are in the table now), and VMs whose process exited.  A VM whose
 * pid was already taken by a new VM keeps its vm_procs entry: BPF gave it
 * the new start time, and the table will see a new VM there.
 */
static void reap_vms(struct collector *c, struct vm_table *vt)
{
	struct iotrace_thread_key tk;
	struct iotrace_vm_proc proc;
	struct vm_entry *vm;
	size_t i, k;
	bool alive;

	vm_table_for_each(vt, i, vm)
	{
		if (vm->gone)
			continue;
		alive = vm_alive(vm);
		for (k = 0; k < vm->nthreads;) {
			if (alive && thread_alive(vm->pid, vm->threads[k].tid)) {
				k++;
				continue;
			}
			tk.tgid = vm->pid;
			tk.tid = vm->threads[k].tid;
			bpf_map_delete_elem(c->thr_fd, &tk);
			vm_thread_remove(vm, &vm->threads[k]);
		}
		if (alive)
			continue;
		vm->gone = true;
		delete_kvm_counts(c, vm->pid);
		netdevs_forget_vm(&c->devs, vm->pid);
		bpf_map_delete_elem(c->vm_net_fd, &vm->pid);
		if (bpf_map_lookup_elem(c->procs_fd, &vm->pid, &proc) == 0 &&
		    proc.start_ns == vm->start_ns &&
		    bpf_map_delete_elem(c->procs_fd, &vm->pid) == 0)
			loader_vm_removed(c->l);
	}
}

#define VM_TAPS_MAX 64

/*
 * Enter each live VM's tap devices in net_devs, so that the BPF side counts
 * their traffic for the VM.  QEMU can add and remove NICs at any time, so
 * this looks again at every read: a readlink per open descriptor.  A tap
 * in another network namespace than iotrace's cannot be named by ifindex
 * from here; it is counted in taps_foreign.
 */
static void sync_vm_taps(struct collector *c, struct vm_table *vt)
{
	char names[VM_TAPS_MAX][VM_TAP_NAME_MAX];
	struct iotrace_dev_key keys[VM_TAPS_MAX];
	struct vm_entry *vm;
	uint64_t ns;
	size_t i, nkeys;
	int n, more;

	c->taps_foreign = 0;
	vm_table_for_each(vt, i, vm)
	{
		if (vm->gone)
			continue;
		n = vm_taps_of(NULL, (int)vm->pid, names, VM_TAPS_MAX, &more);
		if (n < 0 || proc_netns_ino(NULL, (int)vm->pid, &ns))
			continue; /* gone: reaped after this read */
		vm->ntaps = n;
		nkeys = 0;
		for (int k = 0; k < n; k++) {
			unsigned int ifindex;

			if (ns != c->netns_ino) {
				c->taps_foreign++;
				continue;
			}
			ifindex = if_nametoindex(names[k]);
			if (!ifindex)
				continue; /* removed meanwhile */
			keys[nkeys].netns = ns;
			keys[nkeys].ifindex = ifindex;
			keys[nkeys++].pad = 0;
		}
		netdevs_sync_vm(&c->devs, vm->pid, keys, nkeys);
	}
}

static int enter_cgroup_veths(void *ctx, uint64_t cgroup_id, const struct iotrace_dev_key *keys,
			      size_t n)
{
	return netdevs_sync(ctx, cgroup_id, IOTRACE_DEV_CGROUP, keys, n);
}

/*
 * Enter the host ends of the veths of the containers active in this
 * interval, owned by their cgroups, so that forwarding their packets is
 * shared to them (user/netns_links.c; a cgroup is looked at again every
 * few seconds, a bounded number per interval).
 */
static void sync_cgroup_veths(struct collector *c, struct wl_table *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	netns_links_sync(&c->veths, t, (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec,
			 enter_cgroup_veths, &c->devs);
}

/* Each live VM's tap traffic and softirq share (vm_net, by pid). */
static int read_vm_net(struct collector *c, struct vm_table *vt)
{
	const struct iotrace_net_stats *v = c->vals;
	struct iotrace_net_stats sum;
	struct vm_entry *vm;
	size_t i;

	vm_table_for_each(vt, i, vm)
	{
		if (vm->gone)
			continue;
		if (bpf_map_lookup_elem(c->vm_net_fd, &vm->pid, c->vals)) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		memset(&sum, 0, sizeof(sum));
		for (int cpu = 0; cpu < c->l->ncpus; cpu++) {
			sum.tx_packets += v[cpu].tx_packets;
			sum.tx_bytes += v[cpu].tx_bytes;
			sum.rx_packets += v[cpu].rx_packets;
			sum.rx_bytes += v[cpu].rx_bytes;
			sum.softirq_ns += v[cpu].softirq_ns;
		}
		vm_net_feed(vm, &sum);
	}
	return 0;
}

/*
 * Removed cgroups.  A cgroup id is the kernfs inode number of its directory,
 * never reused while the system runs, so an id whose directory is gone
 * never comes back.  Entries of removed cgroups are deleted from the
 * per-cgroup kernel tables once their last figures are in the workload
 * table (docs/design.md, "Removed cgroups").
 */

/* Reads between two existence checks of a cgroup that stays idle. */
#define PRUNE_RECHECK_READS 8

enum cg_state { CG_ALIVE, CG_GONE, CG_UNKNOWN };

/*
 * Whether e's cgroup still exists: its directory, at the path the cache (or
 * the table) knows, has e's id as inode number.  A cgroup the cache never
 * recorded is gone once a complete walk that began after its first read
 * did not find it; before such a walk it is unknown.
 */
static enum cg_state cgroup_state(struct collector *c, const struct wl_entry *e)
{
	char path[4096];
	struct stat st;

	if (cgfs_cache_lookup(c->cgfs, e->id, path, sizeof(path))) {
		if (!e->path_known) {
			if (cgfs_cache_walks(c->cgfs) >= e->walk_mark &&
			    !cgfs_cache_overflow(c->cgfs))
				return CG_GONE;
			return CG_UNKNOWN;
		}
		snprintf(path, sizeof(path), "%s", e->path);
	}
	if (fstatat(c->cg_root_fd, path[1] ? path + 1 : ".", &st, AT_SYMLINK_NOFOLLOW) == 0)
		/* Another id there: a new cgroup of the same name. */
		return (uint64_t)st.st_ino == e->id ? CG_ALIVE : CG_GONE;
	return errno == ENOENT || errno == ENOTDIR ? CG_GONE : CG_ALIVE;
}

static bool entry_idle(const struct wl_entry *e)
{
	for (size_t i = 0; i < e->ndevs; i++)
		if (e->devs[i].delta.rd_ops || e->devs[i].delta.wr_ops ||
		    e->devs[i].delta.rd_bytes || e->devs[i].delta.wr_bytes)
			return false;
	return wl_counters_zero(&e->delta);
}

/*
 * Look at e's cgroup if it is due: idle in this read, not known gone, and
 * not looked at in the last PRUNE_RECHECK_READS reads unless it was
 * active since.  true: unknown until the tree is walked again.
 */
static bool check_cgroup(struct collector *c, struct wl_entry *e)
{
	if (e->absent_read || c->reads < e->next_check)
		return false;
	switch (cgroup_state(c, e)) {
	case CG_ALIVE:
		e->next_check = c->reads + PRUNE_RECHECK_READS;
		return false;
	case CG_GONE:
		e->absent_read = c->reads;
		return false;
	case CG_UNKNOWN:
		break;
	}
	return true;
}

/* Read and delete one kernel entry in one step.  0, -ENOENT or -errno. */
static int take_elem(int fd, const void *key, void *vals)
{
	if (bpf_map_lookup_and_delete_elem(fd, key, vals) == 0)
		return 0;
	if (errno != EINVAL && errno != EOPNOTSUPP && errno != 524 /* ENOTSUPP */)
		return -errno;
	/* Before Linux 5.14 (no lookup-and-delete on hashes): two steps. */
	if (bpf_map_lookup_elem(fd, key, vals))
		return -errno;
	return bpf_map_delete_elem(fd, key) ? -errno : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Delete the kernel entries of the cgroups ids[0..n) (sorted), feeding
 * each entry's figures as it is deleted.
 */
static void prune_entries(struct collector *c, struct wl_table *t, const uint64_t *ids, size_t n)
{
	struct iotrace_blk_dev_key key, next, *prev = NULL;
	struct iotrace_blk_dev_stats dsum;
	struct iotrace_blk_stats bsum;
	struct iotrace_net_stats nsum;
	uint64_t ns, cycles;

	for (size_t i = 0; i < n; i++) {
		__u64 id = ids[i];

		if (take_elem(c->cpu_fd, &id, c->vals) == 0) {
			sum_cpu(c, &ns, &cycles);
			wl_table_feed_cpu(t, id, ns, cycles);
			c->pruned_entries++;
		}
		if (take_elem(c->blk_fd, &id, c->vals) == 0) {
			sum_blk(c, &bsum);
			wl_table_feed_blk(t, id, &bsum);
			c->pruned_entries++;
		}
		if (take_elem(c->net_fd, &id, c->vals) == 0) {
			sum_net(c, &nsum);
			wl_table_feed_net(t, id, &nsum);
			c->pruned_entries++;
		}
	}
	/* Every device of theirs, also the ones beyond a workload's list. */
	while (bpf_map_get_next_key(c->blk_dev_fd, prev, &next) == 0) {
		key = next;
		if (!bsearch(&key.cgroup_id, ids, n, sizeof(*ids), cmp_u64) ||
		    take_elem(c->blk_dev_fd, &key, c->vals)) {
			prev = &key;
			continue;
		}
		/* Deleted: the next key follows the previous one. */
		sum_blk_dev(c, &dsum);
		wl_table_feed_blk_dev(t, key.cgroup_id, IOTRACE_DEV_MAJOR(key.dev),
				      IOTRACE_DEV_MINOR(key.dev), &dsum);
		c->pruned_entries++;
	}
}

/*
 * After the maps are read, before wl_table_end(): find the cgroups that are
 * gone, and prune those found gone at an earlier read whose figures did not
 * change in this one.  An I/O submitted before the rmdir may complete
 * after it (in-flight I/O keeps its owner), and a dying task's last switch
 * charges its cgroup: a full interval of silence after the cgroup was
 * found gone makes such late updates unlikely, and should one come after
 * all, it re-creates the entry from zero, which the table counts as new
 * (wl_table_pruned), so nothing is lost or counted twice.
 */
static void prune_gone(struct collector *c, struct wl_table *t)
{
	uint64_t *ids = NULL, *grown;
	char path[WL_PATH_MAX];
	size_t n = 0, cap = 0, unknown = 0;
	struct wl_entry *e;

	wl_table_for_each(t, e)
	{
		if (!e->in_kernel || e->id == IOTRACE_UNATTRIBUTED_ID)
			continue;
		if (!e->walk_mark)
			e->walk_mark = cgfs_cache_walks(c->cgfs) + 1;
		if (!entry_idle(e)) {
			e->next_check = 0; /* look again as soon as it is idle */
			continue;
		}
		if (e->absent_read && e->absent_read < c->reads) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				grown = realloc(ids, cap * sizeof(*ids));
				if (!grown)
					break; /* the rest waits for the next read */
				ids = grown;
			}
			ids[n++] = e->id;
			continue;
		}
		unknown += check_cgroup(c, e);
	}
	/* Never seen by a walk since they appeared: one walk settles them all. */
	if (unknown && cgfs_cache_refresh(c->cgfs) >= 0) {
		wl_table_for_each(t, e)
		{
			if (e->in_kernel && e->id != IOTRACE_UNATTRIBUTED_ID && entry_idle(e) &&
			    check_cgroup(c, e))
				e->next_check = c->reads + PRUNE_RECHECK_READS;
		}
	}
	if (!n)
		goto out;
	qsort(ids, n, sizeof(*ids), cmp_u64);
	prune_entries(c, t, ids, n);
	for (size_t i = 0; i < n; i++) {
		e = wl_table_find(t, ids[i]);
		if (!e)
			continue;
		/* Its name outlives the cache entry, should it be asked for later. */
		if (!e->path_known && cgfs_cache_lookup(c->cgfs, e->id, path, sizeof(path)) == 0 &&
		    wl_entry_set_path(e, path) == 0)
			e->path_known = true;
		cgfs_cache_forget(c->cgfs, e->id);
		wl_table_pruned(t, e);
		c->pruned++;
	}
out:
	free(ids);
}

int collector_read(struct collector *c, struct wl_table *t, struct vm_table *vt)
{
	int err;

	err = loader_flush(c->l);
	if (err)
		return err;
	c->reads++;
	wl_table_begin(t);
	vm_table_begin(vt);
	err = read_map(c, t, c->cpu_fd, sizeof(__u64), feed_cpu);
	if (!err)
		err = read_map(c, t, c->blk_fd, sizeof(__u64), feed_blk);
	if (!err)
		err = read_map(c, t, c->blk_dev_fd, sizeof(struct iotrace_blk_dev_key),
			       feed_blk_dev);
	if (!err)
		err = read_map(c, t, c->net_fd, sizeof(__u64), feed_net);
	if (!err)
		err = read_vm_procs(c, vt);
	if (!err && !c->l->net_off)
		sync_vm_taps(c, vt);
	if (!err)
		err = read_vm_threads(c, vt);
	if (!err)
		err = read_vm_net(c, vt);
	if (!err)
		err = read_kvm_counts(c, vt);
	if (!err)
		err = read_counters(c);
	if (!err)
		err = read_prog_stats(c);
	if (!err && c->cgfs)
		prune_gone(c, t);
	wl_table_end(t);
	vm_table_end(vt);
	/* Room for new workloads: the ones gone longest go first, if need be. */
	wl_table_evict_gone(t);
	/* After wl_table_end: it marks the cgroups active in the interval. */
	if (!err && !c->l->net_off)
		sync_cgroup_veths(c, t);
	if (!err)
		reap_vms(c, vt);
	return err;
}
