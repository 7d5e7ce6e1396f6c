// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `iotrace doctor`: what works on this host and what does not, each with
 * the reason and what to do.  It checks by doing: the programs are loaded
 * and attached as `top` would, a tiny KVM guest is run to see whether
 * kvm_exit fires, libvirt is asked (bounded in time).  Exit status 0 when
 * everything `top` needs is there; warnings are what iotrace does without.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "cli.h"
#include "doctor.h"
#include "kvm_probe.h"
#include "session.h"
#include "vm_libvirt.h"

/* Port writes of the test guest: enough to tell "fires" from noise. */
#define KVM_PROBE_EXITS 64
#define LIBVIRT_TIMEOUT_MS 1000

enum level {
	LVL_OK,
	LVL_INFO,
	LVL_WARN,
	LVL_FAIL,
};

struct doctor {
	int fails, warns;
};

static const char *const level_names[] = { "ok", "info", "warn", "FAIL" };

/* One finding: "  ok    what   text", and "fix: ..." under it when given. */
static void say(struct doctor *d, enum level lvl, const char *what, const char *fix,
		const char *fmt, ...)
{
	va_list ap;

	if (lvl == LVL_FAIL)
		d->fails++;
	else if (lvl == LVL_WARN)
		d->warns++;
	printf("  %-5s %-14s ", level_names[lvl], what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (fix)
		printf("  %-5s %-14s fix: %s\n", "", "", fix);
}

static bool has_cap(const struct __user_cap_data_struct *data, int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

/* The capabilities iotrace uses, and what each one is for. */
static bool check_privileges(struct doctor *d)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	bool admin, bpf, perfmon;

	if (syscall(SYS_capget, &hdr, data)) {
		say(d, LVL_FAIL, "privileges", NULL, "cannot read own capabilities: %s",
		    strerror(errno));
		return false;
	}
	admin = has_cap(data, CAP_SYS_ADMIN);
	bpf = has_cap(data, CAP_BPF);
	perfmon = has_cap(data, CAP_PERFMON);
	if (!admin && !(bpf && perfmon)) {
		say(d, LVL_FAIL, "privileges",
		    "run as root, or grant CAP_BPF and CAP_PERFMON (docs/privileges.md)",
		    "missing %s%s%s: loading and attaching the programs needs CAP_BPF and "
		    "CAP_PERFMON (or CAP_SYS_ADMIN)",
		    bpf ? "" : "CAP_BPF", !bpf && !perfmon ? " and " : "",
		    perfmon ? "" : "CAP_PERFMON");
		return false;
	}
	say(d, LVL_OK, "privileges", NULL, "%s%s%s%s%s", bpf ? "CAP_BPF" : "",
	    perfmon ? " CAP_PERFMON" : "", has_cap(data, CAP_NET_ADMIN) ? " CAP_NET_ADMIN" : "",
	    admin ? " CAP_SYS_ADMIN" : "", geteuid() == 0 ? " (euid 0)" : "");
	if (!admin && !has_cap(data, CAP_NET_ADMIN))
		say(d, LVL_WARN, "privileges", "grant CAP_NET_ADMIN for network figures",
		    "no CAP_NET_ADMIN: the socket programs (network figures) cannot attach");
	if (!admin)
		say(d, LVL_WARN, "privileges",
		    "grant CAP_SYS_ADMIN to see iotrace's own cost, or read it with bpftool",
		    "no CAP_SYS_ADMIN: BPF run-time statistics (iotrace's own cost) stay off");
	return true;
}

static bool check_btf(struct doctor *d)
{
	struct utsname u;
	struct stat st;

	if (!uname(&u))
		say(d, LVL_INFO, "kernel", NULL, "%s %s", u.release, u.machine);
	if (stat("/sys/kernel/btf/vmlinux", &st)) {
		say(d, LVL_FAIL, "BTF",
		    "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distributions' are)",
		    "no /sys/kernel/btf/vmlinux (%s): CO-RE programs cannot be relocated",
		    strerror(errno));
		return false;
	}
	say(d, LVL_OK, "BTF", NULL, "/sys/kernel/btf/vmlinux, %.1f MiB", st.st_size / 1048576.0);
	return true;
}

/* Pure v2, hybrid (v1 controllers beside a cgroup2 mount), or v1 only. */
static bool check_cgroups(struct doctor *d)
{
	char mount[4096], line[8192];
	bool v1 = false;
	FILE *f;
	int e;

	f = fopen("/proc/mounts", "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char dev[256], dir[4096], type[64];

			if (sscanf(line, "%255s %4095s %63s", dev, dir, type) == 3 &&
			    !strcmp(type, "cgroup"))
				v1 = true;
		}
		fclose(f);
	}
	e = cgfs_find_mount("/proc/mounts", mount, sizeof(mount));
	if (e) {
		say(d, LVL_FAIL, "cgroups",
		    "mount cgroup2, e.g. mount -t cgroup2 none /sys/fs/cgroup",
		    "%s: workloads are cgroup2 cgroups", v1 ? "v1 only" : "no cgroup2 mounted");
		return false;
	}
	say(d, LVL_OK, "cgroups", NULL, "%s, cgroup2 at %s",
	    v1 ? "hybrid (v1 controllers beside cgroup2)" : "v2", mount);
	return true;
}

