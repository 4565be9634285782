/* gz.c — gzip assembly from a cached deflate body and a stored tail; see gz.h. */
#include "gz.h"

#include <assert.h>
#include <errno.h>
#include <zlib.h>

/* ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=3 (Unix) */
const unsigned char gz_member_header[GZ_HEADER_LEN] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

/* zlib counts in uInt: feed and checksum in pieces that fit */
#define ZCHUNK ((size_t)1 << 30)

static uint32_t crc_of(uint32_t crc, const void *src, size_t len)
{
	const unsigned char *p = src;

	while (len > 0) {
		size_t n = len < ZCHUNK ? len : ZCHUNK;
		crc = (uint32_t)crc32(crc, p, (uInt)n);
		p += n;
		len -= n;
	}
	return crc;
}

int gz_deflate_body(const void *src, size_t len, int level, struct buf *out, uint32_t *ret_crc)
{
	const unsigned char *in = src;
	size_t left = len;
	z_stream z = { 0 };
	int r;

	assert(out && ret_crc && (src || len == 0));
	/* negative windowBits: raw deflate, no zlib header; we write the gzip framing ourselves */
	if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	if (buf_grow(out, len / 4 + 4096) < 0)
		goto nomem;
	for (;;) {
		size_t n = left < ZCHUNK ? left : ZCHUNK;
		size_t room;

		if (buf_avail(out) < 4096 && buf_grow(out, out->len) < 0)
			goto nomem;
		room = buf_avail(out) < ZCHUNK ? buf_avail(out) : ZCHUNK;
		z.next_in = (Bytef *)(uintptr_t)in;
		z.avail_in = (uInt)n;
		z.next_out = (Bytef *)buf_tail(out);
		z.avail_out = (uInt)room;
		/* Z_SYNC_FLUSH ends on a byte boundary with an empty non-final stored block, so
		 * more blocks may follow */
		r = deflate(&z, n == left ? Z_SYNC_FLUSH : Z_NO_FLUSH);
		if (r == Z_STREAM_ERROR) {
			deflateEnd(&z);
			return -EIO;
		}
		in += n - z.avail_in;
		left -= n - z.avail_in;
		buf_advance(out, room - z.avail_out);
		/* done when all input is in and the flush did not run out of room */
		if (left == 0 && z.avail_in == 0 && z.avail_out != 0)
			break;
	}
	deflateEnd(&z);
	*ret_crc = crc_of((uint32_t)crc32(0, Z_NULL, 0), src, len);
	return 0;
nomem:
	deflateEnd(&z);
	return -ENOMEM;
}

static void put_le32(struct buf *out, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };
	buf_add(out, b, 4);
}

void gz_finish(struct buf *out, const void *tail, size_t tail_len, uint32_t body_crc, uint64_t body_len)
{
	const unsigned char *p = tail;
	size_t left = tail_len;
	uint32_t crc;

	assert(out && (tail || tail_len == 0));
	/* RFC 1951 3.2.4: a stored block is a 3-bit header (BFINAL, BTYPE=00) padded to the byte
	 * boundary, then LEN and its one's complement NLEN, little-endian, then LEN raw bytes */
	do {
		size_t n = left > 65535 ? 65535 : left;
		unsigned char hdr[5] = { left == n ? 1 : 0, (unsigned char)n, (unsigned char)(n >> 8),
					 (unsigned char)~n, (unsigned char)(~n >> 8) };
		buf_add(out, hdr, sizeof(hdr));
		buf_add(out, p, n);
		p += n;
		left -= n;
	} while (left > 0);
	crc = crc_of((uint32_t)crc32(0, Z_NULL, 0), tail, tail_len);
	crc = (uint32_t)crc32_combine(body_crc, crc, (z_off_t)tail_len);
	put_le32(out, crc);
	put_le32(out, (uint32_t)(body_len + tail_len)); /* ISIZE: the length modulo 2^32 */
}
