// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Where kvm_exit's reason lives, read from the kernel's BTF.
 *
 * The tracepoint passes the generic struct kvm_vcpu, which the vendor
 * module embeds in its own vCPU structure; the reason is a field of that
 * structure, at an offset that changes with the kernel version and its
 * configuration:
 *
 *   VMX  struct vcpu_vmx { struct kvm_vcpu vcpu; ...
 *            union vmx_exit_reason exit_reason; ... }      ~5.12 to 6.15
 *        ... u32 exit_reason ...                           older kernels
 *        ... struct vcpu_vt vt { ... exit_reason ... } ... 6.16 on (TDX)
 *   (the union was also backported to some older stable kernels, which is
 *   one more reason to go by shape rather than by version)
 *   SVM  struct vcpu_svm { struct kvm_vcpu vcpu; struct vmcb *vmcb; ... }
 *        struct vmcb { struct vmcb_control_area control; ... }, with
 *        control.exit_code a u32 (followed by exit_code_hi) or, on newer
 *        kernels, one u64.
 *
 * Members are found by name, so a field moved by a later kernel is still
 * found as long as its name and shape stay; anything of another shape
 * (a bitfield, a wider union) leaves its part unknown rather than guessed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "kvm_layout.h"

/* A member's place: its type, stripped of typedefs and qualifiers. */
struct member_ref {
	const struct btf_type *type;
	__u32 type_id;
	__u32 byte_off;
};

/* The type behind typedefs and modifiers (const, volatile, restrict, type tags). */
static const struct btf_type *resolve(const struct btf *btf, __u32 id, __u32 *out_id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	int depth;

	for (depth = 0; t && depth < 32; depth++) {
		if (!btf_is_typedef(t) && !btf_is_mod(t))
			break;
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (!t || btf_is_typedef(t) || btf_is_mod(t))
		return NULL;
	if (out_id)
		*out_id = id;
	return t;
}

/*
 * Member `name` of the struct or union `t`, if it is a whole number of
 * bytes from the start (bitfields have no address the BPF side can read).
 */
static bool find_member(const struct btf *btf, const struct btf_type *t, const char *name,
			struct member_ref *out)
{
	const struct btf_member *m;
	__u32 bits;
	int i;

	if (!t || !btf_is_composite(t))
		return false;
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++) {
		const char *n = btf__name_by_offset(btf, m->name_off);

		if (!n || strcmp(n, name))
			continue;
		bits = btf_member_bit_offset(t, i);
		if (btf_member_bitfield_size(t, i) || bits % 8)
			return false;
		out->type = resolve(btf, m->type, &out->type_id);
		out->byte_off = bits / 8;
		return out->type != NULL;
	}
	return false;
}

static bool is_int_of_size(const struct btf_type *t, __u32 size)
{
	return t && btf_is_int(t) && t->size == size && btf_int_offset(t) == 0 &&
	       btf_int_bits(t) == size * 8;
}

/*
 * The offset, inside the member, of the 32-bit reason: the member itself
 * when it is a u32 (older kernels), its `full` word when it is the union
 * (a union of bitfields and `u32 full`).
 */
static bool reason_word(const struct btf *btf, const struct member_ref *r, __u32 *off)
{
	struct member_ref full;

	if (is_int_of_size(r->type, 4)) {
		*off = 0;
		return true;
	}
	if (!btf_is_union(r->type) || r->type->size != 4)
		return false;
	if (find_member(btf, r->type, "full", &full)) {
		if (!is_int_of_size(full.type, 4))
			return false;
		*off = full.byte_off;
		return true;
	}
	/* A 4-byte union without `full`: its other members are the bits of the same word. */
	*off = 0;
	return true;
}

/* Offset of the vCPU's struct kvm_vcpu inside the vendor structure. */
static bool vcpu_member(const struct btf *btf, const struct btf_type *vendor, __u32 *off)
{
	struct member_ref v;
	const char *n;

	if (!find_member(btf, vendor, "vcpu", &v) || !btf_is_struct(v.type))
		return false;
	n = btf__name_by_offset(btf, v.type->name_off);
	if (!n || strcmp(n, "kvm_vcpu"))
		return false;
	*off = v.byte_off;
	return true;
}

