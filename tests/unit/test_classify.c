// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of user/classify.c: real-world cgroup layouts of docker,
 * podman, containerd, cri-o, kubelet, systemd and libvirt, odd names, and
 * docker's config.v2.json name lookup.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "classify.h"

#define ID1 "88bd076be8e2e7dbd37512c0c3bdad0adc17bc02db85756b1dcdd781d5c03b59"
#define ID2 "3dfd6f5e1bd339e4e15977834811be38897ada1c8488c5b239a30ac383027fbe"
#define ID3 "9019c40c5549471f3a32ed5fa3c7966a841432f2fdc3cfe9c8ab08c31ad5d0e7"
#define SHORT1 "88bd076be8e2"
#define SHORT2 "3dfd6f5e1bd3"
#define SHORT3 "9019c40c5549"
#define UID1 "da6896c5-9cc6-412a-9497-f6f47a39d949"
#define UID1_ "da6896c5_9cc6_412a_9497_f6f47a39d949" /* systemd-escaped */
#define UID2 "2cde0221-4735-4641-b9b4-a470e07887ea"
#define UID2_ "2cde0221_4735_4641_b9b4_a470e07887ea"
#define STATIC_UID "52bf7013e9d9f03e3337128fe776755e" /* static pods: a hash */

struct ccase {
	const char *path;
	enum wl_kind kind;
	const char *runtime; /* NULL: none */
	const char *id; /* "" : none */
	const char *name;
};

#define K8S_BU "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID1_ ".slice"
#define K8S_BE "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID2_ ".slice"
#define VM_SCOPE "/machine.slice/machine-qemu\\x2d1\\x2ddebian12.scope"

