// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kvm_layout_from_btf() on synthetic BTF shaped like the kernels' own
 * vcpu_vmx, vcpu_svm and vmcb (user/kvm_layout.c lists the versions), with
 * exact offsets expected; malformed shapes leave their part unknown.  And
 * kvm_layout_find() on this machine's real BTF.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "kvm_layout.h"

/* sizeof(struct kvm_vcpu) on this machine's 6.18; any size would do. */
#define VCPU_SIZE 5968
/* struct vcpu_vt (6.16 on): pi_desc, pi_wakeup_list, then exit_reason. */
#define VT_SIZE 112
#define VT_REASON 80
/* Where union vmx_exit_reason sat in struct vcpu_vmx before vcpu_vt, from vcpu's end. */
#define OLD_REASON 704
/* vmcb_control_area.exit_code: offset 0x70 in every kernel and in the APM. */
#define CODE_OFF 0x70

struct types {
	int u8, u32, u64; /* the typedefs u8, u32, u64, as the kernel's BTF has them */
	int kvm_vcpu;
};

static int ok(int id)
{
	if (id < 0)
		fail_msg("building the BTF failed: %d", id);
	return id;
}

static struct btf *new_btf(struct types *t)
{
	struct btf *btf = btf__new_empty();
	int uchar, uint, ullong;

	assert_non_null(btf);
	uchar = ok(btf__add_int(btf, "unsigned char", 1, 0));
	uint = ok(btf__add_int(btf, "unsigned int", 4, 0));
	ullong = ok(btf__add_int(btf, "long long unsigned int", 8, 0));
	t->u8 = ok(btf__add_typedef(btf, "u8", uchar));
	t->u32 = ok(btf__add_typedef(btf, "u32", uint));
	t->u64 = ok(btf__add_typedef(btf, "u64", ullong));
	t->kvm_vcpu = ok(btf__add_struct(btf, "kvm_vcpu", VCPU_SIZE));
	ok(btf__add_field(btf, "cpu", t->u32, 0, 0));
	return btf;
}

/* union vmx_exit_reason { struct { u32 basic : 16; ... }; u32 full; } */
static int add_reason_union(struct btf *btf, const struct types *t)
{
	int bits, u;

	bits = ok(btf__add_struct(btf, NULL, 4));
	ok(btf__add_field(btf, "basic", t->u32, 0, 16));
	ok(btf__add_field(btf, "failed_vmentry", t->u32, 31, 1));
	u = ok(btf__add_union(btf, "vmx_exit_reason", 4));
	ok(btf__add_field(btf, NULL, bits, 0, 0));
	ok(btf__add_field(btf, "full", t->u32, 0, 0));
	return u;
}

/* 6.16 on: struct vcpu_vmx { struct kvm_vcpu vcpu; struct vcpu_vt <name>; u8 fail; ... } */
static void add_vmx_new(struct btf *btf, const struct types *t, const char *vt_name)
{
	int reason = add_reason_union(btf, t), pi, vt;

	pi = ok(btf__add_array(btf, t->u32, t->u64, 8));
	vt = ok(btf__add_struct(btf, "vcpu_vt", VT_SIZE));
	ok(btf__add_field(btf, "pi_desc", pi, 0, 0));
	ok(btf__add_field(btf, "exit_reason", reason, VT_REASON * 8, 0));
	ok(btf__add_field(btf, "exit_qualification", t->u64, (VT_REASON + 8) * 8, 0));
	ok(btf__add_struct(btf, "vcpu_vmx", VCPU_SIZE + VT_SIZE + 8));
	ok(btf__add_field(btf, "vcpu", t->kvm_vcpu, 0, 0));
	ok(btf__add_field(btf, vt_name, vt, VCPU_SIZE * 8, 0));
	ok(btf__add_field(btf, "fail", t->u8, (VCPU_SIZE + VT_SIZE) * 8, 0));
}