static const char *tracepoint_of(const struct bpf_program *prog)
{
	const char *sec = bpf_program__section_name(prog), *slash = strrchr(sec, '/');

	return slash ? slash + 1 : sec;
}

/* Which subsystem a program serves, from its tracepoint or its type. */
static int group_of(const struct bpf_program *prog)
{
	const char *tp = tracepoint_of(prog);

	if (bpf_program__type(prog) == BPF_PROG_TYPE_CGROUP_SKB || !strncmp(tp, "net_", 4) ||
	    !strncmp(tp, "softirq_", 8) || !strncmp(tp, "netif_", 6))
		return 2;
	if (!strncmp(tp, "block_", 6))
		return 1;
	if (!strncmp(tp, "kvm_", 4))
		return 3;
	return 0; /* sched and process life */
}

static void list_programs(struct doctor *d, const struct loader *l)
{
	static const char *const groups[] = { "sched", "block", "net", "kvm" };
	char buf[4][512];
	size_t used[4] = { 0 };

	memset(buf, 0, sizeof(buf));
	for (int i = 0; i < l->nlinks; i++) {
		int g = group_of(l->progs[i]);
		const char *name = bpf_program__type(l->progs[i]) == BPF_PROG_TYPE_CGROUP_SKB ?
					   bpf_program__section_name(l->progs[i]) :
					   tracepoint_of(l->progs[i]);

		/* The same tracepoint once, whatever its programs. */
		if (strstr(buf[g], name))
			continue;
		if (used[g] < sizeof(buf[g]))
			used[g] += snprintf(buf[g] + used[g], sizeof(buf[g]) - used[g], "%s%s",
					    used[g] ? " " : "", name);
	}
	for (int g = 0; g < 4; g++) {
		if (used[g])
			say(d, LVL_OK, groups[g], NULL, "%s", buf[g]);
		else if (g == 2)
			say(d, LVL_WARN, "net", "see privileges and cgroups above", "off: %s",
			    l->net_off ? l->net_off : "no program attached");
		else if (g == 3)
			say(d, LVL_INFO, "kvm", NULL,
			    "no KVM tracepoints in this kernel: no VM discovery (needs CONFIG_KVM)");
		else
			say(d, LVL_FAIL, groups[g], NULL, "no program attached");
	}
}

/*
 * Run the test guest and read what the programs made of it: the doctor's
 * own process is then a VM of the session, with its exits counted.
 */