static const struct ccase cases[] = {
	/* the root */
	{ "/", WL_KIND_HOST, NULL, "", "host" },

	/* docker, cgroupfs and systemd drivers, nested cgroups, dind */
	{ "/docker/" ID1, WL_KIND_CONTAINER, "docker", ID1, SHORT1 },
	{ "/system.slice/docker-" ID1 ".scope", WL_KIND_CONTAINER, "docker", ID1, SHORT1 },
	{ "/docker/" ID1 "/sub", WL_KIND_CONTAINER, "docker", ID1, SHORT1 },
	{ "/docker/" ID1 "/docker/" ID2, WL_KIND_CONTAINER, "docker", ID2, SHORT2 },
	{ "/system.slice/docker-" ID1 ".scope/init.scope", WL_KIND_CONTAINER, "docker", ID1,
	  SHORT1 },
	{ "/system.slice/docker-" ID1 ".scope/system.slice/cron.service", WL_KIND_CONTAINER,
	  "docker", ID1, SHORT1 },
	{ "//system.slice//docker-" ID1 ".scope/", WL_KIND_CONTAINER, "docker", ID1, SHORT1 },
	{ "/user.slice/user-1000.slice/user@1000.service/user.slice/docker-" ID3 ".scope",
	  WL_KIND_CONTAINER, "docker", ID3, SHORT3 },

	/* podman: systemd root and rootless, cgroupfs, conmon, split mode */
	{ "/machine.slice/libpod-" ID1 ".scope", WL_KIND_CONTAINER, "podman", ID1, SHORT1 },
	{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID2 ".scope",
	  WL_KIND_CONTAINER, "podman", ID2, SHORT2 },
	{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID2 ".scope/container",
	  WL_KIND_CONTAINER, "podman", ID2, SHORT2 },
	{ "/libpod_parent/libpod-" ID3, WL_KIND_CONTAINER, "podman", ID3, SHORT3 },
	{ "/machine.slice/libpod-conmon-" ID1 ".scope", WL_KIND_CGROUP, "podman", "",
	  "conmon-" SHORT1 },
	{ "/libpod_parent/conmon", WL_KIND_CGROUP, "podman", "", "conmon" },
	{ "/machine.slice/machine-libpod_pod_" ID3 ".slice/libpod-" ID1 ".scope", WL_KIND_CONTAINER,
	  "podman", ID1, SHORT1 },

	/* containerd outside kubernetes; "/<namespace>/<id>" is not guessed */
	{ "/system.slice/cri-containerd-" ID1 ".scope", WL_KIND_CONTAINER, "containerd", ID1,
	  SHORT1 },
	{ "/system.slice/nerdctl-" ID2 ".scope", WL_KIND_CONTAINER, "containerd", ID2, SHORT2 },
	{ "/default/" ID3, WL_KIND_CGROUP, NULL, "", ID3 },

	/* cri-o, systemd and cgroupfs managers */
	{ "/system.slice/crio-" ID1 ".scope", WL_KIND_CONTAINER, "cri-o", ID1, SHORT1 },
	{ "/system.slice/crio-conmon-" ID1 ".scope", WL_KIND_CGROUP, "cri-o", "",
	  "conmon-" SHORT1 },
	{ "/crio/crio-" ID2, WL_KIND_CONTAINER, "cri-o", ID2, SHORT2 },

	/* kubernetes, systemd driver: every QoS class and runtime */
	{ K8S_BU "/cri-containerd-" ID1 ".scope", WL_KIND_CONTAINER, "kubernetes", ID1, SHORT1 },
	{ K8S_BU, WL_KIND_CGROUP, "kubernetes", "", "pod" UID1 },
	{ K8S_BE "/crio-" ID2 ".scope", WL_KIND_CONTAINER, "kubernetes", ID2, SHORT2 },
	{ K8S_BE "/crio-conmon-" ID2 ".scope", WL_KIND_CGROUP, "kubernetes", "", "conmon-" SHORT2 },
	{ "/kubepods.slice/kubepods-pod" UID2_ ".slice/docker-" ID3 ".scope", WL_KIND_CONTAINER,
	  "kubernetes", ID3, SHORT3 },
	{ "/kubepods.slice/kubepods-pod" UID2_ ".slice", WL_KIND_CGROUP, "kubernetes", "",
	  "pod" UID2 },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" STATIC_UID ".slice",
	  WL_KIND_CGROUP, "kubernetes", "", "pod" STATIC_UID },
	{ "/kubepods.slice/kubepods-burstable.slice", WL_KIND_CGROUP, "kubernetes", "",
	  "kubepods-burstable.slice" },
	{ "/kubepods.slice", WL_KIND_CGROUP, "kubernetes", "", "kubepods.slice" },
	/* kind: kubelet inside a docker container, kubelet- prefixed slices */
	{ "/system.slice/docker-" ID3 ".scope/kubelet.slice/kubelet-kubepods.slice/"
	  "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID1_
	  ".slice/cri-containerd-" ID1 ".scope",
	  WL_KIND_CONTAINER, "kubernetes", ID1, SHORT1 },

	/* kubernetes, cgroupfs driver */
	{ "/kubepods/burstable/pod" UID1 "/" ID1, WL_KIND_CONTAINER, "kubernetes", ID1, SHORT1 },
	{ "/kubepods/besteffort/pod" UID1 "/" ID2, WL_KIND_CONTAINER, "kubernetes", ID2, SHORT2 },
	{ "/kubepods/pod" UID2 "/" ID3, WL_KIND_CONTAINER, "kubernetes", ID3, SHORT3 },
	{ "/kubepods/pod" UID2 "/crio-" ID3, WL_KIND_CONTAINER, "kubernetes", ID3, SHORT3 },
	{ "/kubepods/burstable/pod" UID1, WL_KIND_CGROUP, "kubernetes", "", "pod" UID1 },
	{ "/kubepods/burstable", WL_KIND_CGROUP, "kubernetes", "", "burstable" },
	{ "/kubepods", WL_KIND_CGROUP, "kubernetes", "", "kubepods" },
	/* a docker container inside a pod's container is docker's again */
	{ "/kubepods/pod" UID2 "/" ID3 "/docker/" ID1, WL_KIND_CONTAINER, "docker", ID1, SHORT1 },

	/* systemd units */
	{ "/system.slice/ssh.service", WL_KIND_CGROUP, "systemd", "", "ssh.service" },
	{ "/user.slice/user-1000.slice/session-3.scope", WL_KIND_CGROUP, "systemd", "",
	  "session-3.scope" },
	{ "/system.slice", WL_KIND_CGROUP, "systemd", "", "system.slice" },
	{ "/init.scope", WL_KIND_CGROUP, "systemd", "", "init.scope" },
	{ "/system.slice/docker.service", WL_KIND_CGROUP, "systemd", "", "docker.service" },
	{ "/system.slice/system-getty.slice/getty@tty1.service", WL_KIND_CGROUP, "systemd", "",
	  "getty@tty1.service" },
	{ "/system.slice/dev-disk-by\\x2duuid-0a1b.swap", WL_KIND_CGROUP, "systemd", "",
	  "dev-disk-by\\x2duuid-0a1b.swap" },
	{ "/user.slice/user-1000.slice/user@1000.service/app.slice/"
	  "app-org.gnome.Terminal.slice/vte-spawn-7a2c.scope",
	  WL_KIND_CGROUP, "systemd", "", "vte-spawn-7a2c.scope" },
	{ "/machine.slice", WL_KIND_CGROUP, "systemd", "", "machine.slice" },
	/* systemd-nspawn machines are not libvirt's */
	{ "/machine.slice/machine-fedora.scope", WL_KIND_CGROUP, "systemd", "",
	  "machine-fedora.scope" },

	/* libvirt, systemd layout (old and new child layouts) */
	{ VM_SCOPE, WL_KIND_VM, "libvirt", "", "debian12" },
	{ VM_SCOPE "/libvirt", WL_KIND_VM, "libvirt", "", "debian12" },
	{ VM_SCOPE "/libvirt/emulator", WL_KIND_VM, "libvirt", "", "debian12" },
	{ VM_SCOPE "/libvirt/vcpu0", WL_KIND_VM, "libvirt", "", "debian12" },
	{ VM_SCOPE "/libvirt/iothread1", WL_KIND_VM, "libvirt", "", "debian12" },
	{ "/machine.slice/machine-qemu\\x2d12\\x2dmy\\x2dvm.scope/vcpu3", WL_KIND_VM, "libvirt", "",
	  "my-vm" },
	{ "/machine.slice/machine-qemu\\x2dold\\x2dvm.scope/emulator", WL_KIND_VM, "libvirt", "",
	  "old-vm" },
	{ "/machine.slice/machine-lxc\\x2d4242\\x2dweb.scope", WL_KIND_CONTAINER, "libvirt", "",
	  "web" },

	/* libvirt, cgroupfs layout */
	{ "/machine/qemu-1-debian12.libvirt-qemu", WL_KIND_VM, "libvirt", "", "debian12" },
	{ "/machine/qemu-1-debian12.libvirt-qemu/emulator", WL_KIND_VM, "libvirt", "", "debian12" },
	{ "/machine/qemu-1-debian12.libvirt-qemu/vcpu0", WL_KIND_VM, "libvirt", "", "debian12" },
	{ "/machine/legacy.libvirt-qemu/vcpu1", WL_KIND_VM, "libvirt", "", "legacy" },
	{ "/machine/lxc-4242-web.libvirt-lxc", WL_KIND_CONTAINER, "libvirt", "", "web" },
	{ "/machine/_cpu.libvirt-qemu", WL_KIND_VM, "libvirt", "", "cpu" },

	/* plain cgroups and near misses that must not be taken for runtimes */
	{ "/foo/bar", WL_KIND_CGROUP, NULL, "", "bar" },
	{ "/docker", WL_KIND_CGROUP, NULL, "", "docker" },
	{ "/docker/" SHORT1, WL_KIND_CGROUP, NULL, "", SHORT1 },
	{ "/docker/88BD076BE8E2E7DBD37512C0C3BDAD0ADC17BC02DB85756B1DCDD781D5C03B59",
	  WL_KIND_CGROUP, NULL, "",
	  "88BD076BE8E2E7DBD37512C0C3BDAD0ADC17BC02DB85756B1DCDD781D5C03B59" },
	{ "/docker/" ID1 "0", WL_KIND_CGROUP, NULL, "", ID1 "0" },
	{ "/docker/" ID1 "x", WL_KIND_CGROUP, NULL, "", ID1 "x" },
	{ "/system.slice/docker-" ID1 ".scopex", WL_KIND_CGROUP, NULL, "",
	  "docker-" ID1 ".scopex" },
	{ "/other/" ID1, WL_KIND_CGROUP, NULL, "", ID1 },
	/* 64 characters, but not lowercase hex */
	{ "/system.slice/docker-88BD076BE8E2E7DBD37512C0C3BDAD0ADC17BC02DB85756B1DCDD781D5C03B59"
	  ".scope",
	  WL_KIND_CGROUP, "systemd", "",
	  "docker-88BD076BE8E2E7DBD37512C0C3BDAD0ADC17BC02DB85756B1DCDD781D5C03B59.scope" },
	{ "/machine.slice/libpod-g8bd076be8e2e7dbd37512c0c3bdad0adc17bc02db85756b1dcdd781d5c03b59"
	  ".scope",
	  WL_KIND_CGROUP, "systemd", "",
	  "libpod-g8bd076be8e2e7dbd37512c0c3bdad0adc17bc02db85756b1dcdd781d5c03b59.scope" },
	{ "/crio/crio-88bd076be8e2e7dbd37512c0c3bdad0adc17bc02db85756b1dcdd781d5c03b5-",
	  WL_KIND_CGROUP, NULL, "",
	  "crio-88bd076be8e2e7dbd37512c0c3bdad0adc17bc02db85756b1dcdd781d5c03b5-" },
	{ "/pod" UID1 "/" ID1, WL_KIND_CGROUP, NULL, "", ID1 }, /* no kubepods above */
	{ "/kubepods/burstable/podnot-a-uid!", WL_KIND_CGROUP, NULL, "", "podnot-a-uid!" },
	{ "/machine/.libvirt-qemu", WL_KIND_CGROUP, NULL, "", ".libvirt-qemu" },
	{ "/.scope", WL_KIND_CGROUP, NULL, "", ".scope" },

	/* odd names: spaces, quotes, backslashes, UTF-8, control bytes */
	{ "/my group/with space", WL_KIND_CGROUP, NULL, "", "with space" },
	{ "/odd/\"quoted\" name", WL_KIND_CGROUP, NULL, "", "\"quoted\" name" },
	{ "/odd/back\\slash", WL_KIND_CGROUP, NULL, "", "back\\slash" },
	{ "/odd/caf\xc3\xa9 \xe2\x98\x95", WL_KIND_CGROUP, NULL, "", "caf\xc3\xa9 \xe2\x98\x95" },
	{ "/odd/tab\there", WL_KIND_CGROUP, NULL, "", "tab\there" },
	{ "/odd/\xff\xfe", WL_KIND_CGROUP, NULL, "", "\xff\xfe" },
	{ "/system.slice/caf\xc3\xa9.service", WL_KIND_CGROUP, "systemd", "",
	  "caf\xc3\xa9.service" },
};

