// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of user/vm_config.c: QEMU sizes, QemuOpts (",," escapes,
 * implied keys, bare flags) and JSON option values, the command-line facts
 * (memory backends, -cpu, -smp, accelerators, iothreads; libvirt's and
 * plain QEMU's spellings; a non-QEMU VMM), smaps parsing (which mappings
 * are guest RAM, THP, hugetlbfs, cut lines) and the whole read from a fake
 * procfs tree, a smaps over the size bound included.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_fs.h"
#include "vm_config.h"

/* A cmdline literal with its embedded NULs, without the compiler's last one. */
#define CMD(lit) lit, sizeof(lit) - 1

static struct vm_config cfg;

/* Parse from a heap copy of exactly len bytes (a read past it is caught by ASan). */
static int parse_cmd(const char *lit, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int err;

	assert_non_null(copy);
	memcpy(copy, lit, len);
	memset(&cfg, 0, sizeof(cfg));
	err = vm_config_parse_cmdline(copy, len, &cfg);
	free(copy);
	return err;
}

static void test_sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(vm_config_parse_size("256M", 20, &v), 0);
	assert_true(v == 256ull << 20);
	assert_int_equal(vm_config_parse_size("1024", 20, &v), 0); /* -m: MiB */
	assert_true(v == 1ull << 30);
	assert_int_equal(vm_config_parse_size("1073741824", 0, &v), 0); /* size=: bytes */
	assert_true(v == 1ull << 30);
	assert_int_equal(vm_config_parse_size("4G", 0, &v), 0);
	assert_true(v == 4ull << 30);
	assert_int_equal(vm_config_parse_size("1.5G", 0, &v), 0);
	assert_true(v == 3ull << 29);
	assert_int_equal(vm_config_parse_size("512k", 0, &v), 0);
	assert_true(v == 512ull << 10);
	assert_int_equal(vm_config_parse_size("64B", 20, &v), 0);
	assert_true(v == 64);
	assert_int_equal(vm_config_parse_size("", 0, &v), -EINVAL);
	assert_int_equal(vm_config_parse_size("-1", 0, &v), -EINVAL);
	assert_int_equal(vm_config_parse_size("0x10", 0, &v), -EINVAL);
	assert_int_equal(vm_config_parse_size("1e3", 0, &v), -EINVAL);
	assert_int_equal(vm_config_parse_size("4GB", 0, &v), -EINVAL);
	assert_int_equal(vm_config_parse_size("4Q", 0, &v), -EINVAL);
	assert_int_equal(vm_config_parse_size(" 4", 0, &v), -EINVAL);
	assert_int_equal(vm_config_parse_size("16E", 0, &v), -ERANGE);
	assert_int_equal(vm_config_parse_size(NULL, 0, &v), -EINVAL);
}