/* About 5.12 to 6.15: the union directly in struct vcpu_vmx. */
static void add_vmx_old(struct btf *btf, const struct types *t)
{
	int reason = add_reason_union(btf, t);

	ok(btf__add_struct(btf, "vcpu_vmx", VCPU_SIZE + OLD_REASON + 64));
	ok(btf__add_field(btf, "vcpu", t->kvm_vcpu, 0, 0));
	ok(btf__add_field(btf, "fail", t->u8, VCPU_SIZE * 8, 0));
	ok(btf__add_field(btf, "exit_reason", reason, (VCPU_SIZE + OLD_REASON) * 8, 0));
}

/*
 * struct vmcb { [pad] struct vmcb_control_area control; ... } and
 * struct vcpu_svm { struct kvm_vcpu vcpu; struct vmcb *vmcb; ... }, with
 * exit_code one u64 or (older kernels) a u32 and exit_code_hi.
 */
static void add_svm(struct btf *btf, const struct types *t, int code_size, int control_off)
{
	int words, ctl, vmcb, ptr;

	words = ok(btf__add_array(btf, t->u32, t->u32, 15));
	ctl = ok(btf__add_struct(btf, "vmcb_control_area", 1024));
	ok(btf__add_field(btf, "intercepts", words, 0, 0));
	if (code_size == 8) {
		ok(btf__add_field(btf, "exit_code", t->u64, CODE_OFF * 8, 0));
	} else {
		ok(btf__add_field(btf, "exit_code", t->u32, CODE_OFF * 8, 0));
		ok(btf__add_field(btf, "exit_code_hi", t->u32, (CODE_OFF + 4) * 8, 0));
	}
	ok(btf__add_field(btf, "exit_info_1", t->u64, (CODE_OFF + 8) * 8, 0));
	vmcb = ok(btf__add_struct(btf, "vmcb", control_off + 1024 + 744));
	if (control_off)
		ok(btf__add_field(btf, "pad", t->u64, 0, 0));
	ok(btf__add_field(btf, "control", ctl, control_off * 8, 0));
	ptr = ok(btf__add_ptr(btf, vmcb));
	ok(btf__add_struct(btf, "vcpu_svm", VCPU_SIZE + 64));
	ok(btf__add_field(btf, "vcpu", t->kvm_vcpu, 0, 0));
	ok(btf__add_field(btf, "vmcb", ptr, VCPU_SIZE * 8, 0));
	ok(btf__add_field(btf, "asid", t->u32, (VCPU_SIZE + 8) * 8, 0));
}

/* Run the walk on a layout pre-filled with garbage: every field must be written. */
static int layout_of(const struct btf *btf, struct iotrace_kvm_layout *l)
{
	memset(l, 0xa5, sizeof(*l));
	return kvm_layout_from_btf(btf, l);
}

static void assert_layout(const struct iotrace_kvm_layout *l, __u32 vmx, __u32 vmcb, __u32 code,
			  __u32 size)
{
	assert_int_equal(l->vmx_reason_off, vmx);
	assert_int_equal(l->svm_vmcb_off, vmcb);
	assert_int_equal(l->svm_code_off, code);
	assert_int_equal(l->svm_code_size, size);
}

static void test_vmx_reason_inside_vt(void **state)
{
	struct iotrace_kvm_layout l;
	struct types t;
	struct btf *btf = new_btf(&t);

	(void)state;
	add_vmx_new(btf, &t, "vt");
	assert_int_equal(layout_of(btf, &l), 0);
	assert_layout(&l, VCPU_SIZE + VT_REASON, 0, 0, 0);
	btf__free(btf);
}

/* The member holding the reason is found by what it holds, not by its name. */
static void test_vmx_reason_inside_any_member(void **state)
{
	struct iotrace_kvm_layout l;
	struct types t;
	struct btf *btf = new_btf(&t);

	(void)state;
	add_vmx_new(btf, &t, "common");
	assert_int_equal(layout_of(btf, &l), 0);
	assert_layout(&l, VCPU_SIZE + VT_REASON, 0, 0, 0);
	btf__free(btf);
}

static void test_vmx_reason_direct_union(void **state)
{
	struct iotrace_kvm_layout l;
	struct types t;
	struct btf *btf = new_btf(&t);

	(void)state;
	add_vmx_old(btf, &t);
	assert_int_equal(layout_of(btf, &l), 0);
	assert_layout(&l, VCPU_SIZE + OLD_REASON, 0, 0, 0);
	btf__free(btf);
}

