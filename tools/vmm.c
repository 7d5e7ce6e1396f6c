// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vmm - a tiny KVM virtual machine monitor whose exits and I/O are known
 * exactly.
 *
 * It stands for QEMU in the tests of iotrace's VM attribution: one VM, one
 * vCPU thread named "CPU 0/KVM" (as QEMU names it), and optionally one I/O
 * thread named "IO iothread0".  The guest is a real-mode program of a few
 * bytes (below) that rings a doorbell --requests times -- an `out` to an I/O
 * port or a store to an unmapped guest-physical address -- and then halts.
 * Every doorbell exit is answered with exactly one 4 KiB O_DIRECT pread or
 * pwrite at a pseudo-random offset of --disk, done by the vCPU thread itself
 * or, with --io-thread, handed to the I/O thread while the vCPU thread waits
 * for its completion before it re-enters the guest.
 *
 * At the end it prints one line of counts that the tests compare with the
 * kernel's own (tracepoints, /sys/block/X/stat).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "tool.h"

const char tool_name[] = "vmm";

#define IO_SIZE 4096
#define MEM_SIZE 0x10000 /* guest RAM: 64 KiB at GPA 0, memslot 0 */
#define CODE_GPA 0x1000 /* where the guest program is loaded */
#define STACK_GPA 0x8000
#define DOORBELL_PORT 0x10
/* Outside every memslot, so a store to it exits with KVM_EXIT_MMIO. */
#define DOORBELL_GPA 0xd0000
#define COUNT_OFFSET 2 /* of the imm32 of "mov ecx, N" in both programs */

#define VCPU_THREAD_NAME "CPU 0/KVM"
#define IO_THREAD_NAME "IO iothread0"

/*
 * The guest programs, 16-bit real mode, loaded at CODE_GPA with
 * cs.base = 0.  ECX counts the doorbells left; before each one AL gets its
 * low byte, so the VMM can check that every doorbell is the one it expects.
 * After the last one the guest halts (KVM_EXIT_HLT: no in-kernel irqchip).
 */
static const uint8_t guest_pio[] = {
	/* 0x00 */ 0x66, 0xb9, 0, 0, 0, 0, /* mov ecx, N (patched) */
	/* 0x06 */ 0x66, 0x85, 0xc9, /* test ecx, ecx */
	/* 0x09 */ 0x74, 0x08, /* jz done (0x13) */
	/* loop: */
	/* 0x0b */ 0x88, 0xc8, /* mov al, cl */
	/* 0x0d */ 0xe6, DOORBELL_PORT, /* out DOORBELL_PORT, al: doorbell */
	/* 0x0f */ 0x66, 0x49, /* dec ecx */
	/* 0x11 */ 0x75, 0xf8, /* jnz loop (0x0b) */
	/* done: */
	/* 0x13 */ 0xf4, /* hlt */
	/* 0x14 */ 0xeb, 0xfd, /* jmp done (0x13), should it resume */
};

static const uint8_t guest_mmio[] = {
	/* 0x00 */ 0x66, 0xb9, 0, 0, 0, 0, /* mov ecx, N (patched) */
	/* 0x06 */ 0xb8, 0x00, DOORBELL_GPA >> 12, /* mov ax, DOORBELL_GPA >> 4 */
	/* 0x09 */ 0x8e, 0xc0, /* mov es, ax: es.base = DOORBELL_GPA */
	/* 0x0b */ 0x66, 0x85, 0xc9, /* test ecx, ecx */
	/* 0x0e */ 0x74, 0x0a, /* jz done (0x1a) */
	/* loop: */
	/* 0x10 */ 0x88, 0xc8, /* mov al, cl */
	/* 0x12 */ 0x26, 0xa2, 0x00, 0x00, /* mov [es:0x0000], al: doorbell */
	/* 0x16 */ 0x66, 0x49, /* dec ecx */
	/* 0x18 */ 0x75, 0xf6, /* jnz loop (0x10) */
	/* done: */
	/* 0x1a */ 0xf4, /* hlt */
	/* 0x1b */ 0xeb, 0xfd, /* jmp done (0x1a), should it resume */
};

_Static_assert((DOORBELL_GPA & ~0xff000) == 0,
	       "DOORBELL_GPA must be (a segment with a zero low byte) << 4");
