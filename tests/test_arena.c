/* test_arena.c — the chunked bump allocator: alignment, pointer stability across chunk growth,
 * oversized requests, arena_strndup, reset keeping one chunk for the next cycle. ASan (make
 * check-asan) checks that no allocation overlaps a chunk's end and that arena_done frees all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 31 + i);
}

static void check_fill(const unsigned char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed * 31 + i))
			fail_msg("block %u byte %zu overwritten", seed, i);
}

static void test_allocations_are_8_byte_aligned(void **state)
{
	struct arena a;
	size_t size;

	(void)state;
	arena_init(&a, 256);
	for (size = 0; size < 300; size++) {
		void *p = arena_alloc(&a, size % 37);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 8, 0);
	}
	/* oversized ones too */
	assert_int_equal((uintptr_t)arena_alloc(&a, 1001) % 8, 0);
	assert_int_equal((uintptr_t)arena_alloc(&a, 3) % 8, 0);
	assert_false(arena_failed(&a));
	arena_done(&a);
}

/* Blocks never move and never overlap: write a distinct pattern into each of many blocks over
 * many chunks, then read every one back. */
static void test_pointers_stay_valid_across_chunk_growth(void **state)
{
	enum { N = 20000 };
	unsigned char **ptr = calloc(N, sizeof(*ptr));
	size_t *size = calloc(N, sizeof(*size));
	struct arena a;
	size_t total = 0;
	unsigned i;

	(void)state;
	assert_non_null(ptr);
	assert_non_null(size);
	arena_init(&a, 1000);
	for (i = 0; i < N; i++) {
		/* mostly small, now and then larger than a chunk */
		size[i] = i % 97 == 0 ? 1500 + i % 700 : i % 61 + 1;
		ptr[i] = arena_alloc(&a, size[i]);
		assert_non_null(ptr[i]);
		fill(ptr[i], size[i], i);
		total += size[i];
	}
	for (i = 0; i < N; i++)
		check_fill(ptr[i], size[i], i);
	assert_false(arena_failed(&a));
	assert_true(a.allocated >= total); /* the chunks' bookkeeping covers every block */
	arena_done(&a);
	free(ptr);
	free(size);
}

static void test_default_chunk_size(void **state)
{
	struct arena a;

	(void)state;
	arena_init(&a, 0);
	assert_int_equal(a.chunk_size, 64 * 1024);
	assert_non_null(arena_alloc(&a, 1));
	assert_int_equal(a.allocated, 64 * 1024);
	arena_done(&a);
}

/* A request larger than a chunk gets a chunk of its own; the current chunk keeps its room for
 * the small requests that follow (no new chunk for them). */
static void test_oversized_allocation_gets_its_own_chunk(void **state)
{
	struct arena a;
	unsigned char *small1, *big, *small2;

	(void)state;
	arena_init(&a, 256);
	small1 = arena_alloc(&a, 16);
	assert_non_null(small1);
	assert_int_equal(a.allocated, 256);
	big = arena_alloc(&a, 100000);
	assert_non_null(big);
	assert_int_equal(a.allocated, 256 + 100000);
	fill(big, 100000, 7);
	small2 = arena_alloc(&a, 16);
	assert_non_null(small2);
	assert_int_equal(a.allocated, 256 + 100000);
	fill(small1, 16, 1);
	fill(small2, 16, 2);
	check_fill(big, 100000, 7);
	check_fill(small1, 16, 1);

	/* an oversized request into an empty arena, then small ones */
	arena_done(&a);
	big = arena_alloc(&a, 5000);
	assert_non_null(big);
	fill(big, 5000, 3);
	small1 = arena_alloc(&a, 200);
	assert_non_null(small1);
	fill(small1, 200, 4);
	check_fill(big, 5000, 3);
	arena_done(&a);
}

static void test_zero_size_allocation_is_usable(void **state)
{
	struct arena a;
	void *p, *q;

	(void)state;
	arena_init(&a, 64);
	p = arena_alloc(&a, 0);
	q = arena_alloc(&a, 0);
	assert_non_null(p);
	assert_non_null(q);
	assert_ptr_not_equal(p, q);
	arena_done(&a);
}