/* Older kernels: the reason was a plain u32. */
static void test_vmx_reason_plain_u32(void **state)
{
	struct iotrace_kvm_layout l;
	struct types t;
	struct btf *btf = new_btf(&t);

	(void)state;
	ok(btf__add_struct(btf, "vcpu_vmx", VCPU_SIZE + 1024));
	ok(btf__add_field(btf, "vcpu", t.kvm_vcpu, 0, 0));
	ok(btf__add_field(btf, "exit_reason", t.u32, (VCPU_SIZE + 700) * 8, 0));
	assert_int_equal(layout_of(btf, &l), 0);
	assert_layout(&l, VCPU_SIZE + 700, 0, 0, 0);
	btf__free(btf);
}

/* Offsets are from the kvm_vcpu, wherever the vendor structure puts it. */
static void test_vmx_vcpu_not_first(void **state)
{
	struct iotrace_kvm_layout l;
	struct types t;
	struct btf *btf = new_btf(&t);
	int reason = add_reason_union(btf, &t);

	(void)state;
	ok(btf__add_struct(btf, "vcpu_vmx", 16 + VCPU_SIZE + 64));
	ok(btf__add_field(btf, "head", t.u64, 0, 0));
	ok(btf__add_field(btf, "vcpu", t.kvm_vcpu, 16 * 8, 0));
	ok(btf__add_field(btf, "exit_reason", reason, (16 + VCPU_SIZE + 24) * 8, 0));
	assert_int_equal(layout_of(btf, &l), 0);
	assert_layout(&l, VCPU_SIZE + 24, 0, 0, 0);
	btf__free(btf);
}

static void test_svm_u64_exit_code(void **state)
{
	struct iotrace_kvm_layout l;
	struct types t;
	struct btf *btf = new_btf(&t);

	(void)state;
	add_svm(btf, &t, 8, 0);
	assert_int_equal(layout_of(btf, &l), 0);
	assert_layout(&l, 0, VCPU_SIZE, CODE_OFF, 8);
	btf__free(btf);
}

static void test_svm_u32_exit_code(void **state)
{
	struct iotrace_kvm_layout l;
	struct types t;
	struct btf *btf = new_btf(&t);

	(void)state;
	add_svm(btf, &t, 4, 0);
	assert_int_equal(layout_of(btf, &l), 0);
	assert_layout(&l, 0, VCPU_SIZE, CODE_OFF, 4);
	btf__free(btf);
}

/* Both vendors in one BTF (KVM built in); control's own offset is added. */
static void test_both_vendors(void **state)
{
	struct iotrace_kvm_layout l;
	struct types t;
	struct btf *btf = new_btf(&t);

	(void)state;
	add_vmx_new(btf, &t, "vt");
	add_svm(btf, &t, 8, 16);
	assert_int_equal(layout_of(btf, &l), 0);
	assert_layout(&l, VCPU_SIZE + VT_REASON, VCPU_SIZE, 16 + CODE_OFF, 8);
	btf__free(btf);
}

static void test_neither_vendor(void **state)
{
	struct iotrace_kvm_layout l;
	struct types t;
	struct btf *btf = new_btf(&t);

	(void)state;
	assert_int_equal(layout_of(btf, &l), -ENOENT);
	assert_layout(&l, 0, 0, 0, 0);
	assert_int_equal(layout_of(NULL, &l), -ENOENT);
	assert_layout(&l, 0, 0, 0, 0);
	btf__free(btf);
}

