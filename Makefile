# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# iotrace build.  `make deps` installs what the build and tests need,
# `make` builds, `make test` runs the whole suite, `make bench` measures.
# Quiet unless V=1.

OUTPUT ?= build
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
	-e 's/ppc64le/powerpc/' -e 's/s390x/s390/' -e 's/riscv64/riscv/')

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 \
	-Wno-missing-field-initializers
CPPFLAGS += -Iinclude -Iuser -I$(OUTPUT)
LDLIBS_BPF := -lbpf -lelf -lz
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-I$(OUTPUT) -Iinclude -Ibpf

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SUFFIXES:

# BPF objects, one per subsystem, linked into one object and skeleton.
# maps.bpf.c defines the shared maps; libbpf 1.1's linker resolves the
# other objects' extern maps only against definitions it has already seen.
BPF_SRCS := bpf/maps.bpf.c $(filter-out bpf/maps.bpf.c,$(wildcard bpf/*.bpf.c))
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_HDRS := $(wildcard bpf/*.bpf.h) $(wildcard include/*.h)

# User space: modules that need no libbpf are also linked into unit tests.
CORE_SRCS := user/cgroupfs.c user/classify.c user/hist.c user/cycles.c \
	user/output.c user/cli.c user/wltable.c \
	user/kvm_exits.c user/vm_roles.c user/proc_ident.c user/vm_names.c \
	user/vmtable.c user/vm_taps.c user/top_table.c \
	user/docker_names.c user/netns_links.c user/blkdev_names.c user/privs.c \
	user/iotr.c user/report_agg.c user/report.c user/prom.c \
	user/advice.c user/vm_config.c user/unfinished.c user/nlsock.c user/advice_out.c \
	user/advice_ct.c user/ct_net.c user/ct_mounts.c
APP_SRCS := $(filter-out $(CORE_SRCS),$(wildcard user/*.c))
CORE_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(CORE_SRCS))
APP_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(APP_SRCS))
USER_HDRS := $(wildcard user/*.h) $(wildcard include/*.h)

# libvirt names VMs when its development files are there (CI installs
# them); without, user/vm_libvirt.c builds a stub and VMs are named from
# QEMU's command line.
PKG_CONFIG ?= pkg-config
ifeq ($(shell $(PKG_CONFIG) --exists libvirt 2>/dev/null && echo y),y)
LIBVIRT_CFLAGS := $(shell $(PKG_CONFIG) --cflags libvirt) -DHAVE_LIBVIRT
LIBVIRT_LIBS := $(shell $(PKG_CONFIG) --libs libvirt)
endif
$(OUTPUT)/user/vm_libvirt.o: CPPFLAGS += $(LIBVIRT_CFLAGS)
# iotrace top's screen: ncurses with wide characters (UTF-8 names, "µs").
NCURSES_CFLAGS := $(shell $(PKG_CONFIG) --cflags ncursesw)
NCURSES_LIBS := $(shell $(PKG_CONFIG) --libs ncursesw)
$(OUTPUT)/user/top_view.o: CPPFLAGS += $(NCURSES_CFLAGS)
# iotrace serve's HTTP endpoint: libmicrohttpd, its own thread.
MHD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libmicrohttpd)
MHD_LIBS := $(shell $(PKG_CONFIG) --libs libmicrohttpd)
$(OUTPUT)/user/serve.o: CPPFLAGS += $(MHD_CFLAGS)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
BPFTEST_SRCS := $(wildcard tests/bpf/test_*.c)
BPFTEST_BINS := $(patsubst tests/bpf/%.c,$(OUTPUT)/tests/%,$(BPFTEST_SRCS))
TOOL_SRCS := $(wildcard tools/*.c)
TOOL_BINS := $(patsubst tools/%.c,$(OUTPUT)/tools/%,$(TOOL_SRCS))

.PHONY: all deps test unit bench soak fuzz sanitize clean format check-format
all: $(OUTPUT)/iotrace $(TOOL_BINS) $(UNIT_BINS) $(BPFTEST_BINS)

deps:
	$(Q)bash tools/install-deps.sh

$(OUTPUT) $(OUTPUT)/bpf $(OUTPUT)/user $(OUTPUT)/tests $(OUTPUT)/tools:
	$(Q)mkdir -p $@

# vmlinux.h comes from the build host's BTF (docs/build.md says why).
$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)test -r $(VMLINUX_BTF) || { echo "error: no kernel BTF at $(VMLINUX_BTF); set VMLINUX_BTF=path to a vmlinux with BTF" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(OUTPUT)/vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/iotrace.bpf.o: $(BPF_OBJS)
	$(call msg,LINK-BPF,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUTPUT)/iotrace.skel.h: $(OUTPUT)/iotrace.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name iotrace_bpf > $@

# The benchmark's reference programs: the floor (empty programs on the same
# tracepoints) and the carrier (the least per-I/O work any per-workload
# accounting needs).
$(OUTPUT)/%.bpf.o: tools/bpf/%.bpf.c $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/floor.skel.h $(OUTPUT)/carrier.skel.h: $(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(CORE_OBJS): $(OUTPUT)/user/%.o: user/%.c $(USER_HDRS) | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(APP_OBJS): $(OUTPUT)/user/%.o: user/%.c $(USER_HDRS) $(OUTPUT)/iotrace.skel.h | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(OUTPUT)/libcore.a: $(CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(OUTPUT)/iotrace: $(APP_OBJS) $(OUTPUT)/libcore.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS_BPF) $(LIBVIRT_LIBS) $(NCURSES_LIBS) $(MHD_LIBS) -pthread -lm -o $@

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(OUTPUT)/libcore.a $(USER_HDRS) $(wildcard tests/unit/*.h) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(OUTPUT)/libcore.a -lcmocka -lz -lm -o $@

$(OUTPUT)/tests/test_%: tests/bpf/test_%.c $(wildcard tests/bpf/*.h) $(OUTPUT)/iotrace.skel.h $(OUTPUT)/libcore.a | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(OUTPUT)/libcore.a -lcmocka $(LDLIBS_BPF) -lm -o $@

# kvm_layout.c walks BTF with libbpf, so its unit test links libbpf too.
$(OUTPUT)/tests/test_kvm_layout: tests/unit/test_kvm_layout.c $(OUTPUT)/user/kvm_layout.o $(USER_HDRS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(OUTPUT)/user/kvm_layout.o -lcmocka $(LDLIBS_BPF) -o $@

# A fake vCPU in kernel memory for the KVM handler tests (its own skeleton).
$(OUTPUT)/tests/fake_vcpu.bpf.o: tests/bpf/fake_vcpu.bpf.c $(OUTPUT)/vmlinux.h | $(OUTPUT)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/fake_vcpu.skel.h: $(OUTPUT)/tests/fake_vcpu.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name fake_vcpu_bpf > $@

$(OUTPUT)/tests/test_handlers $(OUTPUT)/tests/test_net_handlers: $(OUTPUT)/fake_vcpu.skel.h

$(OUTPUT)/tools/bpf-floor: tools/bpf-floor.c $(OUTPUT)/floor.skel.h $(OUTPUT)/carrier.skel.h | $(OUTPUT)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LDLIBS_BPF) -o $@

$(OUTPUT)/tools/%: tools/%.c tools/tool.h | $(OUTPUT)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -pthread $< -lm -o $@

# The one command that runs every test; .ci/run and the README use it.
test: all
	$(Q)bash tests/run.sh $(OUTPUT)

unit: $(UNIT_BINS)
	$(Q)set -e; for t in $(UNIT_BINS); do $$t; done

bench: all
	$(Q)bash tools/bench-block.sh $(OUTPUT)
	$(Q)bash tools/bench-net.sh $(OUTPUT)

# Not in CI: 30 minutes of the highest IOPS with cgroup churn, printing
# iotrace's memory, kernel table sizes and losses every minute.
soak: all
	$(Q)bash tools/soak.sh $(OUTPUT)

# The recording reader under libFuzzer with ASan and UBSan, from seeds that
# the generator writes with the real writer: FUZZ_SECONDS of fuzzing (60 by
# default), failing on any crash, leak, hang or undefined behaviour (the
# input that caused it is left in $(OUTPUT)/fuzz/).  clang's libFuzzer
# runtime comes from libclang-rt-14-dev.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -std=gnu11 -Wall -Wextra -Werror -Wshadow
FUZZ_SRCS := user/iotr.c

$(OUTPUT)/fuzz:
	$(Q)mkdir -p $@

$(OUTPUT)/fuzz/fuzz_iotr: tests/fuzz/fuzz_iotr.c $(FUZZ_SRCS) $(USER_HDRS) | $(OUTPUT)/fuzz
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(CPPFLAGS) $(FUZZ_CFLAGS) $< $(FUZZ_SRCS) -lz -o $@

$(OUTPUT)/fuzz/gen_corpus: tests/fuzz/gen_corpus.c $(OUTPUT)/libcore.a $(USER_HDRS) | $(OUTPUT)/fuzz
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(OUTPUT)/libcore.a -lz -lm -o $@

fuzz: $(OUTPUT)/fuzz/fuzz_iotr $(OUTPUT)/fuzz/gen_corpus
	$(Q)rm -rf $(OUTPUT)/fuzz/seeds && mkdir -p $(OUTPUT)/fuzz/seeds $(OUTPUT)/fuzz/corpus
	$(Q)$(OUTPUT)/fuzz/gen_corpus $(OUTPUT)/fuzz/seeds
	$(Q)$(OUTPUT)/fuzz/fuzz_iotr -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		-rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		-artifact_prefix=$(OUTPUT)/fuzz/ $(OUTPUT)/fuzz/corpus $(OUTPUT)/fuzz/seeds

# The user space (iotrace, unit and BPF tests, tools) under AddressSanitizer,
# LeakSanitizer and UndefinedBehaviorSanitizer in its own build directory,
# then the whole suite against it; the BPF objects and skeletons are built
# as usual.  A finding, or a leak at exit, aborts that program and fails its
# test.  ASan and LSan reports go to files in a directory every user can
# write (some tests run iotrace as nobody), printed at the end: they fail
# the run even from a program whose exit status a test does not check.
# UBSan's go to the program's stderr (GCC's libubsan beside libasan ignores
# log_path) and fail its test through the exit status.
# tests/lsan.supp suppresses only leaks inside libraries we cannot fix.
SAN_OUTPUT ?= build-asan
SAN_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all

sanitize:
	$(Q)CFLAGS="$(SAN_CFLAGS)" $(MAKE) --no-print-directory OUTPUT=$(SAN_OUTPUT) all
	$(Q)d=$$(mktemp -d /tmp/iotrace-sanitize.XXXXXX) && chmod 755 $$d && \
	install -m 644 tests/lsan.supp $$d/ && mkdir -m 1777 $$d/logs && rc=0 && \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1:log_path=$$d/logs/asan \
	LSAN_OPTIONS=suppressions=$$d/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1 \
	bash tests/run.sh $(SAN_OUTPUT) || rc=$$?; \
	for f in $$d/logs/*; do [ -e "$$f" ] || continue; rc=1; \
		echo "--- sanitizer report $$f"; cat "$$f"; done; \
	rm -rf $$d; [ $$rc = 0 ] || echo "sanitize: FAILED (see above)"; exit $$rc

format:
	$(Q)clang-format -i $(BPF_SRCS) $(BPF_HDRS) user/*.[ch] tests/*/*.c tools/*.[ch] tools/bpf/*.c

check-format:
	$(Q)clang-format --dry-run --Werror $(BPF_SRCS) $(BPF_HDRS) user/*.[ch] tests/*/*.[ch] tools/*.[ch] tools/bpf/*.c

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)