static void check_kvm_exits(struct doctor *d, struct session *s)
{
	const struct vm_entry *self = NULL;
	unsigned int io_exits;
	char err[256];
	int e;

	if (!s->loader.kvm)
		return;
	if (access("/dev/kvm", R_OK | W_OK)) {
		say(d, LVL_INFO, "kvm_exit", NULL,
		    "cannot tell: no usable /dev/kvm here (%s), so no test guest", strerror(errno));
		return;
	}
	e = kvm_probe_run(KVM_PROBE_EXITS, &io_exits, err, sizeof(err));
	if (e || io_exits != KVM_PROBE_EXITS) {
		say(d, LVL_WARN, "kvm_exit", NULL, "cannot tell: the test guest failed: %s",
		    e ? err : "fewer port exits than port writes");
		return;
	}
	if (session_read(s)) {
		say(d, LVL_WARN, "kvm_exit", NULL, "cannot tell: reading the maps failed");
		return;
	}
	for (size_t i = 0; i < s->vms.n; i++)
		if (s->vms.vms[i]->pid == (uint32_t)getpid())
			self = s->vms.vms[i];
	if (!self) {
		say(d, LVL_FAIL, "kvm_exit", "report a bug: the KVM programs saw nothing",
		    "the test guest made %u exits to user space, and iotrace saw none of them",
		    io_exits);
		return;
	}
	if (self->total.userspace_exits < KVM_PROBE_EXITS)
		say(d, LVL_WARN, "kvm_exit", NULL,
		    "the test guest made %u exits to user space, iotrace counted %llu", io_exits,
		    (unsigned long long)self->total.userspace_exits);
	if (!s->loader.kvm_exit)
		say(d, LVL_WARN, "kvm_exit", NULL,
		    "this kernel has no usable kvm_exit tracepoint: exits are counted where "
		    "they reach the VMM (%llu of %u seen), without reasons",
		    (unsigned long long)self->total.userspace_exits, io_exits);
	else if (self->total.kvm_exits >= KVM_PROBE_EXITS)
		say(d, LVL_OK, "kvm_exit", NULL,
		    "fires: %llu hardware exits for the test guest's %u port writes; exit "
		    "reasons %s",
		    (unsigned long long)self->total.kvm_exits, io_exits,
		    s->loader.kvm_reasons ? "decoded" : "unknown (vCPU layout not found in BTF)");
	else
		say(d, LVL_WARN, "kvm_exit", NULL,
		    "does not fire (%llu for the test guest's %u exits): nested or paravirtual "
		    "KVM; exits are counted where they reach the VMM (userspace_exit), without "
		    "reasons",
		    (unsigned long long)self->total.kvm_exits, io_exits);
}

static void check_cycles(struct doctor *d, const struct session *s)
{
	const char *src = s->loader.cycles_source;

	if (!strcmp(src, "pmu"))
		say(d, LVL_OK, "cycles", NULL, "hardware cycle counter on every CPU");
	else if (!strcmp(src, "tsc-estimate"))
		say(d, LVL_WARN, "cycles",
		    "none needed; on a VM, a virtual PMU (e.g. libvirt <pmu state='on'/>) gives "
		    "real cycles",
		    "no hardware cycle counter: cycles are on-CPU time x TSC (%.1f MHz), "
		    "every output says \"tsc-estimate\"",
		    s->tsc_hz / 1e6);
	else
		say(d, LVL_INFO, "cycles", NULL, "source %s", src);
}

struct libvirt_ask {
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	bool done;
	int ret;
};