static void check_case(const struct ccase *t)
{
	struct wl_class c;

	/* garbage first: the result must not depend on what was there */
	memset(&c, 0x5a, sizeof(c));
	wl_classify(t->path, &c);
	if (c.kind != t->kind || (c.runtime == NULL) != (t->runtime == NULL) ||
	    (t->runtime && strcmp(c.runtime, t->runtime)) || strcmp(c.container_id, t->id) ||
	    strcmp(c.name, t->name))
		print_error("path %s\n  got  kind=%s runtime=%s id=%s name=%s\n"
			    "  want kind=%s runtime=%s id=%s name=%s\n",
			    t->path, wl_kind_name(c.kind), c.runtime ? c.runtime : "(null)",
			    c.container_id, c.name, wl_kind_name(t->kind),
			    t->runtime ? t->runtime : "(null)", t->id, t->name);
	assert_int_equal(c.kind, t->kind);
	if (t->runtime)
		assert_string_equal(c.runtime, t->runtime);
	else
		assert_null(c.runtime);
	assert_string_equal(c.container_id, t->id);
	assert_string_equal(c.name, t->name);
}

static void test_table(void **state)
{
	(void)state;
	assert_true(sizeof(cases) / sizeof(cases[0]) >= 25);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(wl_kind_name(WL_KIND_CGROUP), "cgroup");
	assert_string_equal(wl_kind_name(WL_KIND_CONTAINER), "container");
	assert_string_equal(wl_kind_name(WL_KIND_VM), "vm");
	assert_string_equal(wl_kind_name(WL_KIND_HOST), "host");
	assert_non_null(wl_kind_name((enum wl_kind)42));
}

