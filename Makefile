# SPDX-License-Identifier: GPL-2.0
# kavm: one quiet, strict top-level Makefile (after kvmtool's).
#
#   make            build build/kavm, build/kavmctl, BPF skeletons, test programs
#   make check      run every test (unit, sanitizer, native netns/KVM, test host)
#   make deps       install the Debian 12 packages the build and tests need
#   make help       list the targets
#
# V=1 shows the commands, WERROR=0 turns warnings back into warnings,
# SAN=1 builds with ASan+UBSan into build/san/, STATIC=0 links build/kavm
# against the shared libraries.

.DELETE_ON_ERROR:
.SUFFIXES:

V ?= 0
WERROR ?= 1
SAN ?= 0

ifeq ($(SAN),1)
BUILD ?= build/san
else
BUILD ?= build
endif

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
IASL ?= iasl
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

PKGS := libnl-3.0 libnl-route-3.0 libnl-genl-3.0 libbpf libkmod libseccomp json-c
# Feature probe: fail early with the package to install, not with a wall of
# missing-header errors.
PKG_MISSING := $(strip $(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(p) && echo y),,$(p))))
ifneq ($(filter-out deps help clean uninstall,$(MAKECMDGOALS))$(if $(MAKECMDGOALS),,all),)
ifneq ($(PKG_MISSING),)
$(error missing development packages: $(PKG_MISSING); run 'make deps' as root)
endif
ifeq ($(shell command -v $(IASL)),)
$(error missing $(IASL), the ACPI compiler (Debian package acpica-tools); run 'make deps' as root)
endif
endif

WARNINGS := -Wall -Wextra -Wno-unused-parameter -Wmissing-prototypes \
	-Wmissing-declarations -Wstrict-prototypes -Wformat=2 -Wshadow \
	-Wvla -Wpointer-arith -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -D_GNU_SOURCE -pthread $(WARNINGS) -MMD -MP \
	-Iinclude -Iinclude/uapi -I$(BUILD) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -pthread

ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

# build/kavm is a static PIE, as Firecracker's and Cloud Hypervisor's
# binaries are static: nothing is loaded or relocated before the guest
# runs, and its own memory stays under 2 MiB (Documentation/boot-time.md).
# Only its libraries (not libkmod's, kavmctl's alone); ASan cannot be static.
KAVM_STATIC_LIBS := nl-genl-3 nl-route-3 nl-3 bpf elf z seccomp json-c
ifeq ($(SAN),1)
STATIC := 0
endif
STATIC ?= $(if $(strip $(foreach l,$(KAVM_STATIC_LIBS),$(if $(shell $(CC) -print-file-name=lib$(l).a | grep -q / && echo y),,n))),0,1)
ifeq ($(STATIC),1)
KAVM_LDFLAGS := -static-pie
KAVM_LDLIBS := $(addprefix -l,$(KAVM_STATIC_LIBS)) -pthread
# Quiet: glibc warns of NSS in a static binary (getaddrinfo, libnl's
# getprotobyname) though the same glibc runs it; nothing else warns here.
KAVM_LDLIBS += -Wl,--no-warnings
else
KAVM_LDLIBS = $(LDLIBS)
endif