_Static_assert(DOORBELL_GPA >= MEM_SIZE, "DOORBELL_GPA must be outside guest RAM");

enum mode {
	MODE_PIO,
	MODE_MMIO,
};

enum req_state {
	REQ_IDLE,
	REQ_PENDING,
	REQ_DONE,
};

struct vmm {
	/* options */
	uint64_t requests;
	enum mode mode;
	const char *disk;
	bool io_thread;
	const char *cgroup;
	uint64_t write_every;
	uint64_t seed;

	/* KVM */
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;

	/* the disk */
	int disk_fd;
	uint64_t blocks;
	void *buf;
	uint64_t rng;

	/* vCPU thread -> I/O thread hand-off, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum req_state state;
	bool quit;
	uint64_t req_off;
	bool req_write;

	/* counts; the I/O ones are written by whichever thread does the I/O */
	uint64_t doorbells, userspace_exits, pio_exits, mmio_exits;
	uint64_t ios, reads, writes;
};

static const char usage_text[] =
	"Usage: vmm --disk PATH [OPTIONS]\n"
	"\n"
	"Run a tiny real-mode KVM guest that rings a doorbell N times; answer\n"
	"each doorbell exit with one 4 KiB O_DIRECT read or write of PATH.\n"
	"\n"
	"Options:\n"
	"  --disk PATH         disk image or block device (opened O_RDWR|O_DIRECT)\n"
	"  --requests N        doorbells, hence I/Os (10000)\n"
	"  --mode pio|mmio     doorbell: 'out' to port 0x10 or a store to the\n"
	"                      unmapped GPA 0xd0000 (pio)\n"
	"  --io-thread         do the I/O in a separate thread \"" IO_THREAD_NAME "\";\n"
	"                      the vCPU thread waits for each one\n"
	"  --write-every K     every K-th request is a write, the rest reads\n"
	"                      (0: reads only; default 0)\n"
	"  --seed N            seed of the offset PRNG (1)\n"
	"  --cgroup DIR        first move into cgroup2 directory DIR (absolute)\n"
	"  -h, --help          show this help\n"
	"\n"
	"Prints: vmm: doorbells=N userspace_exits=E pio_exits=P mmio_exits=M\n"
	"        ios=I reads=R writes=W (one line)\n";

static void parse_args(int argc, char **argv, struct vmm *v)
{
	const char *val;
	int i;

	v->requests = 10000;
	v->mode = MODE_PIO;
	v->seed = 1;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			fputs(usage_text, stdout);
			exit(0);
		} else if (!strcmp(arg, "--io-thread")) {
			v->io_thread = true;
		} else if ((val = opt_value(argc, argv, &i, "--requests"))) {
			v->requests = parse_u64("--requests", val, UINT32_MAX);
		} else if ((val = opt_value(argc, argv, &i, "--mode"))) {
			if (!strcmp(val, "pio"))
				v->mode = MODE_PIO;
			else if (!strcmp(val, "mmio"))
				v->mode = MODE_MMIO;
			else
				usage_error("--mode must be pio or mmio, got '%s'", val);
		} else if ((val = opt_value(argc, argv, &i, "--disk"))) {
			v->disk = val;
		} else if ((val = opt_value(argc, argv, &i, "--write-every"))) {
			v->write_every = parse_u64("--write-every", val, UINT64_MAX);
		} else if ((val = opt_value(argc, argv, &i, "--seed"))) {
			v->seed = parse_u64("--seed", val, UINT64_MAX);
		} else if ((val = opt_value(argc, argv, &i, "--cgroup"))) {
			if (val[0] != '/')
				usage_error(
					"--cgroup needs an absolute cgroup2 directory, got '%s'",
					val);
			v->cgroup = val;
		} else {
			usage_error("unknown option or argument '%s'", arg);
		}
	}
	if (!v->disk)
		usage_error("--disk PATH is required");
}

