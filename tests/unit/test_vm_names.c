// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of user/vm_names.c: QEMU -name and -uuid parsing from cmdline
 * buffers (QemuOpts escapes, unterminated and hostile buffers), libvirt pid
 * files, the kvm-<pid> fallback, cmdlines read from a fake procfs tree under
 * /tmp and from a real child, and the order of the naming sources.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_fs.h"
#include "vm_names.h"

/* A cmdline literal with its embedded NULs, without the compiler's last one. */
#define CMD(lit) lit, sizeof(lit) - 1

#define UUID1 "5d2a4f1e-7b3c-4e8a-9f10-0123456789ab"

/* ---- helpers ---- */

/*
 * Parse from a heap copy of exactly len bytes, so that a read past the end
 * is caught by valgrind or ASan rather than landing in the literal's NUL.
 */
static int name_of(const char *lit, size_t len, char *name, size_t size)
{
	char *copy = malloc(len ? len : 1);
	int err;

	assert_non_null(copy);
	memcpy(copy, lit, len);
	err = vm_cmdline_name(copy, len, name, size);
	free(copy);
	return err;
}

static int uuid_of(const char *lit, size_t len, char *uuid, size_t size)
{
	char *copy = malloc(len ? len : 1);
	int err;

	assert_non_null(copy);
	memcpy(copy, lit, len);
	err = vm_cmdline_uuid(copy, len, uuid, size);
	free(copy);
	return err;
}

static int pid_of(const char *lit, size_t len, int *pid)
{
	char *copy = malloc(len ? len : 1);
	int err;

	assert_non_null(copy);
	memcpy(copy, lit, len);
	err = vm_pidfile_parse(copy, len, pid);
	free(copy);
	return err;
}

static void expect_name(const char *lit, size_t len, const char *want)
{
	char name[VM_NAME_MAX];
	int err;

	err = name_of(lit, len, name, sizeof(name));
	if (err)
		fail_msg("cmdline for \"%s\": error %d", want, err);
	assert_string_equal(name, want);
}

static void expect_name_err(const char *lit, size_t len, int want)
{
	char name[VM_NAME_MAX];

	memset(name, 'x', sizeof(name));
	assert_int_equal(name_of(lit, len, name, sizeof(name)), want);
	assert_string_equal(name, "");
}

/* ---- -name ---- */

static void test_name_libvirt(void **state)
{
	/* The head of a command line libvirt 9.0 gives QEMU 7.2. */
	static const char cmd[] = "/usr/bin/qemu-system-x86_64\0"
				  "-name\0guest=demo,debug-threads=on\0"
				  "-S\0"
				  "-object\0{\"qom-type\":\"secret\",\"id\":\"masterKey0\"}\0"
				  "-machine\0pc-i440fx-7.2,usb=off,dump-guest-core=off\0"
				  "-accel\0tcg\0"
				  "-m\0size=65536k\0"
				  "-uuid\0" UUID1 "\0"
				  "-no-user-config\0-nodefaults\0";

	(void)state;
	expect_name(CMD(cmd), "demo");
}

static void test_name_forms(void **state)
{
	(void)state;
	expect_name(CMD("qemu\0-name\0vm1\0"), "vm1");
	expect_name(CMD("qemu\0--name\0vm1\0"), "vm1");
	expect_name(CMD("qemu\0-name\0guest=vm1\0"), "vm1");
	expect_name(CMD("qemu\0-name\0vm1,process=qemu-vm1\0"), "vm1");
	expect_name(CMD("qemu\0-name\0vm1,process=p,debug-threads=on\0"), "vm1");
	expect_name(CMD("qemu\0-m\0"
			"512\0-name\0vm1\0-nographic\0"),
		    "vm1");
	/* debug-threads before and after guest, as a pair or a bare flag */
	expect_name(CMD("qemu\0-name\0debug-threads=on,guest=vm2\0"), "vm2");
	expect_name(CMD("qemu\0-name\0guest=vm2,debug-threads=on\0"), "vm2");
	expect_name(CMD("qemu\0-name\0guest=vm2,debug-threads\0"), "vm2");
	expect_name(CMD("qemu\0-name\0process=p,guest=vm2,debug-threads=off\0"), "vm2");
	/* A first pair without '=' is guest, even if it looks like a flag. */
	expect_name(CMD("qemu\0-name\0debug-threads\0"), "debug-threads");
	expect_name(CMD("qemu\0-name\0debug-threads,guest=vm3\0"), "vm3");
	/* Anything but NUL and a lone comma is part of the name. */
	expect_name(CMD("qemu\0-name\0guest=a b\n\"c\"=d\0"), "a b\n\"c\"=d");
	expect_name(CMD("qemu\0-name\0\xc3\xa9t\xc3\xa9\0"), "\xc3\xa9t\xc3\xa9");
}