static void test_qemu_opts(void **state)
{
	char v[64];

	(void)state;
	assert_true(vm_qemu_opt("256M", "size", "size", v, sizeof(v)));
	assert_string_equal(v, "256M");
	assert_false(vm_qemu_opt("256M", NULL, "size", v, sizeof(v)));
	assert_true(vm_qemu_opt("size=4G,slots=2,maxmem=8G", "size", "maxmem", v, sizeof(v)));
	assert_string_equal(v, "8G");
	/* ",," is a literal comma, inside a value or a first item. */
	assert_true(vm_qemu_opt("memory-backend-file,id=m,mem-path=/a,,b,size=1G", "qom-type",
				"mem-path", v, sizeof(v)));
	assert_string_equal(v, "/a,b");
	assert_true(vm_qemu_opt("memory-backend-file,id=m,mem-path=/a,,b,size=1G", "qom-type",
				"size", v, sizeof(v)));
	assert_string_equal(v, "1G");
	assert_false(vm_qemu_opt("x,id=a,,size=1G", "qom-type", "size", v, sizeof(v)));
	/* The last one wins; a bare flag is on. */
	assert_true(vm_qemu_opt("a=1,a=2", NULL, "a", v, sizeof(v)));
	assert_string_equal(v, "2");
	assert_true(
		vm_qemu_opt("memory-backend-memfd,hugetlb", "qom-type", "hugetlb", v, sizeof(v)));
	assert_string_equal(v, "on");
	/* A value that does not fit is not reported cut. */
	assert_false(vm_qemu_opt("a=123456789", NULL, "a", v, 4));
	assert_false(vm_qemu_opt("", NULL, "a", v, sizeof(v)));
	assert_false(vm_qemu_opt(",,,", NULL, "a", v, sizeof(v)));
	/* JSON, as libvirt writes -object and -device. */
	assert_true(vm_qemu_opt("{\"qom-type\":\"memory-backend-file\",\"id\":\"pc.ram\","
				"\"mem-path\":\"/dev/hugepages/libvirt/qemu/1-vm\",\"x-use-"
				"canonical-path-for-ramblock-id\":false,\"size\":1073741824}",
				"qom-type", "mem-path", v, sizeof(v)));
	assert_string_equal(v, "/dev/hugepages/libvirt/qemu/1-vm");
	assert_true(vm_qemu_opt("{\"qom-type\":\"memory-backend-memfd\",\"size\":1073741824, "
				"\"hugetlb\": true}",
				"qom-type", "hugetlb", v, sizeof(v)));
	assert_string_equal(v, "on");
	assert_true(vm_qemu_opt("{\"a\":{\"size\":1},\"size\":2}", NULL, "size", v, sizeof(v)));
	assert_string_equal(v, "2"); /* nested objects are skipped */
	assert_true(vm_qemu_opt("{\"driver\":\"virtio-blk-pci\",\"iothread\":\"io\\\"0\"}", NULL,
				"iothread", v, sizeof(v)));
	assert_string_equal(v, "io\"0");
	/* Broken JSON: no crash, nothing found past the break. */
	assert_false(vm_qemu_opt("{\"a\":\"unterminated", NULL, "a", v, sizeof(v)));
	assert_false(vm_qemu_opt("{\"a\"", NULL, "a", v, sizeof(v)));
	assert_false(vm_qemu_opt("{", NULL, "a", v, sizeof(v)));
	assert_false(vm_qemu_opt("{\"a\":[1,{\"b\":", NULL, "b", v, sizeof(v)));
}

static void test_cmdline_test_vm(void **state)
{
	(void)state;
	/* tools/qemu-vm.sh's VM, aio=native. */
	assert_int_equal(
		parse_cmd(CMD("qemu-system-x86_64\0-accel\0tcg\0-name\0guest=a,debug-threads=on\0"
			      "-m\000256M\0-smp\0001\0-drive\0file=/dev/loop1,if=none,id=disk0,"
			      "aio=native\0-device\0virtio-blk-pci,drive=disk0\0")),
		0);
	assert_true(cfg.cmdline_read);
	assert_true(cfg.is_qemu);
	assert_string_equal(cfg.argv0, "qemu-system-x86_64");
	assert_int_equal(cfg.accel, VM_ACCEL_TCG);
	assert_true(cfg.ram_bytes == 256ull << 20);
	assert_int_equal(cfg.nblocks, 1);
	assert_string_equal(cfg.cpu_model, "");
	assert_int_equal(cfg.smp_cpus, 1);
	assert_false(cfg.smp_topology);
	assert_int_equal(cfg.iothreads, 0);
	assert_int_equal(cfg.iothread_devices, 0);
	assert_string_equal(cfg.mem_backend, "");

	/* With an iothread, a memfd backend, and no NUL after the last argument. */
	assert_int_equal(parse_cmd(CMD("/usr/bin/qemu-system-x86_64\0-object\0iothread,id=io0\0"
				       "-device\0virtio-blk-pci,drive=d,iothread=io0\0-object\0"
				       "memory-backend-memfd,id=mem0,size=256M\0-machine\0"
				       "pc,memory-backend=mem0\0--m\000256")),
			 0);
	assert_int_equal(cfg.iothreads, 1);
	assert_int_equal(cfg.iothread_devices, 1);
	assert_string_equal(cfg.mem_backend, "memory-backend-memfd");
	assert_false(cfg.memfd_hugetlb);
	assert_true(cfg.ram_bytes == 256ull << 20);
	assert_int_equal(cfg.nblocks, 1); /* the same size once */
	assert_int_equal(cfg.accel, VM_ACCEL_TCG);
}

