/* test_gz.c — gzip members assembled from a cached deflate body and a stored tail must be
 * ordinary gzip (RFC 1952 around RFC 1951 blocks): zlib itself inflates them, checking the
 * CRC-32 and ISIZE of the trailer, and the result must be body + tail byte for byte. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "gz.h"

/* Inflates one gzip member with zlib; fails the test unless it is exactly one well-formed
 * member (trailer checked by zlib) with nothing after it. Returns a malloc'd buffer. */
static int gunzip(const unsigned char *in, size_t in_len, unsigned char **ret, size_t *ret_len)
{
	size_t cap = in_len * 4 + 1024, len = 0;
	unsigned char *out = malloc(cap);
	z_stream z = { 0 };
	int r;

	assert_non_null(out);
	assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)in_len;
	do {
		if (cap - len < 65536) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		z.next_out = out + len;
		z.avail_out = (uInt)(cap - len);
		r = inflate(&z, Z_NO_FLUSH);
		len = cap - z.avail_out;
	} while (r == Z_OK);
	inflateEnd(&z);
	if (r != Z_STREAM_END || z.avail_in != 0) {
		free(out);
		return r == Z_STREAM_END ? Z_DATA_ERROR : r;
	}
	*ret = out;
	*ret_len = len;
	return Z_OK;
}

/* header | deflate(body) | gz_finish(tail): the response layout of gz.h */
static void make_member(const void *body, size_t body_len, const void *tail, size_t tail_len,
			int level, struct buf *out)
{
	uint32_t crc = 0;

	buf_add(out, gz_member_header, GZ_HEADER_LEN);
	assert_int_equal(gz_deflate_body(body, body_len, level, out, &crc), 0);
	gz_finish(out, tail, tail_len, crc, body_len);
	assert_false(buf_failed(out));
}

static void check_roundtrip(const void *body, size_t body_len, const void *tail, size_t tail_len,
			    int level)
{
	struct buf member = BUF_INIT;
	unsigned char *plain = NULL, *t;
	size_t plain_len = 0;
	uint32_t crc;

	make_member(body, body_len, tail, tail_len, level, &member);
	assert_int_equal(gunzip((unsigned char *)member.buf, member.len, &plain, &plain_len), Z_OK);
	assert_int_equal(plain_len, body_len + tail_len);
	if (body_len)
		assert_memory_equal(plain, body, body_len);
	if (tail_len)
		assert_memory_equal(plain + body_len, tail, tail_len);

	/* the trailer, read independently: CRC-32 of body and tail together, then ISIZE */
	crc = (uint32_t)crc32(0, Z_NULL, 0);
	crc = (uint32_t)crc32(crc, plain, (uInt)plain_len);
	t = (unsigned char *)member.buf + member.len - 8;
	assert_int_equal(t[0] | t[1] << 8 | t[2] << 16 | (uint32_t)t[3] << 24, crc);
	assert_int_equal(t[4] | t[5] << 8 | t[6] << 16 | (uint32_t)t[7] << 24, (uint32_t)plain_len);
	free(plain);
	buf_done(&member);
}

/* Reproducible text that compresses like an exposition would (repetitive but not constant). */
static unsigned char *exposition_like(size_t len)
{
	unsigned char *p = malloc(len ? len : 1);
	uint32_t x = 12345;
	size_t i = 0;

	assert_non_null(p);
	while (i < len) {
		char line[96];
		int n;
		size_t k;

		x = x * 1103515245u + 12345u;
		n = snprintf(line, sizeof(line), "procmem_process_resident_bytes{pid=\"%u\",comm=\"w%u\"} %u\n",
			     x >> 16, (x >> 8) & 0xff, x);
		for (k = 0; k < (size_t)n && i < len; k++)
			p[i++] = (unsigned char)line[k];
	}
	return p;
}

static void test_header_is_rfc1952(void **state)
{
	(void)state;
	/* ID1 ID2, CM=8 (deflate), FLG=0, MTIME=0, XFL, OS */
	assert_int_equal(gz_member_header[0], 0x1f);
	assert_int_equal(gz_member_header[1], 0x8b);
	assert_int_equal(gz_member_header[2], 8);
	assert_int_equal(gz_member_header[3], 0);
}

static void test_body_and_tail_inflate_to_their_concatenation(void **state)
{
	static const char body[] = "# HELP a A.\n# TYPE a gauge\na 1\n";
	static const char tail[] = "# HELP b_total B.\n# TYPE b_total counter\nb_total 2\n";

	(void)state;
	check_roundtrip(body, strlen(body), tail, strlen(tail), 1);
}

static void test_empty_tail(void **state)
{
	static const char body[] = "some body\n";

	(void)state;
	check_roundtrip(body, strlen(body), NULL, 0, 1);
	check_roundtrip(body, strlen(body), "", 0, 6);
}

