// SPDX-License-Identifier: GPL-2.0
/* kavm ELF vmlinux loader: PT_LOAD segments at their physical addresses. */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include <kavm/boot.h>
#include <kavm/log.h>

static int elf_load_segment(struct guest_mem *mem, const char *name, const uint8_t *p, size_t size,
			    const Elf64_Phdr *ph, uint64_t *end)
{
	void *dst;

	if (ph->p_filesz > ph->p_memsz || !range_ok(ph->p_offset, ph->p_filesz, size)) {
		pr_err("kernel %s: ELF segment at %#llx lies outside the file (truncated?)", name,
		       (unsigned long long)ph->p_paddr);
		return -EINVAL;
	}
	dst = guest_mem_ptr(mem, ph->p_paddr, ph->p_memsz);
	if (!dst) {
		pr_err("kernel %s: ELF segment [%#llx, +%#llx) is not in guest RAM", name,
		       (unsigned long long)ph->p_paddr, (unsigned long long)ph->p_memsz);
		return -ENOSPC;
	}
	memcpy(dst, p + ph->p_offset, ph->p_filesz);
	memset((uint8_t *)dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	*end = max(*end, ph->p_paddr + ph->p_memsz);
	return 0;
}

int elf_load(struct guest_mem *mem, const char *name, const void *buf, size_t size,
	     struct boot_image *img)
{
	const uint8_t *p = buf;
	Elf64_Ehdr eh;
	uint64_t end = 0;
	unsigned int i, loaded = 0;
	int ret;

	if (size < sizeof(eh) || memcmp(p, ELFMAG, SELFMAG))
		return -ENOEXEC;
	memcpy(&eh, p, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64 ||
	    eh.e_type != ET_EXEC) {
		pr_err("kernel %s: not an x86-64 ELF executable", name);
		return -EINVAL;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !range_ok(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), size)) {
		pr_err("kernel %s: ELF program headers lie outside the file (truncated?)", name);
		return -EINVAL;
	}
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, p + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		ret = elf_load_segment(mem, name, p, size, &ph, &end);
		if (ret)
			return ret;
		loaded++;
	}
	if (!loaded) {
		pr_err("kernel %s: no loadable ELF segment", name);
		return -EINVAL;
	}
	memset(img, 0, sizeof(*img));
	/* vmlinux's e_entry is phys_startup_64, a physical address. */
	img->entry = eh.e_entry;
	img->kernel_end = end;
	img->hdr.boot_flag = BOOT_FLAG_MAGIC;
	img->hdr.header = BOOT_HDR_MAGIC;
	img->hdr.version = 0x020f;
	img->hdr.initrd_addr_max = BOOT_INITRD_ADDR_MAX_DEFAULT;
	img->hdr.cmdline_size = BOOT_CMDLINE_MAX - 1;
	img->hdr.kernel_alignment = 0x1000000;
	return 0;
}