static void test_cmdline_libvirt(void **state)
{
	(void)state;
	/* libvirt 9's spelling: JSON objects and devices, size= in k, -accel kvm. */
	assert_int_equal(
		parse_cmd(CMD(
			"/usr/bin/qemu-system-x86_64\0-name\0guest=web,debug-threads=on\0-machine\0"
			"pc-q35-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram\0-accel\0kvm\0"
			"-cpu\0host,migratable=on\0-m\0size=4194304k\0-object\0"
			"{\"qom-type\":\"memory-backend-file\",\"id\":\"pc.ram\",\"mem-path\":"
			"\"/dev/hugepages/libvirt/qemu/1-web\",\"prealloc\":true,\"size\":4294967296}"
			"\0-overcommit\0mem-lock=off\0-smp\0004,sockets=1,dies=1,cores=2,threads=2\0"
			"-object\0{\"qom-type\":\"iothread\",\"id\":\"iothread1\"}\0-device\0"
			"{\"driver\":\"virtio-blk-pci\",\"iothread\":\"iothread1\",\"drive\":"
			"\"libvirt-1-format\"}\0")),
		0);
	assert_int_equal(cfg.accel, VM_ACCEL_KVM);
	assert_string_equal(cfg.cpu_model, "host");
	assert_true(cfg.ram_bytes == 4ull << 30);
	assert_string_equal(cfg.mem_backend, "memory-backend-file");
	assert_string_equal(cfg.mem_path, "/dev/hugepages/libvirt/qemu/1-web");
	assert_int_equal(cfg.smp_cpus, 4);
	assert_true(cfg.smp_topology);
	assert_int_equal(cfg.sockets, 1);
	assert_int_equal(cfg.dies, 1);
	assert_int_equal(cfg.cores, 2);
	assert_int_equal(cfg.threads, 2);
	assert_int_equal(cfg.iothreads, 1);
	assert_int_equal(cfg.iothread_devices, 1);
}

static void test_cmdline_options(void **state)
{
	(void)state;
	/* -enable-kvm, -mem-path, -smp with a topology and no cpus=, -cpu with features. */
	assert_int_equal(parse_cmd(CMD("qemu-system-x86_64\0-enable-kvm\0-mem-path\0/mnt/huge\0"
				       "-smp\0sockets=2,cores=4\0-cpu\0Skylake-Server,+avx2\0"
				       "-object\0memory-backend-memfd,id=m,hugetlb=on,size=2G\0")),
			 0);
	assert_int_equal(cfg.accel, VM_ACCEL_KVM);
	assert_string_equal(cfg.mem_path, "/mnt/huge");
	assert_true(cfg.memfd_hugetlb);
	assert_int_equal(cfg.smp_cpus, 8);
	assert_true(cfg.smp_topology);
	assert_string_equal(cfg.cpu_model, "Skylake-Server");
	assert_true(cfg.ram_bytes == VM_DEFAULT_RAM); /* no -m */
	assert_int_equal(cfg.nblocks, 2); /* 2G backend and the default 128M */

	/* -machine accel=kvm:tcg: the first; -smp 4 alone: no topology. */
	assert_int_equal(parse_cmd(CMD("qemu-system-x86_64\0-M\0q35,accel=kvm:tcg\0-smp\0004\0")),
			 0);
	assert_int_equal(cfg.accel, VM_ACCEL_KVM);
	assert_int_equal(cfg.smp_cpus, 4);
	assert_false(cfg.smp_topology);
	/* The first -accel wins over -machine accel=. */
	assert_int_equal(parse_cmd(CMD("qemu-system-x86_64\0-accel\0tcg\0-accel\0kvm\0-machine\0"
				       "accel=kvm\0")),
			 0);
	assert_int_equal(cfg.accel, VM_ACCEL_TCG);
	assert_int_equal(parse_cmd(CMD("qemu-system-aarch64\0-accel\0hvf\0")), 0);
	assert_int_equal(cfg.accel, VM_ACCEL_OTHER);
	/* qemu-kvm defaults to KVM. */
	assert_int_equal(parse_cmd(CMD("/usr/libexec/qemu-kvm\0-m\0001G\0")), 0);
	assert_true(cfg.is_qemu);
	assert_int_equal(cfg.accel, VM_ACCEL_KVM);
	assert_true(cfg.ram_bytes == 1ull << 30);
	/* A bad -m keeps the default; an option without its value ends the parse. */
	assert_int_equal(parse_cmd(CMD("qemu-system-x86_64\0-m\0lots\0-cpu\0")), 0);
	assert_true(cfg.ram_bytes == VM_DEFAULT_RAM);
	assert_string_equal(cfg.cpu_model, "");
	/* A value that is not an option is not taken for one; argv[0] never is. */
	assert_int_equal(parse_cmd(CMD("-cpu\0-name\0x\0-cpu\0host\0")), 0);
	assert_false(cfg.is_qemu);
	assert_string_equal(cfg.cpu_model, "");
	/* A long -cpu model is cut to fit. */
	assert_int_equal(
		parse_cmd(CMD(
			"qemu-system-x86_64\0-cpu\0"
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			"\0")),
		0);
	assert_int_equal(strlen(cfg.cpu_model), sizeof(cfg.cpu_model) - 1);
	/* Errors. */
	assert_int_equal(parse_cmd("", 0), -EINVAL);
	assert_int_equal(vm_config_parse_cmdline(NULL, 3, &cfg), -EINVAL);
}