# Sources are found by directory so that a new device or backend is a new file.
LIB_SRCS := $(sort $(shell find userspace -name '*.c' ! -name main.c ! -name options.c))
KAVM_SRCS := $(wildcard userspace/main.c userspace/options.c)
KAVMCTL_SRCS := $(sort $(wildcard tools/kavmctl/*.c))
TRACE_SRCS := $(sort $(wildcard tools/kavm-trace/*.c))
BPF_SRCS := $(sort $(wildcard bpf/*.bpf.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
NATIVE_SRCS := $(sort $(wildcard tests/native/*.c))
# tests/kvm: what needs a working /dev/kvm (run natively or in the test host).
KVM_SRCS := $(sort $(wildcard tests/kvm/*.c))
BENCH_SRCS := $(sort $(wildcard tests/bench/*.c))
GUEST_SRCS := $(sort $(wildcard tests/guests/*.S))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/*.c))

# ACPI tables written in ASL: iasl compiles each to AML, then a C array.
ASL_SRCS := $(sort $(wildcard userspace/boot/acpi/*.asl))
AML_CSRCS := $(ASL_SRCS:%.asl=$(BUILD)/%-aml.c)

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(AML_CSRCS:%.c=%.o)
LIB := $(BUILD)/libkavm.a
# tests/lib/*.c: helpers shared by test programs (for example a guest-side virtio driver).
TESTLIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/lib/*.c))
HARNESS_OBJ := $(BUILD)/tests/harness.o $(TESTLIB_OBJ)
SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.skel.h)
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)
NATIVE_BINS := $(NATIVE_SRCS:%.c=$(BUILD)/%)
KVM_BINS := $(KVM_SRCS:%.c=$(BUILD)/%)
BENCH_BINS := $(BENCH_SRCS:%.c=$(BUILD)/%)
GUEST_BINS := $(GUEST_SRCS:%.S=$(BUILD)/%.bin)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

PROGS := $(if $(KAVM_SRCS),$(BUILD)/kavm) $(if $(KAVMCTL_SRCS),$(BUILD)/kavmctl) \
	$(if $(TRACE_SRCS),$(BUILD)/kavm-trace)

all: $(SKELS) $(PROGS) $(UNIT_BINS) $(NATIVE_BINS) $(KVM_BINS) $(BENCH_BINS) $(GUEST_BINS)

# --- BPF: clang -> bpftool gen object -> bpftool gen skeleton (libbpf-bootstrap)
$(BUILD)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/bpf/%.tmp.o: bpf/%.bpf.c $(BUILD)/vmlinux.h $(wildcard bpf/*.h)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
		-I$(BUILD) -Ibpf -Iinclude/uapi -c $< -o $@

# A static pattern rule: an implicit one loses to '$(BUILD)/%.o: %.c' below,
# whose prerequisite bpf/x.bpf.c exists while x.tmp.o does not yet.
$(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.bpf.o): $(BUILD)/bpf/%.bpf.o: $(BUILD)/bpf/%.tmp.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# --- userspace
$(BUILD)/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# --- ACPI: ASL -> AML (iasl, warnings are errors) -> a C array named after the file
$(BUILD)/%.aml: %.asl include/kavm/acpi-hw.h
	$(call msg,IASL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(IASL) -vs -we -Iinclude -p $(basename $@) $< >$@.log 2>&1 || { cat $@.log; exit 1; }

$(BUILD)/%-aml.c: $(BUILD)/%.aml
	$(call msg,GEN,$@)
	$(Q){ echo '/* Generated from $*.asl by iasl and xxd: do not edit. */'; \
	  echo '#include <kavm/acpi.h>'; \
	  echo 'const unsigned char acpi_$(notdir $*)_aml[] = {'; \
	  xxd -i <$<; \
	  echo '};'; \
	  echo 'const size_t acpi_$(notdir $*)_aml_len = sizeof(acpi_$(notdir $*)_aml);'; } >$@

$(BUILD)/%-aml.o: $(BUILD)/%-aml.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

# Whole archive: devices register through init-list constructors nothing else references.
$(BUILD)/kavm: $(KAVM_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(KAVM_LDFLAGS) -o $@ $(filter-out $(LIB),$^) -Wl,--whole-archive \
		$(LIB) -Wl,--no-whole-archive $(KAVM_LDLIBS)

$(BUILD)/kavmctl: $(KAVMCTL_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/kavm-trace: $(TRACE_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Every tests/{unit,native,kvm}/foo.c is one harness program. They
# link the whole archive, like kavm, so a test that builds a VM through
# init_list_run() gets the same devices (they register from constructors
# nothing references, which a plain archive link would leave out).
TEST_LIB_LINK = -Wl,--whole-archive $(LIB) -Wl,--no-whole-archive
$(UNIT_BINS) $(NATIVE_BINS) $(KVM_BINS): $(BUILD)/%: $(BUILD)/%.o $(HARNESS_OBJ) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter-out $(LIB),$^) $(TEST_LIB_LINK) $(LDLIBS)

$(BENCH_BINS): $(BUILD)/%: $(BUILD)/%.o $(TESTLIB_OBJ) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Tiny test guests: flat binaries loaded at a fixed guest address.
$(GUEST_BINS): $(BUILD)/%.bin: %.S
	$(call msg,AS,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -nostdlib -static -Wl,--build-id=none -Wl,-Ttext=0x1000 \
		-Wl,-e,_start -o $(@:.bin=.elf) $<
	$(Q)objcopy -O binary -j .text $(@:.bin=.elf) $@

.PRECIOUS: $(BUILD)/%.o $(BUILD)/bpf/%.tmp.o $(BUILD)/bpf/%.bpf.o $(BUILD)/fuzz/obj/%.o $(BUILD)/%.aml $(BUILD)/%-aml.c

# libFuzzer targets: clang, ASan+UBSan, with the library instrumented for
# coverage (built once into its own archive, shared by every target).
# No recovery: a UBSan report must stop the run as a crash does, not scroll by.
# Each target's seed corpus is tests/fuzz/corpus/<target>/; tests/unit/fuzz.sh
# runs them all for a bounded time.
FUZZ_CFLAGS := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	-std=gnu11 -D_GNU_SOURCE -MMD -MP -Wno-gnu-variable-sized-type-not-at-end \
	-Iinclude -Iinclude/uapi -I$(BUILD) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_LIB := $(BUILD)/fuzz/libkavm-fuzz.a
FUZZ_LIB_OBJS := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(LIB_SRCS) $(AML_CSRCS) \
	$(wildcard tests/lib/*.c))

fuzz: $(FUZZ_BINS)

$(BUILD)/fuzz/obj/%.o: %.c | $(SKELS)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(FUZZ_BINS): $(BUILD)/fuzz/%: $(BUILD)/fuzz/obj/tests/fuzz/%.o $(FUZZ_LIB)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

# --- install (PREFIX, DESTDIR as usual): the programs, man pages, the bridge.conf example
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/kavm
MAN1 := $(wildcard Documentation/man/*.1)
MAN8 := $(wildcard Documentation/man/*.8)

install: $(PROGS)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)
	$(Q)install -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)/
	$(Q)$(if $(MAN1),install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/)
	$(Q)$(if $(MAN8),install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/)
	$(Q)install -m 0644 Documentation/bridge.conf.example $(DESTDIR)$(DOCDIR)/

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGS))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8))) \
		$(DESTDIR)$(DOCDIR)/bridge.conf.example

# --- kernel module (kbuild): kmod/Makefile picks KDIR unless one is given
kmod:
	$(Q)$(MAKE) -C kmod $(if $(KDIR),KDIR=$(KDIR))

# --- tests
check: all
	$(Q)$(MAKE) --no-print-directory SAN=1 all
	$(Q)tests/run.sh

check-unit: all
	$(Q)tests/run.sh unit

check-native: all
	$(Q)tests/run.sh native

check-kvm: all
	$(Q)$(MAKE) --no-print-directory SAN=1 all
	$(Q)tests/run.sh kvm

check-host: all
	$(Q)tests/run.sh host

bench: all
	$(Q)tests/bench/run.sh

demo: all
	$(Q)tests/host/_demo.sh

deps:
	$(Q)tests/install-deps.sh

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h' | grep -v '^kmod/')

format-check:
	$(Q)clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h' | grep -v '^kmod/')

clean:
	$(call msg,CLEAN,build)
	$(Q)rm -rf build
	$(Q)if [ -f kmod/Makefile ]; then $(MAKE) -C kmod clean >/dev/null 2>&1 || true; fi

help:
	@echo 'Targets:'
	@echo '  all (default)  build/kavm, build/kavmctl, BPF skeletons, test programs'
	@echo '  check          every test: unit (plain and ASan+UBSan), native, test host'
	@echo '  check-unit | check-native | check-kvm | check-host   one group'
	@echo '  bench          benchmarks under tests/bench/, printing figures'
	@echo '  demo           VMs talking over a kavm-made bridge, in the QEMU test host'
	@echo '  deps           apt-get the Debian 12 packages (as root)'
	@echo '  install        programs, man pages, bridge.conf example into DESTDIR/PREFIX'
	@echo '  uninstall      remove what install put there'
	@echo '  kmod           build kmod/ against KDIR'
	@echo '  fuzz           libFuzzer targets under tests/fuzz/ (clang) into build/fuzz/'
	@echo '  format | format-check   clang-format'
	@echo '  clean'
	@echo 'Variables: V=1 WERROR=0 SAN=1 KDIR=... PREFIX=/usr/local DESTDIR='

.PHONY: all check check-unit check-native check-kvm check-host bench demo deps kmod fuzz format \
	install uninstall \
	format-check clean help

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