static void test_name_escapes(void **state)
{
	(void)state;
	expect_name(CMD("qemu\0-name\0guest=a,,b,debug-threads=on\0"), "a,b");
	expect_name(CMD("qemu\0-name\0a,,b\0"), "a,b");
	expect_name(CMD("qemu\0-name\0a,,b,process=p\0"), "a,b");
	/* ",,," is a comma, then the separator. */
	expect_name(CMD("qemu\0-name\0guest=a,,,debug-threads=on\0"), "a,");
	expect_name(CMD("qemu\0-name\0guest=,,,,\0"), ",,");
	expect_name(CMD("qemu\0-name\0,,x\0"), ",x");
	/* In the implied value '=' after a ",," is text: the first of '=' ',' is ','. */
	expect_name(CMD("qemu\0-name\0a,,b=c\0"), "a,b=c");
	/* Another key's escaped comma does not end its value early. */
	expect_name(CMD("qemu\0-name\0process=p,,guest=x,guest=g\0"), "g");
}

static void test_name_last_wins(void **state)
{
	(void)state;
	expect_name(CMD("qemu\0-name\0a\0-name\0guest=b\0"), "b");
	expect_name(CMD("qemu\0-name\0guest=a,guest=b\0"), "b");
	/* -name options merge: a later one without guest keeps the name. */
	expect_name(CMD("qemu\0-name\0a\0-name\0debug-threads=on\0"), "a");
	expect_name(CMD("qemu\0-name\0a\0-name\0\0"), "a");
	/* A later empty guest empties the name. */
	expect_name_err(CMD("qemu\0-name\0a\0-name\0guest=\0"), -ENOENT);
}

static void test_name_option_values(void **state)
{
	(void)state;
	/* The value of -name is never an option, nor is that of -uuid. */
	expect_name(CMD("qemu\0-name\0-uuid\0"), "-uuid");
	expect_name(CMD("qemu\0-name\0-name\0"), "-name");
	expect_name(CMD("qemu\0-uuid\0-name\0-name\0vm\0"), "vm");
	/* argv[0] is the program, never an option. */
	expect_name_err(CMD("-name\0vm\0"), -ENOENT);
	expect_name(CMD("-name\0-name\0vm\0"), "vm");
}