static void test_cmdline_not_qemu(void **state)
{
	(void)state;
	assert_int_equal(parse_cmd(CMD("/work/build/tools/vmm\0--exits\000100\0-m\0001G\0")), 0);
	assert_true(cfg.cmdline_read);
	assert_false(cfg.is_qemu);
	assert_string_equal(cfg.argv0, "vmm");
	assert_true(cfg.ram_bytes == 0); /* no QEMU default assumed */
	assert_int_equal(cfg.accel, VM_ACCEL_UNKNOWN);
	assert_string_equal(vm_accel_name(cfg.accel), "unknown");
	assert_string_equal(vm_accel_name(VM_ACCEL_KVM), "kvm");
	assert_string_equal(vm_accel_name(VM_ACCEL_TCG), "tcg");
	assert_string_equal(vm_accel_name(VM_ACCEL_OTHER), "other");
}

/* The smaps of tools/qemu-vm.sh's VM (QEMU 7.2, TCG, -m 256M), trimmed. */
#define SMAP(range, perms, path, size, rss, thp, kps)           \
	range " " perms " 00000000 00:00 0          " path "\n" \
	      "Size:           " size " kB\n"                   \
	      "KernelPageSize:        " kps " kB\n"             \
	      "Rss:            " rss " kB\n"                    \
	      "Pss:            " rss " kB\n"                    \
	      "AnonHugePages:  " thp " kB\n"                    \
	      "ShmemPmdMapped:        0 kB\n"                   \
	      "Private_Hugetlb:        0 kB\n"                  \
	      "VmFlags: rd wr mr mw me ac\n"

static const char smaps_anon[] =
	SMAP("55e542125000-55e5431c8000", "rw-p", "[heap]", "17036", "10392", "0", "4")
	/* a malloc arena: 64 MiB reserved, partly writable */
	SMAP("7febe028a000-7febe4000000", "---p", "", "62936", "0", "0", "4")
	/* guest RAM, THP */
	SMAP("7febe7e00000-7febf7e00000", "rw-p", "", "262144", "55296", "55296", "4")
	/* TCG's code buffer: 1 GiB, executable */
	SMAP("7febf8000000-7fec37fff000", "rwxp", "", "1048572", "2048", "2048", "4")
	/* a thread stack */
	SMAP("7fec3dffb000-7fec3e7fb000", "rw-p", "", "8192", "16", "0", "4");

static void test_smaps_anon_thp(void **state)
{
	(void)state;
	assert_int_equal(parse_cmd(CMD("qemu-system-x86_64\0-m\000256M\0")), 0);
	assert_int_equal(vm_config_parse_smaps(smaps_anon, sizeof(smaps_anon) - 1, &cfg), 0);
	assert_true(cfg.smaps_read);
	assert_int_equal(cfg.ram_maps, 1);
	assert_true(cfg.ram_map_bytes == 256ull << 20);
	assert_true(cfg.ram_rss_bytes == 55296ull << 10);
	assert_true(cfg.ram_thp_bytes == 55296ull << 10);
	assert_true(cfg.ram_hugetlb_bytes == 0);
	/* Parsing again replaces, not adds. */
	assert_int_equal(vm_config_parse_smaps(smaps_anon, sizeof(smaps_anon) - 1, &cfg), 0);
	assert_int_equal(cfg.ram_maps, 1);
	/* With another -m nothing matches: the TCG buffer is never RAM. */
	assert_int_equal(parse_cmd(CMD("qemu-system-x86_64\0-m\0001G\0")), 0);
	assert_int_equal(vm_config_parse_smaps(smaps_anon, sizeof(smaps_anon) - 1, &cfg), 0);
	assert_int_equal(cfg.ram_maps, 0);
}

