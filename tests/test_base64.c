/* test_base64.c — strict base64 decoding (base64.h): RFC 4648's test vectors, every padding
 * length, the whole alphabet, and what it refuses (length, alphabet, '=' out of place). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"

static void check(const char *in, const char *want, size_t want_len)
{
	unsigned char out[64];

	assert_true(BASE64_DECODED_MAX(strlen(in)) <= sizeof(out));
	assert_int_equal(base64_decode(in, strlen(in), out), (ssize_t)want_len);
	assert_memory_equal(out, want, want_len);
}

static void refused(const char *in)
{
	unsigned char out[64];

	assert_int_equal(base64_decode(in, strlen(in), out), -EINVAL);
}

static void test_rfc4648_vectors_decode(void **state)
{
	(void)state;
	check("Zg==", "f", 1);
	check("Zm8=", "fo", 2);
	check("Zm9v", "foo", 3);
	check("Zm9vYg==", "foob", 4);
	check("Zm9vYmE=", "fooba", 5);
	check("Zm9vYmFy", "foobar", 6);
	/* '+' and '/' are digits 62 and 63; a NUL byte decodes like any other */
	check("+/+/", "\xfb\xff\xbf", 3);
	check("AAAA", "\0\0\0", 3);
}

static void test_only_len_characters_are_read(void **state)
{
	unsigned char out[8];

	(void)state;
	assert_int_equal(base64_decode("Zm9v!!!!", 4, out), 3);
	assert_memory_equal(out, "foo", 3);
}

static void test_malformed_input_is_refused(void **state)
{
	(void)state;
	refused("");	     /* nothing */
	refused("Zm9");	     /* not a multiple of 4 */
	refused("Zg");	     /* unpadded */
	refused("Zm9v\n");   /* whitespace */
	refused("Zm 9");     /* whitespace inside */
	refused("Zm-_");     /* base64url is not base64 */
	refused("Z===");     /* '=' in the second place */
	refused("Zg=a");     /* data after '=' */
	refused("Zg==Zm9v"); /* '=' before the last group */
	refused("=Zm9");     /* '=' first */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors_decode),
		cmocka_unit_test(test_only_len_characters_are_read),
		cmocka_unit_test(test_malformed_input_is_refused),
	};

	return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