static void test_name_absent(void **state)
{
	char name[VM_NAME_MAX];

	(void)state;
	expect_name_err(CMD("qemu\0-m\0"
			    "512\0"),
			-ENOENT);
	expect_name_err(CMD("qemu\0"), -ENOENT);
	expect_name_err(CMD("qemu"), -ENOENT);
	expect_name_err("", 0, -ENOENT);
	expect_name_err(CMD("\0\0\0"), -ENOENT);
	/* QEMU refuses "-name=x", "-Name", "---name", "-names". */
	expect_name_err(CMD("qemu\0-name=vm1\0"), -ENOENT);
	expect_name_err(CMD("qemu\0--name=vm1\0"), -ENOENT);
	expect_name_err(CMD("qemu\0-Name\0vm1\0"), -ENOENT);
	expect_name_err(CMD("qemu\0---name\0vm1\0"), -ENOENT);
	expect_name_err(CMD("qemu\0-names\0vm1\0"), -ENOENT);
	expect_name_err(CMD("qemu\0name\0vm1\0"), -ENOENT);
	/* A -name without a guest, or with an empty one. */
	expect_name_err(CMD("qemu\0-name\0\0"), -ENOENT);
	expect_name_err(CMD("qemu\0-name\0guest=\0"), -ENOENT);
	expect_name_err(CMD("qemu\0-name\0guest=,debug-threads=on\0"), -ENOENT);
	expect_name_err(CMD("qemu\0-name\0,debug-threads=on\0"), -ENOENT);
	expect_name_err(CMD("qemu\0-name\0process=p\0"), -ENOENT);
	expect_name_err(CMD("qemu\0-name\0foo=vm1\0"), -ENOENT);
	/* NULL buffer, NULL name, no room at all */
	assert_int_equal(vm_cmdline_name(NULL, 4, name, sizeof(name)), -EINVAL);
	assert_int_equal(vm_cmdline_name("q\0", 2, NULL, 16), -EINVAL);
	assert_int_equal(vm_cmdline_name("q\0", 2, name, 0), -EINVAL);
}

static void test_name_missing_value(void **state)
{
	(void)state;
	/* QEMU does not start without -name's value. */
	expect_name_err(CMD("qemu\0-name\0"), -EINVAL);
	expect_name_err(CMD("qemu\0-name"), -EINVAL);
	expect_name_err(CMD("qemu\0--name\0"), -EINVAL);
	expect_name_err(CMD("qemu\0-name\0vm\0-name\0"), -EINVAL);
	/* A missing -uuid value at the end does not stop the name. */
	expect_name(CMD("qemu\0-name\0vm\0-uuid\0"), "vm");
}

static void test_name_unterminated(void **state)
{
	(void)state;
	/* /proc/PID/cmdline without its last NUL (a process that rewrote it). */
	expect_name(CMD("qemu\0-name\0vm1"), "vm1");
	expect_name(CMD("qemu\0-name\0guest=vm1,debug-threads=on"), "vm1");
	expect_name(CMD("qemu\0-name\0a,,"), "a,");
	expect_name(CMD("qemu\0-name\0guest=a,"), "a");
	/* len stops the parse even where the buffer goes on. */
	assert_int_equal(name_of("qemu\0-name\0vm1\0", 11, (char[16]){ 0 }, 16), -EINVAL);
	{
		char name[16];

		assert_int_equal(vm_cmdline_name("qemu\0-name\0vm1\0", 13, name, sizeof(name)), 0);
		assert_string_equal(name, "vm");
	}
}

static void test_name_too_long(void **state)
{
	char cmd[1024], name[VM_NAME_MAX];
	size_t n;

	(void)state;
	n = (size_t)snprintf(cmd, sizeof(cmd), "qemu%c-name%cguest=", 0, 0);
	memset(cmd + n, 'v', 600);
	n += 600;
	memcpy(cmd + n, ",debug-threads=on", 17);
	n += 17;
	cmd[n++] = '\0';
	memset(name, 'x', sizeof(name));
	assert_int_equal(name_of(cmd, n, name, sizeof(name)), -ENAMETOOLONG);
	assert_string_equal(name, "");

	/* The limit is exact, and counts ",," as one byte. */
	assert_int_equal(name_of(CMD("qemu\0-name\0abcd\0"), name, 5), 0);
	assert_string_equal(name, "abcd");
	assert_int_equal(name_of(CMD("qemu\0-name\0abcd\0"), name, 4), -ENAMETOOLONG);
	assert_string_equal(name, "");
	assert_int_equal(name_of(CMD("qemu\0-name\0a,,b\0"), name, 4), 0);
	assert_string_equal(name, "a,b");
	assert_int_equal(name_of(CMD("qemu\0-name\0a,,b\0"), name, 3), -ENAMETOOLONG);
	assert_int_equal(name_of(CMD("qemu\0-name\0a\0"), name, 1), -ENAMETOOLONG);

	/* A long name that a later short guest= replaces is no error. */
	memcpy(cmd + n, "-name\0guest=short", 18);
	assert_int_equal(name_of(cmd, n + 18, name, sizeof(name)), 0);
	assert_string_equal(name, "short");
}