static void open_disk(struct vmm *v)
{
	struct stat st;
	uint64_t size, *p;
	int err;

	v->disk_fd = open(v->disk, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (v->disk_fd < 0)
		die("open %s O_RDWR|O_DIRECT: %s", v->disk, strerror(errno));
	if (fstat(v->disk_fd, &st))
		die("fstat %s: %s", v->disk, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(v->disk_fd, BLKGETSIZE64, &size))
			die("ioctl BLKGETSIZE64 %s: %s", v->disk, strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		size = st.st_size;
	} else {
		die("%s is neither a block device nor a regular file", v->disk);
	}
	v->blocks = size / IO_SIZE;
	if (v->blocks == 0)
		die("%s is %llu bytes, smaller than one %d-byte block", v->disk,
		    (unsigned long long)size, IO_SIZE);
	err = posix_memalign(&v->buf, IO_SIZE, IO_SIZE);
	if (err)
		die("posix_memalign(%d, %d): %s", IO_SIZE, IO_SIZE, strerror(err));
	/* Non-zero data, so nothing along the way can special-case it. */
	for (p = v->buf; (char *)p < (char *)v->buf + IO_SIZE; p++)
		*p = rng_next(&v->rng);
}

/* One 4 KiB O_DIRECT pread or pwrite; in the vCPU or the I/O thread. */
static void do_io(struct vmm *v, uint64_t off, bool write)
{
	ssize_t n;

	if (write)
		n = pwrite(v->disk_fd, v->buf, IO_SIZE, off);
	else
		n = pread(v->disk_fd, v->buf, IO_SIZE, off);
	if (n < 0)
		die("%s of %d bytes at offset %llu of %s: %s", write ? "pwrite" : "pread", IO_SIZE,
		    (unsigned long long)off, v->disk, strerror(errno));
	if (n != IO_SIZE)
		die("short %s at offset %llu of %s: %zd of %d bytes", write ? "pwrite" : "pread",
		    (unsigned long long)off, v->disk, n, IO_SIZE);
	v->ios++;
	if (write)
		v->writes++;
	else
		v->reads++;
}

/* Threads name themselves first, before they do anything traced. */
static void set_thread_name(const char *name)
{
	if (prctl(PR_SET_NAME, name, 0, 0, 0))
		die("prctl PR_SET_NAME \"%s\": %s", name, strerror(errno));
}

static void *io_thread_main(void *arg)
{
	struct vmm *v = arg;
	uint64_t off;
	bool write;

	set_thread_name(IO_THREAD_NAME);
	pthread_mutex_lock(&v->lock);
	for (;;) {
		while (v->state != REQ_PENDING && !v->quit)
			pthread_cond_wait(&v->cond, &v->lock);
		if (v->quit)
			break;
		off = v->req_off;
		write = v->req_write;
		pthread_mutex_unlock(&v->lock);

		do_io(v, off, write);

		pthread_mutex_lock(&v->lock);
		v->state = REQ_DONE;
		pthread_cond_broadcast(&v->cond);
	}
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

/* Answer doorbell number v->doorbells (from 0): one I/O, done when we return. */
static void serve_request(struct vmm *v)
{
	uint64_t off = rng_below(&v->rng, v->blocks) * IO_SIZE;
	bool write = v->write_every && (v->doorbells + 1) % v->write_every == 0;

	if (!v->io_thread) {
		do_io(v, off, write);
		return;
	}
	pthread_mutex_lock(&v->lock);
	v->req_off = off;
	v->req_write = write;
	v->state = REQ_PENDING;
	pthread_cond_broadcast(&v->cond);
	while (v->state != REQ_DONE)
		pthread_cond_wait(&v->cond, &v->lock);
	v->state = REQ_IDLE;
	pthread_mutex_unlock(&v->lock);
}

/* The low byte of ECX the guest puts in AL for the doorbell we expect. */
static uint8_t expected_data(const struct vmm *v)
{
	return (uint8_t)(v->requests - v->doorbells);
}

static void handle_pio(struct vmm *v)
{
	struct kvm_run *run = v->run;
	uint8_t data;

	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.port != DOORBELL_PORT ||
	    run->io.size != 1 || run->io.count != 1)
		die("unexpected KVM_EXIT_IO: %s port 0x%x size %u count %u (the doorbell is an "
		    "'out' of 1 byte to port 0x%x)",
		    run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.port, run->io.size,
		    run->io.count, DOORBELL_PORT);
	if (run->io.data_offset + 1 > v->run_size)
		die("KVM_EXIT_IO data_offset %llu is outside the %zu-byte kvm_run mapping",
		    (unsigned long long)run->io.data_offset, v->run_size);
	data = *((uint8_t *)run + run->io.data_offset);
	if (data != expected_data(v))
		die("doorbell %llu carries 0x%02x, expected 0x%02x: the guest is out of step",
		    (unsigned long long)v->doorbells, data, expected_data(v));
}

static void handle_mmio(struct vmm *v)
{
	struct kvm_run *run = v->run;

	if (!run->mmio.is_write || run->mmio.phys_addr != DOORBELL_GPA || run->mmio.len != 1)
		die("unexpected KVM_EXIT_MMIO: %s of %u bytes at GPA 0x%llx (the doorbell is a "
		    "1-byte write to 0x%x)",
		    run->mmio.is_write ? "write" : "read", run->mmio.len,
		    (unsigned long long)run->mmio.phys_addr, DOORBELL_GPA);
	if (run->mmio.data[0] != expected_data(v))
		die("doorbell %llu carries 0x%02x, expected 0x%02x: the guest is out of step",
		    (unsigned long long)v->doorbells, run->mmio.data[0], expected_data(v));
}

static void *vcpu_thread_main(void *arg)
{
	struct vmm *v = arg;
	struct kvm_run *run = v->run;

	set_thread_name(VCPU_THREAD_NAME);
	for (;;) {
		int r = ioctl(v->vcpu_fd, KVM_RUN, 0);

		v->userspace_exits++;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("ioctl KVM_RUN: %s (errno %d)", strerror(errno), errno);
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			v->pio_exits++;
			if (v->mode != MODE_PIO)
				die("unexpected exit reason KVM_EXIT_IO (%d) in mmio mode",
				    KVM_EXIT_IO);
			handle_pio(v);
			break;
		case KVM_EXIT_MMIO:
			v->mmio_exits++;
			if (v->mode != MODE_MMIO)
				die("unexpected exit reason KVM_EXIT_MMIO (%d) in pio mode",
				    KVM_EXIT_MMIO);
			handle_mmio(v);
			break;
		case KVM_EXIT_HLT:
			if (v->doorbells != v->requests)
				die("the guest halted after %llu of %llu doorbells",
				    (unsigned long long)v->doorbells,
				    (unsigned long long)v->requests);
			return NULL;
		case KVM_EXIT_INTR:
			continue;
		case KVM_EXIT_FAIL_ENTRY:
			die("unexpected exit reason KVM_EXIT_FAIL_ENTRY (%d): hardware entry "
			    "failure reason 0x%llx",
			    KVM_EXIT_FAIL_ENTRY,
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		case KVM_EXIT_INTERNAL_ERROR:
			die("unexpected exit reason KVM_EXIT_INTERNAL_ERROR (%d): suberror %u",
			    KVM_EXIT_INTERNAL_ERROR, run->internal.suberror);
		default:
			die("unexpected exit reason %u", run->exit_reason);
		}
		if (v->doorbells >= v->requests)
			die("the guest rang more than the %llu doorbells asked for",
			    (unsigned long long)v->requests);
		serve_request(v);
		v->doorbells++;
	}
}

static int kvm_ioctl(int fd, unsigned long req, const char *name, void *arg)
{
	int r = ioctl(fd, req, arg);

	if (r < 0)
		die("ioctl %s: %s (errno %d)", name, strerror(errno), errno);
	return r;
}

#define KVM_IOCTL(fd, req, arg) kvm_ioctl(fd, req, #req, arg)

static void setup_vm(struct vmm *v)
{
	struct kvm_userspace_memory_region region = { 0 };
	const uint8_t *prog;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint32_t count;
	size_t prog_len;
	int r;

	v->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm_fd < 0)
		die("open /dev/kvm: %s (errno %d)", strerror(errno), errno);
	r = KVM_IOCTL(v->kvm_fd, KVM_GET_API_VERSION, NULL);
	if (r != KVM_API_VERSION)
		die("ioctl KVM_GET_API_VERSION: %d, expected %d", r, KVM_API_VERSION);
	v->vm_fd = KVM_IOCTL(v->kvm_fd, KVM_CREATE_VM, (void *)0);

	v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->mem == MAP_FAILED)
		die("mmap of %d bytes of guest memory: %s", MEM_SIZE, strerror(errno));
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (uintptr_t)v->mem;
	KVM_IOCTL(v->vm_fd, KVM_SET_USER_MEMORY_REGION, &region);

	if (v->mode == MODE_PIO) {
		prog = guest_pio;
		prog_len = sizeof(guest_pio);
	} else {
		prog = guest_mmio;
		prog_len = sizeof(guest_mmio);
	}
	memcpy(v->mem + CODE_GPA, prog, prog_len);
	count = (uint32_t)v->requests;
	memcpy(v->mem + CODE_GPA + COUNT_OFFSET, &count, sizeof(count));

	v->vcpu_fd = KVM_IOCTL(v->vm_fd, KVM_CREATE_VCPU, (void *)0);
	r = KVM_IOCTL(v->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	if ((size_t)r < sizeof(struct kvm_run))
		die("ioctl KVM_GET_VCPU_MMAP_SIZE: %d, smaller than struct kvm_run (%zu)", r,
		    sizeof(struct kvm_run));
	v->run_size = r;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu_fd, 0);
	if (v->run == MAP_FAILED)
		die("mmap of the %zu-byte kvm_run of the vCPU: %s", v->run_size, strerror(errno));

	/* Real mode, flat from 0: the vCPU starts at f000:fff0 otherwise. */
	KVM_IOCTL(v->vcpu_fd, KVM_GET_SREGS, &sregs);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = sregs.es.base = sregs.ss.base = 0;
	sregs.ds.selector = sregs.es.selector = sregs.ss.selector = 0;
	KVM_IOCTL(v->vcpu_fd, KVM_SET_SREGS, &sregs);
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rsp = STACK_GPA;
	regs.rflags = 0x2; /* bit 1 is reserved and always set */
	KVM_IOCTL(v->vcpu_fd, KVM_SET_REGS, &regs);
}