static const char smaps_memfd_hugetlb[] =
	/* memory-backend-memfd (shared, 4 KiB pages) */
	SMAP("7fca5bfff000-7fca6bfff000", "rw-s", "/memfd:memory-backend-memfd (deleted)", "262144",
	     "81996", "0", "4")
	/* -mem-path on hugetlbfs: Rss stays 0, the pages count in *_Hugetlb */
	SMAP("7fd7b3e00000-7fd7c3e00000", "rw-p",
	     "/tmp/adv-huge.8Rk7N4/qemu_back_mem.pc.ram.hvim8g (deleted)", "262144", "0", "0",
	     "2048")
	/* a read-only hugetlb mapping is not RAM */
	SMAP("7fd7d0000000-7fd7d0200000", "r--p", "/huge/ro", "2048", "0", "0", "2048")
	/* a cut line at the end */
	"7fd800000000-7fd8";

static void test_smaps_memfd_and_hugetlbfs(void **state)
{
	(void)state;
	assert_int_equal(parse_cmd(CMD("qemu-system-x86_64\0-m\000256M\0")), 0);
	assert_int_equal(vm_config_parse_smaps(smaps_memfd_hugetlb, sizeof(smaps_memfd_hugetlb) - 1,
					       &cfg),
			 0);
	assert_int_equal(cfg.ram_maps, 2);
	assert_true(cfg.ram_map_bytes == 512ull << 20);
	assert_true(cfg.ram_rss_bytes == 81996ull << 10);
	assert_true(cfg.ram_thp_bytes == 0);
	assert_true(cfg.ram_hugetlb_bytes == 256ull << 20);
	assert_true(cfg.hugetlb_page_bytes == 2u << 20);
	assert_int_equal(vm_config_parse_smaps(NULL, 0, &cfg), -EINVAL);
}

static void test_smaps_slack_and_junk(void **state)
{
	static const char smaps[] =
		/* RAM rounded up by 2 MiB: still RAM; by 8 MiB: not */
		SMAP("7f0000000000-7f0010200000", "rw-p", "", "264192", "1024", "0", "4")
			SMAP("7f1000000000-7f1010800000", "rw-p", "", "270336", "1024", "0", "4")
		/* a [stack] of the right size is not RAM */
		SMAP("7f2000000000-7f2010000000", "rw-p", "[stack]", "262144", "4", "0", "4")
		/* junk: a header with end < start, lines without a mapping */
		"7f3000000000-7f2000000000 rw-p 00000000 00:00 0\n"
		"Rss: 99999 kB\n"
		"not a line\n"
		"zz-yy\n";

	(void)state;
	assert_int_equal(parse_cmd(CMD("qemu-system-x86_64\0-m\000256M\0")), 0);
	assert_int_equal(vm_config_parse_smaps(smaps, sizeof(smaps) - 1, &cfg), 0);
	assert_int_equal(cfg.ram_maps, 1);
	assert_true(cfg.ram_map_bytes == 264192ull << 10);
	assert_true(cfg.ram_rss_bytes == 1024ull << 10);
}

