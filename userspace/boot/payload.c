// SPDX-License-Identifier: GPL-2.0
/*
 * kavm bzImage payload: the compressed ELF vmlinux inside a bzImage
 * (boot protocol 2.08+: payload_offset/payload_length), decompressed by
 * kavm so the guest need not. Under emulation the guest's own decompressor
 * is slow (about 11 s of a 25 s test-host boot of Debian's kernel); the
 * price is that the kernel runs at its link address, without KASLR.
 */
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <kavm/boot.h>
#include <kavm/log.h>

#define PAYLOAD_MAX (1ULL << 30)
#define SETUP_HDR_OFFSET 0x1f1

static int payload_xz(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
	uint64_t memlimit = UINT64_MAX;
	size_t in_pos = 0, out_pos = 0;
	lzma_ret r;

	r = lzma_stream_buffer_decode(&memlimit, 0, NULL, in, &in_pos, in_len, out, &out_pos,
				      out_len);
	return r == LZMA_OK && out_pos == out_len ? 0 : -EINVAL;
}

static int payload_gzip(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
	z_stream z = {
		.next_in = (Bytef *)in, .avail_in = in_len, .next_out = out, .avail_out = out_len
	};
	int r;

	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	r = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	return r == Z_STREAM_END && z.total_out == out_len ? 0 : -EINVAL;
}

int bzimage_extract_vmlinux(const char *name, const void *buf, size_t size, void **out,
			    size_t *out_len)
{
	const uint8_t *p = buf, *pl;
	struct setup_header hdr;
	uint64_t pm, len;
	uint32_t raw_len;
	uint8_t *dst;
	int ret;

	memcpy(&hdr, p + SETUP_HDR_OFFSET, sizeof(hdr));
	pm = ((uint64_t)(hdr.setup_sects ? hdr.setup_sects : 4) + 1) * 512;
	if (hdr.version < 0x0208 || hdr.payload_length < 8 ||
	    !range_ok(pm + hdr.payload_offset, hdr.payload_length, size)) {
		pr_err("kernel %s: no payload to decompress (boot protocol %#x)", name,
		       hdr.version);
		return -EINVAL;
	}
	pl = p + pm + hdr.payload_offset;
	/* Linux's build appends the uncompressed size to every payload. */
	memcpy(&raw_len, pl + hdr.payload_length - 4, 4);
	len = raw_len;
	if (!len || len > PAYLOAD_MAX)
		return -EINVAL;
	dst = malloc(len);
	if (!dst)
		return -ENOMEM;
	if (!memcmp(pl,
		    "\xfd"
		    "7zXZ",
		    5))
		ret = payload_xz(pl, hdr.payload_length - 4, dst, len);
	else if (pl[0] == 0x1f && pl[1] == 0x8b)
		ret = payload_gzip(pl, hdr.payload_length - 4, dst, len);
	else
		ret = -EOPNOTSUPP;
	if (ret) {
		pr_err("kernel %s: payload: %s", name,
		       ret == -EOPNOTSUPP ? "compression kavm cannot undo (xz and gzip only)" :
					    "corrupt");
		free(dst);
		return ret;
	}
	*out = dst;
	*out_len = len;
	return 0;
}