/*
 * Offset, from the kvm_vcpu inside it, of a field at `off` of the vendor
 * structure; 0 when it cannot be one (inside kvm_vcpu, before it, or
 * beyond what a u32 holds).
 */
static __u32 from_vcpu(__u32 vcpu_off, __u64 off)
{
	if (off <= vcpu_off || off - vcpu_off > UINT32_MAX)
		return 0;
	return (__u32)(off - vcpu_off);
}

static __u32 vmx_reason_off(const struct btf *btf)
{
	const struct btf_type *vmx, *inner;
	const struct btf_member *m;
	struct member_ref r;
	__u32 vcpu_off, word;
	__s32 id;
	int i;

	id = btf__find_by_name_kind(btf, "vcpu_vmx", BTF_KIND_STRUCT);
	if (id < 0)
		return 0;
	vmx = btf__type_by_id(btf, id);
	if (!vcpu_member(btf, vmx, &vcpu_off))
		return 0;
	if (find_member(btf, vmx, "exit_reason", &r)) {
		if (!reason_word(btf, &r, &word))
			return 0;
		return from_vcpu(vcpu_off, (__u64)r.byte_off + word);
	}
	/*
	 * One level down: since 6.16 VMX and TDX share a struct vcpu_vt member
	 * holding the reason.  The first member that has a usable exit_reason
	 * wins; in member order that is the shared part, right after vcpu.
	 */
	m = btf_members(vmx);
	for (i = 0; i < btf_vlen(vmx); i++, m++) {
		__u32 bits = btf_member_bit_offset(vmx, i);
		const char *n = btf__name_by_offset(btf, m->name_off);

		/* The generic part is not the vendor's, whatever it holds. */
		if (btf_member_bitfield_size(vmx, i) || bits % 8 || (n && !strcmp(n, "vcpu")))
			continue;
		inner = resolve(btf, m->type, NULL);
		if (!inner || !btf_is_composite(inner))
			continue;
		if (!find_member(btf, inner, "exit_reason", &r) || !reason_word(btf, &r, &word))
			continue;
		return from_vcpu(vcpu_off, (__u64)bits / 8 + r.byte_off + word);
	}
	return 0;
}

/* The SVM part, all of it or none: the BPF side needs every field. */
static bool svm_layout(const struct btf *btf, struct iotrace_kvm_layout *out)
{
	const struct btf_type *svm, *vmcb;
	struct member_ref ptr, control, code;
	__u32 vcpu_off, vmcb_id;
	const char *n;
	__s32 id;

	id = btf__find_by_name_kind(btf, "vcpu_svm", BTF_KIND_STRUCT);
	if (id < 0)
		return false;
	svm = btf__type_by_id(btf, id);
	if (!vcpu_member(btf, svm, &vcpu_off))
		return false;
	if (!find_member(btf, svm, "vmcb", &ptr) || !btf_is_ptr(ptr.type))
		return false;
	/*
	 * The struct the pointer points to, so that another `struct vmcb` in
	 * the same BTF cannot be taken for it; by name when the pointee is
	 * only declared there.
	 */
	vmcb = resolve(btf, ptr.type->type, &vmcb_id);
	n = vmcb ? btf__name_by_offset(btf, vmcb->name_off) : NULL;
	if (!vmcb || !n || strcmp(n, "vmcb"))
		return false;
	if (!btf_is_struct(vmcb)) {
		id = btf__find_by_name_kind(btf, "vmcb", BTF_KIND_STRUCT);
		if (id < 0)
			return false;
		vmcb = btf__type_by_id(btf, id);
	}
	if (!find_member(btf, vmcb, "control", &control) || !btf_is_struct(control.type))
		return false;
	if (!find_member(btf, control.type, "exit_code", &code))
		return false;
	if (!is_int_of_size(code.type, 4) && !is_int_of_size(code.type, 8))
		return false;
	out->svm_vmcb_off = from_vcpu(vcpu_off, ptr.byte_off);
	if (!out->svm_vmcb_off)
		return false;
	out->svm_code_off = control.byte_off + code.byte_off;
	out->svm_code_size = code.type->size;
	return true;
}