/* ---- -uuid ---- */

static void test_uuid(void **state)
{
	char uuid[VM_UUID_MAX];

	(void)state;
	assert_int_equal(uuid_of(CMD("qemu\0-uuid\0" UUID1 "\0"), uuid, sizeof(uuid)), 0);
	assert_string_equal(uuid, UUID1);
	assert_int_equal(uuid_of(CMD("qemu\0--uuid\0" UUID1), uuid, sizeof(uuid)), 0);
	assert_string_equal(uuid, UUID1);
	/* Lower case, as libvirt writes it. */
	assert_int_equal(
		uuid_of(CMD("qemu\0-uuid\0ABCDEF01-2345-6789-ABCD-EF0123456789\0"), uuid, 37), 0);
	assert_string_equal(uuid, "abcdef01-2345-6789-abcd-ef0123456789");
	/* The last one wins; -name's value is not an option. */
	assert_int_equal(uuid_of(CMD("qemu\0-uuid\0ABCDEF01-2345-6789-ABCD-EF0123456789\0"
				     "-uuid\0" UUID1 "\0"),
				 uuid, sizeof(uuid)),
			 0);
	assert_string_equal(uuid, UUID1);
	assert_int_equal(uuid_of(CMD("qemu\0-name\0-uuid\0-m\0" UUID1 "\0"), uuid, sizeof(uuid)),
			 -ENOENT);
	assert_string_equal(uuid, "");

	assert_int_equal(uuid_of(CMD("qemu\0-name\0vm\0"), uuid, sizeof(uuid)), -ENOENT);
	assert_int_equal(uuid_of(CMD("qemu\0-uuid=" UUID1 "\0"), uuid, sizeof(uuid)), -ENOENT);
	assert_int_equal(uuid_of(CMD("qemu\0-uuid\0"), uuid, sizeof(uuid)), -EINVAL);
	assert_int_equal(uuid_of(CMD("qemu\0-uuid\0\0"), uuid, sizeof(uuid)), -EINVAL);
	assert_int_equal(uuid_of(CMD("qemu\0-uuid\0" UUID1 "0\0"), uuid, sizeof(uuid)), -EINVAL);
	assert_int_equal(uuid_of(CMD("qemu\0-uuid\0"
				     "5d2a4f1e-7b3c-4e8a-9f10-0123456789a\0"),
				 uuid, sizeof(uuid)),
			 -EINVAL);
	assert_int_equal(uuid_of(CMD("qemu\0-uuid\0"
				     "5d2a4f1e-7b3c-4e8a-9f10-0123456789ag\0"),
				 uuid, sizeof(uuid)),
			 -EINVAL);
	assert_int_equal(uuid_of(CMD("qemu\0-uuid\0"
				     "5d2a4f1e07b3c-4e8a-9f10-0123456789ab\0"),
				 uuid, sizeof(uuid)),
			 -EINVAL);
	assert_int_equal(uuid_of(CMD("qemu\0-uuid\0"
				     "5d2a4f1e7b3c4e8a9f100123456789ab\0"),
				 uuid, sizeof(uuid)),
			 -EINVAL);
	assert_int_equal(uuid_of(CMD("qemu\0-uuid\0 d2a4f1e-7b3c-4e8a-9f10-0123456789ab\0"), uuid,
				 sizeof(uuid)),
			 -EINVAL);
	assert_string_equal(uuid, "");
	assert_int_equal(uuid_of(CMD("qemu\0-uuid\0" UUID1), uuid, VM_UUID_MAX - 1), -ENAMETOOLONG);
	assert_int_equal(vm_cmdline_uuid(NULL, 3, uuid, sizeof(uuid)), -EINVAL);
	assert_int_equal(vm_cmdline_uuid("q", 1, NULL, sizeof(uuid)), -EINVAL);
	assert_int_equal(vm_cmdline_uuid("q", 1, uuid, 0), -EINVAL);
}