static void test_read_fake_procfs(void **state)
{
	const char *root = *state;

	mkdir_at(root, "100");
	write_at(root, "100/cmdline",
		 CMD("qemu-system-x86_64\0-m\000256M\0-mem-path\0/nonexistent\0"));
	write_str_at(root, "100/smaps", smaps_anon);
	assert_int_equal(vm_config_read(root, 100, &cfg), 0);
	assert_true(cfg.cmdline_read);
	assert_true(cfg.smaps_read);
	assert_false(cfg.smaps_truncated);
	assert_int_equal(cfg.ram_maps, 1);
	assert_true(cfg.ram_thp_bytes == 55296ull << 10);
	assert_string_equal(cfg.mem_path, "/nonexistent");
	assert_false(cfg.mem_path_hugetlbfs);

	/* No smaps (not allowed, say): the command line still counts. */
	mkdir_at(root, "200");
	write_at(root, "200/cmdline", CMD("qemu-system-x86_64\0-m\000256M\0"));
	assert_int_equal(vm_config_read(root, 200, &cfg), 0);
	assert_true(cfg.cmdline_read);
	assert_false(cfg.smaps_read);

	/* Gone, a zombie (empty cmdline), bad pid. */
	assert_int_equal(vm_config_read(root, 300, &cfg), -ENOENT);
	mkdir_at(root, "400");
	write_at(root, "400/cmdline", "", 0);
	assert_int_equal(vm_config_read(root, 400, &cfg), -ENOENT);
	assert_int_equal(vm_config_read(root, 0, &cfg), -EINVAL);
}