static void test_root_forms(void **state)
{
	const char *roots[] = { "/", "//", "", "////" };
	struct wl_class c;

	(void)state;
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		memset(&c, 0x5a, sizeof(c));
		wl_classify(roots[i], &c);
		assert_int_equal(c.kind, WL_KIND_HOST);
		assert_null(c.runtime);
		assert_string_equal(c.container_id, "");
		assert_string_equal(c.name, "host");
	}
	wl_classify(NULL, &c);
	assert_int_equal(c.kind, WL_KIND_HOST);
	assert_string_equal(c.name, "host");
}

static void test_long_names(void **state)
{
	char path[4096], want[WL_NAME_MAX];
	struct wl_class c;
	size_t n;

	(void)state;
	/* an ASCII name longer than the field: cut, terminated */
	strcpy(path, "/long/");
	n = strlen(path);
	memset(path + n, 'a', 400);
	path[n + 400] = '\0';
	memset(&c, 0x5a, sizeof(c));
	wl_classify(path, &c);
	assert_int_equal(c.kind, WL_KIND_CGROUP);
	assert_int_equal(strlen(c.name), WL_NAME_MAX - 1);
	memset(want, 'a', WL_NAME_MAX - 1);
	want[WL_NAME_MAX - 1] = '\0';
	assert_string_equal(c.name, want);

	/* a 2-byte character straddling the limit is dropped whole */
	strcpy(path, "/long/");
	n = strlen(path);
	memset(path + n, 'b', WL_NAME_MAX - 2);
	strcpy(path + n + WL_NAME_MAX - 2, "\xc3\xa9tail");
	wl_classify(path, &c);
	assert_int_equal(strlen(c.name), WL_NAME_MAX - 2);
	assert_int_equal((unsigned char)c.name[WL_NAME_MAX - 3], 'b');

	/* a 3-byte character: the first two bytes fit, all three go */
	memset(path + n, 'c', WL_NAME_MAX - 3);
	strcpy(path + n + WL_NAME_MAX - 3, "\xe2\x98\x95");
	wl_classify(path, &c);
	assert_int_equal(strlen(c.name), WL_NAME_MAX - 3);

	/* an exact fit is kept whole */
	memset(path + n, 'd', WL_NAME_MAX - 1);
	path[n + WL_NAME_MAX - 1] = '\0';
	wl_classify(path, &c);
	assert_int_equal(strlen(c.name), WL_NAME_MAX - 1);

	/* a long libvirt VM name is cut too */
	n = (size_t)snprintf(path, sizeof(path), "/machine/qemu-3-");
	memset(path + n, 'v', 300);
	strcpy(path + n + 300, ".libvirt-qemu/vcpu0");
	wl_classify(path, &c);
	assert_int_equal(c.kind, WL_KIND_VM);
	assert_int_equal(strlen(c.name), WL_NAME_MAX - 1);
	assert_int_equal(c.name[0], 'v');

	/* a long systemd-escaped VM name */
	n = (size_t)snprintf(path, sizeof(path), "/machine.slice/machine-qemu\\x2d3\\x2d");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "ab\\x2d");
	snprintf(path + n, sizeof(path) - n, "end.scope");
	wl_classify(path, &c);
	assert_int_equal(c.kind, WL_KIND_VM);
	assert_int_equal(strlen(c.name), WL_NAME_MAX - 1);
	assert_memory_equal(c.name, "ab-ab-ab-", 9);
}

