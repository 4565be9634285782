/* test_buf.c — struct buf: the invariants buf.h promises, exact number formatting, the sticky
 * failure flag. Expected strings are built in the test from first principles (digit by digit),
 * never taken from the code under test. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"

/* buf.h: buf never NULL, buf[len] == '\0', len < alloc once allocated (and an unallocated
 * buffer is the empty string). */
static void check_invariants(const struct buf *b)
{
	assert_non_null(b->buf);
	assert_int_equal(b->buf[b->len], '\0');
	if (b->alloc)
		assert_true(b->len < b->alloc);
	else
		assert_int_equal(b->len, 0);
}

static void check_contents(const struct buf *b, const char *expect, size_t len)
{
	check_invariants(b);
	assert_int_equal(b->len, len);
	assert_memory_equal(b->buf, expect, len);
}

#define check_str(b, s) check_contents((b), (s), strlen(s))

static void test_empty_buffer_is_an_empty_string(void **state)
{
	struct buf a = BUF_INIT, b;

	(void)state;
	check_str(&a, "");
	assert_false(buf_failed(&a));
	buf_init(&b);
	check_str(&b, "");
	assert_int_equal(buf_avail(&b), 0);
	buf_done(&b);
	check_str(&b, "");
	buf_done(NULL);
	/* appending nothing allocates nothing and keeps the invariants */
	buf_add(&a, "x", 0);
	buf_addstr(&a, "");
	check_str(&a, "");
	buf_truncate(&a, 0);
	check_str(&a, "");
	buf_done(&a);
}

static void test_byte_by_byte_appends_keep_invariants_and_contents(void **state)
{
	enum { N = 5000 };
	struct buf b = BUF_INIT;
	char *expect = malloc(N);
	size_t i;

	(void)state;
	assert_non_null(expect);
	for (i = 0; i < N; i++) {
		/* every byte value, NUL included: len, not strlen, is authoritative */
		expect[i] = (char)(i * 7 + 3);
		if (i % 3 == 0)
			buf_addch(&b, expect[i]);
		else
			buf_add(&b, &expect[i], 1);
		check_contents(&b, expect, i + 1);
	}
	assert_false(buf_failed(&b));
	buf_done(&b);
	check_str(&b, "");
	free(expect);
}

static void test_add_holds_embedded_nul_bytes(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_add(&b, "a\0b", 3);
	buf_addstr(&b, "cd");
	check_contents(&b, "a\0bcd", 5);
	buf_done(&b);
}

static void test_add_u64_zero_and_max(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_add_u64(&b, 0);
	check_str(&b, "0");
	buf_reset(&b);
	/* 2^64 - 1 */
	buf_add_u64(&b, UINT64_MAX);
	check_str(&b, "18446744073709551615");
	buf_reset(&b);
	buf_add_u64(&b, 1);
	buf_addch(&b, ' ');
	buf_add_u64(&b, 9);
	buf_addch(&b, ' ');
	buf_add_u64(&b, 42);
	check_str(&b, "1 9 42");
	buf_done(&b);
}

/* 10^k is "1" and k zeros; 10^k - 1 is k nines; 10^k + 1 is "1", k-1 zeros, "1". */
static void test_add_u64_powers_of_ten(void **state)
{
	struct buf b = BUF_INIT;
	char expect[32];
	uint64_t p = 1;
	unsigned k;

	(void)state;
	for (k = 0; k <= 19; k++, p *= 10) {
		buf_reset(&b);
		buf_add_u64(&b, p);
		expect[0] = '1';
		memset(expect + 1, '0', k);
		check_contents(&b, expect, k + 1);

		if (k > 0) {
			buf_reset(&b);
			buf_add_u64(&b, p - 1);
			memset(expect, '9', k);
			check_contents(&b, expect, k);

			buf_reset(&b);
			buf_add_u64(&b, p + 1);
			expect[0] = '1';
			memset(expect + 1, '0', k - 1);
			expect[k] = '1';
			check_contents(&b, expect, k + 1);
		}
	}
	buf_done(&b);
}

