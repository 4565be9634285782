/* test_expo.c — the exposition renderer.
 *
 * Label values: escaping and UTF-8 repair are checked three ways: against byte strings worked
 * out by hand from the Unicode Standard (§3.9, Table 3-7 and the examples of Tables 3-8 to
 * 3-11), against a reference written here from the definition itself (a "maximal subpart" is
 * the longest start of some well-formed sequence: the prefixes are found by encoding every
 * code point, not from a table), and by validating every output with an independent decoder.
 *
 * Rendering: a hand-built snapshot is rendered and the output read back by a strict reader
 * written here, which enforces the format rules (HELP, TYPE, UNIT order and placement, families
 * never interleaved, unique series, escapes, integers, OpenMetrics' counter/info naming and
 * "# EOF"). Expected values are computed in the test from the sample figures it set.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "expo.h"
#include "mapfiles.h"

#define LIBC_DEV (254ull << 32 | 0) /* 254:0, as the smaps header "fe:00" */
#include "snapshot.h"
#include "version.h"

#define FFFD "\xEF\xBF\xBD"

/* ---- an independent UTF-8 decoder ----------------------------------------------------------- */

/* Length of the well-formed sequence at p (decoded and checked against the scalar value
 * ranges: shortest form, no surrogates, at most U+10FFFF), or 0 if there is none. */