static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg, const char *name)
{
	int err = pthread_create(t, NULL, fn, arg);

	if (err)
		die("pthread_create (%s): %s", name, strerror(err));
}

int main(int argc, char **argv)
{
	struct vmm v = { 0 };
	pthread_t vcpu_thread, io_thread;
	int err;

	v.kvm_fd = v.vm_fd = v.vcpu_fd = v.disk_fd = -1;
	parse_args(argc, argv, &v);
	v.rng = v.seed;
	if (v.cgroup)
		join_cgroup(v.cgroup);
	open_disk(&v);
	setup_vm(&v);

	err = pthread_mutex_init(&v.lock, NULL);
	if (!err)
		err = pthread_cond_init(&v.cond, NULL);
	if (err)
		die("pthread mutex/cond init: %s", strerror(err));
	if (v.io_thread)
		start_thread(&io_thread, io_thread_main, &v, IO_THREAD_NAME);
	start_thread(&vcpu_thread, vcpu_thread_main, &v, VCPU_THREAD_NAME);

	err = pthread_join(vcpu_thread, NULL);
	if (err)
		die("pthread_join (%s): %s", VCPU_THREAD_NAME, strerror(err));
	if (v.io_thread) {
		pthread_mutex_lock(&v.lock);
		v.quit = true;
		pthread_cond_broadcast(&v.cond);
		pthread_mutex_unlock(&v.lock);
		err = pthread_join(io_thread, NULL);
		if (err)
			die("pthread_join (%s): %s", IO_THREAD_NAME, strerror(err));
	}

	if (close(v.disk_fd))
		die("close %s: %s", v.disk, strerror(errno));
	printf("vmm: doorbells=%llu userspace_exits=%llu pio_exits=%llu mmio_exits=%llu ios=%llu "
	       "reads=%llu writes=%llu\n",
	       (unsigned long long)v.doorbells, (unsigned long long)v.userspace_exits,
	       (unsigned long long)v.pio_exits, (unsigned long long)v.mmio_exits,
	       (unsigned long long)v.ios, (unsigned long long)v.reads,
	       (unsigned long long)v.writes);
	if (fflush(stdout) || ferror(stdout))
		die("writing the summary to stdout: %s", strerror(errno));
	return 0;
}