/* ---- pid files and the fallback ---- */

static void test_pidfile_parse(void **state)
{
	static const char *const bad[] = {
		"",	  "\n",	  " 12",  "12 ",	"12 \n",
		"12\n\n", "\n12", "0",	  "0\n",	"-1",
		"+1",	  "1x",	  "0x10", "2147483648", "99999999999999999999",
		"12\r\n", "1 2",
	};
	int pid;

	(void)state;
	assert_int_equal(pid_of(CMD("4321"), &pid), 0);
	assert_int_equal(pid, 4321);
	assert_int_equal(pid_of(CMD("4321\n"), &pid), 0);
	assert_int_equal(pid, 4321);
	assert_int_equal(pid_of(CMD("2147483647"), &pid), 0);
	assert_int_equal(pid, INT_MAX);
	assert_int_equal(pid_of(CMD("007\n"), &pid), 0);
	assert_int_equal(pid, 7);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pid = -7;
		if (pid_of(bad[i], strlen(bad[i]), &pid) != -EINVAL)
			fail_msg("pid file \"%s\" parsed", bad[i]);
		assert_int_equal(pid, -7);
	}
	/* Only len bytes count: a NUL inside is garbage, not an end. */
	assert_int_equal(pid_of(CMD("12\0"), &pid), -EINVAL);
	assert_int_equal(vm_pidfile_parse("123", 2, &pid), 0);
	assert_int_equal(pid, 12);
	assert_int_equal(vm_pidfile_parse(NULL, 2, &pid), -EINVAL);
	assert_int_equal(vm_pidfile_parse("12", 2, NULL), -EINVAL);
}

static void test_pidfile_read(void **state)
{
	const char *root = *state;
	char big[100], longdir[PATH_MAX + 8];
	int pid = -7;

	write_at(root, "demo.pid", CMD("4321\n"));
	assert_int_equal(vm_pidfile_read(root, "demo", &pid), 0);
	assert_int_equal(pid, 4321);
	write_at(root, "vm,with spaces.pid", CMD("17"));
	assert_int_equal(vm_pidfile_read(root, "vm,with spaces", &pid), 0);
	assert_int_equal(pid, 17);

	assert_int_equal(vm_pidfile_read(root, "gone", &pid), -ENOENT);
	write_at(root, "bad.pid", CMD("12x\n"));
	assert_int_equal(vm_pidfile_read(root, "bad", &pid), -EINVAL);
	write_at(root, "empty.pid", "", 0);
	assert_int_equal(vm_pidfile_read(root, "empty", &pid), -EINVAL);
	/* A file bigger than any pid file is not read to its end. */
	memset(big, '1', sizeof(big));
	write_at(root, "big.pid", big, sizeof(big));
	assert_int_equal(vm_pidfile_read(root, "big", &pid), -EINVAL);
	assert_int_equal(pid, 17);

	/* Names that are not file names. */
	assert_int_equal(vm_pidfile_read(root, "", &pid), -EINVAL);
	assert_int_equal(vm_pidfile_read(root, ".", &pid), -EINVAL);
	assert_int_equal(vm_pidfile_read(root, "..", &pid), -EINVAL);
	assert_int_equal(vm_pidfile_read(root, "../demo", &pid), -EINVAL);
	assert_int_equal(vm_pidfile_read(root, "a/b", &pid), -EINVAL);
	assert_int_equal(vm_pidfile_read(NULL, "demo", &pid), -EINVAL);
	assert_int_equal(vm_pidfile_read(root, NULL, &pid), -EINVAL);
	assert_int_equal(vm_pidfile_read(root, "demo", NULL), -EINVAL);
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	assert_int_equal(vm_pidfile_read(longdir, "demo", &pid), -ENAMETOOLONG);
}