static size_t utf8_valid_at(const unsigned char *p, size_t left)
{
	uint32_t cp, min;
	size_t n, i;

	if (left == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xE0) == 0xC0) {
		n = 2, cp = p[0] & 0x1F, min = 0x80;
	} else if ((p[0] & 0xF0) == 0xE0) {
		n = 3, cp = p[0] & 0x0F, min = 0x800;
	} else if ((p[0] & 0xF8) == 0xF0) {
		n = 4, cp = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

static bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_valid_at(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* ---- the reference repair, from the definition ------------------------------------------- */

/* Proper prefixes of well-formed multi-byte sequences, by length: found by encoding every
 * scalar value. prefix1[b]: b starts one; prefix2[b0<<8|b1]; prefix3 (bits) [b0<<16|b1<<8|b2]. */
static bool prefix1[256];
static bool *prefix2;
static uint8_t *prefix3;

static void build_prefixes(void)
{
	uint32_t cp;

	prefix2 = calloc(1u << 16, sizeof(*prefix2));
	prefix3 = calloc((1u << 24) / 8, 1);
	assert_non_null(prefix2);
	assert_non_null(prefix3);
	for (cp = 0x80; cp <= 0x10FFFF; cp++) {
		unsigned char e[4];
		size_t n;

		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		if (cp < 0x800) {
			e[0] = (unsigned char)(0xC0 | cp >> 6);
			e[1] = (unsigned char)(0x80 | (cp & 0x3F));
			n = 2;
		} else if (cp < 0x10000) {
			e[0] = (unsigned char)(0xE0 | cp >> 12);
			e[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
			e[2] = (unsigned char)(0x80 | (cp & 0x3F));
			n = 3;
		} else {
			e[0] = (unsigned char)(0xF0 | cp >> 18);
			e[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
			e[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
			e[3] = (unsigned char)(0x80 | (cp & 0x3F));
			n = 4;
		}
		prefix1[e[0]] = true;
		if (n >= 3)
			prefix2[e[0] << 8 | e[1]] = true;
		if (n == 4) {
			uint32_t k = (uint32_t)e[0] << 16 | (uint32_t)e[1] << 8 | e[2];
			prefix3[k / 8] |= (uint8_t)(1u << (k % 8));
		}
	}
}

static bool is_proper_prefix(const unsigned char *p, size_t k)
{
	switch (k) {
	case 1:
		return prefix1[p[0]];
	case 2:
		return prefix2[p[0] << 8 | p[1]];
	case 3: {
		uint32_t x = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		return prefix3[x / 8] >> (x % 8) & 1;
	}
	}
	return false;
}

/* What expo_label_value must write for s[0..len): well-formed sequences kept, the three
 * escapes, NUL and every maximal subpart of an ill-formed sequence as one U+FFFD. */
static void reference_label_value(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_valid_at(p + i, len - i), k;

		if (n == 1) {
			switch (p[i]) {
			case '\\': buf_addstr(out, "\\\\"); break;
			case '"': buf_addstr(out, "\\\""); break;
			case '\n': buf_addstr(out, "\\n"); break;
			case '\0': buf_addstr(out, FFFD); break;
			default: buf_addch(out, (char)p[i]);
			}
			i++;
		} else if (n > 1) {
			buf_add(out, p + i, n);
			i += n;
		} else {
			/* the longest start of a well-formed sequence, at least one byte */
			for (k = 1; k < 4 && i + k <= len && is_proper_prefix(p + i, k); k++)
				;
			k = k > 1 ? k - 1 : 1;
			buf_addstr(out, FFFD);
			i += k;
		}
	}
}

static int group_setup(void **state)
{
	(void)state;
	build_prefixes();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free(prefix2);
	free(prefix3);
	return 0;
}

/* ---- label values ------------------------------------------------------------------------ */

static void check_label_value(const char *in, size_t in_len, const char *want, size_t want_len)
{
	struct buf out = BUF_INIT;

	buf_addstr(&out, "x"); /* appends to what is there */
	expo_label_value(&out, in, in_len);
	assert_false(buf_failed(&out));
	if (out.len != want_len + 1 || memcmp(out.buf + 1, want, want_len) != 0) {
		size_t i;

		print_error("input:    ");
		for (i = 0; i < in_len; i++)
			print_error("%02x ", (unsigned char)in[i]);
		print_error("\nexpected: ");
		for (i = 0; i < want_len; i++)
			print_error("%02x ", (unsigned char)want[i]);
		print_error("\ngot:      ");
		for (i = 1; i < out.len; i++)
			print_error("%02x ", (unsigned char)out.buf[i]);
		print_error("\n");
		fail();
	}
	buf_done(&out);
}
#define LV(in, want) check_label_value(in, sizeof(in) - 1, want, sizeof(want) - 1)

static void test_label_value_escapes(void **state)
{
	(void)state;
	LV("", "");
	LV("plain", "plain");
	LV("a\\b", "a\\\\b");
	LV("a\"b", "a\\\"b");
	LV("a\nb", "a\\nb");
	LV("\\\"\n", "\\\\\\\"\\n");
	LV("\\n", "\\\\n"); /* a backslash then n: not a newline */
	/* other control characters are legal in label values and pass through */
	LV("tab\there\r", "tab\there\r");
	LV("\x01\x1f\x7f", "\x01\x1f\x7f");
}

static void test_label_value_nul_becomes_replacement_character(void **state)
{
	(void)state;
	LV("a\0b", "a" FFFD "b");
	LV("\0", FFFD);
	LV("\0\0", FFFD FFFD);
}

static void test_label_value_keeps_well_formed_sequences(void **state)
{
	(void)state;
	LV("\xC2\x80", "\xC2\x80");		    /* U+0080, the first 2-byte */
	LV("caf\xC3\xA9", "caf\xC3\xA9");	    /* é */
	LV("\xDF\xBF", "\xDF\xBF");		    /* U+07FF */
	LV("\xE0\xA0\x80", "\xE0\xA0\x80");	    /* U+0800, the first 3-byte */
	LV("\xE2\x82\xAC", "\xE2\x82\xAC");	    /* € */
	LV("\xED\x9F\xBF", "\xED\x9F\xBF");	    /* U+D7FF, below the surrogates */
	LV("\xEE\x80\x80", "\xEE\x80\x80");	    /* U+E000, above them */
	LV(FFFD, FFFD);				    /* U+FFFD itself */
	LV("\xEF\xBF\xBF", "\xEF\xBF\xBF");	    /* U+FFFF */
	LV("\xF0\x90\x80\x80", "\xF0\x90\x80\x80"); /* U+10000, the first 4-byte */
	LV("\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"); /* 😀 */
	LV("\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF"); /* U+10FFFF, the last */
	LV("\xE6\x97\xA5\xE6\x9C\xAC\"", "\xE6\x97\xA5\xE6\x9C\xAC\\\"");
}

/* Table 3-7: C0, C1 and F5..FF never occur; E0 needs A0..BF next (overlongs), ED needs 80..9F
 * (surrogates), F0 needs 90..BF (overlongs), F4 needs 80..8F (past U+10FFFF). A byte that
 * cannot continue the sequence ends the maximal subpart before it. */
static void test_label_value_ill_formed_sequences(void **state)
{
	(void)state;
	/* overlongs */
	LV("\xC0\x80", FFFD FFFD);
	LV("\xC1\xBF", FFFD FFFD);
	LV("\xE0\x80\x80", FFFD FFFD FFFD);
	LV("\xE0\x9F\xBF", FFFD FFFD FFFD);
	LV("\xF0\x80\x80\x80", FFFD FFFD FFFD FFFD);
	LV("\xF0\x8F\xBF\xBF", FFFD FFFD FFFD FFFD);
	/* surrogates U+D800, U+DFFF */
	LV("\xED\xA0\x80", FFFD FFFD FFFD);
	LV("\xED\xBF\xBF", FFFD FFFD FFFD);
	/* past U+10FFFF */
	LV("\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	LV("\xF5\x80\x80\x80", FFFD FFFD FFFD FFFD);
	LV("\xF7\xBF\xBF\xBF", FFFD FFFD FFFD FFFD);
	LV("\xFF", FFFD);
	LV("\xFE\xFF", FFFD FFFD);
	/* lone continuation bytes */
	LV("\x80", FFFD);
	LV("a\xBF" "b", "a" FFFD "b");
	LV("\x80\x80\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD);
	/* a well-formed sequence followed by an extra continuation byte */
	LV("\xC3\xA9\xA9", "\xC3\xA9" FFFD);
	/* a sequence cut short by another lead byte or ASCII: the cut part is one FFFD */
	LV("\xE2\x82" "A", FFFD "A");
	LV("\xE2" "A", FFFD "A");
	LV("\xF0\x9F\x98" "A", FFFD "A");
	LV("\xF0\x9F\xE2\x82\xAC", FFFD "\xE2\x82\xAC");
	LV("\xC3\xC3\xA9", FFFD "\xC3\xA9");
	/* escapes right after a repair */
	LV("\xE2\x82\"", FFFD "\\\"");
	LV("\xF0\x9F\\", FFFD "\\\\");
	LV("\xC3\n", FFFD "\\n");
	LV("\xC3\0", FFFD FFFD);
}

/* comm is cut at 15 bytes by the kernel, often inside a character: the cut sequence at the end
 * of the input is one maximal subpart. */
static void test_label_value_truncated_at_end_of_input(void **state)
{
	(void)state;
	LV("d\xE2\x82", "d" FFFD);
	LV("d\xE2", "d" FFFD);
	LV("\xC3", FFFD);
	LV("\xF0\x9F\x98", FFFD);
	LV("\xF0\x9F", FFFD);
	LV("\xF0", FFFD);
	LV("\xF4\x8F\xBF", FFFD);
	/* 15 bytes: "kworker-日本" cut in the second character */
	LV("kworker-\xE6\x97\xA5\xE6\x9C", "kworker-\xE6\x97\xA5" FFFD);
	/* a prefix that is already ill-formed at its second byte: two subparts */
	LV("\xE0\x80", FFFD FFFD);
	LV("\xED\xA0", FFFD FFFD);
	LV("\xF4\x90", FFFD FFFD);
}

/* The examples the Unicode Standard gives for "U+FFFD substitution of maximal subparts". */
static void test_label_value_unicode_standard_examples(void **state)
{
	(void)state;
	/* Table 3-8: non-shortest forms */
	LV("\xC0\xAF\xE0\x80\xBF\xF0\x81\x82\x41",
	   FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD "\x41");
	/* Table 3-9: surrogates */
	LV("\xED\xA0\x80\xED\xBF\xBF\xED\xAF\x41",
	   FFFD FFFD FFFD FFFD FFFD FFFD FFFD FFFD "\x41");
	/* Table 3-10: other ill-formed sequences */
	LV("\xF4\x91\x92\x93\xFF\x41\x80\xBF\x42",
	   FFFD FFFD FFFD FFFD FFFD "\x41" FFFD FFFD "\x42");
	/* Table 3-11: truncated sequences */
	LV("\xE1\x80\xE2\xF0\x91\x92\xF1\xBF\x41", FFFD FFFD FFFD FFFD "\x41");
}

/* Every output is valid UTF-8 with only the three escapes; agrees with the reference. */
static void check_against_reference(const unsigned char *in, size_t len)
{
	struct buf got = BUF_INIT, want = BUF_INIT;
	size_t i;

	expo_label_value(&got, (const char *)in, len);
	reference_label_value(&want, (const char *)in, len);
	assert_false(buf_failed(&got));
	if (got.len != want.len || memcmp(got.buf, want.buf, got.len) != 0) {
		print_error("input: ");
		for (i = 0; i < len; i++)
			print_error("%02x ", in[i]);
		print_error("\n");
		fail_msg("differs from the reference repair");
	}
	if (!utf8_valid(got.buf, got.len))
		fail_msg("output is not valid UTF-8");
	for (i = 0; i < got.len; i++) {
		if (got.buf[i] == '\n' || got.buf[i] == '"' || got.buf[i] == '\0')
			fail_msg("unescaped byte %02x in output", (unsigned char)got.buf[i]);
		if (got.buf[i] == '\\') {
			i++;
			if (i == got.len || (got.buf[i] != '\\' && got.buf[i] != '"' && got.buf[i] != 'n'))
				fail_msg("stray backslash in output");
		}
	}
	buf_done(&got);
	buf_done(&want);
}

static const unsigned char edge_bytes[] = {
	0x00, 0x0A, 0x22, 0x41, 0x5C, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
	0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1,
	0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFE, 0xFF,
};
#define NEDGE (sizeof(edge_bytes) / sizeof(edge_bytes[0]))

static void test_label_value_every_one_and_two_byte_input(void **state)
{
	unsigned char in[2];
	unsigned a, b;

	(void)state;
	for (a = 0; a < 256; a++) {
		in[0] = (unsigned char)a;
		check_against_reference(in, 1);
		for (b = 0; b < 256; b++) {
			in[1] = (unsigned char)b;
			check_against_reference(in, 2);
		}
	}
}

/* Three and four bytes: every lead byte that starts a multi-byte sequence, every second byte,
 * and the interesting bytes after that. */
static void test_label_value_three_and_four_byte_inputs(void **state)
{
	unsigned char in[4];
	unsigned a, b;
	size_t c, d;

	(void)state;
	for (a = 0xC0; a < 256; a++) {
		in[0] = (unsigned char)a;
		for (b = 0x70; b < 0xD0; b++) {
			in[1] = (unsigned char)b;
			for (c = 0; c < NEDGE; c++) {
				in[2] = edge_bytes[c];
				check_against_reference(in, 3);
				if (a < 0xF0 || a > 0xF5)
					continue;
				for (d = 0; d < NEDGE; d++) {
					in[3] = edge_bytes[d];
					check_against_reference(in, 4);
				}
			}
		}
	}
}

static void test_label_value_random_inputs(void **state)
{
	unsigned char in[24];
	uint32_t x = 2463534242u;
	int round;

	(void)state;
	for (round = 0; round < 60000; round++) {
		size_t len, i;

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		len = x % sizeof(in);
		for (i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			in[i] = (x & 0x300) ? edge_bytes[x % NEDGE] : (unsigned char)x;
		}
		check_against_reference(in, len);
	}
}

/* ---- labels from cgroup paths: one series per path -------------------------------------- */

static void check_label_bytes(const char *in, size_t in_len, const char *want)
{
	struct buf out = BUF_INIT;

	expo_label_bytes(&out, in, in_len);
	assert_false(buf_failed(&out));
	if (out.len != strlen(want) || memcmp(out.buf, want, out.len) != 0)
		fail_msg("label of %zu bytes: got \"%.*s\", want \"%s\"", in_len, (int)out.len, out.buf, want);
	buf_done(&out);
}
#define LB(in, want) check_label_bytes(in, sizeof(in) - 1, want)

/* Expected strings are as they appear between the quotes of the exposition. */
static void test_label_bytes_keeps_valid_paths_and_escapes_the_rest(void **state)
{
	(void)state;
	/* valid UTF-8: exactly what expo_label_value writes, so cAdvisor's id label matches */
	LB("/system.slice/nginx.service", "/system.slice/nginx.service");
	LB("/system.slice/system-systemd\\x2dfsck.slice", "/system.slice/system-systemd\\\\x2dfsck.slice");
	LB("/a \"q\"\n\xC3\xA9", "/a \\\"q\\\"\\n\xC3\xA9");
	LB("/a" FFFD, "/a" FFFD); /* a real U+FFFD stays one */
	LB("", "");
	/* ill-formed: "non-utf8:", then backslashes doubled and bad bytes as \xHH */
	LB("/a\xFF", "non-utf8:/a\\\\xff");
	LB("/a\xFE", "non-utf8:/a\\\\xfe");
	LB("/a\xE2\x82", "non-utf8:/a\\\\xe2\\\\x82");
	LB("/a\xE2\x82/\xC3\xA9", "non-utf8:/a\\\\xe2\\\\x82/\xC3\xA9");
	LB("/a\\xff\xFF", "non-utf8:/a\\\\\\\\xff\\\\xff");
	LB("/q\"\n\xFF", "non-utf8:/q\\\"\\n\\\\xff");
	LB("/a\0b", "non-utf8:/a\\\\x00b");
	/* a valid name that starts like the escaped form is escaped too */
	LB("non-utf8:/a", "non-utf8:non-utf8:/a");
	LB("non-utf8", "non-utf8");
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The exposition's own escapes undone, then ours: what the label stands for. */
static size_t decode_label(const char *p, size_t n, unsigned char *out)
{
	char v[512];
	size_t i, k = 0, m = 0;
	bool escaped;

	for (i = 0; i < n; i++) {
		if (p[i] == '\\') {
			assert_true(++i < n);
			v[k++] = p[i] == 'n' ? '\n' : p[i];
		} else {
			v[k++] = p[i];
		}
	}
	escaped = k >= 9 && memcmp(v, "non-utf8:", 9) == 0;
	for (i = escaped ? 9 : 0; i < k; i++) {
		if (escaped && v[i] == '\\') {
			assert_true(i + 1 < k);
			if (v[i + 1] == '\\') {
				out[m++] = '\\';
				i++;
				continue;
			}
			assert_true(i + 3 < k && v[i + 1] == 'x' && hex_digit(v[i + 2]) >= 0 &&
				    hex_digit(v[i + 3]) >= 0);
			out[m++] = (unsigned char)(hex_digit(v[i + 2]) << 4 | hex_digit(v[i + 3]));
			i += 3;
		} else {
			out[m++] = (unsigned char)v[i];
		}
	}
	return m;
}

/* Two different byte strings never give one label: every label decodes back to its bytes, and
 * is valid UTF-8 with only the exposition's escapes. */
static void test_label_bytes_is_one_to_one(void **state)
{
	static const unsigned char alphabet[] = { '/', 'a', '\\', 'x', 'f', '"', '\n', 0, 0x80, 0xBF,
						  0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xEF, 0xFF, 'n', ':', '-' };
	unsigned char in[24], back[64];
	uint32_t x = 88675123u;
	int round;

	(void)state;
	for (round = 0; round < 100000; round++) {
		struct buf out = BUF_INIT;
		size_t len, i;

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		len = x % sizeof(in);
		i = 0;
		if (x & 0x10000) { /* sometimes starting like the escaped form */
			memcpy(in, "non-utf8:", 9);
			i = len > 9 ? 9 : len;
		}
		for (; i < len; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			in[i] = alphabet[x % sizeof(alphabet)];
		}
		expo_label_bytes(&out, (const char *)in, len);
		assert_false(buf_failed(&out));
		if (!utf8_valid(out.buf, out.len))
			fail_msg("round %d: label is not valid UTF-8", round);
		for (i = 0; i < out.len; i++) {
			if (out.buf[i] == '"' || out.buf[i] == '\n' || out.buf[i] == '\0')
				fail_msg("round %d: unescaped byte in label", round);
			if (out.buf[i] == '\\' && ++i < out.len && !strchr("\\\"n", out.buf[i]))
				fail_msg("round %d: stray backslash", round);
		}
		if (decode_label(out.buf, out.len, back) != len || memcmp(back, in, len) != 0)
			fail_msg("round %d: the label \"%.*s\" does not decode to its %zu bytes", round,
				 (int)out.len, out.buf, len);
		buf_done(&out);
	}
}

/* ---- HELP text ------------------------------------------------------------------------------ */

static void test_help_text_escapes_per_format(void **state)
{
	static const char help[] = "a\\b \"quoted\"\nnext";
	struct buf b = BUF_INIT;

	(void)state;
	/* text 0.0.4: only backslash and newline */
	expo_help_text(&b, help, EXPO_TEXT);
	assert_string_equal(b.buf, "a\\\\b \"quoted\"\\nnext");
	buf_reset(&b);
	/* OpenMetrics: the double quote too */
	expo_help_text(&b, help, EXPO_OPENMETRICS);
	assert_string_equal(b.buf, "a\\\\b \\\"quoted\\\"\\nnext");
	buf_reset(&b);
	expo_help_text(&b, "", EXPO_OPENMETRICS);
	assert_string_equal(b.buf, "");
	buf_done(&b);
}

static void test_content_types(void **state)
{
	(void)state;
	assert_string_equal(expo_content_type(EXPO_TEXT), "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(expo_content_type(EXPO_OPENMETRICS),
			    "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

/* ---- a strict reader of the exposition -------------------------------------------------- */

struct family {
	char name[128], type[16], unit[16];
	bool have_help, have_type, have_unit;
	size_t nsamples;
};

struct series {
	char *key;   /* name{sorted labels}, the identity of a series */
	char *value; /* as written */
	size_t family;
};

struct expo {
	enum expo_format f;
	struct family fams[256];
	size_t nfams;
	struct series *ser;
	size_t nser, ser_alloc;
	bool eof;
};

static void expo_free(struct expo *e)
{
	size_t i;

	for (i = 0; i < e->nser; i++) {
		free(e->ser[i].key);
		free(e->ser[i].value);
	}
	free(e->ser);
	free(e);
}

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

static size_t name_len(const char *p, const char *end)
{
	size_t n = 0;

	while (p + n < end && name_char(p[n], n == 0))
		n++;
	return n;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* An escaped string up to its closing quote (label value) or the end (HELP): valid UTF-8 and
 * the format's escapes only. Returns the length consumed. */
static size_t check_escaped(const char *p, const char *end, bool quoted, bool om_help, int line)
{
	const char *s = p;

	while (p < end && !(quoted && *p == '"')) {
		if (*p == '\\') {
			if (p + 1 >= end || (p[1] != '\\' && p[1] != 'n' && !((quoted || om_help) && p[1] == '"')))
				fail_msg("line %d: bad escape", line);
			p += 2;
			continue;
		}
		if (om_help && *p == '"')
			fail_msg("line %d: unescaped double quote in OpenMetrics HELP", line);
		p++;
	}
	if (!utf8_valid(s, (size_t)(p - s)))
		fail_msg("line %d: invalid UTF-8", line);
	return (size_t)(p - s);
}

struct label {
	const char *p;
	size_t n; /* name="value" */
	size_t name_n;
};

static int cmp_label(const void *a, const void *b)
{
	const struct label *x = a, *y = b;
	size_t n = x->name_n < y->name_n ? x->name_n : y->name_n;
	int c = memcmp(x->p, y->p, n);

	return c ? c : (x->name_n > y->name_n) - (x->name_n < y->name_n);
}

/* Parses name{labels} at *pp; returns the canonical key (labels sorted by name). */
static char *parse_series(const char **pp, const char *end, int line)
{
	const char *p = *pp;
	struct label labels[16];
	size_t nl = 0, n = name_len(p, end), i;
	struct buf key = BUF_INIT;

	if (n == 0)
		fail_msg("line %d: no metric name", line);
	buf_add(&key, p, n);
	p += n;
	if (p < end && *p == '{') {
		p++;
		while (p < end && *p != '}') {
			struct label *l = &labels[nl];

			if (nl == 16)
				fail_msg("line %d: too many labels", line);
			l->p = p;
			l->name_n = name_len(p, end);
			if (l->name_n == 0 || p[l->name_n] != '=' || p[l->name_n + 1] != '"')
				fail_msg("line %d: bad label", line);
			p += l->name_n + 2;
			p += check_escaped(p, end, true, false, line);
			if (p >= end || *p != '"')
				fail_msg("line %d: unterminated label value", line);
			p++;
			l->n = (size_t)(p - l->p);
			for (i = 0; i < nl; i++)
				if (labels[i].name_n == l->name_n && memcmp(labels[i].p, l->p, l->name_n) == 0)
					fail_msg("line %d: label repeated", line);
			nl++;
			if (p < end && *p == ',')
				p++;
			else if (p >= end || *p != '}')
				fail_msg("line %d: expected , or }", line);
		}
		if (p >= end)
			fail_msg("line %d: unterminated label set", line);
		p++;
		qsort(labels, nl, sizeof(labels[0]), cmp_label);
		buf_addch(&key, '{');
		for (i = 0; i < nl; i++) {
			if (i)
				buf_addch(&key, ',');
			buf_add(&key, labels[i].p, labels[i].n);
		}
		buf_addch(&key, '}');
	}
	*pp = p;
	return buf_detach(&key, NULL);
}

/* A number as we write it: an integer, or a decimal without trailing zeros. */
static bool well_formed_number(const char *v)
{
	const char *dot = strchr(v, '.');
	size_t i;

	if (!*v || (v[0] == '0' && v[1] && v[1] != '.'))
		return false;
	for (i = 0; v[i]; i++)
		if (!(v[i] >= '0' && v[i] <= '9') && v + i != dot)
			return false;
	return !dot || (dot[1] && v[strlen(v) - 1] != '0');
}

static struct family *family_of(struct expo *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->nfams; i++)
		if (strcmp(e->fams[i].name, name) == 0)
			return &e->fams[i];
	return NULL;
}

/* Reads an exposition; fails the test at the first rule it breaks. */
static struct expo *expo_read(const char *text, size_t len, enum expo_format f)
{
	struct expo *e = calloc(1, sizeof(*e));
	const char *p = text, *end = text + len;
	struct family *cur = NULL;
	int line = 0;
	size_t i;

	assert_non_null(e);
	e->f = f;
	if (len && text[len - 1] != '\n')
		fail_msg("exposition does not end in a newline");
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		line++;
		if (e->eof)
			fail_msg("line %d: text after # EOF", line);
		if (eol == p)
			fail_msg("line %d: empty line", line);
		if (*p == '#') {
			const char *q;
			char name[128];
			size_t n;

			if (eol - p == 5 && memcmp(p, "# EOF", 5) == 0) {
				if (f != EXPO_OPENMETRICS)
					fail_msg("line %d: # EOF in the text format", line);
				e->eof = true;
				p = eol + 1;
				continue;
			}
			if (eol - p < 8 || (memcmp(p, "# HELP ", 7) && memcmp(p, "# TYPE ", 7) &&
					     memcmp(p, "# UNIT ", 7)))
				fail_msg("line %d: a comment that is not HELP, TYPE or UNIT", line);
			q = p + 7;
			n = name_len(q, eol);
			if (n == 0 || n >= sizeof(name) || (q[n] != ' ' && q + n != eol))
				fail_msg("line %d: bad metric name", line);
			memcpy(name, q, n);
			name[n] = '\0';
			q += n + (q + n < eol);
			if (p[2] == 'H') {
				if (family_of(e, name))
					fail_msg("line %d: second HELP for %s (or its family came back)", line, name);
				if (e->nfams == 256)
					fail_msg("too many families");
				cur = &e->fams[e->nfams++];
				strcpy(cur->name, name);
				cur->have_help = true;
				check_escaped(q, eol, false, f == EXPO_OPENMETRICS, line);
			} else if (p[2] == 'T') {
				if (!cur || strcmp(cur->name, name) || cur->have_type || cur->nsamples)
					fail_msg("line %d: TYPE %s not right after its HELP", line, name);
				if ((size_t)(eol - q) >= sizeof(cur->type))
					fail_msg("line %d: bad type", line);
				memcpy(cur->type, q, (size_t)(eol - q));
				cur->have_type = true;
				if (strcmp(cur->type, "gauge") && strcmp(cur->type, "counter") &&
				    !(f == EXPO_OPENMETRICS && strcmp(cur->type, "info") == 0))
					fail_msg("line %d: type %s", line, cur->type);
			} else {
				if (f != EXPO_OPENMETRICS)
					fail_msg("line %d: UNIT in the text format", line);
				if (!cur || strcmp(cur->name, name) || !cur->have_type || cur->have_unit || cur->nsamples)
					fail_msg("line %d: UNIT %s not right after its TYPE", line, name);
				if ((size_t)(eol - q) >= sizeof(cur->unit))
					fail_msg("line %d: bad unit", line);
				memcpy(cur->unit, q, (size_t)(eol - q));
				cur->have_unit = true;
			}
		} else {
			const char *q = p;
			char *key = parse_series(&q, eol, line), *value;
			size_t name_n = strcspn(key, "{");
			char sample_name[160];

			if (!cur || !cur->have_type)
				fail_msg("line %d: sample before its family's HELP and TYPE", line);
			if (q >= eol || *q != ' ')
				fail_msg("line %d: expected a space before the value", line);
			value = strndup(q + 1, (size_t)(eol - q - 1));
			if (strchr(value, ' '))
				fail_msg("line %d: a timestamp or trailing text", line);
			if (!well_formed_number(value))
				fail_msg("line %d: value \"%s\"", line, value);
			/* the sample's name follows from the family's name and type */
			snprintf(sample_name, sizeof(sample_name), "%s%s", cur->name,
				 f == EXPO_TEXT ? "" : strcmp(cur->type, "counter") == 0 ? "_total"
						     : strcmp(cur->type, "info") == 0	  ? "_info" : "");
			if (strlen(sample_name) != name_n || memcmp(key, sample_name, name_n) != 0)
				fail_msg("line %d: sample %.*s in family %s", line, (int)name_n, key, cur->name);
			for (i = 0; i < e->nser; i++)
				if (strcmp(e->ser[i].key, key) == 0)
					fail_msg("line %d: series %s twice", line, key);
			if (e->nser == e->ser_alloc) {
				e->ser_alloc = e->ser_alloc ? e->ser_alloc * 2 : 64;
				e->ser = realloc(e->ser, e->ser_alloc * sizeof(*e->ser));
				assert_non_null(e->ser);
			}
			e->ser[e->nser++] = (struct series){ key, value, (size_t)(cur - e->fams) };
			cur->nsamples++;
		}
		p = eol + 1;
	}
	/* names follow the conventions: counters end in _total (text) and nothing else does */
	for (i = 0; i < e->nfams; i++) {
		struct family *fam = &e->fams[i];
		bool counter = strcmp(fam->type, "counter") == 0;

		if (f == EXPO_TEXT && counter != has_suffix(fam->name, "_total"))
			fail_msg("family %s (%s): _total is for counters only", fam->name, fam->type);
		if (f == EXPO_OPENMETRICS && has_suffix(fam->name, "_total"))
			fail_msg("OpenMetrics family %s is named with _total", fam->name);
		if (f == EXPO_OPENMETRICS) {
			const char *unit = has_suffix(fam->name, "_bytes")     ? "bytes"
					   : has_suffix(fam->name, "_seconds") ? "seconds"
									       : NULL;
			if (!unit != !fam->have_unit || (unit && strcmp(unit, fam->unit)))
				fail_msg("family %s: UNIT %s", fam->name, fam->have_unit ? fam->unit : "missing");
		}
	}
	return e;
}

/* The value of a series given as name{labels} in any label order; NULL when absent. */
static const char *value_of(const struct expo *e, const char *series)
{
	const char *p = series;
	char *key = parse_series(&p, series + strlen(series), 0);
	const char *v = NULL;
	size_t i;

	for (i = 0; i < e->nser && !v; i++)
		if (strcmp(e->ser[i].key, key) == 0)
			v = e->ser[i].value;
	free(key);
	return v;
}

static void expect_series(const struct expo *e, const char *series, const char *want)
{
	const char *v = value_of(e, series);

	if (!v)
		fail_msg("no series %s", series);
	if (strcmp(v, want))
		fail_msg("%s is %s, expected %s", series, v, want);
}

static void expect_series_u64(const struct expo *e, const char *series, uint64_t want)
{
	char s[32];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)want);
	expect_series(e, series, s);
}

static void expect_no_series(const struct expo *e, const char *series)
{
	if (value_of(e, series))
		fail_msg("series %s should be absent", series);
}

static bool has_family(struct expo *e, const char *name)
{
	return family_of(e, name) != NULL;
}

static void expect_family_type(struct expo *e, const char *name, const char *type)
{
	struct family *f = family_of(e, name);

	if (!f)
		fail_msg("no family %s", name);
	if (strcmp(f->type, type))
		fail_msg("family %s is a %s, expected %s", name, f->type, type);
}

/* Every series of family `name` whose key contains `needle` (NULL: all). Keys have their labels
 * sorted by name, so pid (after comm) is always preceded by a comma: ",pid=" is not "ppid=". */
static size_t count_series(const struct expo *e, const char *name, const char *needle)
{
	size_t i, n = 0, len = strlen(name);

	for (i = 0; i < e->nser; i++)
		if (strncmp(e->ser[i].key, name, len) == 0 && (e->ser[i].key[len] == '{' || !e->ser[i].key[len]) &&
		    (!needle || strstr(e->ser[i].key, needle)))
			n++;
	return n;
}

/* ---- the snapshot --------------------------------------------------------------------------- */

#define STATUS_ALL                                                                                   \
	(PROC_STATUS_UID | PROC_STATUS_VMSIZE | PROC_STATUS_VMRSS | PROC_STATUS_RSSANON |            \
	 PROC_STATUS_RSSFILE | PROC_STATUS_RSSSHMEM | PROC_STATUS_VMDATA | PROC_STATUS_VMEXE |        \
	 PROC_STATUS_VMSWAP)
#define ROLLUP_NO_KINDS                                                                              \
	(ROLLUP_RSS | ROLLUP_PSS | ROLLUP_PRIVATE_CLEAN | ROLLUP_PRIVATE_DIRTY | ROLLUP_SWAP |         \
	 ROLLUP_SWAP_PSS | ROLLUP_SHARED_DIRTY | ROLLUP_ANON_HUGE_PAGES | ROLLUP_LOCKED)
#define ROLLUP_ALL (ROLLUP_NO_KINDS | ROLLUP_PSS_ANON | ROLLUP_PSS_FILE | ROLLUP_PSS_SHMEM | ROLLUP_PSS_DIRTY)

#define BTIME 1700000000u
#define HZ 100u

/* The weird comm: quote, backslash, newline and a character cut by the kernel's 15 bytes. */
static const char weird_comm[] = "we\"ird\\na\nme\xE2\x82";
#define WEIRD_LABEL "we\\\"ird\\\\na\\nme" FFFD

static struct proc_sample *add(struct snapshot *s, uint32_t pid, uint32_t ppid, const char *comm,
			       size_t comm_len, const char *user, const char *unit, const char *exe)
{
	struct proc_sample *p = snapshot_add_proc(s);

	assert_non_null(p);
	p->pid = pid;
	p->ppid = ppid;
	assert_int_equal(snapshot_str(s, comm, comm_len, &p->comm), 0);
	assert_int_equal(snapshot_str(s, user, strlen(user), &p->user), 0);
	assert_int_equal(snapshot_str(s, unit, strlen(unit), &p->unit), 0);
	assert_int_equal(snapshot_str(s, exe, strlen(exe), &p->exe), 0);
	p->status.have = STATUS_ALL;
	return p;
}

static void set_status(struct proc_sample *p, uint64_t size, uint64_t anon, uint64_t file,
		       uint64_t shmem, uint64_t data, uint64_t exe, uint64_t swap)
{
	p->status.vm_size = size;
	p->status.rss_anon = anon;
	p->status.rss_file = file;
	p->status.rss_shmem = shmem;
	p->status.vm_rss = anon + file + shmem;
	p->status.vm_data = data;
	p->status.vm_exe = exe;
	p->status.vm_swap = swap;
}

static void set_rollup(struct proc_sample *p, uint32_t have, uint64_t pss, uint64_t anon, uint64_t file,
		       uint64_t shmem, uint64_t clean, uint64_t dirty, uint64_t swap_pss)
{
	p->flags |= SAMPLE_ROLLUP;
	p->rollup = (struct smaps_rollup){ .have = have, .rss = p->status.vm_rss, .pss = pss,
					   .pss_anon = anon, .pss_file = file, .pss_shmem = shmem,
					   .private_clean = clean, .private_dirty = dirty,
					   .swap = p->status.vm_swap, .swap_pss = swap_pss };
}

/* The rollup lines after set_rollup()'s: Shared_Dirty, Pss_Dirty, AnonHugePages, Locked. */
static void set_rollup_more(struct proc_sample *p, uint64_t shared_dirty, uint64_t pss_dirty,
			    uint64_t anon_huge_pages, uint64_t locked)
{
	p->rollup.shared_dirty = shared_dirty;
	p->rollup.pss_dirty = pss_dirty;
	p->rollup.anon_huge_pages = anon_huge_pages;
	p->rollup.locked = locked;
}

static void set_quad(struct proc_sample *p, enum quadrant q, uint64_t size, uint64_t rss, uint64_t pss,
		     uint64_t swap)
{
	p->flags |= SAMPLE_QUADRANTS;
	p->quad[q] = (struct quadrant_sums){ .size = size, .rss = rss, .pss = pss, .swap = swap };
}

static void set_quad_dirty(struct proc_sample *p, enum quadrant q, uint64_t dirty, uint64_t pss_dirty)
{
	p->quad[q].dirty = dirty;
	p->quad[q].pss_dirty = pss_dirty;
}

/*
 * The processes of the full-mode snapshot (sizes in bytes):
 *   pid 1   systemd  root   unit ""                   rollup with kinds, quadrants
 *   pid 200 bash     alice  user@1000.service        rollup without kinds or Pss_Dirty (older
 *                                                    kernel), quadrants
 *   pid 300 <weird>  bob    app.service              status only (smaps skipped: too large)
 *   pid 400 bash     alice  user@1000.service        rollup, quadrants; not exported (--top 3)
 * Added out of pid order: snapshot_finish sorts.
 */
static struct snapshot *full_snapshot(enum smaps_mode mode)
{
	struct snapshot *s = snapshot_new(mode);
	struct select_opts sel = { .top = 3 };
	struct proc_sample *p;
	struct mapfiles *acc;

	assert_non_null(s);
	s->btime = BTIME;
	s->hz = HZ;

	p = add(s, 400, 200, "bash", 4, "alice", "user@1000.service", "/usr/bin/bash");
	set_status(p, 9000 * 1024, 100 * 1024, 200 * 1024, 0, 300 * 1024, 1000 * 1024, 0);
	p->start_ticks = 99999;
	if (mode != SMAPS_OFF)
		set_rollup(p, ROLLUP_ALL, 50 * 1024, 40 * 1024, 10 * 1024, 0, 8 * 1024, 32 * 1024, 0);
	if (mode != SMAPS_OFF)
		set_rollup_more(p, 4 * 1024, 34 * 1024, 0, 0);
	if (mode == SMAPS_FULL) {
		set_quad(p, QUADRANT_PRIVATE_ANON, 400 * 1024, 100 * 1024, 40 * 1024, 0);
		set_quad(p, QUADRANT_PRIVATE_FILE, 8000 * 1024, 200 * 1024, 10 * 1024, 0);
		set_quad(p, QUADRANT_SHARED_ANON, 0, 0, 0, 0);
		set_quad(p, QUADRANT_SHARED_FILE, 600 * 1024, 0, 0, 0);
		set_quad_dirty(p, QUADRANT_PRIVATE_ANON, 30 * 1024, 29 * 1024);
		set_quad_dirty(p, QUADRANT_PRIVATE_FILE, 6 * 1024, 5 * 1024);
	}

	p = add(s, 1, 0, "systemd", 7, "root", "", "/usr/lib/systemd/systemd");
	set_status(p, 20000 * 1024, 3000 * 1024, 6000 * 1024, 1000 * 1024, 4000 * 1024, 100 * 1024, 0);
	p->start_ticks = 5; /* 0.05 s after boot */
	if (mode != SMAPS_OFF)
		set_rollup(p, ROLLUP_ALL, 5000 * 1024, 2900 * 1024, 1600 * 1024, 500 * 1024, 700 * 1024,
			   2300 * 1024, 0);
	if (mode != SMAPS_OFF)
		set_rollup_more(p, 1200 * 1024, 2900 * 1024, 2048 * 1024, 512 * 1024);
	if (mode == SMAPS_FULL) {
		set_quad(p, QUADRANT_PRIVATE_ANON, 4000 * 1024, 3000 * 1024, 2900 * 1024, 0);
		set_quad(p, QUADRANT_PRIVATE_FILE, 14000 * 1024, 6000 * 1024, 1600 * 1024, 0);
		set_quad(p, QUADRANT_SHARED_ANON, 1500 * 1024, 1000 * 1024, 500 * 1024, 0);
		set_quad(p, QUADRANT_SHARED_FILE, 500 * 1024, 0, 0, 0);
		/* Shared_Dirty + Private_Dirty = 1200 + 2300 over the four; Pss_Dirty 2900 */
		set_quad_dirty(p, QUADRANT_PRIVATE_ANON, 2500 * 1024, 2450 * 1024);
		set_quad_dirty(p, QUADRANT_PRIVATE_FILE, 200 * 1024, 150 * 1024);
		set_quad_dirty(p, QUADRANT_SHARED_ANON, 600 * 1024, 300 * 1024);
		set_quad_dirty(p, QUADRANT_SHARED_FILE, 200 * 1024, 0);
	}

	p = add(s, 200, 1, "bash", 4, "alice", "user@1000.service", "/usr/bin/bash");
	set_status(p, 10000 * 1024, 2000 * 1024, 3000 * 1024, 0, 2500 * 1024, 1000 * 1024, 64 * 1024);
	p->start_ticks = 12345; /* 123.45 s */
	if (mode != SMAPS_OFF)
		set_rollup(p, ROLLUP_NO_KINDS, 2600 * 1024, 0, 0, 0, 100 * 1024, 1900 * 1024, 16 * 1024);
	if (mode != SMAPS_OFF)
		set_rollup_more(p, 100 * 1024, 0, 0, 0);
	if (mode == SMAPS_FULL) {
		set_quad(p, QUADRANT_PRIVATE_ANON, 2600 * 1024, 2000 * 1024, 1950 * 1024, 64 * 1024);
		set_quad(p, QUADRANT_PRIVATE_FILE, 7000 * 1024, 3000 * 1024, 650 * 1024, 0);
		set_quad(p, QUADRANT_SHARED_ANON, 0, 0, 0, 0);
		set_quad(p, QUADRANT_SHARED_FILE, 400 * 1024, 0, 0, 0);
		set_quad_dirty(p, QUADRANT_PRIVATE_ANON, 1900 * 1024, 0); /* no Pss_Dirty lines */
		set_quad_dirty(p, QUADRANT_PRIVATE_FILE, 100 * 1024, 0);
	}

	p = add(s, 300, 1, weird_comm, sizeof(weird_comm) - 1, "bob", "app.service", "/opt/app/bin/app");
	set_status(p, 50000 * 1024, 30000 * 1024, 1000 * 1024, 0, 40000 * 1024, 2000 * 1024, 128 * 1024);
	p->start_ticks = 0; /* a whole second: written without a '.' */

	if (mode == SMAPS_FULL) {
		struct mapfile_set a = { 0 }, b = { 0 };

		acc = mapfiles_new(1 << 20);
		assert_non_null(acc);
		mapfiles_set_begin(acc);
		assert_int_equal(mapfiles_add(acc, &a, LIBC_DEV, 332835, "/usr/lib/libc.so.6", 18, 1000 * 1024, 3000 * 1024), 0);
		assert_int_equal(mapfiles_add(acc, &a, LIBC_DEV, 247101, "/usr/bin/bash", 13, 600 * 1024, 1200 * 1024), 0);
		assert_int_equal(mapfiles_add(acc, &a, 0, 77, "/tmp/odd\"name\\012", 17, 700 * 1024, 700 * 1024), 0);
		mapfiles_set_begin(acc);
		assert_int_equal(mapfiles_add(acc, &b, LIBC_DEV, 332835, "/usr/lib/libc.so.6", 18, 4096, 4096), 0);
		mapfiles_sum_reset(acc);
		mapfiles_sum_add(acc, &a);
		mapfiles_sum_add(acc, &b);
		assert_int_equal(mapfiles_top(acc, 2, s), 0);
		mapfiles_set_drop(acc, &a);
		mapfiles_set_drop(acc, &b);
		mapfiles_free(acc);
	}

	s->cycles_total = 42;
	s->errors_total[COLLECT_ERR_VANISHED] = 3;
	s->errors_total[COLLECT_ERR_PERMISSION] = 1;
	s->errors_total[COLLECT_ERR_SKIPPED_LARGE] = 2;
	s->duration_ns = 1234567;			 /* 0.001234567 s */
	s->timestamp_ns = 1700000123456000000ull; /* 1700000123.456 s */
	s->kernel_threads = 55;
	s->self = (struct self_sample){ .resident = 12345678, .virtual_size = 98765432, .open_fds = 7,
					.max_fds = 1024, .start_time_cs = 170000000012ull,
					.have_memory = true, .have_fds = true };
	assert_int_equal(snapshot_finish(s, &sel), 0);
	return s;
}

static struct expo *render_read(const struct snapshot *s, enum expo_format f, const struct expo_tail *t,
				struct buf *keep)
{
	struct buf out = BUF_INIT;
	struct expo *e;

	expo_render(s, f, &out);
	if (t)
		expo_render_tail(t, f, &out);
	assert_false(buf_failed(&out));
	e = expo_read(out.buf, out.len, f);
	if (keep) {
		buf_reset(keep);
		buf_add(keep, out.buf, out.len);
	}
	buf_done(&out);
	return e;
}

static const unsigned tail_codes[] = { 200, 404, 503 };
static const uint64_t tail_requests[] = { 10, 2, 0 };
static const struct expo_tail tail = { tail_codes, tail_requests, 3, 1500000 };

/* ---- rendering ---------------------------------------------------------------------------- */

static const char *const per_process_families[] = {
	"procmem_process_virtual_bytes", "procmem_process_resident_bytes", "procmem_process_shared_bytes",
	"procmem_process_data_bytes", "procmem_process_code_bytes", "procmem_process_swap_bytes",
	"procmem_process_pss_bytes", "procmem_process_uss_bytes", "procmem_process_swap_pss_bytes",
	"procmem_process_pss_kind_bytes", "procmem_process_quadrant_virtual_bytes",
	"procmem_process_quadrant_resident_bytes", "procmem_process_quadrant_pss_bytes",
	"procmem_process_quadrant_swap_bytes", "procmem_process_start_time_seconds", "procmem_process_info",
	"procmem_process_dirty_bytes", "procmem_process_anon_huge_pages_bytes",
	"procmem_process_locked_pss_bytes", "procmem_process_quadrant_dirty_bytes",
};
#define NPERPROC (sizeof(per_process_families) / sizeof(per_process_families[0]))

static void test_full_mode_text_values(void **state)
{
	struct snapshot *s = full_snapshot(SMAPS_FULL);
	struct expo *e = render_read(s, EXPO_TEXT, &tail, NULL);

	(void)state;
	/* status figures, per process */
	expect_series_u64(e, "procmem_process_virtual_bytes{pid=\"1\",comm=\"systemd\"}", 20000 * 1024);
	expect_series_u64(e, "procmem_process_resident_bytes{pid=\"1\",comm=\"systemd\"}", (3000 + 6000 + 1000) * 1024);
	expect_series_u64(e, "procmem_process_shared_bytes{pid=\"1\",comm=\"systemd\"}", (6000 + 1000) * 1024);
	expect_series_u64(e, "procmem_process_data_bytes{pid=\"1\",comm=\"systemd\"}", 4000 * 1024);
	expect_series_u64(e, "procmem_process_code_bytes{pid=\"1\",comm=\"systemd\"}", 100 * 1024);
	expect_series_u64(e, "procmem_process_swap_bytes{pid=\"1\",comm=\"systemd\"}", 0);
	expect_series_u64(e, "procmem_process_swap_bytes{pid=\"200\",comm=\"bash\"}", 64 * 1024);
	expect_series_u64(e, "procmem_process_resident_bytes{comm=\"" WEIRD_LABEL "\",pid=\"300\"}", 31000 * 1024);

	/* smaps_rollup figures */
	expect_series_u64(e, "procmem_process_pss_bytes{pid=\"1\",comm=\"systemd\"}", 5000 * 1024);
	expect_series_u64(e, "procmem_process_uss_bytes{pid=\"1\",comm=\"systemd\"}", (700 + 2300) * 1024);
	expect_series_u64(e, "procmem_process_swap_pss_bytes{pid=\"200\",comm=\"bash\"}", 16 * 1024);
	expect_series_u64(e, "procmem_process_pss_kind_bytes{pid=\"1\",comm=\"systemd\",kind=\"anon\"}", 2900 * 1024);
	expect_series_u64(e, "procmem_process_pss_kind_bytes{pid=\"1\",comm=\"systemd\",kind=\"file\"}", 1600 * 1024);
	expect_series_u64(e, "procmem_process_pss_kind_bytes{pid=\"1\",comm=\"systemd\",kind=\"shmem\"}", 500 * 1024);
	expect_series_u64(e, "procmem_process_dirty_bytes{pid=\"1\",comm=\"systemd\"}", (1200 + 2300) * 1024);
	expect_series_u64(e, "procmem_process_dirty_bytes{pid=\"200\",comm=\"bash\"}", (100 + 1900) * 1024);
	expect_series_u64(e, "procmem_process_anon_huge_pages_bytes{pid=\"1\",comm=\"systemd\"}", 2048 * 1024);
	expect_series_u64(e, "procmem_process_anon_huge_pages_bytes{pid=\"200\",comm=\"bash\"}", 0);
	expect_series_u64(e, "procmem_process_locked_pss_bytes{pid=\"1\",comm=\"systemd\"}", 512 * 1024);
	expect_series_u64(e, "procmem_process_locked_pss_bytes{pid=\"200\",comm=\"bash\"}", 0);

	/* quadrants */
	expect_series_u64(e, "procmem_process_quadrant_resident_bytes{pid=\"1\",comm=\"systemd\",sharing=\"private\",backing=\"anonymous\"}",
		   3000 * 1024);
	expect_series_u64(e, "procmem_process_quadrant_virtual_bytes{pid=\"1\",comm=\"systemd\",sharing=\"private\",backing=\"file\"}",
		   14000 * 1024);
	expect_series_u64(e, "procmem_process_quadrant_pss_bytes{pid=\"1\",comm=\"systemd\",sharing=\"shared\",backing=\"anonymous\"}",
		   500 * 1024);
	expect_series_u64(e, "procmem_process_quadrant_virtual_bytes{pid=\"1\",comm=\"systemd\",sharing=\"shared\",backing=\"file\"}",
		   500 * 1024);
	expect_series_u64(e, "procmem_process_quadrant_swap_bytes{pid=\"200\",comm=\"bash\",sharing=\"private\",backing=\"anonymous\"}",
		   64 * 1024);
	assert_int_equal(count_series(e, "procmem_process_quadrant_pss_bytes", NULL), 2 * 4);
	expect_series_u64(e, "procmem_process_quadrant_dirty_bytes{pid=\"1\",comm=\"systemd\",sharing=\"private\",backing=\"anonymous\"}",
		   2500 * 1024);
	expect_series_u64(e, "procmem_process_quadrant_dirty_bytes{pid=\"1\",comm=\"systemd\",sharing=\"private\",backing=\"file\"}",
		   200 * 1024);
	expect_series_u64(e, "procmem_process_quadrant_dirty_bytes{pid=\"1\",comm=\"systemd\",sharing=\"shared\",backing=\"anonymous\"}",
		   600 * 1024);
	expect_series_u64(e, "procmem_process_quadrant_dirty_bytes{pid=\"1\",comm=\"systemd\",sharing=\"shared\",backing=\"file\"}",
		   200 * 1024);
	expect_series_u64(e, "procmem_process_quadrant_dirty_bytes{pid=\"200\",comm=\"bash\",sharing=\"shared\",backing=\"file\"}", 0);
	assert_int_equal(count_series(e, "procmem_process_quadrant_dirty_bytes", NULL), 2 * 4);
	assert_false(has_family(e, "procmem_process_quadrant_pss_dirty_bytes")); /* a machine figure */

	/* start time = btime + ticks / hz, exactly */
	expect_series(e, "procmem_process_start_time_seconds{pid=\"1\",comm=\"systemd\"}", "1700000000.05");
	expect_series(e, "procmem_process_start_time_seconds{pid=\"200\",comm=\"bash\"}", "1700000123.45");
	expect_series(e, "procmem_process_start_time_seconds{pid=\"300\",comm=\"" WEIRD_LABEL "\"}", "1700000000");

	/* info */
	expect_series_u64(e, "procmem_process_info{pid=\"1\",comm=\"systemd\",user=\"root\",unit=\"\",container_id=\"\",runtime=\"\",pod_uid=\"\",exe=\"/usr/lib/systemd/systemd\",ppid=\"0\"}", 1);
	expect_series_u64(e, "procmem_process_info{pid=\"300\",comm=\"" WEIRD_LABEL "\",user=\"bob\",unit=\"app.service\",container_id=\"\",runtime=\"\",pod_uid=\"\",exe=\"/opt/app/bin/app\",ppid=\"1\"}", 1);
	expect_family_type(e, "procmem_process_info", "gauge");

	/* machine totals: over every process read, the unexported pid 400 included */
	expect_series_u64(e, "procmem_pss_bytes", (5000 + 2600 + 50) * 1024);
	expect_series_u64(e, "procmem_uss_bytes", (700 + 2300 + 100 + 1900 + 8 + 32) * 1024);
	expect_series_u64(e, "procmem_swap_bytes", (64 + 128) * 1024);
	expect_series_u64(e, "procmem_quadrant_resident_bytes{sharing=\"private\",backing=\"anonymous\"}",
		   (3000 + 2000 + 100) * 1024);
	expect_series_u64(e, "procmem_quadrant_virtual_bytes{sharing=\"private\",backing=\"file\"}",
		   (14000 + 7000 + 8000) * 1024);
	expect_series_u64(e, "procmem_quadrant_pss_bytes{sharing=\"shared\",backing=\"anonymous\"}", 500 * 1024);
	expect_series_u64(e, "procmem_quadrant_virtual_bytes{sharing=\"shared\",backing=\"file\"}", (500 + 400 + 600) * 1024);
	expect_series_u64(e, "procmem_quadrant_swap_bytes{sharing=\"private\",backing=\"anonymous\"}", 64 * 1024);
	assert_int_equal(count_series(e, "procmem_quadrant_swap_bytes", NULL), 4);
	expect_series_u64(e, "procmem_quadrant_dirty_bytes{sharing=\"private\",backing=\"anonymous\"}",
		   (2500 + 1900 + 30) * 1024);
	expect_series_u64(e, "procmem_quadrant_dirty_bytes{sharing=\"private\",backing=\"file\"}",
		   (200 + 100 + 6) * 1024);
	expect_series_u64(e, "procmem_quadrant_dirty_bytes{sharing=\"shared\",backing=\"anonymous\"}", 600 * 1024);
	expect_series_u64(e, "procmem_quadrant_dirty_bytes{sharing=\"shared\",backing=\"file\"}", 200 * 1024);
	/* pid 200's kernel printed no Pss_Dirty: it adds nothing, the others are known */
	expect_series_u64(e, "procmem_quadrant_pss_dirty_bytes{sharing=\"private\",backing=\"anonymous\"}",
		   (2450 + 29) * 1024);
	expect_series_u64(e, "procmem_quadrant_pss_dirty_bytes{sharing=\"private\",backing=\"file\"}",
		   (150 + 5) * 1024);
	expect_series_u64(e, "procmem_quadrant_pss_dirty_bytes{sharing=\"shared\",backing=\"anonymous\"}", 300 * 1024);
	expect_series_u64(e, "procmem_quadrant_pss_dirty_bytes{sharing=\"shared\",backing=\"file\"}", 0);

	/* aggregates */
	expect_series_u64(e, "procmem_user_processes{user=\"alice\"}", 2);
	expect_series_u64(e, "procmem_user_processes{user=\"root\"}", 1);
	expect_series_u64(e, "procmem_user_processes{user=\"bob\"}", 1);
	expect_series_u64(e, "procmem_user_resident_bytes{user=\"alice\"}", (5000 + 300) * 1024);
	expect_series_u64(e, "procmem_user_pss_bytes{user=\"alice\"}", (2600 + 50) * 1024);
	expect_series_u64(e, "procmem_user_uss_bytes{user=\"alice\"}", (100 + 1900 + 8 + 32) * 1024);
	expect_series_u64(e, "procmem_user_swap_bytes{user=\"bob\"}", 128 * 1024);
	expect_no_series(e, "procmem_user_pss_bytes{user=\"bob\"}"); /* bob's smaps was never read */
	expect_no_series(e, "procmem_user_uss_bytes{user=\"bob\"}");
	expect_series_u64(e, "procmem_unit_processes{unit=\"\"}", 1);
	expect_series_u64(e, "procmem_unit_processes{unit=\"user@1000.service\"}", 2);
	expect_series_u64(e, "procmem_unit_resident_bytes{unit=\"app.service\"}", 31000 * 1024);
	expect_series_u64(e, "procmem_unit_pss_bytes{unit=\"\"}", 5000 * 1024);

	/* top mapped files: the two with most PSS, in full mode */
	expect_series_u64(e, "procmem_mapping_pss_bytes{device=\"254:0\",inode=\"332835\",path=\"/usr/lib/libc.so.6\"}",
			  1000 * 1024 + 4096);
	expect_series_u64(e, "procmem_mapping_resident_bytes{device=\"254:0\",inode=\"332835\",path=\"/usr/lib/libc.so.6\"}",
			  3000 * 1024 + 4096);
	expect_series_u64(e, "procmem_mapping_pss_bytes{device=\"0:0\",inode=\"77\",path=\"/tmp/odd\\\"name\\\\012\"}", 700 * 1024);
	assert_int_equal(count_series(e, "procmem_mapping_pss_bytes", NULL), 2);

	/* the exporter itself */
	expect_series(e, "procmem_collect_duration_seconds", "0.001234567");
	expect_series_u64(e, "procmem_collect_cycles_total", 42);
	expect_series(e, "procmem_last_collect_timestamp_seconds", "1700000123.456");
	expect_series_u64(e, "procmem_processes", 4);
	expect_series_u64(e, "procmem_processes_exported", 3);
	expect_series_u64(e, "procmem_kernel_threads", 55);
	expect_series_u64(e, "procmem_collect_errors_total{reason=\"vanished\"}", 3);
	expect_series_u64(e, "procmem_collect_errors_total{reason=\"permission\"}", 1);
	expect_series_u64(e, "procmem_collect_errors_total{reason=\"parse\"}", 0);
	expect_series_u64(e, "procmem_collect_errors_total{reason=\"skipped_large\"}", 2);
	expect_series_u64(e, "procmem_collect_errors_total{reason=\"skipped_budget\"}", 0);
	expect_series_u64(e, "process_resident_memory_bytes", 12345678);
	expect_series_u64(e, "process_virtual_memory_bytes", 98765432);
	expect_series_u64(e, "process_open_fds", 7);
	expect_series_u64(e, "process_max_fds", 1024);
	expect_series(e, "process_start_time_seconds", "1700000000.12");
	expect_series_u64(e, "procmem_exporter_build_info{version=\"" PROCMEM_VERSION "\"}", 1);
	expect_family_type(e, "procmem_collect_cycles_total", "counter");
	expect_family_type(e, "procmem_collect_errors_total", "counter");
	expect_family_type(e, "procmem_exporter_build_info", "gauge");

	/* the tail */
	expect_series_u64(e, "procmem_http_requests_total{code=\"200\"}", 10);
	expect_series_u64(e, "procmem_http_requests_total{code=\"404\"}", 2);
	expect_series_u64(e, "procmem_http_requests_total{code=\"503\"}", 0);
	expect_series(e, "process_cpu_seconds_total", "1.5");
	expect_family_type(e, "process_cpu_seconds_total", "counter");

	expo_free(e);
	snapshot_free(s);
}

/* Integers everywhere but in the five fractional-second families. */
static void test_integers_have_no_decimal_point(void **state)
{
	static const char *const fractional[] = {
		"procmem_process_start_time_seconds", "procmem_collect_duration_seconds",
		"procmem_last_collect_timestamp_seconds", "process_start_time_seconds", "process_cpu_seconds",
	};
	enum expo_format f;

	(void)state;
	for (f = 0; f < EXPO_FORMAT_COUNT; f++) {
		struct snapshot *s = full_snapshot(SMAPS_FULL);
		struct expo *e = render_read(s, f, &tail, NULL);
		size_t i, k;

		for (i = 0; i < e->nser; i++) {
			const char *fam = e->fams[e->ser[i].family].name;
			bool frac = false;

			for (k = 0; k < sizeof(fractional) / sizeof(fractional[0]); k++)
				frac = frac || strncmp(fam, fractional[k], strlen(fractional[k])) == 0;
			if (!frac && strchr(e->ser[i].value, '.'))
				fail_msg("%s %s: not an integer", e->ser[i].key, e->ser[i].value);
		}
		expo_free(e);
		snapshot_free(s);
	}
}

/* Only the selected processes get per-process series; pid 400 shares its comm with pid 200. */
static void test_per_process_series_only_for_exported_processes(void **state)
{
	enum expo_format f;

	(void)state;
	for (f = 0; f < EXPO_FORMAT_COUNT; f++) {
		struct snapshot *s = full_snapshot(SMAPS_FULL);
		struct expo *e = render_read(s, f, NULL, NULL);
		size_t k;

		for (k = 0; k < NPERPROC; k++) {
			assert_int_equal(count_series(e, per_process_families[k], ",pid=\"400\""), 0);
			/* and every per-process series names an exported pid */
			assert_int_equal(count_series(e, per_process_families[k], NULL),
					 count_series(e, per_process_families[k], ",pid=\"1\"") +
						 count_series(e, per_process_families[k], ",pid=\"200\"") +
						 count_series(e, per_process_families[k], ",pid=\"300\""));
		}
		assert_int_equal(count_series(e, "procmem_process_resident_bytes", "comm=\"bash\""), 1);
		expo_free(e);
		snapshot_free(s);
	}
}

/* --detail-top: the summary families for every exported process, the rest only for the detail
 * tier. Ranks (--top 3): 300 by its resident 30000 KiB (no rollup), 1 by PSS 5000, 200 by PSS
 * 2600; --detail-top 2 leaves 200 with the summary alone. */
static void test_detail_families_only_for_the_detail_tier(void **state)
{
	static const char *const summary[] = {
		"procmem_process_resident_bytes", "procmem_process_shared_bytes", "procmem_process_swap_bytes",
		"procmem_process_pss_bytes", "procmem_process_uss_bytes", "procmem_process_start_time_seconds",
		"procmem_process_info",
	};
	static const char *const detail[] = {
		"procmem_process_virtual_bytes", "procmem_process_data_bytes", "procmem_process_code_bytes",
		"procmem_process_swap_pss_bytes", "procmem_process_pss_kind_bytes",
		"procmem_process_quadrant_virtual_bytes", "procmem_process_quadrant_resident_bytes",
		"procmem_process_quadrant_pss_bytes", "procmem_process_quadrant_swap_bytes",
		"procmem_process_dirty_bytes", "procmem_process_anon_huge_pages_bytes",
		"procmem_process_locked_pss_bytes", "procmem_process_quadrant_dirty_bytes",
	};
	struct select_opts sel = { .top = 3, .detail_top = 2 };
	struct snapshot *s = full_snapshot(SMAPS_FULL);
	struct expo *e;
	size_t k;

	(void)state;
	assert_int_equal(sizeof(summary) / sizeof(summary[0]) + sizeof(detail) / sizeof(detail[0]), NPERPROC);
	assert_int_equal(select_processes(s, &sel), 0);
	assert_int_equal(s->processes_exported, 3);
	e = render_read(s, EXPO_TEXT, NULL, NULL);
	for (k = 0; k < sizeof(summary) / sizeof(summary[0]); k++) {
		assert_int_equal(count_series(e, summary[k], ",pid=\"200\""), 1);
		assert_int_equal(count_series(e, summary[k], ",pid=\"1\""), 1);
	}
	for (k = 0; k < sizeof(detail) / sizeof(detail[0]); k++)
		assert_int_equal(count_series(e, detail[k], ",pid=\"200\""), 0);
	/* 1 and 300 have every family they have figures for */
	assert_int_equal(count_series(e, "procmem_process_pss_kind_bytes", ",pid=\"1\""), 3);
	assert_int_equal(count_series(e, "procmem_process_quadrant_pss_bytes", ",pid=\"1\""), 4);
	assert_int_equal(count_series(e, "procmem_process_quadrant_dirty_bytes", ",pid=\"1\""), 4);
	assert_int_equal(count_series(e, "procmem_process_swap_pss_bytes", ",pid=\"1\""), 1);
	assert_int_equal(count_series(e, "procmem_process_virtual_bytes", ",pid=\"300\""), 1);
	assert_int_equal(count_series(e, "procmem_process_code_bytes", ",pid=\"300\""), 1);
	expo_free(e);
	snapshot_free(s);
}

/* What a process or mode cannot know is absent, not zero. */
static void test_unknown_figures_are_absent_not_zero(void **state)
{
	struct snapshot *s = full_snapshot(SMAPS_FULL);
	struct expo *e = render_read(s, EXPO_TEXT, NULL, NULL);
	static const char *const rollup_families[] = {
		"procmem_process_pss_bytes", "procmem_process_uss_bytes", "procmem_process_swap_pss_bytes",
		"procmem_process_pss_kind_bytes", "procmem_process_quadrant_virtual_bytes",
		"procmem_process_quadrant_resident_bytes", "procmem_process_quadrant_pss_bytes",
		"procmem_process_quadrant_swap_bytes", "procmem_process_dirty_bytes",
		"procmem_process_anon_huge_pages_bytes", "procmem_process_locked_pss_bytes",
		"procmem_process_quadrant_dirty_bytes",
	};
	size_t k;

	(void)state;
	/* pid 300's smaps was not read: no rollup or quadrant series, status series kept */
	for (k = 0; k < sizeof(rollup_families) / sizeof(rollup_families[0]); k++)
		assert_int_equal(count_series(e, rollup_families[k], ",pid=\"300\""), 0);
	assert_int_equal(count_series(e, "procmem_process_resident_bytes", ",pid=\"300\""), 1);
	/* pid 200's kernel has no Pss_Anon/File/Shmem: no kind series for it, the others kept */
	assert_int_equal(count_series(e, "procmem_process_pss_kind_bytes", ",pid=\"200\""), 0);
	assert_int_equal(count_series(e, "procmem_process_pss_bytes", ",pid=\"200\""), 1);
	assert_int_equal(count_series(e, "procmem_process_pss_kind_bytes", ",pid=\"1\""), 3);
	expo_free(e);

	/* a status field the kernel did not print */
	s->procs[0].status.have &= ~(uint32_t)PROC_STATUS_VMSWAP; /* sorted: procs[0] is pid 1 */
	assert_int_equal(s->procs[0].pid, 1);
	e = render_read(s, EXPO_TEXT, NULL, NULL);
	expect_no_series(e, "procmem_process_swap_bytes{pid=\"1\",comm=\"systemd\"}");
	expect_series_u64(e, "procmem_process_swap_bytes{pid=\"200\",comm=\"bash\"}", 64 * 1024);
	expo_free(e);

	/* rollup lines the kernel did not print: dirty needs both its halves */
	s->procs[0].rollup.have &= ~(uint32_t)(ROLLUP_SHARED_DIRTY | ROLLUP_ANON_HUGE_PAGES | ROLLUP_LOCKED);
	e = render_read(s, EXPO_TEXT, NULL, NULL);
	expect_no_series(e, "procmem_process_dirty_bytes{pid=\"1\",comm=\"systemd\"}");
	expect_no_series(e, "procmem_process_anon_huge_pages_bytes{pid=\"1\",comm=\"systemd\"}");
	expect_no_series(e, "procmem_process_locked_pss_bytes{pid=\"1\",comm=\"systemd\"}");
	expect_series_u64(e, "procmem_process_dirty_bytes{pid=\"200\",comm=\"bash\"}", (100 + 1900) * 1024);
	expo_free(e);
	snapshot_free(s);
}

/* A per-process figure that is a sum of two kernel fields (shared, uss, dirty) is left out when
 * the sum does not fit in 64 bits, rather than exported wrapped round to a small number. */
static void test_sums_that_would_wrap_are_absent(void **state)
{
	struct snapshot *s = full_snapshot(SMAPS_FULL);
	struct proc_sample *p = &s->procs[0]; /* sorted: pid 1 */
	struct expo *e;

	(void)state;
	assert_int_equal(p->pid, 1);
	p->rollup.shared_dirty = UINT64_MAX - 1023;
	p->rollup.private_dirty = 2048;
	p->rollup.private_clean = UINT64_MAX - 1023;
	p->status.rss_file = UINT64_MAX - 1023;
	e = render_read(s, EXPO_TEXT, NULL, NULL);
	expect_no_series(e, "procmem_process_dirty_bytes{pid=\"1\",comm=\"systemd\"}");
	expect_no_series(e, "procmem_process_uss_bytes{pid=\"1\",comm=\"systemd\"}");
	expect_no_series(e, "procmem_process_shared_bytes{pid=\"1\",comm=\"systemd\"}");
	expect_series_u64(e, "procmem_process_dirty_bytes{pid=\"200\",comm=\"bash\"}", (100 + 1900) * 1024);
	expo_free(e);

	p->rollup.shared_dirty = UINT64_MAX - 2047; /* the largest whole kB sum: fits */
	p->rollup.private_dirty = 1024;
	e = render_read(s, EXPO_TEXT, NULL, NULL);
	expect_series_u64(e, "procmem_process_dirty_bytes{pid=\"1\",comm=\"systemd\"}", UINT64_MAX - 1023);
	expo_free(e);
	snapshot_free(s);
}

/* One process in full mode; `have` says whether its kernel printed Pss_Dirty (>= 6.0). */
static struct snapshot *one_process_snapshot(bool pss_dirty)
{
	struct snapshot *s = snapshot_new(SMAPS_FULL);
	struct select_opts sel = { 0 };
	struct proc_sample *p;

	assert_non_null(s);
	p = add(s, 7, 1, "old", 3, "root", "", "/bin/old");
	set_status(p, 1000 * 1024, 100 * 1024, 100 * 1024, 0, 10, 10, 0);
	set_rollup(p, ROLLUP_NO_KINDS | (pss_dirty ? ROLLUP_PSS_DIRTY : 0), 100 * 1024, 0, 0, 0,
		   10 * 1024, 20 * 1024, 0);
	set_rollup_more(p, 0, pss_dirty ? 20 * 1024 : 0, 0, 0);
	set_quad(p, QUADRANT_PRIVATE_ANON, 500 * 1024, 100 * 1024, 50 * 1024, 0);
	set_quad_dirty(p, QUADRANT_PRIVATE_ANON, 20 * 1024, pss_dirty ? 20 * 1024 : 0);
	assert_int_equal(snapshot_finish(s, &sel), 0);
	return s;
}

/* Pss_Dirty in no process's rollup (kernels before 6.0): the machine's quadrant pss_dirty is
 * not known, so the family is absent, not zero; dirty by quadrant is still there. */
static void test_quadrant_pss_dirty_absent_before_kernel_6_0(void **state)
{
	struct snapshot *s = one_process_snapshot(false);
	struct expo *e = render_read(s, EXPO_TEXT, NULL, NULL);

	(void)state;
	assert_false(has_family(e, "procmem_quadrant_pss_dirty_bytes"));
	expect_series_u64(e, "procmem_quadrant_dirty_bytes{sharing=\"private\",backing=\"anonymous\"}", 20 * 1024);
	expo_free(e);
	snapshot_free(s);

	s = one_process_snapshot(true);
	e = render_read(s, EXPO_TEXT, NULL, NULL);
	expect_series_u64(e, "procmem_quadrant_pss_dirty_bytes{sharing=\"private\",backing=\"anonymous\"}", 20 * 1024);
	expect_series_u64(e, "procmem_quadrant_pss_dirty_bytes{sharing=\"shared\",backing=\"file\"}", 0);
	expo_free(e);
	snapshot_free(s);
}

static void test_smaps_off_has_no_smaps_families(void **state)
{
	static const char *const absent[] = {
		"procmem_pss_bytes", "procmem_uss_bytes", "procmem_quadrant_virtual_bytes",
		"procmem_quadrant_resident_bytes", "procmem_quadrant_pss_bytes", "procmem_quadrant_swap_bytes",
		"procmem_process_pss_bytes", "procmem_process_uss_bytes", "procmem_process_swap_pss_bytes",
		"procmem_process_pss_kind_bytes", "procmem_process_quadrant_virtual_bytes",
		"procmem_process_quadrant_resident_bytes", "procmem_process_quadrant_pss_bytes",
		"procmem_process_quadrant_swap_bytes", "procmem_user_pss_bytes", "procmem_user_uss_bytes",
		"procmem_unit_pss_bytes", "procmem_unit_uss_bytes", "procmem_mapping_pss_bytes",
		"procmem_mapping_resident_bytes", "procmem_process_dirty_bytes",
		"procmem_process_anon_huge_pages_bytes", "procmem_process_locked_pss_bytes",
		"procmem_process_quadrant_dirty_bytes", "procmem_quadrant_dirty_bytes",
		"procmem_quadrant_pss_dirty_bytes",
	};
	struct snapshot *s = full_snapshot(SMAPS_OFF);
	struct expo *e = render_read(s, EXPO_TEXT, &tail, NULL);
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(absent) / sizeof(absent[0]); k++)
		if (has_family(e, absent[k]))
			fail_msg("smaps off: family %s present", absent[k]);
	/* what status gives is all there */
	expect_series_u64(e, "procmem_swap_bytes", (64 + 128) * 1024);
	expect_series_u64(e, "procmem_process_resident_bytes{pid=\"200\",comm=\"bash\"}", 5000 * 1024);
	expect_series_u64(e, "procmem_user_resident_bytes{user=\"alice\"}", (5000 + 300) * 1024);
	expect_series_u64(e, "procmem_user_processes{user=\"alice\"}", 2);
	expo_free(e);
	snapshot_free(s);
}

static void test_smaps_rollup_has_pss_but_no_quadrants(void **state)
{
	struct snapshot *s = full_snapshot(SMAPS_ROLLUP);
	struct expo *e = render_read(s, EXPO_TEXT, NULL, NULL);

	(void)state;
	expect_series_u64(e, "procmem_pss_bytes", (5000 + 2600 + 50) * 1024);
	expect_series_u64(e, "procmem_process_pss_bytes{pid=\"200\",comm=\"bash\"}", 2600 * 1024);
	expect_series_u64(e, "procmem_process_dirty_bytes{pid=\"1\",comm=\"systemd\"}", (1200 + 2300) * 1024);
	expect_series_u64(e, "procmem_process_anon_huge_pages_bytes{pid=\"1\",comm=\"systemd\"}", 2048 * 1024);
	expect_series_u64(e, "procmem_process_locked_pss_bytes{pid=\"1\",comm=\"systemd\"}", 512 * 1024);
	assert_false(has_family(e, "procmem_quadrant_resident_bytes"));
	assert_false(has_family(e, "procmem_process_quadrant_resident_bytes"));
	assert_false(has_family(e, "procmem_process_quadrant_dirty_bytes"));
	assert_false(has_family(e, "procmem_quadrant_dirty_bytes"));
	assert_false(has_family(e, "procmem_quadrant_pss_dirty_bytes"));
	assert_false(has_family(e, "procmem_mapping_pss_bytes"));
	expo_free(e);
	snapshot_free(s);
}

/* Full mode with nothing read: the machine's quadrants and sums are known to be zero. */
static void test_full_mode_without_processes(void **state)
{
	struct snapshot *s = snapshot_new(SMAPS_FULL);
	struct select_opts sel = { 0 };
	struct expo *e;
	size_t k;

	(void)state;
	assert_int_equal(snapshot_finish(s, &sel), 0);
	e = render_read(s, EXPO_OPENMETRICS, &tail, NULL);
	expect_series_u64(e, "procmem_quadrant_resident_bytes{sharing=\"private\",backing=\"anonymous\"}", 0);
	expect_series_u64(e, "procmem_quadrant_pss_bytes{sharing=\"shared\",backing=\"file\"}", 0);
	expect_series_u64(e, "procmem_pss_bytes", 0);
	expect_series_u64(e, "procmem_processes", 0);
	for (k = 0; k < NPERPROC; k++)
		assert_false(has_family(e, per_process_families[k]));
	assert_false(has_family(e, "procmem_process")); /* the info family's OpenMetrics name */
	assert_false(has_family(e, "procmem_user_processes"));
	assert_true(e->eof);
	expo_free(e);
	snapshot_free(s);
}

static void test_openmetrics_rules(void **state)
{
	struct snapshot *s = full_snapshot(SMAPS_FULL);
	struct buf text = BUF_INIT;
	struct expo *e = render_read(s, EXPO_OPENMETRICS, &tail, &text);
	static const char eof[] = "# EOF\n";

	(void)state;
	/* counters: TYPE without _total, samples with it (the reader checks the pairing) */
	expect_family_type(e, "procmem_collect_cycles", "counter");
	expect_series_u64(e, "procmem_collect_cycles_total", 42);
	expect_family_type(e, "procmem_collect_errors", "counter");
	expect_family_type(e, "procmem_http_requests", "counter");
	expect_family_type(e, "process_cpu_seconds", "counter");
	expect_series(e, "process_cpu_seconds_total", "1.5");
	/* info metrics: the family is named without _info */
	expect_family_type(e, "procmem_process", "info");
	expect_series_u64(e, "procmem_process_info{pid=\"1\",comm=\"systemd\",user=\"root\",unit=\"\",container_id=\"\",runtime=\"\",pod_uid=\"\",exe=\"/usr/lib/systemd/systemd\",ppid=\"0\"}", 1);
	expect_family_type(e, "procmem_exporter_build", "info");
	expect_series_u64(e, "procmem_exporter_build_info{version=\"" PROCMEM_VERSION "\"}", 1);
	/* UNIT lines (checked for every family by the reader) */
	assert_true(family_of(e, "procmem_process_resident_bytes")->have_unit);
	assert_true(family_of(e, "process_cpu_seconds")->have_unit);
	assert_false(family_of(e, "procmem_processes")->have_unit);
	/* the values are the same as in the text format */
	expect_series(e, "procmem_process_start_time_seconds{pid=\"200\",comm=\"bash\"}", "1700000123.45");
	expect_series_u64(e, "procmem_process_resident_bytes{pid=\"300\",comm=\"" WEIRD_LABEL "\"}", 31000 * 1024);
	/* ends with # EOF and nothing after it, once */
	assert_true(e->eof);
	assert_true(text.len >= sizeof(eof) - 1);
	assert_memory_equal(text.buf + text.len - (sizeof(eof) - 1), eof, sizeof(eof) - 1);
	assert_ptr_equal(strstr(text.buf, "# EOF"), text.buf + text.len - (sizeof(eof) - 1));
	expo_free(e);

	/* the body alone has no # EOF: that ends the tail */
	e = render_read(s, EXPO_OPENMETRICS, NULL, &text);
	assert_false(e->eof);
	assert_null(strstr(text.buf, "# EOF"));
	expo_free(e);
	buf_done(&text);
	snapshot_free(s);
}

static void test_text_format_rules(void **state)
{
	struct snapshot *s = full_snapshot(SMAPS_FULL);
	struct buf text = BUF_INIT;
	struct expo *e = render_read(s, EXPO_TEXT, &tail, &text);

	(void)state;
	assert_false(e->eof);
	assert_null(strstr(text.buf, "# EOF"));
	assert_null(strstr(text.buf, "# UNIT"));
	assert_null(strstr(text.buf, " info\n"));
	assert_non_null(strstr(text.buf, "\n# TYPE procmem_collect_cycles_total counter\n"));
	assert_non_null(strstr(text.buf, "\n# TYPE procmem_process_info gauge\n"));
	expo_free(e);
	buf_done(&text);
	snapshot_free(s);
}

/* The tail's exact lines, worked out from its figures. */
static void test_render_tail(void **state)
{
	static const unsigned codes[] = { 200, 404 };
	static const uint64_t requests[] = { 18446744073709551615u, 1 };
	struct expo_tail t = { codes, requests, 2, 1 };
	struct buf out = BUF_INIT;
	struct expo *e;

	(void)state;
	expo_render_tail(&t, EXPO_TEXT, &out);
	e = expo_read(out.buf, out.len, EXPO_TEXT);
	assert_int_equal(e->nfams, 2);
	assert_int_equal(e->nser, 3);
	assert_non_null(strstr(out.buf, "\nprocmem_http_requests_total{code=\"200\"} 18446744073709551615\n"
					"procmem_http_requests_total{code=\"404\"} 1\n"));
	assert_non_null(strstr(out.buf, "\nprocess_cpu_seconds_total 0.000001\n"));
	expo_free(e);

	buf_reset(&out);
	t.cpu_us = 0;
	t.ncodes = 1;
	expo_render_tail(&t, EXPO_OPENMETRICS, &out);
	e = expo_read(out.buf, out.len, EXPO_OPENMETRICS);
	assert_true(e->eof);
	assert_non_null(strstr(out.buf, "# TYPE procmem_http_requests counter\n"));
	assert_non_null(strstr(out.buf, "\nprocmem_http_requests_total{code=\"200\"} 18446744073709551615\n"));
	assert_null(strstr(out.buf, "404"));
	assert_non_null(strstr(out.buf, "# TYPE process_cpu_seconds counter\n# UNIT process_cpu_seconds seconds\n"
					"process_cpu_seconds_total 0\n# EOF\n"));
	expo_free(e);
	buf_done(&out);
}

/* start time = btime + start_ticks / hz, written exactly (no float on the way). */
static void test_start_time_is_exact(void **state)
{
	static const struct {
		uint64_t btime, hz, ticks;
		const char *want;
	} cases[] = {
		{ 1700000000, 100, 1, "1700000000.01" },
		{ 1700000000, 100, 99, "1700000000.99" },
		{ 1700000000, 100, 100, "1700000001" },
		{ 1700000000, 250, 1, "1700000000.004" },
		{ 1700000000, 1000, 123456789, "1700123456.789" },
		{ 0, 100, 0, "0" },
		{ 1, 100, 10, "1.1" },
		{ 1700000000, 100, 864000000, "1708640000" }, /* 100 days of uptime */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct snapshot *s = snapshot_new(SMAPS_OFF);
		struct select_opts sel = { 0 };
		struct proc_sample *p;
		struct expo *e;

		s->btime = cases[i].btime;
		s->hz = cases[i].hz;
		p = add(s, 7, 1, "x", 1, "u", "", "/x");
		p->start_ticks = cases[i].ticks;
		assert_int_equal(snapshot_finish(s, &sel), 0);
		e = render_read(s, EXPO_TEXT, NULL, NULL);
		expect_series(e, "procmem_process_start_time_seconds{pid=\"7\",comm=\"x\"}", cases[i].want);
		expo_free(e);
		snapshot_free(s);
	}
}

/* Two processes with the same comm stay apart by pid; every family appears once (the reader
 * fails on a repeated HELP, an interleaved family or a repeated series). */
static void test_families_unique_and_not_interleaved(void **state)
{
	struct snapshot *s = snapshot_new(SMAPS_FULL);
	struct select_opts sel = { 0 };
	enum expo_format f;
	uint32_t pid;

	(void)state;
	for (pid = 10; pid < 60; pid++) {
		struct proc_sample *p = add(s, pid, 1, "worker", 6, pid % 3 ? "www" : "root",
					    pid % 2 ? "web.service" : "", "/usr/sbin/worker");
		set_status(p, 1000 * 1024, 100 * 1024, 100 * 1024, 0, 10, 10, 0);
		set_rollup(p, ROLLUP_ALL, 100 * 1024, 50 * 1024, 50 * 1024, 0, 10 * 1024, 20 * 1024, 0);
		set_quad(p, QUADRANT_PRIVATE_ANON, 500 * 1024, 100 * 1024, 50 * 1024, 0);
	}
	assert_int_equal(snapshot_finish(s, &sel), 0);
	for (f = 0; f < EXPO_FORMAT_COUNT; f++) {
		struct expo *e = render_read(s, f, &tail, NULL);

		assert_int_equal(count_series(e, "procmem_process_resident_bytes", "comm=\"worker\""), 50);
		expect_series_u64(e, "procmem_user_processes{user=\"root\"}", 16); /* pids 12, 15, ..., 57 */
		expect_series_u64(e, "procmem_unit_processes{unit=\"web.service\"}", 25);
		expo_free(e);
	}
	snapshot_free(s);
}

/* ---- cgroups, containers and pods ---------------------------------------------------------- */

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define POD_UID "0b0b0b0b-1111-2222-3333-444444444444"
#define POD_SLICE "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b0b0b0b_1111_2222_3333_444444444444.slice"

static void set_cgroup(struct snapshot *s, struct proc_sample *p, const char *file, size_t len)
{
	struct cgroup_info info;

	assert_int_equal(proc_cgroup_parse(file, len, NULL, 0, &info), 0);
	assert_int_equal(snapshot_set_cgroup(s, p, &info), 0);
}
#define SET_CGROUP(s, p, lit) set_cgroup((s), (p), lit, sizeof(lit) - 1)

/* A process with PSS `pss` kB, all of it private anonymous except `shared_file` kB; RSS twice the
 * PSS, USS the private part, swap `swap` kB. */
static struct proc_sample *add_in(struct snapshot *s, uint32_t pid, uint64_t pss, uint64_t shared_file,
				  uint64_t swap)
{
	struct proc_sample *p = add(s, pid, 1, "svc", 3, "root", "", "/usr/bin/svc");

	set_status(p, 4 * pss * 1024, 2 * pss * 1024, 0, 0, 0, 0, swap * 1024);
	set_rollup(p, ROLLUP_ALL, pss * 1024, (pss - shared_file) * 1024, shared_file * 1024, 0, 0,
		   (pss - shared_file) * 1024, 0);
	set_quad(p, QUADRANT_PRIVATE_ANON, 2 * pss * 1024, 2 * pss * 1024, (pss - shared_file) * 1024, 0);
	set_quad(p, QUADRANT_PRIVATE_FILE, 0, 0, 0, 0);
	set_quad(p, QUADRANT_SHARED_ANON, 0, 0, 0, 0);
	set_quad(p, QUADRANT_SHARED_FILE, 2 * pss * 1024, 0, shared_file * 1024, 0);
	return p;
}

/*
 *   pid  cgroup                                        container       pod     PSS kB (shared file)
 *   10   /system.slice/docker-A.scope                  A docker        -       100 (40)
 *   11   /system.slice/docker-A.scope/inner            A docker        -       50
 *   20   POD_SLICE/cri-containerd-B.scope              B containerd    POD     300 (100)
 *   21   POD_SLICE/crio-conmon-B.scope                 -               POD     5
 *   30   /a\xFF                                        -               -       7
 *   31   /a\xFE                                        -               -       9
 *   40   (a cgroup file the kernel would not write)    -               -       1
 */
static struct snapshot *cgroup_snapshot(unsigned cgroup_top)
{
	struct snapshot *s = snapshot_new(SMAPS_FULL);
	struct select_opts sel = { .cgroup_top = cgroup_top };
	struct proc_sample *p;

	assert_non_null(s);
	p = add_in(s, 10, 100, 40, 2);
	SET_CGROUP(s, p, "0::/system.slice/docker-" ID_A ".scope\n");
	p = add_in(s, 11, 50, 0, 0);
	SET_CGROUP(s, p, "0::/system.slice/docker-" ID_A ".scope/inner\n");
	p = add_in(s, 20, 300, 100, 0);
	SET_CGROUP(s, p, "0::" POD_SLICE "/cri-containerd-" ID_B ".scope\n");
	p = add_in(s, 21, 5, 0, 0);
	SET_CGROUP(s, p, "0::" POD_SLICE "/crio-conmon-" ID_B ".scope\n");
	p = add_in(s, 30, 7, 0, 0);
	SET_CGROUP(s, p, "0::/a\xFF\n");
	p = add_in(s, 31, 9, 0, 0);
	SET_CGROUP(s, p, "0::/a\xFE\n");
	add_in(s, 40, 1, 0, 0); /* its cgroup stays unknown */
	assert_int_equal(snapshot_finish(s, &sel), 0);
	return s;
}

#define CONTAINER_A "container_id=\"" ID_A "\",runtime=\"docker\",pod_uid=\"\",cgroup=\"/system.slice/docker-" ID_A ".scope\""
#define CONTAINER_B "container_id=\"" ID_B "\",runtime=\"containerd\",pod_uid=\"" POD_UID "\",cgroup=\"" POD_SLICE "/cri-containerd-" ID_B ".scope\""

static void test_cgroup_container_and_pod_sums(void **state)
{
	struct snapshot *s = cgroup_snapshot(0);
	enum expo_format f;

	(void)state;
	for (f = 0; f < EXPO_FORMAT_COUNT; f++) {
		struct expo *e = render_read(s, f, &tail, NULL);

		/* per cgroup: the processes directly in it */
		expect_series_u64(e, "procmem_cgroup_pss_bytes{cgroup=\"/system.slice/docker-" ID_A ".scope\"}", 100 * 1024);
		expect_series_u64(e, "procmem_cgroup_pss_bytes{cgroup=\"/system.slice/docker-" ID_A ".scope/inner\"}", 50 * 1024);
		expect_series_u64(e, "procmem_cgroup_resident_bytes{cgroup=\"/system.slice/docker-" ID_A ".scope\"}", 200 * 1024);
		expect_series_u64(e, "procmem_cgroup_uss_bytes{cgroup=\"/system.slice/docker-" ID_A ".scope\"}", 60 * 1024);
		expect_series_u64(e, "procmem_cgroup_swap_bytes{cgroup=\"/system.slice/docker-" ID_A ".scope\"}", 2 * 1024);
		expect_series_u64(e, "procmem_cgroup_processes{cgroup=\"/system.slice/docker-" ID_A ".scope\"}", 1);
		/* two paths that differ only in bytes that are not UTF-8: two series */
		expect_series_u64(e, "procmem_cgroup_pss_bytes{cgroup=\"non-utf8:/a\\\\xff\"}", 7 * 1024);
		expect_series_u64(e, "procmem_cgroup_pss_bytes{cgroup=\"non-utf8:/a\\\\xfe\"}", 9 * 1024);
		/* and the one whose cgroup could not be read */
		expect_series_u64(e, "procmem_cgroup_processes{cgroup=\"\"}", 1);
		assert_int_equal(count_series(e, "procmem_cgroup_processes", NULL), 7);
		assert_int_equal(count_series(e, "procmem_cgroup_pss_bytes", "cgroup=\"other\""), 0);
		/* per container: its cgroup and below */
		expect_series_u64(e, "procmem_container_pss_bytes{" CONTAINER_A "}", 150 * 1024);
		expect_series_u64(e, "procmem_container_resident_bytes{" CONTAINER_A "}", 300 * 1024);
		expect_series_u64(e, "procmem_container_uss_bytes{" CONTAINER_A "}", 110 * 1024);
		expect_series_u64(e, "procmem_container_swap_bytes{" CONTAINER_A "}", 2 * 1024);
		expect_series_u64(e, "procmem_container_pss_bytes{" CONTAINER_B "}", 300 * 1024);
		expect_series_u64(e, "procmem_container_quadrant_pss_bytes{" CONTAINER_A ",sharing=\"private\",backing=\"anonymous\"}", 110 * 1024);
		expect_series_u64(e, "procmem_container_quadrant_pss_bytes{" CONTAINER_A ",sharing=\"shared\",backing=\"file\"}", 40 * 1024);
		expect_series_u64(e, "procmem_container_quadrant_pss_bytes{" CONTAINER_B ",sharing=\"shared\",backing=\"file\"}", 100 * 1024);
		expect_series_u64(e, "procmem_container_quadrant_pss_bytes{" CONTAINER_B ",sharing=\"shared\",backing=\"anonymous\"}", 0);
		assert_int_equal(count_series(e, "procmem_container_pss_bytes", NULL), 2);
		assert_int_equal(count_series(e, "procmem_container_quadrant_pss_bytes", NULL), 8);
		assert_false(has_family(e, "procmem_container_processes"));
		/* per pod: the container and the monitor */
		expect_series_u64(e, "procmem_pod_pss_bytes{pod_uid=\"" POD_UID "\",cgroup=\"" POD_SLICE "\"}", 305 * 1024);
		expect_series_u64(e, "procmem_pod_uss_bytes{pod_uid=\"" POD_UID "\",cgroup=\"" POD_SLICE "\"}", 205 * 1024);
		assert_int_equal(count_series(e, "procmem_pod_pss_bytes", NULL), 1);
		/* how many of each */
		expect_series_u64(e, "procmem_cgroups", 7);
		expect_series_u64(e, "procmem_containers", 2);
		expect_series_u64(e, "procmem_pods", 1);
		/* each process's own (systemd made the container's scope a unit) */
		expect_series_u64(e, "procmem_process_info{pid=\"20\",comm=\"svc\",user=\"root\",unit=\"cri-containerd-" ID_B ".scope\",container_id=\"" ID_B "\",runtime=\"containerd\",pod_uid=\"" POD_UID "\",exe=\"/usr/bin/svc\",ppid=\"1\"}", 1);
		expect_series_u64(e, "procmem_process_info{pid=\"21\",comm=\"svc\",user=\"root\",unit=\"crio-conmon-" ID_B ".scope\",container_id=\"\",runtime=\"\",pod_uid=\"" POD_UID "\",exe=\"/usr/bin/svc\",ppid=\"1\"}", 1);
		expo_free(e);
	}
	snapshot_free(s);
}

/* --cgroup-top 2: the two of each kind with most PSS, the rest summed under cgroup="other". */
static void test_cgroup_top_sums_the_rest_under_other(void **state)
{
	struct snapshot *s = cgroup_snapshot(2);
	enum expo_format f;

	(void)state;
	for (f = 0; f < EXPO_FORMAT_COUNT; f++) {
		struct expo *e = render_read(s, f, &tail, NULL);

		/* cgroups by PSS: pod container 300, docker-A 100, then 50, 9, 7, 5, 1 */
		assert_int_equal(count_series(e, "procmem_cgroup_pss_bytes", NULL), 3);
		expect_series_u64(e, "procmem_cgroup_pss_bytes{cgroup=\"" POD_SLICE "/cri-containerd-" ID_B ".scope\"}", 300 * 1024);
		expect_series_u64(e, "procmem_cgroup_pss_bytes{cgroup=\"/system.slice/docker-" ID_A ".scope\"}", 100 * 1024);
		expect_series_u64(e, "procmem_cgroup_pss_bytes{cgroup=\"other\"}", (50 + 9 + 7 + 5 + 1) * 1024);
		expect_series_u64(e, "procmem_cgroup_processes{cgroup=\"other\"}", 5);
		expect_series_u64(e, "procmem_cgroup_resident_bytes{cgroup=\"other\"}", 2 * (50 + 9 + 7 + 5 + 1) * 1024);
		/* containers and pods: no more than two, so none summed */
		assert_int_equal(count_series(e, "procmem_container_pss_bytes", NULL), 2);
		assert_int_equal(count_series(e, "procmem_pod_pss_bytes", NULL), 1);
		/* the counts still say how many there are */
		expect_series_u64(e, "procmem_cgroups", 7);
		expo_free(e);
	}
	snapshot_free(s);
	/* --cgroup-top 1: the container past the cut goes to "other", with empty labels */
	s = cgroup_snapshot(1);
	{
		struct expo *e = render_read(s, EXPO_TEXT, &tail, NULL);

		expect_series_u64(e, "procmem_container_pss_bytes{" CONTAINER_B "}", 300 * 1024);
		expect_series_u64(e, "procmem_container_pss_bytes{container_id=\"\",runtime=\"\",pod_uid=\"\",cgroup=\"other\"}", 150 * 1024);
		expect_series_u64(e, "procmem_container_quadrant_pss_bytes{container_id=\"\",runtime=\"\",pod_uid=\"\",cgroup=\"other\",sharing=\"shared\",backing=\"file\"}", 40 * 1024);
		assert_int_equal(count_series(e, "procmem_pod_pss_bytes", NULL), 1);
		expect_series_u64(e, "procmem_containers", 2);
		expo_free(e);
	}
	snapshot_free(s);
}

/* promtool, Prometheus' own checker, finds nothing to say about the text format. */
static void test_promtool_check_metrics(void **state)
{
	struct snapshot *s;
	struct buf out = BUF_INIT;
	FILE *p;
	int status;

	(void)state;
	if (access("/usr/bin/promtool", X_OK) != 0) {
		print_message("promtool not installed (tools/deps.sh test installs it)\n");
		skip();
	}
	s = full_snapshot(SMAPS_FULL);
	expo_render(s, EXPO_TEXT, &out);
	expo_render_tail(&tail, EXPO_TEXT, &out);
	assert_false(buf_failed(&out));
	p = popen("/usr/bin/promtool check metrics 2>&1", "w");
	assert_non_null(p);
	assert_int_equal(fwrite(out.buf, 1, out.len, p), out.len);
	status = pclose(p);
	if (status != 0)
		fail_msg("promtool check metrics failed (status %d); its findings are above", status);
	buf_done(&out);
	snapshot_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_value_escapes),
		cmocka_unit_test(test_label_value_nul_becomes_replacement_character),
		cmocka_unit_test(test_label_value_keeps_well_formed_sequences),
		cmocka_unit_test(test_label_value_ill_formed_sequences),
		cmocka_unit_test(test_label_value_truncated_at_end_of_input),
		cmocka_unit_test(test_label_value_unicode_standard_examples),
		cmocka_unit_test(test_label_value_every_one_and_two_byte_input),
		cmocka_unit_test(test_label_value_three_and_four_byte_inputs),
		cmocka_unit_test(test_label_value_random_inputs),
		cmocka_unit_test(test_label_bytes_keeps_valid_paths_and_escapes_the_rest),
		cmocka_unit_test(test_label_bytes_is_one_to_one),
		cmocka_unit_test(test_help_text_escapes_per_format),
		cmocka_unit_test(test_content_types),
		cmocka_unit_test(test_full_mode_text_values),
		cmocka_unit_test(test_integers_have_no_decimal_point),
		cmocka_unit_test(test_per_process_series_only_for_exported_processes),
		cmocka_unit_test(test_detail_families_only_for_the_detail_tier),
		cmocka_unit_test(test_unknown_figures_are_absent_not_zero),
		cmocka_unit_test(test_quadrant_pss_dirty_absent_before_kernel_6_0),
		cmocka_unit_test(test_sums_that_would_wrap_are_absent),
		cmocka_unit_test(test_smaps_off_has_no_smaps_families),
		cmocka_unit_test(test_smaps_rollup_has_pss_but_no_quadrants),
		cmocka_unit_test(test_full_mode_without_processes),
		cmocka_unit_test(test_openmetrics_rules),
		cmocka_unit_test(test_text_format_rules),
		cmocka_unit_test(test_render_tail),
		cmocka_unit_test(test_start_time_is_exact),
		cmocka_unit_test(test_families_unique_and_not_interleaved),
		cmocka_unit_test(test_cgroup_container_and_pod_sums),
		cmocka_unit_test(test_cgroup_top_sums_the_rest_under_other),
		cmocka_unit_test(test_promtool_check_metrics),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
