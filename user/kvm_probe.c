// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A throw-away KVM guest for `iotrace doctor`: whether this host's KVM
 * fires kvm_exit can only be learnt by making a guest exit and watching.
 * The guest runs in real mode and writes a port n times, then halts; every
 * port write is an exit that reaches user space (KVM_EXIT_IO), and on Intel
 * and AMD hosts also a hardware exit that fires kvm_exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_probe.h"

#define MEM_SIZE 0x10000
#define CODE_GPA 0x1000
#define PROBE_PORT 0x10

/* 16-bit real mode at CODE_GPA, cs.base 0: n port writes, then hlt. */
static const unsigned char guest[] = {
	0x66, 0xb9,	  0, 0, 0, 0, /* mov ecx, n (patched at 2) */
	0xe6, PROBE_PORT, /* loop: out PROBE_PORT, al */
	0x66, 0x49, /* dec ecx */
	0x75, 0xfa, /* jnz loop */
	0xf4, /* hlt */
	0xeb, 0xfd, /* jmp hlt, should it resume */
};

static int fail(char *err, size_t errlen, const char *what)
{
	int e = errno ? errno : EIO;

	snprintf(err, errlen, "%s: %s", what, strerror(e));
	return -e;
}

int kvm_probe_run(unsigned int n, unsigned int *io_exits, char *err, size_t errlen)
{
	struct kvm_userspace_memory_region region = { 0 };
	int kvm = -1, vm = -1, vcpu = -1, ret = 0;
	void *mem = MAP_FAILED, *run_map = MAP_FAILED;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	long run_size = 0;
	uint32_t count = n;

	*io_exits = 0;
	errno = 0;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail(err, errlen, "open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		ret = fail(err, errlen, "KVM_CREATE_VM");
		goto out;
	}
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		ret = fail(err, errlen, "guest memory");
		goto out;
	}
	memcpy((char *)mem + CODE_GPA, guest, sizeof(guest));
	memcpy((char *)mem + CODE_GPA + 2, &count, sizeof(count));
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (unsigned long)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region)) {
		ret = fail(err, errlen, "KVM_SET_USER_MEMORY_REGION");
		goto out;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || run_size < (long)sizeof(*run)) {
		ret = fail(err, errlen, "KVM_CREATE_VCPU");
		goto out;
	}
	run_map = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run_map == MAP_FAILED) {
		ret = fail(err, errlen, "mmap of kvm_run");
		goto out;
	}
	run = run_map;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs)) {
		ret = fail(err, errlen, "KVM_GET_SREGS");
		goto out;
	}
	/* Flat real mode from 0: the vCPU resets to f000:fff0 otherwise. */
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs)) {
		ret = fail(err, errlen, "KVM_SET_SREGS");
		goto out;
	}
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs)) {
		ret = fail(err, errlen, "KVM_SET_REGS");
		goto out;
	}
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0)) {
			if (errno == EINTR)
				continue;
			ret = fail(err, errlen, "KVM_RUN");
			goto out;
		}
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason != KVM_EXIT_IO || run->io.port != PROBE_PORT) {
			snprintf(err, errlen, "the test guest exited with reason %u",
				 run->exit_reason);
			ret = -EIO;
			goto out;
		}
		/* Never more than asked: a guest gone wrong must not spin here. */
		if (++*io_exits > n) {
			snprintf(err, errlen, "the test guest wrote its port more than %u times",
				 n);
			ret = -EIO;
			goto out;
		}
	}
out:
	if (run_map != MAP_FAILED)
		munmap(run_map, run_size);
	if (vcpu >= 0)
		close(vcpu);
	if (mem != MAP_FAILED)
		munmap(mem, MEM_SIZE);
	if (vm >= 0)
		close(vm);
	close(kvm);
	return ret;
}