static void *libvirt_thread(void *arg)
{
	struct libvirt_ask *a = arg;
	struct vm_libvirt *lv = vm_libvirt_open(NULL);
	char name[256], uuid[64];
	int ret = lv ? vm_libvirt_lookup(lv, getpid(), name, sizeof(name), uuid, sizeof(uuid)) :
		       -ENOMEM;

	vm_libvirt_close(lv);
	pthread_mutex_lock(&a->lock);
	a->ret = ret;
	a->done = true;
	pthread_cond_signal(&a->done_cond);
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/*
 * Ask libvirt for a domain with the doctor's pid (there is none): an
 * answer, even "no such domain", proves it reachable.  A libvirtd that
 * does not answer in time is reported, and its thread left behind.
 */
static void check_libvirt(struct doctor *d)
{
	static struct libvirt_ask a = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };
	struct timespec until;
	pthread_t t;
	int ret = 0;

	if (!vm_libvirt_built()) {
		say(d, LVL_INFO, "libvirt", NULL,
		    "built without libvirt: VMs are named from QEMU's -name");
		return;
	}
	if (access(VM_LIBVIRT_SOCK_RO, F_OK)) {
		say(d, LVL_INFO, "libvirt", NULL,
		    "libvirtd is not running (%s): VMs are named from QEMU's -name",
		    VM_LIBVIRT_SOCK_RO);
		return;
	}
	if (pthread_create(&t, NULL, libvirt_thread, &a)) {
		say(d, LVL_WARN, "libvirt", NULL, "cannot start a thread to ask it");
		return;
	}
	pthread_detach(t);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += LIBVIRT_TIMEOUT_MS / 1000;
	pthread_mutex_lock(&a.lock);
	while (!a.done && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&a.done_cond, &a.lock, &until);
	ret = a.done ? a.ret : -ETIMEDOUT;
	pthread_mutex_unlock(&a.lock);
	if (ret == 0 || ret == -ENOENT || ret == -EAGAIN)
		say(d, LVL_OK, "libvirt", NULL, "%s answers: VMs are named from libvirt",
		    VM_LIBVIRT_URI);
	else if (ret == -ETIMEDOUT)
		say(d, LVL_WARN, "libvirt", "check libvirtd (is it stopped or hung?)",
		    "libvirtd did not answer within %d ms: VMs are named from QEMU's -name",
		    LIBVIRT_TIMEOUT_MS);
	else
		say(d, LVL_WARN, "libvirt",
		    "check libvirtd's read-only socket and its access rules",
		    "%s does not answer us (%s): VMs are named from QEMU's -name", VM_LIBVIRT_URI,
		    strerror(-ret));
}

int cmd_doctor(int argc, char **argv)
{
	struct doctor d = { 0 };
	struct session s = SESSION_INIT;
	struct session_opts so = { .bpf_stats = true };
	struct doctor_opts o;
	char err[2048];
	bool base;

	switch (cli_parse_doctor(argc, argv, &o, err, sizeof(err))) {
	case CLI_HELP:
		fputs(cli_doctor_usage, stdout);
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "iotrace doctor: %s\nTry 'iotrace doctor --help'.\n", err);
		return 2;
	case CLI_OK:
		break;
	}
	so.t = &o.t;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("iotrace doctor: what works on this host\n");
	base = check_btf(&d);
	base = check_privileges(&d) && base;
	base = check_cgroups(&d) && base;
	if (base) {
		/* Exactly what top does: its messages (stderr) say what failed. */
		if (session_open(&s, &so)) {
			say(&d, LVL_FAIL, "programs", "see the message above",
			    "cannot load and attach");
		} else {
			say(&d, LVL_OK, "programs", NULL, "%s, %d attached, nothing pinned",
			    s.loader.mode == PROG_TP_BTF ? "tp_btf (BTF-typed tracepoints)" :
							   "raw_tp (tp_btf refused here)",
			    s.loader.nlinks);
			list_programs(&d, &s.loader);
			check_cycles(&d, &s);
			if (s.loader.stats_fd < 0)
				say(&d, LVL_WARN, "own cost", "needs CAP_SYS_ADMIN",
				    "BPF run-time statistics cannot be turned on: top does not "
				    "show iotrace's own cost");
			else
				say(&d, LVL_OK, "own cost", NULL,
				    "BPF run-time statistics on while iotrace runs");
			check_kvm_exits(&d, &s);
		}
		session_close(&s);
	}
	check_libvirt(&d);
	say(&d, LVL_INFO, "tracefs", NULL, "not needed (programs attach through BTF and bpf(2))");
	if (d.fails)
		printf("iotrace doctor: %d problem%s: iotrace top cannot run here\n", d.fails,
		       d.fails == 1 ? "" : "s");
	else
		printf("iotrace doctor: everything iotrace top needs is here (%d warning%s)\n",
		       d.warns, d.warns == 1 ? "" : "s");
	return d.fails ? 1 : 0;
}