static void test_strndup_copies_and_terminates(void **state)
{
	const char src[] = "hello world";
	struct arena a;
	char *s;

	(void)state;
	arena_init(&a, 64);
	s = arena_strndup(&a, src, 5);
	assert_non_null(s);
	assert_string_equal(s, "hello");
	assert_ptr_not_equal(s, src);

	s = arena_strndup(&a, src, 0);
	assert_non_null(s);
	assert_string_equal(s, "");

	/* a source that is not NUL-terminated is read only up to len */
	{
		char raw[3] = { 'a', 'b', 'c' };
		s = arena_strndup(&a, raw, 3);
		assert_string_equal(s, "abc");
	}

	/* embedded NUL kept within len */
	s = arena_strndup(&a, "x\0y", 3);
	assert_memory_equal(s, "x\0y\0", 4);

	/* longer than a chunk */
	{
		char big[300];
		memset(big, 'q', sizeof(big));
		s = arena_strndup(&a, big, sizeof(big));
		assert_non_null(s);
		assert_int_equal(strlen(s), sizeof(big));
		assert_memory_equal(s, big, sizeof(big));
	}
	/* a length whose terminator cannot be counted fails the arena like any other allocation */
	assert_false(arena_failed(&a));
	assert_null(arena_strndup(&a, src, SIZE_MAX));
	assert_true(arena_failed(&a));
	assert_null(arena_strndup(&a, src, 1));
	arena_done(&a);
}

/* After reset exactly one chunk of the normal size is left, and the next allocations come
 * out of it (no malloc in a steady-state cycle). */
static void test_reset_keeps_one_chunk_and_reuses_it(void **state)
{
	enum { CHUNK = 1024 };
	unsigned char *starts[64];
	size_t nstarts = 0, cycle, i;
	struct arena a;

	(void)state;
	arena_init(&a, CHUNK);
	for (cycle = 0; cycle < 5; cycle++) {
		size_t before;
		unsigned char *p;
		bool known = false;

		/* several normal chunks and an oversized one */
		for (i = 0; i < 100; i++) {
			before = a.allocated;
			p = arena_alloc(&a, 40);
			assert_non_null(p);
			if (a.allocated == before + CHUNK && nstarts < 64)
				starts[nstarts++] = p; /* the first block of a new chunk */
			if (i == 50)
				assert_non_null(arena_alloc(&a, 3 * CHUNK));
		}
		assert_true(a.allocated >= 4 * CHUNK + 3 * CHUNK);
		arena_reset(&a);
		assert_false(arena_failed(&a));
		assert_int_equal(a.allocated, CHUNK);

		before = a.allocated;
		p = arena_alloc(&a, 40);
		assert_int_equal(a.allocated, before); /* no new chunk */
		for (i = 0; i < nstarts; i++)
			known = known || p == starts[i];
		assert_true(known); /* the start of a chunk that existed before the reset */
		arena_reset(&a);
		nstarts = 0;
	}
	/* reset of an empty arena */
	arena_done(&a);
	arena_reset(&a);
	assert_int_equal(a.allocated, 0);
	arena_done(&a);
}

static void test_failure_is_sticky_until_reset(void **state)
{
	struct arena a;

	(void)state;
	arena_init(&a, 128);
	assert_non_null(arena_alloc(&a, 8));
	assert_null(arena_alloc(&a, SIZE_MAX)); /* no chunk can hold that */
	assert_true(arena_failed(&a));
	assert_null(arena_alloc(&a, 8));
	assert_null(arena_strndup(&a, "x", 1));
	arena_reset(&a);
	assert_false(arena_failed(&a));
	assert_non_null(arena_alloc(&a, 8));
	arena_done(&a);
}

static void test_done_frees_and_leaves_a_usable_arena(void **state)
{
	struct arena a;
	size_t i;

	(void)state;
	arena_init(&a, 100);
	for (i = 0; i < 1000; i++)
		assert_non_null(arena_alloc(&a, i % 150));
	arena_done(&a); /* ASan's leak check sees anything left behind */
	assert_null(a.head);
	assert_int_equal(a.allocated, 0);
	assert_int_equal(a.chunk_size, 100);
	assert_non_null(arena_alloc(&a, 10));
	arena_done(&a);
	arena_done(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allocations_are_8_byte_aligned),
		cmocka_unit_test(test_pointers_stay_valid_across_chunk_growth),
		cmocka_unit_test(test_default_chunk_size),
		cmocka_unit_test(test_oversized_allocation_gets_its_own_chunk),
		cmocka_unit_test(test_zero_size_allocation_is_usable),
		cmocka_unit_test(test_strndup_copies_and_terminates),
		cmocka_unit_test(test_reset_keeps_one_chunk_and_reuses_it),
		cmocka_unit_test(test_failure_is_sticky_until_reset),
		cmocka_unit_test(test_done_frees_and_leaves_a_usable_arena),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