static void test_add_fixed_table(void **state)
{
	static const struct {
		uint64_t units;
		unsigned digits;
		const char *expect;
	} cases[] = {
		{ 0, 0, "0" },
		{ 0, 6, "0" },
		{ 0, 19, "0" },
		{ 7, 0, "7" },
		{ 1500000, 6, "1.5" },
		{ 2000000, 6, "2" },			 /* whole: no '.' */
		{ 123, 6, "0.000123" },			 /* leading zeros of the fraction kept */
		{ 120, 6, "0.00012" },			 /* trailing zeros dropped */
		{ 100, 2, "1" },
		{ 101, 2, "1.01" },
		{ 10, 1, "1" },
		{ 5, 1, "0.5" },
		{ 1234567890123u, 9, "1234.567890123" },
		{ 1700000000123456789u, 9, "1700000000.123456789" },
		{ 1700000000000000000u, 9, "1700000000" },
		{ 1, 19, "0.0000000000000000001" },
		{ UINT64_MAX, 19, "1.8446744073709551615" },
		{ UINT64_MAX, 0, "18446744073709551615" },
		{ UINT64_MAX, 1, "1844674407370955161.5" },
		{ 10000000000000000000u, 19, "1" },
	};
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		buf_add_fixed(&b, cases[i].units, cases[i].digits);
		check_str(&b, cases[i].expect);
	}
	buf_done(&b);
}

/* For every digits 0..19: 10^digits units is "1"; one unit is "0.0…01" (digits - 1 zeros);
 * 10^digits + 1 units is "1.0…01"; 5 * 10^(digits-1) is "0.5". */
static void test_add_fixed_every_digit_count(void **state)
{
	struct buf b = BUF_INIT;
	char expect[64];
	unsigned d, i;

	(void)state;
	for (d = 0; d <= 19; d++) {
		uint64_t scale = 1;

		for (i = 0; i < d; i++)
			scale *= 10;
		buf_reset(&b);
		buf_add_fixed(&b, scale, d);
		check_str(&b, "1");

		if (d == 0)
			continue;
		buf_reset(&b);
		buf_add_fixed(&b, 1, d);
		memcpy(expect, "0.", 2);
		memset(expect + 2, '0', d - 1);
		expect[d + 1] = '1';
		check_contents(&b, expect, d + 2);

		buf_reset(&b);
		buf_add_fixed(&b, scale + 1, d);
		expect[0] = '1';
		check_contents(&b, expect, d + 2);

		buf_reset(&b);
		buf_add_fixed(&b, scale / 2, d);
		check_str(&b, "0.5");
	}
	buf_done(&b);
}

static void test_addf_formats_and_appends(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_addstr(&b, "x=");
	buf_addf(&b, "%d,%s,%05u", -12, "ab", 42u);
	check_str(&b, "x=-12,ab,00042");
	buf_addf(&b, "%s", "");
	check_str(&b, "x=-12,ab,00042");
	buf_done(&b);
}

/* buf_addf guesses 64 bytes first; results of every length around and far past the guess
 * (and past the room left by earlier contents) must come out whole. */
static void test_addf_grows_past_the_first_guess(void **state)
{
	enum { MAX = 600 };
	char *s = malloc(MAX + 1), *expect = malloc(2 * MAX + 1);
	struct buf b = BUF_INIT;
	size_t n, prefix;

	(void)state;
	assert_non_null(s);
	assert_non_null(expect);
	for (prefix = 0; prefix <= 200; prefix += 50) {
		for (n = 0; n <= MAX; n++) {
			size_t i;

			for (i = 0; i < n; i++)
				s[i] = (char)('a' + i % 26);
			s[n] = '\0';
			buf_done(&b);
			memset(expect, 'P', prefix);
			buf_add(&b, expect, prefix);
			buf_addf(&b, "%s|%zu", s, n);
			memcpy(expect + prefix, s, n);
			i = prefix + n;
			i += (size_t)sprintf(expect + i, "|%zu", n);
			check_contents(&b, expect, i);
			assert_false(buf_failed(&b));
		}
	}
	buf_done(&b);
	free(s);
	free(expect);
}

