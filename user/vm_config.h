/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A QEMU process's configuration, as far as `iotrace advise` needs it:
 * what backs the guest's RAM (hugetlbfs, transparent huge pages, or 4 KiB
 * pages), the CPU model and topology given to the guest, the accelerator,
 * and whether any disk is served by an iothread.  Read from
 * /proc/PID/cmdline (QEMU's options, in QemuOpts or JSON form, as libvirt
 * writes them) and /proc/PID/smaps (what the kernel actually mapped).
 *
 * Facts only, no judgement: user/advice.c decides what is worth saying.
 * Everything here is read from files the VM's owner controls; a hostile
 * command line or smaps can make the facts wrong, never make the reader
 * misbehave (every copy is bounded, every number checked for overflow).
 */
#ifndef IOTRACE_VM_CONFIG_H
#define IOTRACE_VM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most of /proc/PID/smaps read: a VM with more is judged on this part. */
#define VM_SMAPS_MAX_BYTES (16u << 20)
/* Guest RAM blocks (the -m size and each memory backend's size) matched. */
#define VM_CONFIG_MAX_BLOCKS 16
/*
 * A mapping is guest RAM when it is writable, not executable, and its size
 * is that of a RAM block (-m, or a memory backend's size=) up to this much
 * more (QEMU may round a block up to its alignment).  Big anonymous
 * mappings of other kinds -- the TCG translation buffer (executable), malloc
 * arenas (at most 64 MiB), thread stacks -- do not match.
 */
#define VM_RAM_MAP_SLACK (4ull << 20)
/* QEMU's default guest RAM on x86 without -m. */
#define VM_DEFAULT_RAM (128ull << 20)

/* vCPU threads whose CPU affinity is compared (the rest are not read). */
#define VM_MAX_VCPU_AFFINITY 256

/*
 * Where the VM's vCPU threads may run: each one's Cpus_allowed_list in
 * /proc/PID/task/TID/status (the affinity taskset, libvirt's vcpupin and
 * cpusets leave).  Which threads are vCPUs is iotrace's to say (their KVM
 * events, QEMU's "CPU n/..." names), so this is read apart from the rest.
 */
struct vm_vcpu_pinning {
	unsigned int read; /* vCPU threads whose affinity was read */
	unsigned int pinned; /* of them, allowed on exactly one CPU that no other of them has */
	unsigned int shared; /* allowed on one CPU only, but another of them is allowed on it too */
	char affinity[96]; /* "TID:LIST TID:LIST ...", as many as fit; "...": cut */
	int first_tid; /* the first vCPU thread read, for the remedy's example */
};

enum vm_accel {
	VM_ACCEL_UNKNOWN,
	VM_ACCEL_KVM,
	VM_ACCEL_TCG,
	VM_ACCEL_OTHER, /* hvf, whpx, xen, ... */
};

/* A fact's source: nothing read, or which file told it. */
enum vm_fact_src {
	VM_FACT_UNKNOWN,
	VM_FACT_CMDLINE,
	VM_FACT_SMAPS,
};

struct vm_config {
	bool cmdline_read; /* the command line was read and parsed */
	bool smaps_read; /* smaps was read (maybe truncated) */
	bool smaps_truncated; /* VM_SMAPS_MAX_BYTES reached */
	/*
	 * argv[0] names QEMU (qemu-system-*, qemu-kvm, kvm): the options below
	 * mean what QEMU says.  For another VMM they are left at their zero
	 * values and no QEMU default is assumed.
	 */
	bool is_qemu;
	char argv0[64]; /* argv[0]'s last component, cut to fit */

	/* Accelerator: -accel, -enable-kvm, -machine accel=; QEMU's default is tcg. */
	enum vm_accel accel;

	/* ---- memory ---- */
	uint64_t ram_bytes; /* -m size (VM_DEFAULT_RAM without -m); 0: unknown */
	/* What the command line asks for. */
	char mem_backend[64]; /* "memory-backend-file", "-memfd", "-ram", "mem-path"; "": anonymous */
	char mem_path[256]; /* -mem-path or a file backend's mem-path=; "" if none */
	bool mem_path_hugetlbfs; /* that path is on hugetlbfs (statfs) */
	bool memfd_hugetlb; /* memory-backend-memfd,hugetlb=on */
	uint64_t blocks[VM_CONFIG_MAX_BLOCKS]; /* RAM block sizes looked for in smaps */
	size_t nblocks;
	/* What smaps shows of the guest RAM mappings (bytes). */
	size_t ram_maps; /* how many mappings were taken for guest RAM */
	uint64_t ram_map_bytes; /* their total size */
	uint64_t ram_rss_bytes; /* resident in 4 KiB pages or THP (not hugetlb) */
	uint64_t ram_thp_bytes; /* resident as PMD-size THP (AnonHugePages, ShmemPmdMapped, FilePmdMapped) */
	uint64_t ram_hugetlb_bytes; /* size of those backed by hugetlbfs (KernelPageSize > 4 KiB) */
	uint64_t hugetlb_page_bytes; /* their page size (the largest seen) */