static void test_read_huge_smaps_bounded(void **state)
{
	const char *root = *state;
	char path[PATH_MAX], line[600];
	size_t written = 0;
	FILE *f;

	mkdir_at(root, "500");
	write_at(root, "500/cmdline", CMD("qemu-system-x86_64\0-m\000256M\0"));
	snprintf(path, sizeof(path), "%s/500/smaps", root);
	f = fopen(path, "w");
	assert_non_null(f);
	/* Lines longer than the reader's buffer first: the rest of one is no line. */
	memset(line, 'x', sizeof(line) - 2);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	line[0] = '1';
	line[1] = '-';
	fputs(line, f);
	/* The RAM mapping, then more than VM_SMAPS_MAX_BYTES of small mappings. */
	fputs(smaps_anon, f);
	while (written <= VM_SMAPS_MAX_BYTES) {
		static const char m[] =
			SMAP("7f0000000000-7f0000001000", "r--p", "/lib/x", "4", "4", "0", "4");

		fputs(m, f);
		written += sizeof(m) - 1;
	}
	/* past the bound: a second RAM mapping that must not be seen */
	fputs(SMAP("7f9000000000-7f9010000000", "rw-p", "", "262144", "100", "0", "4"), f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(vm_config_read(root, 500, &cfg), 0);
	assert_true(cfg.smaps_read);
	assert_true(cfg.smaps_truncated);
	assert_int_equal(cfg.ram_maps, 1);
}

static void test_cpulist(void **state)
{
	unsigned int n = 0;
	int first = -1;

	(void)state;
	assert_int_equal(vm_cpulist_parse("0", &n, &first), 0);
	assert_int_equal(n, 1);
	assert_int_equal(first, 0);
	assert_int_equal(vm_cpulist_parse("0-1", &n, &first), 0);
	assert_int_equal(n, 2);
	assert_int_equal(vm_cpulist_parse("8,2-3,10-11", &n, &first), 0);
	assert_int_equal(n, 5);
	assert_int_equal(first, 2);
	assert_int_equal(vm_cpulist_parse("63", &n, &first), 0);
	assert_int_equal(n, 1);
	assert_int_equal(first, 63);
	/* Not lists: empty, reversed, open ranges, junk, a trailing comma. */
	assert_int_equal(vm_cpulist_parse("", &n, &first), -EINVAL);
	assert_int_equal(vm_cpulist_parse("3-1", &n, &first), -EINVAL);
	assert_int_equal(vm_cpulist_parse("1-", &n, &first), -EINVAL);
	assert_int_equal(vm_cpulist_parse("-1", &n, &first), -EINVAL);
	assert_int_equal(vm_cpulist_parse("0-1 ", &n, &first), -EINVAL);
	assert_int_equal(vm_cpulist_parse("0,", &n, &first), -EINVAL);
	assert_int_equal(vm_cpulist_parse("ff", &n, &first), -EINVAL);
	assert_int_equal(vm_cpulist_parse("99999999999", &n, &first), -EINVAL);
	assert_int_equal(vm_cpulist_parse(NULL, &n, &first), -EINVAL);
}

/* A thread's status file in the fake procfs, with its Cpus_allowed_list. */
static void fake_status(const char *root, int pid, unsigned int tid, const char *list)
{
	char rel[64], text[256];

	snprintf(rel, sizeof(rel), "%d/task/%u", pid, tid);
	mkdir_at(root, rel);
	snprintf(rel, sizeof(rel), "%d/task/%u/status", pid, tid);
	snprintf(text, sizeof(text),
		 "Name:\tCPU 0/KVM\nCpus_allowed:\t3\nCpus_allowed_list:\t%s\n"
		 "Mems_allowed_list:\t0\n",
		 list);
	write_str_at(root, rel, text);
}

static void test_vcpu_pinning(void **state)
{
	const char *root = *state;
	const uint32_t tids[] = { 101, 102, 103, 104, 105 };

	mkdir_at(root, "100");
	mkdir_at(root, "100/task");
	fake_status(root, 100, 101, "2");
	fake_status(root, 100, 102, "3");
	fake_status(root, 100, 103, "0-1");
	fake_status(root, 100, 104, "3");
	/* 105: gone, skipped. */

	/* Each pinned alone. */
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(vm_config_read_vcpu_pinning(root, 100, tids, 2, &cfg), 2);
	assert_int_equal(cfg.pin.read, 2);
	assert_int_equal(cfg.pin.pinned, 2);
	assert_int_equal(cfg.pin.shared, 0);
	assert_int_equal(cfg.pin.first_tid, 101);
	assert_string_equal(cfg.pin.affinity, "101:2 102:3");
	/* One unpinned, two on the same CPU, one gone. */
	assert_int_equal(vm_config_read_vcpu_pinning(root, 100, tids, 5, &cfg), 4);
	assert_int_equal(cfg.pin.read, 4);
	assert_int_equal(cfg.pin.pinned, 1);
	assert_int_equal(cfg.pin.shared, 2);
	assert_string_equal(cfg.pin.affinity, "101:2 102:3 103:0-1 104:3");
	/* None left: nothing read, and the old figures replaced. */
	assert_int_equal(vm_config_read_vcpu_pinning(root, 100, tids + 4, 1, &cfg), 0);
	assert_int_equal(cfg.pin.read, 0);
	assert_string_equal(cfg.pin.affinity, "");
	assert_int_equal(vm_config_read_vcpu_pinning(root, 100, NULL, 0, &cfg), 0);
	assert_int_equal(vm_config_read_vcpu_pinning(root, 100, NULL, 1, &cfg), -EINVAL);
	assert_int_equal(vm_config_read_vcpu_pinning(root, 0, tids, 1, &cfg), -EINVAL);
}

static void test_vcpu_pinning_list_cut(void **state)
{
	const char *root = *state;
	uint32_t tids[40];

	mkdir_at(root, "200");
	mkdir_at(root, "200/task");
	for (unsigned int i = 0; i < 40; i++) {
		tids[i] = 2000 + i;
		fake_status(root, 200, tids[i], "0-63");
	}
	assert_int_equal(vm_config_read_vcpu_pinning(root, 200, tids, 40, &cfg), 40);
	assert_int_equal(cfg.pin.pinned, 0);
	/* As many as fit, then "...". */
	assert_true(strlen(cfg.pin.affinity) < sizeof(cfg.pin.affinity));
	assert_int_equal(strncmp(cfg.pin.affinity, "2000:0-63 2001:0-63 ", 20), 0);
	assert_non_null(strstr(cfg.pin.affinity, " ..."));
	assert_string_equal(strstr(cfg.pin.affinity, "..."), "...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_qemu_opts),
		cmocka_unit_test(test_cmdline_test_vm),
		cmocka_unit_test(test_cmdline_libvirt),
		cmocka_unit_test(test_cmdline_options),
		cmocka_unit_test(test_cmdline_not_qemu),
		cmocka_unit_test(test_smaps_anon_thp),
		cmocka_unit_test(test_smaps_memfd_and_hugetlbfs),
		cmocka_unit_test(test_smaps_slack_and_junk),
		cmocka_unit_test_setup_teardown(test_read_fake_procfs, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_read_huge_smaps_bounded, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test_setup_teardown(test_vcpu_pinning, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_vcpu_pinning_list_cut, tmpdir_setup,
						tmpdir_teardown),
	};

	return cmocka_run_group_tests_name("vm_config", tests, NULL, NULL);
}