static void test_reset_keeps_memory_and_clears_the_flag(void **state)
{
	struct buf b = BUF_INIT;
	char big[1000];
	size_t alloc;
	char *mem;

	(void)state;
	memset(big, 'z', sizeof(big));
	buf_add(&b, big, sizeof(big));
	mem = b.buf;
	alloc = b.alloc;
	assert_true(alloc > sizeof(big));
	buf_set_failed(&b);
	buf_reset(&b);
	check_str(&b, "");
	assert_false(buf_failed(&b));
	assert_ptr_equal(b.buf, mem);
	assert_int_equal(b.alloc, alloc);
	/* refilling up to the old size allocates nothing new */
	buf_add(&b, big, sizeof(big));
	assert_ptr_equal(b.buf, mem);
	assert_int_equal(b.alloc, alloc);
	check_contents(&b, big, sizeof(big));
	buf_done(&b);
}

static void test_grow_tail_advance_truncate(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_grow(&b, 10), 0);
	assert_true(buf_avail(&b) >= 10);
	check_str(&b, "");
	memcpy(buf_tail(&b), "0123456789", 10);
	buf_advance(&b, 10);
	check_str(&b, "0123456789");
	buf_truncate(&b, 4);
	check_str(&b, "0123");
	buf_advance(&b, 0);
	check_str(&b, "0123");
	buf_done(&b);
}

static void test_detach_hands_over_the_memory(void **state)
{
	struct buf b = BUF_INIT;
	size_t len = 99;
	char *p;

	(void)state;
	buf_addstr(&b, "hello");
	buf_add(&b, "\0!", 2);
	p = buf_detach(&b, &len);
	assert_non_null(p);
	assert_int_equal(len, 7);
	assert_memory_equal(p, "hello\0!", 8); /* still NUL-terminated */
	check_str(&b, "");
	assert_int_equal(b.alloc, 0);
	/* the buffer is usable afterwards and p is ours (ASan would see a double free) */
	buf_addstr(&b, "again");
	check_str(&b, "again");
	buf_done(&b);
	free(p);

	/* NULL len pointer is allowed */
	buf_addstr(&b, "x");
	p = buf_detach(&b, NULL);
	assert_string_equal(p, "x");
	free(p);
}

static void test_detach_of_empty_or_failed_buffer_is_null(void **state)
{
	struct buf b = BUF_INIT;
	size_t len = 99;

	(void)state;
	assert_null(buf_detach(&b, &len));
	check_str(&b, "");

	buf_addstr(&b, "data");
	buf_set_failed(&b);
	assert_null(buf_detach(&b, &len));
	/* and the memory was freed, not leaked (ASan's leak check) */
	check_str(&b, "");
	assert_false(buf_failed(&b));
	buf_done(&b);
}

/* Once failed, every append is a no-op; the invariants still hold. */
static void test_failure_is_sticky(void **state)
{
	struct buf b = BUF_INIT, e = BUF_INIT;
	size_t alloc;

	(void)state;
	buf_addstr(&b, "abc");
	alloc = b.alloc;
	buf_set_failed(&b);
	assert_true(buf_failed(&b));
	buf_add(&b, "defgh", 5);
	buf_addstr(&b, "ijk");
	buf_addch(&b, 'l');
	buf_add_u64(&b, 1234567);
	buf_add_fixed(&b, 15, 1);
	buf_addf(&b, "%s %d", "formatted", 1);
	assert_int_equal(buf_grow(&b, 1), -ENOMEM);
	assert_true(buf_failed(&b));
	check_contents(&b, "abc", 3);
	assert_int_equal(b.alloc, alloc);
	buf_done(&b);

	/* failed before anything was allocated: still the static empty string */
	buf_set_failed(&e);
	buf_addstr(&e, "nothing");
	buf_add_u64(&e, 1);
	check_str(&e, "");
	assert_int_equal(e.alloc, 0);
	buf_done(&e);
}