/* A reason the BPF side cannot read as one u32 is no reason. */
static void test_vmx_malformed(void **state)
{
	struct iotrace_kvm_layout l;
	struct types t;
	struct btf *btf;
	int wide;

	(void)state;
	/* exit_reason as a bitfield */
	btf = new_btf(&t);
	ok(btf__add_struct(btf, "vcpu_vmx", VCPU_SIZE + 64));
	ok(btf__add_field(btf, "vcpu", t.kvm_vcpu, 0, 0));
	ok(btf__add_field(btf, "exit_reason", t.u32, (VCPU_SIZE + 8) * 8, 16));
	assert_int_equal(layout_of(btf, &l), -ENOENT);
	assert_layout(&l, 0, 0, 0, 0);
	btf__free(btf);

	/* no vcpu member: nothing to measure the offset from */
	btf = new_btf(&t);
	ok(btf__add_struct(btf, "vcpu_vmx", VCPU_SIZE + 64));
	ok(btf__add_field(btf, "fail", t.u8, 0, 0));
	ok(btf__add_field(btf, "exit_reason", t.u32, (VCPU_SIZE + 8) * 8, 0));
	assert_int_equal(layout_of(btf, &l), -ENOENT);
	assert_layout(&l, 0, 0, 0, 0);
	btf__free(btf);

	/* vcpu that is not a struct kvm_vcpu: a number, another struct */
	for (int as_struct = 0; as_struct <= 1; as_struct++) {
		int other;

		btf = new_btf(&t);
		other = t.u64;
		if (as_struct) {
			other = ok(btf__add_struct(btf, "kvm_vcpu_arch", VCPU_SIZE));
			ok(btf__add_field(btf, "regs", t.u64, 0, 0));
		}
		ok(btf__add_struct(btf, "vcpu_vmx", VCPU_SIZE + 64));
		ok(btf__add_field(btf, "vcpu", other, 0, 0));
		ok(btf__add_field(btf, "exit_reason", t.u32, (VCPU_SIZE + 8) * 8, 0));
		assert_int_equal(layout_of(btf, &l), -ENOENT);
		btf__free(btf);
	}

	/* a union wider than the u32 the reason is, with or without `full` */
	for (int with_full = 0; with_full <= 1; with_full++) {
		btf = new_btf(&t);
		wide = ok(btf__add_union(btf, "vmx_exit_reason", 8));
		ok(btf__add_field(btf, with_full ? "full" : "raw", t.u64, 0, 0));
		ok(btf__add_struct(btf, "vcpu_vmx", VCPU_SIZE + 64));
		ok(btf__add_field(btf, "vcpu", t.kvm_vcpu, 0, 0));
		ok(btf__add_field(btf, "exit_reason", wide, (VCPU_SIZE + 8) * 8, 0));
		assert_int_equal(layout_of(btf, &l), -ENOENT);
		btf__free(btf);
	}
}

/* A malformed SVM part leaves the SVM fields 0 and the VMX part intact. */
static void test_svm_malformed_keeps_vmx(void **state)
{
	struct iotrace_kvm_layout l;
	struct types t;
	struct btf *btf;
	int ctl, vmcb, ptr;

	(void)state;
	/* vmcb is a number, not a pointer */
	btf = new_btf(&t);
	add_vmx_old(btf, &t);
	ok(btf__add_struct(btf, "vcpu_svm", VCPU_SIZE + 64));
	ok(btf__add_field(btf, "vcpu", t.kvm_vcpu, 0, 0));
	ok(btf__add_field(btf, "vmcb", t.u64, VCPU_SIZE * 8, 0));
	assert_int_equal(layout_of(btf, &l), 0);
	assert_layout(&l, VCPU_SIZE + OLD_REASON, 0, 0, 0);
	btf__free(btf);

	/* exit_code as a bitfield */
	btf = new_btf(&t);
	add_vmx_old(btf, &t);
	ctl = ok(btf__add_struct(btf, "vmcb_control_area", 1024));
	ok(btf__add_field(btf, "exit_code", t.u64, CODE_OFF * 8, 32));
	vmcb = ok(btf__add_struct(btf, "vmcb", 1024));
	ok(btf__add_field(btf, "control", ctl, 0, 0));
	ptr = ok(btf__add_ptr(btf, vmcb));
	ok(btf__add_struct(btf, "vcpu_svm", VCPU_SIZE + 64));
	ok(btf__add_field(btf, "vcpu", t.kvm_vcpu, 0, 0));
	ok(btf__add_field(btf, "vmcb", ptr, VCPU_SIZE * 8, 0));
	assert_int_equal(layout_of(btf, &l), 0);
	assert_layout(&l, VCPU_SIZE + OLD_REASON, 0, 0, 0);
	btf__free(btf);

	/* a vcpu_svm without vcpu: SVM alone, so nothing at all */
	btf = new_btf(&t);
	ctl = ok(btf__add_struct(btf, "vmcb_control_area", 1024));
	ok(btf__add_field(btf, "exit_code", t.u64, CODE_OFF * 8, 0));
	vmcb = ok(btf__add_struct(btf, "vmcb", 1024));
	ok(btf__add_field(btf, "control", ctl, 0, 0));
	ptr = ok(btf__add_ptr(btf, vmcb));
	ok(btf__add_struct(btf, "vcpu_svm", VCPU_SIZE + 64));
	ok(btf__add_field(btf, "vmcb", ptr, VCPU_SIZE * 8, 0));
	assert_int_equal(layout_of(btf, &l), -ENOENT);
	assert_layout(&l, 0, 0, 0, 0);
	btf__free(btf);
}