	/* ---- CPU ---- */
	char cpu_model[64]; /* -cpu's model ("host", "qemu64", ...); "" without -cpu */
	unsigned int smp_cpus; /* -smp cpus (or its product of sockets, cores, ...); 1 without */
	bool smp_topology; /* -smp names sockets=, cores= or threads= */
	unsigned int sockets, dies, cores, threads; /* as given; 0: not given */

	/* ---- I/O ---- */
	unsigned int iothreads; /* -object iothread */
	unsigned int iothread_devices; /* -device ...,iothread=ID (or iothread-vq-mapping) */

	/* ---- vCPU placement: vm_config_read_vcpu_pinning(), not vm_config_read() ---- */
	struct vm_vcpu_pinning pin;
};

/*
 * Parse a /proc/PID/cmdline buffer (len bytes of NUL-separated arguments,
 * the last NUL optional) into cfg's command-line facts; cfg->cmdline_read
 * is set.  Nothing past buf[len] is read.  mem_path_hugetlbfs is not set
 * here (it needs the file system): vm_config_read does it.  Returns 0, or
 * -EINVAL for NULL arguments or an empty buffer.
 */
int vm_config_parse_cmdline(const char *buf, size_t len, struct vm_config *cfg);

/*
 * Parse a smaps text of len bytes into cfg's smaps facts, taking as guest
 * RAM the mappings that match cfg->blocks (see VM_RAM_MAP_SLACK) or are on
 * hugetlbfs; cfg->smaps_read is set.  A cut last line is ignored.  Returns
 * 0, or -EINVAL for NULL arguments.
 */
int vm_config_parse_smaps(const char *buf, size_t len, struct vm_config *cfg);

/*
 * Read everything for pid from <procfs_root>/<pid>/{cmdline,smaps}
 * (procfs_root NULL: /proc), at most VM_SMAPS_MAX_BYTES of smaps.  cfg is
 * zeroed first.  Returns 0 when the command line was read (smaps may still
 * be missing: cfg->smaps_read says), -ENOENT when the process is gone, or
 * another -errno.
 */
int vm_config_read(const char *procfs_root, int pid, struct vm_config *cfg);

/*
 * Read the CPU affinity of the vCPU threads tids[0..n) of process pid
 * (<procfs_root>/<pid>/task/<tid>/status, Cpus_allowed_list; procfs_root
 * NULL: /proc) into cfg->pin, replacing what was there; threads gone or
 * unreadable are skipped, and only the first VM_MAX_VCPU_AFFINITY are
 * read.  Returns how many were read, or -EINVAL.
 */
int vm_config_read_vcpu_pinning(const char *procfs_root, int pid, const uint32_t *tids, size_t n,
				struct vm_config *cfg);

/*
 * A CPU list as the kernel prints it ("0-3,8,10-11"): how many CPUs, and
 * the lowest.  Returns 0, or -EINVAL for anything else (an empty list too).
 */
int vm_cpulist_parse(const char *s, unsigned int *ncpus, int *first);

/* "kvm", "tcg", "other", "unknown". */
const char *vm_accel_name(enum vm_accel a);

/*
 * Parse a QEMU size ("256M", "4G", "1048576", "512k"): a decimal number with
 * an optional suffix b/k/K/M/G/T/P/E (powers of 1024).  default_shift is
 * applied without a suffix (20 for -m, whose bare numbers are MiB; 0 for a
 * backend's size=).  Returns 0, or -EINVAL / -ERANGE.
 */
int vm_config_parse_size(const char *s, unsigned int default_shift, uint64_t *out);

/*
 * The value of key in a QemuOpts string ("a=1,b=x,,y": ",," is a literal
 * comma) written to out, unescaped; implied_key names a first item that has
 * no "=" (-m 256M: "size"; NULL: none).  The last occurrence wins, as in
 * QEMU.  A JSON object ("{...}", QEMU's other syntax for -object and
 * -device) is looked up too, for a string, number or true/false value.
 * Returns true when found (and out fits it), false if not.
 */
bool vm_qemu_opt(const char *opts, const char *implied_key, const char *key, char *out,
		 size_t outsz);

#endif