/* A request no allocator can meet fails cleanly and sets the flag. */
static void test_impossible_growth_sets_the_flag(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_addstr(&b, "keep");
	assert_int_equal(buf_grow(&b, SIZE_MAX), -ENOMEM);
	assert_true(buf_failed(&b));
	check_invariants(&b);
	buf_addstr(&b, "more");
	check_contents(&b, "keep", 4);
	buf_reset(&b);
	assert_false(buf_failed(&b));
	buf_addstr(&b, "fresh");
	check_str(&b, "fresh");
	buf_done(&b);
}

/* A temporary file holding `len` bytes of a known pattern; its path goes to `path` (unlinked by
 * the caller). */
static void write_temp(char path[static 32], size_t len)
{
	int fd;

	strcpy(path, "/tmp/test_buf.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < len; i++) {
		char c = (char)('a' + i % 26);
		assert_int_equal(write(fd, &c, 1), 1);
	}
	close(fd);
}

static void test_read_file_appends_the_whole_file(void **state)
{
	char path[32];
	struct buf b = BUF_INIT;

	(void)state;
	write_temp(path, 10000);
	buf_addstr(&b, "head:");
	assert_int_equal(buf_read_file(&b, path, 10000), 0);
	unlink(path);
	assert_int_equal(b.len, 5 + 10000);
	assert_memory_equal(b.buf, "head:", 5);
	for (size_t i = 0; i < 10000; i++)
		assert_int_equal(b.buf[5 + i], 'a' + (int)(i % 26));
	assert_int_equal(b.buf[b.len], '\0');
	buf_done(&b);
}

static void test_read_file_refuses_more_than_max(void **state)
{
	char path[32];
	struct buf b = BUF_INIT;

	(void)state;
	write_temp(path, 10001);
	assert_int_equal(buf_read_file(&b, path, 10000), -EFBIG);
	unlink(path);
	assert_true(b.len > 10000);
	buf_done(&b);
}

static void test_read_file_empty_and_missing(void **state)
{
	char path[32];
	struct buf b = BUF_INIT;

	(void)state;
	write_temp(path, 0);
	assert_int_equal(buf_read_file(&b, path, 16), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_read_file(&b, "/nonexistent/test_buf", 16), -ENOENT);
	assert_int_equal(b.len, 0);
	unlink(path);
	assert_int_equal(buf_read_file(&b, path, 16), -ENOENT);
	buf_done(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_buffer_is_an_empty_string),
		cmocka_unit_test(test_byte_by_byte_appends_keep_invariants_and_contents),
		cmocka_unit_test(test_add_holds_embedded_nul_bytes),
		cmocka_unit_test(test_add_u64_zero_and_max),
		cmocka_unit_test(test_add_u64_powers_of_ten),
		cmocka_unit_test(test_add_fixed_table),
		cmocka_unit_test(test_add_fixed_every_digit_count),
		cmocka_unit_test(test_addf_formats_and_appends),
		cmocka_unit_test(test_addf_grows_past_the_first_guess),
		cmocka_unit_test(test_reset_keeps_memory_and_clears_the_flag),
		cmocka_unit_test(test_grow_tail_advance_truncate),
		cmocka_unit_test(test_detach_hands_over_the_memory),
		cmocka_unit_test(test_detach_of_empty_or_failed_buffer_is_null),
		cmocka_unit_test(test_failure_is_sticky),
		cmocka_unit_test(test_impossible_growth_sets_the_flag),
		cmocka_unit_test(test_read_file_appends_the_whole_file),
		cmocka_unit_test(test_read_file_refuses_more_than_max),
		cmocka_unit_test(test_read_file_empty_and_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