static bool has_struct(const struct btf *btf, const char *name)
{
	return btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT) >= 0;
}

/*
 * The real kernel.  This machine's KVM is the PVM backend (struct vcpu_pvm
 * in vmlinux), with neither vcpu_vmx nor vcpu_svm anywhere and no
 * kvm_intel or kvm_amd module: its kvm_exit never fires and there is no
 * reason to decode, so the answer here is -ENOENT with everything 0.  On an
 * Intel or AMD host the premise fails and the walk must find that vendor's
 * part instead; the test checks whichever holds, and says which.
 */
static void test_find_on_this_kernel(void **state)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct iotrace_kvm_layout l, l2;
	bool intel, amd;
	int ret;

	(void)state;
	assert_non_null(vmlinux);
	intel = has_struct(vmlinux, "vcpu_vmx") || access("/sys/kernel/btf/kvm_intel", F_OK) == 0;
	amd = has_struct(vmlinux, "vcpu_svm") || access("/sys/kernel/btf/kvm_amd", F_OK) == 0;

	memset(&l, 0xa5, sizeof(l));
	ret = kvm_layout_find(vmlinux, &l);
	/* Without a base given, it loads vmlinux's BTF itself: same answer. */
	memset(&l2, 0x5a, sizeof(l2));
	assert_int_equal(kvm_layout_find(NULL, &l2), ret);
	assert_memory_equal(&l, &l2, sizeof(l));

	if (!intel && !amd) {
		print_message("no vcpu_vmx or vcpu_svm on this kernel (PVM here): -ENOENT\n");
		assert_int_equal(ret, -ENOENT);
		assert_layout(&l, 0, 0, 0, 0);
		assert_int_equal(kvm_layout_from_btf(vmlinux, &l), -ENOENT);
	} else {
		print_message("host KVM: intel %d, amd %d\n", intel, amd);
		assert_int_equal(ret, 0);
		assert_true(!intel || l.vmx_reason_off > 0);
		assert_true(!amd || (l.svm_vmcb_off > 0 && l.svm_code_off > 0 &&
				     (l.svm_code_size == 4 || l.svm_code_size == 8)));
	}
	btf__free(vmlinux);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmx_reason_inside_vt),
		cmocka_unit_test(test_vmx_reason_inside_any_member),
		cmocka_unit_test(test_vmx_reason_direct_union),
		cmocka_unit_test(test_vmx_reason_plain_u32),
		cmocka_unit_test(test_vmx_vcpu_not_first),
		cmocka_unit_test(test_svm_u64_exit_code),
		cmocka_unit_test(test_svm_u32_exit_code),
		cmocka_unit_test(test_both_vendors),
		cmocka_unit_test(test_neither_vendor),
		cmocka_unit_test(test_vmx_malformed),
		cmocka_unit_test(test_svm_malformed_keeps_vmx),
		cmocka_unit_test(test_find_on_this_kernel),
	};

	return cmocka_run_group_tests_name("kvm layout", tests, NULL, NULL);
}