static void test_empty_body(void **state)
{
	static const char tail[] = "only a tail\n";

	(void)state;
	check_roundtrip("", 0, tail, strlen(tail), 1);
	check_roundtrip(NULL, 0, NULL, 0, 1);
}

/* A stored block holds at most 65535 bytes (RFC 1951 3.2.4): longer tails take several, each
 * with a 5-byte header. Checked at the edges of one and two blocks. */
static void test_tail_longer_than_one_stored_block(void **state)
{
	static const size_t lens[] = { 65534, 65535, 65536, 131070, 131071, 200000 };
	static const char body[] = "body\n";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		unsigned char *tail = exposition_like(lens[i]);
		struct buf member = BUF_INIT;
		uint32_t crc;
		size_t deflated, blocks = (lens[i] + 65534) / 65535;

		check_roundtrip(body, strlen(body), tail, lens[i], 1);

		/* the size adds up: header, deflate body, per block 5 bytes + data, trailer */
		assert_int_equal(gz_deflate_body(body, strlen(body), 1, &member, &crc), 0);
		deflated = member.len;
		gz_finish(&member, tail, lens[i], crc, strlen(body));
		assert_int_equal(member.len, deflated + 5 * blocks + lens[i] + 8);
		buf_done(&member);
		free(tail);
	}
}

/* Several MiB: more than the initial output guess, many deflate calls. */
static void test_body_of_several_mib(void **state)
{
	size_t len = 5 * 1024 * 1024 + 17;
	unsigned char *body = exposition_like(len);
	static const char tail[] = "tail 1\n# EOF\n";

	(void)state;
	check_roundtrip(body, len, tail, strlen(tail), 1);
	free(body);
}

/* Incompressible input: the deflate output is larger than the input. */
static void test_incompressible_body(void **state)
{
	size_t len = 300000, i;
	unsigned char *body = malloc(len);
	uint32_t x = 1;

	(void)state;
	assert_non_null(body);
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		body[i] = (unsigned char)x;
	}
	check_roundtrip(body, len, "t\n", 2, 9);
	free(body);
}

static void test_every_level(void **state)
{
	size_t len = 200000;
	unsigned char *body = exposition_like(len);
	int level;

	(void)state;
	for (level = 1; level <= 9; level++)
		check_roundtrip(body, len, "tail\n", 5, level);
	free(body);
}

/* The body part ends in a sync flush (an empty stored block, 00 00 ff ff) so that blocks can
 * follow; its CRC is that of the input. It appends to what the buffer holds. */
static void test_body_part_ends_in_sync_flush_and_appends(void **state)
{
	static const char body[] = "abcabcabcabc\n";
	struct buf out = BUF_INIT;
	uint32_t crc = 0;

	(void)state;
	buf_addstr(&out, "prefix");
	assert_int_equal(gz_deflate_body(body, strlen(body), 5, &out, &crc), 0);
	assert_memory_equal(out.buf, "prefix", 6);
	assert_true(out.len >= 6 + 4);
	assert_memory_equal(out.buf + out.len - 4, "\x00\x00\xff\xff", 4);
	assert_int_equal(crc, (uint32_t)crc32(crc32(0, Z_NULL, 0), (const Bytef *)body, (uInt)strlen(body)));
	buf_done(&out);
}

/* The checker above can fail: a damaged CRC or length is caught. */
static void test_damaged_trailer_is_detected(void **state)
{
	static const char body[] = "body\n", tail[] = "tail\n";
	struct buf member = BUF_INIT;
	unsigned char *plain = NULL;
	size_t plain_len;

	(void)state;
	make_member(body, 5, tail, 5, 1, &member);
	member.buf[member.len - 8] ^= 1; /* CRC */
	assert_int_not_equal(gunzip((unsigned char *)member.buf, member.len, &plain, &plain_len), Z_OK);
	member.buf[member.len - 8] ^= 1;
	member.buf[member.len - 4] ^= 1; /* ISIZE */
	assert_int_not_equal(gunzip((unsigned char *)member.buf, member.len, &plain, &plain_len), Z_OK);
	member.buf[member.len - 4] ^= 1;
	assert_int_equal(gunzip((unsigned char *)member.buf, member.len, &plain, &plain_len), Z_OK);
	free(plain);
	buf_done(&member);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_is_rfc1952),
		cmocka_unit_test(test_body_and_tail_inflate_to_their_concatenation),
		cmocka_unit_test(test_empty_tail),
		cmocka_unit_test(test_empty_body),
		cmocka_unit_test(test_tail_longer_than_one_stored_block),
		cmocka_unit_test(test_body_of_several_mib),
		cmocka_unit_test(test_incompressible_body),
		cmocka_unit_test(test_every_level),
		cmocka_unit_test(test_body_part_ends_in_sync_flush_and_appends),
		cmocka_unit_test(test_damaged_trailer_is_detected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