int kvm_layout_from_btf(const struct btf *btf, struct iotrace_kvm_layout *out)
{
	memset(out, 0, sizeof(*out));
	if (!btf)
		return -ENOENT;
	out->vmx_reason_off = vmx_reason_off(btf);
	if (!svm_layout(btf, out)) {
		out->svm_vmcb_off = 0;
		out->svm_code_off = 0;
		out->svm_code_size = 0;
	}
	return out->vmx_reason_off || out->svm_code_size ? 0 : -ENOENT;
}

static bool layout_complete(const struct iotrace_kvm_layout *l)
{
	return l->vmx_reason_off && l->svm_code_size;
}

/* Take from `part` what `l` does not know yet, vendor by vendor. */
static void merge(struct iotrace_kvm_layout *l, const struct iotrace_kvm_layout *part)
{
	if (!l->vmx_reason_off)
		l->vmx_reason_off = part->vmx_reason_off;
	if (!l->svm_code_size && part->svm_code_size) {
		l->svm_vmcb_off = part->svm_vmcb_off;
		l->svm_code_off = part->svm_code_off;
		l->svm_code_size = part->svm_code_size;
	}
}

static bool is_kvm_vendor_module(const char *name)
{
	return !strcmp(name, "kvm_intel") || !strcmp(name, "kvm_amd");
}

static void merge_split(const struct btf *btf, struct iotrace_kvm_layout *out)
{
	struct iotrace_kvm_layout part;

	if (btf && kvm_layout_from_btf(btf, &part) == 0)
		merge(out, &part);
}

/*
 * The vendor modules' BTF, found among the kernel's loaded BTF objects.
 * Walking them needs CAP_SYS_ADMIN; returns -EPERM without it, so that the
 * caller can read the same BTF from sysfs instead.
 */
static int merge_loaded_modules(struct btf *vmlinux, struct iotrace_kvm_layout *out)
{
	__u32 id = 0;
	int err, fd;

	for (;;) {
		struct bpf_btf_info info;
		char name[64] = "";
		__u32 len = sizeof(info);
		struct btf *btf;

		err = bpf_btf_get_next_id(id, &id);
		if (err)
			return errno == ENOENT ? 0 : -errno;
		fd = bpf_btf_get_fd_by_id(id);
		if (fd < 0) {
			if (errno == EPERM)
				return -EPERM;
			continue; /* unloaded meanwhile */
		}
		memset(&info, 0, sizeof(info));
		info.name = (__u64)(uintptr_t)name;
		info.name_len = sizeof(name);
		err = bpf_obj_get_info_by_fd(fd, &info, &len);
		close(fd);
		name[sizeof(name) - 1] = '\0';
		if (err || !info.kernel_btf || !is_kvm_vendor_module(name))
			continue;
		btf = btf__load_from_kernel_by_id_split(id, vmlinux);
		merge_split(btf, out);
		btf__free(btf);
		if (layout_complete(out))
			return 0;
	}
}

/* The same modules' BTF from /sys/kernel/btf, readable with CAP_BPF alone. */
static void merge_sysfs_modules(struct btf *vmlinux, struct iotrace_kvm_layout *out)
{
	static const char *const paths[] = { "/sys/kernel/btf/kvm_intel",
					     "/sys/kernel/btf/kvm_amd" };
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct btf *btf;

		if (access(paths[i], R_OK))
			continue;
		btf = btf__parse_split(paths[i], vmlinux);
		merge_split(btf, out);
		btf__free(btf);
	}
}

int kvm_layout_find(const struct btf *vmlinux, struct iotrace_kvm_layout *out)
{
	struct btf *own = NULL, *base;

	memset(out, 0, sizeof(*out));
	if (!vmlinux) {
		own = btf__load_vmlinux_btf();
		if (!own)
			return -ENOENT;
	}
	/*
	 * Module BTF is split BTF on top of vmlinux and only read from it;
	 * libbpf's loaders take the base without const.
	 */
	base = own ? own : (struct btf *)vmlinux;

	merge_split(base, out);
	if (!layout_complete(out) && merge_loaded_modules(base, out) == -EPERM)
		merge_sysfs_modules(base, out);
	btf__free(own);
	return out->vmx_reason_off || out->svm_code_size ? 0 : -ENOENT;
}