static void test_fallback(void **state)
{
	char name[VM_NAME_MAX];

	(void)state;
	assert_int_equal(vm_name_fallback(4321, name, sizeof(name)), 0);
	assert_string_equal(name, "kvm-4321");
	assert_int_equal(vm_name_fallback(INT_MAX, name, sizeof(name)), 0);
	assert_string_equal(name, "kvm-2147483647");
	assert_int_equal(vm_name_fallback(4321, name, 9), 0);
	assert_string_equal(name, "kvm-4321");
	assert_int_equal(vm_name_fallback(4321, name, 8), -ENAMETOOLONG);
	assert_string_equal(name, "");
	assert_int_equal(vm_name_fallback(0, name, sizeof(name)), -EINVAL);
	assert_int_equal(vm_name_fallback(-3, name, sizeof(name)), -EINVAL);
	assert_int_equal(vm_name_fallback(1, NULL, 16), -EINVAL);
	assert_int_equal(vm_name_fallback(1, name, 0), -EINVAL);

	assert_string_equal(vm_name_source_str(VM_NAME_SRC_LIBVIRT), "libvirt");
	assert_string_equal(vm_name_source_str(VM_NAME_SRC_CMDLINE), "cmdline");
	assert_string_equal(vm_name_source_str(VM_NAME_SRC_PID), "pid");
	assert_string_equal(vm_name_source_str(VM_NAME_SRC_MAX), "pid");
	assert_string_equal(vm_name_source_str((enum vm_name_source) - 1), "pid");
}

/* ---- cmdline from a fake procfs ---- */

