/* fixture_input.h — inputs for the parser tests, shared by tests/test_*.c that read /proc text.
 *
 * exact() hands a parser its input in a heap block of exactly its length, without a NUL after
 * it, so that under ASan a read one byte past the end is an error, as it would be at the end of
 * a read() buffer. read_fixture() reads a (small) fixture file into such a block. Both fail the
 * calling cmocka test on error; the caller frees the block.
 */
#ifndef PROCMEM_TESTS_FIXTURE_INPUT_H
#define PROCMEM_TESTS_FIXTURE_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline char *exact(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	if (n)
		memcpy(p, s, n);
	return p;
}

static inline char *read_fixture(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char tmp[65536];
	size_t n;

	if (!f)
		fail_msg("cannot open fixture %s (run from the repository root)", path);
	n = fread(tmp, 1, sizeof(tmp), f);
	assert_int_equal(ferror(f), 0);
	assert_true(feof(f)); /* fixtures are small */
	fclose(f);
	*ret_len = n;
	return exact(tmp, n);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static inline uint64_t rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

#endif
