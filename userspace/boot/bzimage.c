// SPDX-License-Identifier: GPL-2.0
/* kavm bzImage loader: validate the setup header, load the protected-mode part at 1 MiB. */
#include <errno.h>
#include <string.h>

#include <kavm/boot.h>
#include <kavm/log.h>

#define SETUP_HDR_OFFSET 0x1f1
#define SETUP_HDR_MIN_VERSION 0x020c /* xloadflags: 2.12 */

/* The setup header says this is a bzImage kavm can start in 64-bit mode. */
static int bzimage_check_header(const char *name, const struct setup_header *hdr)
{
	if (hdr->boot_flag != BOOT_FLAG_MAGIC || hdr->header != BOOT_HDR_MAGIC)
		return -ENOEXEC;
	if (hdr->version < SETUP_HDR_MIN_VERSION) {
		pr_err("kernel %s: boot protocol %#x, kavm needs %#x or later", name, hdr->version,
		       SETUP_HDR_MIN_VERSION);
		return -EINVAL;
	}
	if (!(hdr->xloadflags & XLF_KERNEL_64)) {
		pr_err("kernel %s: bzImage without a 64-bit entry point (XLF_KERNEL_64 clear)",
		       name);
		return -EINVAL;
	}
	return 0;
}

/*
 * A relocatable kernel loaded at 1 MiB decompresses itself at the next
 * kernel_alignment boundary and uses init_size from there: keep the initrd
 * clear of that too.
 */
static uint64_t bzimage_kernel_end(const struct setup_header *hdr, uint64_t need)
{
	uint64_t end = BOOT_KERNEL_ADDR + need, align = hdr->kernel_alignment;

	if (hdr->relocatable_kernel && align && !(align & (align - 1)) && align <= 1ULL << 30)
		end = max(end, ALIGN_UP((uint64_t)BOOT_KERNEL_ADDR, align) + hdr->init_size);
	return end;
}

int bzimage_load(struct guest_mem *mem, const char *name, const void *buf, size_t size,
		 struct boot_image *img)
{
	const uint8_t *p = buf;
	struct setup_header hdr;
	uint64_t setup_len, pm_len, need;
	void *dst;
	int ret;

	if (size < SETUP_HDR_OFFSET + sizeof(hdr))
		return -ENOEXEC;
	memcpy(&hdr, p + SETUP_HDR_OFFSET, sizeof(hdr));
	ret = bzimage_check_header(name, &hdr);
	if (ret)
		return ret;
	setup_len = ((uint64_t)(hdr.setup_sects ? hdr.setup_sects : 4) + 1) * 512;
	if (setup_len >= size) {
		pr_err("kernel %s: truncated bzImage (%zu bytes, setup alone is %llu)", name, size,
		       (unsigned long long)setup_len);
		return -EINVAL;
	}
	pm_len = size - setup_len;
	if (hdr.syssize && pm_len < (uint64_t)hdr.syssize * 16) {
		pr_err("kernel %s: truncated bzImage (%llu bytes of kernel, header says %llu)",
		       name, (unsigned long long)pm_len, (unsigned long long)hdr.syssize * 16);
		return -EINVAL;
	}
	need = max(pm_len, (uint64_t)hdr.init_size);
	dst = guest_mem_ptr(mem, BOOT_KERNEL_ADDR, need);
	if (!dst) {
		pr_err("kernel %s: needs %llu MiB of RAM at 1 MiB, more than the guest has", name,
		       (unsigned long long)(need >> 20) + 1);
		return -ENOSPC;
	}
	memcpy(dst, p + setup_len, pm_len);
	memset(img, 0, sizeof(*img));
	img->is_bzimage = true;
	img->hdr = hdr;
	/* The header ends where the jump at 0x200 says (byte 0x201 is its offset). */
	img->hdr_len = min((size_t)(0x202 + p[0x201] - SETUP_HDR_OFFSET), sizeof(hdr));
	/* The 64-bit entry is 0x200 past the 32-bit one (boot.rst, "64-bit boot protocol"). */
	img->entry = BOOT_KERNEL_ADDR + 0x200;
	img->kernel_end = bzimage_kernel_end(&hdr, need);
	return 0;
}
