// SPDX-License-Identifier: GPL-2.0
/* kavm Linux boot: kernel + initrd + command line into RAM, tables, BSP state. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kavm/acpi.h>
#include <kavm/boot.h>
#include <kavm/init.h>
#include <kavm/log.h>

struct mapped_file {
	void *buf;
	size_t size;
};

static int map_file(const char *what, const char *path, struct mapped_file *f)
{
	struct stat st;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("%s %s: %s", what, path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		pr_err("%s %s: not a regular file", what, path);
		goto out_close;
	}
	f->size = st.st_size;
	f->buf = NULL;
	if (!f->size)
		goto out_close;
	f->buf = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (f->buf == MAP_FAILED) {
		ret = -errno;
		f->buf = NULL;
		pr_err("%s %s: %s", what, path, strerror(errno));
	}
out_close:
	close(fd);
	return ret;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->buf)
		munmap(f->buf, f->size);
}

static int boot_load_kernel(struct kvm_vm *vm, struct boot_image *img)
{
	const char *path = vm->cfg->kernel_path;
	struct mapped_file f;
	int ret;

	ret = map_file("kernel", path, &f);
	if (ret)
		return ret;
	ret = bzimage_load(&vm->mem, path, f.buf, f.size, img);
	if (ret == -ENOEXEC)
		ret = elf_load(&vm->mem, path, f.buf, f.size, img);
	/* The loaders name what is wrong with an image of their format. */
	if (ret == -ENOEXEC)
		pr_err("kernel %s: not a Linux kernel (neither a bzImage nor an ELF vmlinux)",
		       path);
	unmap_file(&f);
	return ret;
}

static int boot_load_initrd(struct kvm_vm *vm, const struct boot_image *img,
			    struct boot_initrd *initrd)
{
	const char *path = vm->cfg->initrd_path;
	struct mapped_file f;
	int ret;

	memset(initrd, 0, sizeof(*initrd));
	if (!path)
		return 0;
	ret = map_file("initrd", path, &f);
	if (ret)
		return ret;
	ret = initrd_place(&vm->mem, img, f.size, &initrd->addr);
	if (ret) {
		pr_err("initrd %s: %zu bytes do not fit in guest RAM between the kernel's end "
		       "(%#llx) and %#llx",
		       path, f.size, (unsigned long long)img->kernel_end,
		       (unsigned long long)initrd_limit(&vm->mem, img));
		goto out_unmap;
	}
	initrd->size = f.size;
	if (f.size)
		memcpy(guest_mem_ptr(&vm->mem, initrd->addr, f.size), f.buf, f.size);
out_unmap:
	unmap_file(&f);
	return ret;
}

static int boot_write_cmdline(struct kvm_vm *vm, const struct boot_image *img)
{
	const char *cmdline = vm->cfg->cmdline ? vm->cfg->cmdline : "";
	size_t len = strlen(cmdline);
	size_t max = img->hdr.cmdline_size ? img->hdr.cmdline_size : 255;
	char *dst;

	if (len > max || len >= BOOT_CMDLINE_MAX) {
		pr_err("command line: %zu bytes, the kernel takes at most %zu", len,
		       min(max, (size_t)BOOT_CMDLINE_MAX - 1));
		return -E2BIG;
	}
	dst = guest_mem_ptr(&vm->mem, BOOT_CMDLINE_ADDR, len + 1);
	if (!dst)
		return -ENOSPC;
	memcpy(dst, cmdline, len + 1);
	return 0;
}

/* Between the two init steps below; main thread only. */
static struct boot_image boot_img;
static struct boot_initrd boot_initrd;

/* Kernel, initrd and command line into RAM: bad input fails before any device opens. */
int boot_load_images(struct kvm_vm *vm)
{
	int ret;

	ret = boot_load_kernel(vm, &boot_img);
	if (ret)
		return ret;
	ret = boot_load_initrd(vm, &boot_img, &boot_initrd);
	if (ret)
		return ret;
	return boot_write_cmdline(vm, &boot_img);
}

/*
 * RSDP and tables in the BIOS area below the MP table, where a kernel that
 * ignores the zero page's acpi_rsdp_addr (boot protocol < 2.14) scans.
 */
static int boot_write_acpi(struct kvm_vm *vm, struct boot_params *bp)
{
	void *buf = guest_mem_ptr(&vm->mem, BOOT_ACPI_ADDR, BOOT_ACPI_MAX);
	void *reset = guest_mem_ptr(&vm->mem, BOOT_RESET_VECTOR, BOOT_RESET_VECTOR_LEN);
	struct acpi_layout layout;
	int ret;

	if (!vm->cfg->acpi)
		return 0;
	if (!buf || !reset)
		return -ENOSPC;
	acpi_write_reset_vector(reset);
	ret = acpi_build(buf, BOOT_ACPI_MAX, BOOT_ACPI_ADDR, vm->nr_vcpus, &layout);
	if (ret < 0) {
		pr_err("ACPI tables for %u CPUs: %s", vm->nr_vcpus, strerror(-ret));
		return ret;
	}
	bp->acpi_rsdp_addr = BOOT_ACPI_ADDR;
	return 0;
}

/* Zero page, MP table, ACPI, CPU state: after the devices added their MP table entries. */
int boot_finish(struct kvm_vm *vm)
{
	struct boot_params *bp;
	void *mpt;
	int ret;

	bp = guest_mem_ptr(&vm->mem, BOOT_ZERO_PAGE_ADDR, sizeof(*bp));
	mpt = guest_mem_ptr(&vm->mem, BOOT_MPTABLE_ADDR, BOOT_MPTABLE_MAX);
	if (!bp || !mpt)
		return -ENOSPC;
	bootparams_fill(bp, &boot_img, &vm->mem, BOOT_CMDLINE_ADDR, &boot_initrd);
	ret = mptable_build(mpt, BOOT_MPTABLE_MAX, BOOT_MPTABLE_ADDR, vm->nr_vcpus);
	if (ret < 0) {
		pr_err("MP table for %u CPUs: %s", vm->nr_vcpus, strerror(-ret));
		return ret;
	}
	ret = boot_write_acpi(vm, bp);
	if (ret)
		return ret;
	return boot_setup_cpus(vm, boot_img.entry, BOOT_ZERO_PAGE_ADDR);
}

/* boot_* print the one message the user needs; do not name them twice. */
static int boot_images_init(struct kvm_vm *vm)
{
	/* No kernel: a test guest loaded by its test (the CLI insists on one). */
	if (!vm->cfg->kernel_path)
		return 0;
	return boot_load_images(vm) ? -ECANCELED : 0;
}
/* Guest RAM exists before KVM does: a bad image fails before /dev/kvm opens. */
input_init(boot_images_init, NULL);

static int boot_finish_init(struct kvm_vm *vm)
{
	if (!vm->cfg->kernel_path)
		return 0;
	return boot_finish(vm) ? -ECANCELED : 0;
}
late_init(boot_finish_init, NULL);
