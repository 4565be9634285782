/* gz.h — gzip bodies made of a cached compressed part and a small per-scrape tail.
 *
 * The exposition body is compressed once per snapshot; each scrape appends a tail of a few
 * hundred bytes (request counters, CPU time). Recompressing the body per scrape would cost
 * milliseconds; instead the body is compressed as raw deflate ending in a sync flush
 * (byte-aligned, not final), and each scrape appends the tail as stored deflate blocks, the last
 * one final, then the gzip trailer with the CRC of body and tail combined (crc32_combine).
 * The result is one ordinary gzip member (RFC 1952 around RFC 1951 blocks).
 *
 * Response layout: gz_member_header | body part (gz_deflate_body) | gz_finish(tail).
 */
#ifndef PROCMEM_GZ_H
#define PROCMEM_GZ_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define GZ_HEADER_LEN 10
extern const unsigned char gz_member_header[GZ_HEADER_LEN];

/* Compresses src[0..len) at `level` (1-9) as raw deflate ending in a sync flush, appending to
 * out; *ret_crc is the CRC-32 of src. -ENOMEM or -EIO (zlib error). */
int gz_deflate_body(const void *src, size_t len, int level, struct buf *out, uint32_t *ret_crc);

/* Appends the tail as final stored block(s) and the gzip trailer. body_crc and body_len are
 * those of the uncompressed body. */
void gz_finish(struct buf *out, const void *tail, size_t tail_len, uint32_t body_crc, uint64_t body_len);

#endif