/* A deep path of many components still classifies by its components. */
static void test_deep_path(void **state)
{
	char path[8192];
	size_t n = 0;
	struct wl_class c;

	(void)state;
	n += (size_t)snprintf(path + n, sizeof(path) - n, "/system.slice/docker-" ID1 ".scope");
	for (int i = 0; i < 500; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "/d%d", i);
	wl_classify(path, &c);
	assert_int_equal(c.kind, WL_KIND_CONTAINER);
	assert_string_equal(c.container_id, ID1);
	assert_string_equal(c.name, SHORT1);
}

/* Whatever the input, the name is never empty and always terminated. */
static void test_name_never_empty(void **state)
{
	const char *odd[] = { "/a",
			      "/machine.slice/machine-.scope",
			      "/machine.slice/machine-qemu\\x2d.scope",
			      "/machine.slice/machine-qemu\\x2d1\\x2d.scope",
			      "/machine/qemu-1-.libvirt-qemu",
			      "/machine/_.libvirt-qemu",
			      "/kubepods/pod",
			      "/kubepods.slice/kubepods-pod.slice",
			      "/x/\\x",
			      "/x/\\x2",
			      "/machine.slice/machine-qemu\\x2d1\\x2dvm\\x00x.scope",
			      "/libpod_parent/conmon/" };
	struct wl_class c;

	(void)state;
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		memset(&c, 0x5a, sizeof(c));
		wl_classify(odd[i], &c);
		assert_true(c.name[0] != '\0');
		assert_non_null(memchr(c.name, '\0', sizeof(c.name)));
		assert_non_null(memchr(c.container_id, '\0', sizeof(c.container_id)));
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wl_classify(cases[i].path, &c);
		assert_true(c.name[0] != '\0');
	}

	/* a libvirt name that strips to nothing keeps the machine name */
	wl_classify("/machine/qemu-1-.libvirt-qemu", &c);
	assert_int_equal(c.kind, WL_KIND_VM);
	assert_string_equal(c.name, "qemu-1-");
	/* an escaped NUL must not end the name early */
	wl_classify("/machine.slice/machine-qemu\\x2d1\\x2dvm\\x00x.scope", &c);
	assert_string_equal(c.name, "vm\\x00x");
}