static void test_fake_procfs_cmdline(void **state)
{
	const char *root = *state;
	char buf[128], name[VM_NAME_MAX], longroot[PATH_MAX + 8];
	size_t len = 99;

	mkdir_at(root, "100");
	write_at(root, "100/cmdline", CMD("qemu\0-name\0guest=fake,,vm\0-uuid\0" UUID1 "\0"));
	assert_int_equal(vm_cmdline_read(root, 100, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof("qemu\0-name\0guest=fake,,vm\0-uuid\0" UUID1 "\0") - 1);
	assert_int_equal(vm_cmdline_name(buf, len, name, sizeof(name)), 0);
	assert_string_equal(name, "fake,vm");

	/* Exactly the buffer's size is whole, not truncated. */
	write_at(root, "100/cmdline", CMD("qemu\0-name\0abc"));
	assert_int_equal(vm_cmdline_read(root, 100, buf, 14, &len), 0);
	assert_int_equal(len, 14);
	assert_int_equal(vm_cmdline_name(buf, len, name, sizeof(name)), 0);
	assert_string_equal(name, "abc");

	/*
	 * Longer than the buffer: the cut last argument is dropped, so the
	 * name is missing rather than wrong.
	 */
	write_at(root, "100/cmdline", CMD("qemu\0-name\0abcdef\0"));
	assert_int_equal(vm_cmdline_read(root, 100, buf, 14, &len), 0);
	assert_int_equal(len, 11);
	assert_memory_equal(buf, "qemu\0-name\0", 11);
	assert_int_equal(vm_cmdline_name(buf, len, name, sizeof(name)), -EINVAL);
	/* The first argument alone too long. */
	assert_int_equal(vm_cmdline_read(root, 100, buf, 4, &len), -E2BIG);
	assert_int_equal(len, 0);

	/* Kernel threads and zombies have an empty cmdline. */
	write_at(root, "100/cmdline", "", 0);
	assert_int_equal(vm_cmdline_read(root, 100, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 0);

	assert_int_equal(vm_cmdline_read(root, 101, buf, sizeof(buf), &len), -ENOENT);
	assert_int_equal(vm_cmdline_read(root, 0, buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(vm_cmdline_read(root, -1, buf, sizeof(buf), &len), -EINVAL);
	assert_int_equal(vm_cmdline_read(root, 100, NULL, sizeof(buf), &len), -EINVAL);
	assert_int_equal(vm_cmdline_read(root, 100, buf, 0, &len), -EINVAL);
	assert_int_equal(vm_cmdline_read(root, 100, buf, sizeof(buf), NULL), -EINVAL);
	memset(longroot, 'r', sizeof(longroot) - 1);
	longroot[0] = '/';
	longroot[sizeof(longroot) - 1] = '\0';
	assert_int_equal(vm_cmdline_read(longroot, 100, buf, sizeof(buf), &len), -ENAMETOOLONG);
}

/* ---- the naming chain ---- */

struct fake_registry {
	int pid;
	const char *name;
	const char *uuid;
	int err;
	int calls;
};

static int fake_lookup(void *ctx, int pid, char *name, size_t name_size, char *uuid,
		       size_t uuid_size)
{
	struct fake_registry *r = ctx;

	r->calls++;
	if (r->err)
		return r->err;
	if (pid != r->pid)
		return -ENOENT;
	assert_true(strlen(r->name) < name_size);
	assert_true(strlen(r->uuid) < uuid_size);
	strcpy(name, r->name);
	strcpy(uuid, r->uuid);
	return 0;
}

static void test_resolve_chain(void **state)
{
	const char *root = *state;
	struct fake_registry reg = { .pid = 100, .name = "from-libvirt", .uuid = UUID1 };
	struct vm_name vn;

	mkdir_at(root, "100");
	write_at(
		root, "100/cmdline",
		CMD("qemu\0-name\0guest=from-cmdline\0-uuid\0ABCDEF01-2345-6789-ABCD-EF0123456789"));
	mkdir_at(root, "200");
	write_at(root, "200/cmdline", CMD("qemu\0-uuid\0ABCDEF01-2345-6789-ABCD-EF0123456789\0"));
	mkdir_at(root, "300");
	write_at(root, "300/cmdline", CMD("qemu\0-name\0"));

	/* libvirt first */
	assert_int_equal(vm_name_resolve(root, 100, fake_lookup, &reg, &vn), 0);
	assert_string_equal(vn.name, "from-libvirt");
	assert_string_equal(vn.uuid, UUID1);
	assert_int_equal(vn.source, VM_NAME_SRC_LIBVIRT);
	assert_int_equal(reg.calls, 1);

	/* then the command line, whatever libvirt's error */
	static const int errs[] = { -ENOENT, -EAGAIN, -ENOTCONN, -ENOTSUP, -ENAMETOOLONG };
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		reg.err = errs[i];
		assert_int_equal(vm_name_resolve(root, 100, fake_lookup, &reg, &vn), 0);
		assert_string_equal(vn.name, "from-cmdline");
		assert_string_equal(vn.uuid, "abcdef01-2345-6789-abcd-ef0123456789");
		assert_int_equal(vn.source, VM_NAME_SRC_CMDLINE);
	}
	assert_int_equal(vm_name_resolve(root, 100, NULL, NULL, &vn), 0);
	assert_string_equal(vn.name, "from-cmdline");
	assert_int_equal(vn.source, VM_NAME_SRC_CMDLINE);

	/* then the pid, keeping a -uuid when there is one */
	reg.err = 0;
	assert_int_equal(vm_name_resolve(root, 200, fake_lookup, &reg, &vn), 0);
	assert_string_equal(vn.name, "kvm-200");
	assert_string_equal(vn.uuid, "abcdef01-2345-6789-abcd-ef0123456789");
	assert_int_equal(vn.source, VM_NAME_SRC_PID);
	assert_int_equal(vm_name_resolve(root, 300, fake_lookup, &reg, &vn), 0);
	assert_string_equal(vn.name, "kvm-300");
	assert_string_equal(vn.uuid, "");
	assert_int_equal(vn.source, VM_NAME_SRC_PID);
	/* a process that is gone */
	assert_int_equal(vm_name_resolve(root, 400, NULL, NULL, &vn), 0);
	assert_string_equal(vn.name, "kvm-400");
	assert_string_equal(vn.uuid, "");
	assert_int_equal(vn.source, VM_NAME_SRC_PID);

	assert_int_equal(vm_name_resolve(root, 0, NULL, NULL, &vn), -EINVAL);
	assert_int_equal(vm_name_resolve(root, 100, NULL, NULL, NULL), -EINVAL);
}

/* A registry that answers 0 with an empty name is not believed. */
static int empty_lookup(void *ctx, int pid, char *name, size_t name_size, char *uuid,
			size_t uuid_size)
{
	(void)ctx;
	(void)pid;
	(void)name_size;
	(void)uuid_size;
	name[0] = '\0';
	strcpy(uuid, UUID1);
	return 0;
}

static void test_resolve_empty_registry_name(void **state)
{
	struct vm_name vn;

	(void)state;
	assert_int_equal(vm_name_resolve("/nonexistent", 5, empty_lookup, NULL, &vn), 0);
	assert_string_equal(vn.name, "kvm-5");
	assert_string_equal(vn.uuid, "");
	assert_int_equal(vn.source, VM_NAME_SRC_PID);
}

/* ---- a real process ---- */

static void test_real_child(void **state)
{
	static const char want_cmd[] = "-name";
	struct timespec pause_ts = { .tv_nsec = 10 * 1000 * 1000 };
	char buf[4096];
	struct vm_name vn;
	size_t len = 0;
	int status, tries;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* "; exit" keeps sh from exec'ing sleep over our argv. */
		execl("/bin/sh", "qemu-system-x86_64", "-c", "sleep 30; exit 0", "-name",
		      "guest=real,,vm,debug-threads=on", "-uuid", UUID1, (char *)NULL);
		_exit(127);
	}
	/* Wait for the exec to show in /proc. */
	for (tries = 0; tries < 500; tries++) {
		assert_int_equal(vm_cmdline_read(NULL, pid, buf, sizeof(buf), &len), 0);
		if (memmem(buf, len, want_cmd, sizeof(want_cmd)))
			break;
		nanosleep(&pause_ts, NULL);
	}
	assert_true(tries < 500);
	assert_int_equal(buf[len - 1], '\0');

	assert_int_equal(vm_name_resolve(NULL, pid, NULL, NULL, &vn), 0);
	assert_string_equal(vn.name, "real,vm");
	assert_string_equal(vn.uuid, UUID1);
	assert_int_equal(vn.source, VM_NAME_SRC_CMDLINE);
	assert_int_equal(vm_name_resolve("/proc", pid, NULL, NULL, &vn), 0);
	assert_string_equal(vn.name, "real,vm");

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* Reaped: the name falls back to the pid (unless the pid was reused). */
	if (vm_cmdline_read(NULL, pid, buf, sizeof(buf), &len) == -ENOENT) {
		assert_int_equal(vm_name_resolve(NULL, pid, NULL, NULL, &vn), 0);
		assert_int_equal(vn.source, VM_NAME_SRC_PID);
	}

	/* This test binary has no -name. */
	assert_int_equal(vm_cmdline_read(NULL, getpid(), buf, sizeof(buf), &len), 0);
	assert_int_equal(vm_cmdline_name(buf, len, vn.name, sizeof(vn.name)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_libvirt),
		cmocka_unit_test(test_name_forms),
		cmocka_unit_test(test_name_escapes),
		cmocka_unit_test(test_name_last_wins),
		cmocka_unit_test(test_name_option_values),
		cmocka_unit_test(test_name_absent),
		cmocka_unit_test(test_name_missing_value),
		cmocka_unit_test(test_name_unterminated),
		cmocka_unit_test(test_name_too_long),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_pidfile_parse),
		cmocka_unit_test_setup_teardown(test_pidfile_read, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test_setup_teardown(test_fake_procfs_cmdline, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_resolve_chain, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_resolve_empty_registry_name),
		cmocka_unit_test(test_real_child),
	};

	return cmocka_run_group_tests_name("vm_names", tests, NULL, NULL);
}