/* ---- docker config.v2.json ---- */

static char docker_root[64];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void write_config(const char *id, const char *json)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/containers", docker_root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/containers/%s", docker_root, id);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/containers/%s/config.v2.json", docker_root, id);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(json, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static int docker_setup(void **state)
{
	(void)state;
	strcpy(docker_root, "/tmp/iotrace-docker-XXXXXX");
	return mkdtemp(docker_root) ? 0 : -1;
}

static int docker_teardown(void **state)
{
	(void)state;
	return nftw(docker_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int lookup(const char *id, struct wl_class *c)
{
	char path[256];

	snprintf(path, sizeof(path), "/system.slice/docker-%s.scope", id);
	wl_classify(path, c);
	assert_string_equal(c->runtime, "docker");
	return wl_name_from_runtime(c, docker_root);
}

static void test_docker_name(void **state)
{
	struct wl_class c;

	(void)state;
	/*
	 * Shaped like a real config.v2.json, with decoys: "Name" inside
	 * strings, inside nested objects and arrays, before the real one.
	 */
	write_config(ID1, "{\"StreamConfig\":{},\"State\":{\"Running\":true,\"Paused\":false,"
			  "\"Pid\":4242,\"ExitCode\":0,\"Error\":\"\",\"Health\":null},"
			  "\"ID\":\"" ID1 "\",\"Created\":\"2024-01-02T03:04:05.6Z\","
			  "\"Managed\":false,\"Path\":\"sh\",\"Args\":[\"-c\","
			  "\"echo \\\"Name\\\":\\\"/evil\\\" }\"],"
			  "\"Config\":{\"Hostname\":\"88bd076be8e2\",\"Labels\":"
			  "{\"Name\":\"/nested\"}},\"Image\":\"sha256:0123\","
			  "\"MountPoints\":{\"/data\":{\"Name\":\"vol1\",\"Source\":\"\"}},"
			  "\"Weird\\\"Name\":\"/not-this\",\"Num\":-1.5e3,\"T\":true,"
			  "\"Name\":\"/web-1\",\"Driver\":\"overlay2\",\"RestartCount\":0}");
	assert_int_equal(lookup(ID1, &c), 0);
	assert_string_equal(c.name, "web-1");
	/* the rest of the classification is untouched */
	assert_int_equal(c.kind, WL_KIND_CONTAINER);
	assert_string_equal(c.container_id, ID1);
}

static void test_docker_name_escapes(void **state)
{
	struct wl_class c;

	(void)state;
	/* pretty-printed, escapes, a surrogate pair */
	write_config(ID2, "{\n  \"ID\" : \"" ID2 "\" ,\n  \"Name\" :\t\"/we\\\"ird\\\\n"
			  "\\u00e9\\ud83d\\ude00\\/x\"\n}\n");
	assert_int_equal(lookup(ID2, &c), 0);
	assert_string_equal(c.name, "we\"ird\\n\xc3\xa9\xf0\x9f\x98\x80/x");
}

static void test_docker_name_long(void **state)
{
	char json[1024], want[WL_NAME_MAX];
	struct wl_class c;
	size_t n;

	(void)state;
	n = (size_t)snprintf(json, sizeof(json), "{\"Name\":\"/");
	memset(json + n, 'n', 600);
	strcpy(json + n + 600, "\"}");
	write_config(ID3, json);
	assert_int_equal(lookup(ID3, &c), 0);
	memset(want, 'n', WL_NAME_MAX - 1);
	want[WL_NAME_MAX - 1] = '\0';
	assert_string_equal(c.name, want);
}

static void test_docker_name_errors(void **state)
{
	struct wl_class c;

	(void)state;
	/* no such container */
	wl_classify("/docker/" ID1, &c);
	assert_int_equal(wl_name_from_runtime(&c, "/nonexistent-iotrace-root"), -ENOENT);
	assert_string_equal(c.name, SHORT1);

	/* no top-level Name, though nested ones exist */
	write_config(ID1, "{\"Config\":{\"Name\":\"/nested\"},\"ID\":\"x\"}");
	assert_int_equal(lookup(ID1, &c), -ENOENT);
	assert_string_equal(c.name, SHORT1);

	/* Name is not a string */
	write_config(ID1, "{\"Name\":null}");
	assert_int_equal(lookup(ID1, &c), -ENOENT);
	/* Name is empty once the '/' is gone */
	write_config(ID1, "{\"Name\":\"/\"}");
	assert_int_equal(lookup(ID1, &c), -ENOENT);
	assert_string_equal(c.name, SHORT1);
	/* an empty object */
	write_config(ID1, "{}");
	assert_int_equal(lookup(ID1, &c), -ENOENT);
	/* malformed: cut short, not an object, bad escape */
	write_config(ID1, "{\"State\":{\"Running\":tr");
	assert_int_equal(lookup(ID1, &c), -EBADMSG);
	write_config(ID1, "[\"Name\",\"/x\"]");
	assert_int_equal(lookup(ID1, &c), -EBADMSG);
	write_config(ID1, "{\"Name\":\"/a\\qb\"}");
	assert_int_equal(lookup(ID1, &c), -EBADMSG);
	write_config(ID1, "");
	assert_int_equal(lookup(ID1, &c), -EBADMSG);
	assert_string_equal(c.name, SHORT1);

	/* not docker: podman, kubernetes, systemd, libvirt, none */
	wl_classify("/machine.slice/libpod-" ID1 ".scope", &c);
	assert_int_equal(wl_name_from_runtime(&c, docker_root), -EINVAL);
	assert_string_equal(c.name, SHORT1);
	wl_classify("/kubepods/pod" UID1 "/" ID1, &c);
	assert_int_equal(wl_name_from_runtime(&c, docker_root), -EINVAL);
	wl_classify("/system.slice/ssh.service", &c);
	assert_int_equal(wl_name_from_runtime(&c, docker_root), -EINVAL);
	wl_classify(VM_SCOPE, &c);
	assert_int_equal(wl_name_from_runtime(&c, docker_root), -EINVAL);
	wl_classify("/", &c);
	assert_int_equal(wl_name_from_runtime(&c, docker_root), -EINVAL);

	/* a forged id must not become a path */
	wl_classify("/docker/" ID1, &c);
	strcpy(c.container_id, "../../../../etc");
	assert_int_equal(wl_name_from_runtime(&c, docker_root), -EINVAL);
	c.container_id[0] = '\0';
	assert_int_equal(wl_name_from_runtime(&c, docker_root), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_root_forms),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_deep_path),
		cmocka_unit_test(test_name_never_empty),
		cmocka_unit_test(test_docker_name),
		cmocka_unit_test(test_docker_name_escapes),
		cmocka_unit_test(test_docker_name_long),
		cmocka_unit_test(test_docker_name_errors),
	};

	return cmocka_run_group_tests(tests, docker_setup, docker_teardown);
}
