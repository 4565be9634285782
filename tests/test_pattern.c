/* test_pattern.c — the --include/--exclude patterns (pattern.h): whole-comm matches on bytes,
 * the bounds at compile and at match time, hostile patterns and hostile comms, and one test for
 * each way a POSIX extended regex that worked before (glibc's regcomp(), in the C locale, as
 * the daemon ran it: "^(PATTERN)$") means something else in PCRE2 or is refused now (README,
 * "Configuration"; man page, --include). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h> /* only for its version, in the {,n} test */

#include "buf.h"
#include "pattern.h"

static struct pattern *compile_ok(const char *source)
{
	struct buf err = BUF_INIT;
	struct pattern *p = NULL;

	if (pattern_compile(source, &p, &err) != 0)
		fail_msg("\"%s\" refused: %s", source, err.buf);
	buf_done(&err);
	return p;
}

/* Expects source refused with a message holding why. */
static void compile_refused(const char *source, const char *why)
{
	struct buf err = BUF_INIT;
	struct pattern *p = NULL;

	if (pattern_compile(source, &p, &err) != -EINVAL)
		fail_msg("\"%s\" compiled", source);
	assert_null(p);
	if (!strstr(err.buf, why) || !strstr(err.buf, "at offset"))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\" or the offset", source, err.buf, why);
	buf_done(&err);
}

static int match(struct pattern *p, const char *comm)
{
	return pattern_match(p, comm, strlen(comm));
}

/* Every comm of yes matches source, no comm of no does. */
static void expect(const char *source, const char *const *yes, const char *const *no)
{
	struct pattern *p = compile_ok(source);

	for (; yes && *yes; yes++)
		if (match(p, *yes) != 1)
			fail_msg("\"%s\" does not match \"%s\"", source, *yes);
	for (; no && *no; no++)
		if (match(p, *no) != 0)
			fail_msg("\"%s\" matches \"%s\"", source, *no);
	assert_int_equal(pattern_gave_up(p), 0);
	pattern_free(p);
}
#define YES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NO(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- what did not change ------------------------------------------------------------------ */

static void test_whole_comm_is_matched(void **state)
{
	(void)state;
	expect("nginx", YES("nginx"), NO("xnginx", "nginxd", "ngin", "", "nginx\n"));
	expect("ngin.*", YES("ngin", "nginx", "nginx: worker"), NO("xnginx"));
	/* the anchors are options, not a wrapping group: an alternation covers the whole comm */
	expect("nginx|php-fpm.*", YES("nginx", "php-fpm7.4"), NO("nginxphp-fpm", "xnginx", "nginx|php"));
	expect("a|ab", YES("a", "ab"), NO("abb"));
	expect("(a|ab)(c|bcd)", YES("abcd", "ac", "abc"), NO("abcdx"));
	expect("^a$", YES("a"), NO("a\n", "\na"));
	expect("", YES(""), NO("a"));
	expect("()", YES(""), NO("a"));
	expect("a|", YES("a", ""), NO("b"));
}

/* What POSIX bracket expressions and escapes of punctuation did, PCRE2 does the same. */
static void test_posix_syntax_that_means_the_same(void **state)
{
	(void)state;
	expect("[[:alpha:]]+", YES("abc", "Z"), NO("a1", ""));
	expect("[[:digit:][:space:]]*", YES("1 2\t3"), NO("x"));
	expect("kworker/[0-9]+:[0-9]+H?", YES("kworker/0:1", "kworker/12:3H"), NO("kworker/u8:0"));
	expect("[]a]", YES("]", "a"), NO("b"));
	expect("[^]a]", YES("b"), NO("]", "a"));
	expect("[a-]", YES("a", "-"), NO("b"));
	expect("a\\.b\\(\\)\\[\\*\\+\\?\\{\\|\\\\", YES("a.b()[*+?{|\\"), NO("axb()[*+?{|\\"));
	expect("\\w+\\s\\W\\S", YES("ab_1 -x"), NO("ab_1 -", "ab-1 -x"));
	expect("a\\bb|\\Bx", NULL, NO("ab", "x"));
	expect("x{2}y{1,2}z{0,}", YES("xxy", "xxyyzzz"), NO("xy", "xxyyy"));
	expect("(a|b)*c", YES("c", "ababc"), NO("abab"));
}

/* ---- patterns that worked before and mean something else now ------------------------------- */

/* 1. A backslash before a letter: glibc took "\d", "\t", "\n", "\y" (all but its \w \W \s \S
 * \b \B) for the letter itself; PCRE2 gives most of them a meaning and refuses the rest. */
static void test_backslash_letter_is_an_escape_now(void **state)
{
	(void)state;
	expect("\\d+", YES("1", "42"), NO("d", "dd"));
	expect("a\\tb", YES("a\tb"), NO("atb"));
	expect("a\\nb", YES("a\nb"), NO("anb"));
	expect("\\Aa\\z", YES("a"), NO("Aaz"));
	compile_refused("\\y", "unrecognized character follows \\");
	compile_refused("a\\k", "\\k is not followed by");
	/* the fix: the letter without its backslash */
	expect("y", YES("y"), NULL);
}

/* 2. glibc's word and buffer anchors \< \> \` \' are plain characters in PCRE2. The whole comm
 * is matched anyway; \b is PCRE2's word boundary. */
static void test_gnu_word_anchors_are_characters_now(void **state)
{
	(void)state;
	expect("\\<nginx\\>", YES("<nginx>"), NO("nginx"));
	expect("\\`a\\'", YES("`a'"), NO("a"));
	expect("\\bnginx\\b", YES("nginx"), NULL);
}

/* 3. A backslash in a bracket expression: a backslash to POSIX, an escape to PCRE2. */
static void test_backslash_in_brackets_is_an_escape_now(void **state)
{
	(void)state;
	expect("[\\d]", YES("1"), NO("\\", "d"));
	compile_refused("[a\\]", "missing terminating ]");
	/* the fix: a doubled backslash for a backslash */
	expect("[a\\\\]", YES("a", "\\"), NO("]"));
	expect("[\\\\d]", YES("\\", "d"), NO("1"));
}

/* 4. "x{,3}": glibc's zero to three; text to PCRE2 before 10.43, zero to three again from it.
 * "x{0,3}" means the same to both. */
static void test_count_without_a_minimum(void **state)
{
	(void)state;
	if (PCRE2_MAJOR == 10 && PCRE2_MINOR < 43)
		expect("x{,3}", YES("x{,3}"), NO("xx", ""));
	else
		expect("x{,3}", YES("xx", ""), NO("x{,3}"));
	expect("x{0,3}", YES("", "xxx"), NO("xxxx", "x{,3}"));
}

/* 5. Collating elements and equivalence classes are refused: write the character. */
static void test_collating_elements_are_refused(void **state)
{
	(void)state;
	compile_refused("[[.a.]]", "POSIX collating elements are not supported");
	compile_refused("[[=a=]]", "POSIX collating elements are not supported");
	compile_refused("[[.hyphen.]]", "POSIX collating elements are not supported");
	expect("[a]", YES("a"), NULL);
}

/* What the old shape checker (or regcomp()) refused and PCRE2 takes, with its own meaning. */
static void test_patterns_refused_before_and_taken_now(void **state)
{
	(void)state;
	expect("a{", YES("a{"), NULL);       /* a '{' that starts no count is a character */
	expect("a{1", YES("a{1"), NULL);
	expect("a*?", YES("", "aaa"), NULL); /* lazy: the same comms, the whole comm decides */
	expect("a++", YES("a", "aaa"), NO(""));
	expect("a++a", NULL, NO("aaa"));     /* possessive: gives nothing back */
	expect("(a*)+b", YES("b", "aab"), NO("aa"));
	expect("(a|)*b", YES("b", "aab"), NO("a"));
	expect("(a)\\1", YES("aa"), NO("ab")); /* back-references count the pattern's own groups */
	expect("(?i)NGINX", YES("nginx", "NgInX"), NULL);
	expect("\\Q.*\\E", YES(".*"), NO("ab"));
	expect("(?!kworker).*", YES("nginx"), NO("kworker/0:1"));
	expect("a{2001}", NULL, NO("a"));
}

/* ---- hostile patterns -------------------------------------------------------------------- */

/* n levels of "(" and ")" around "a", into s */
static void nested(char *s, size_t n)
{
	memset(s, '(', n);
	s[n] = 'a';
	memset(s + n + 1, ')', n);
	s[2 * n + 1] = '\0';
}

static void test_hostile_patterns_are_refused_at_once(void **state)
{
	char big[PATTERN_MAX_LENGTH + 2];
	char deep[2 * PATTERN_MAX_NESTING + 8];

	(void)state;
	/* glibc's regcomp() took over 30 s and 4 GB on it */
	compile_refused("((a{1000}){1000}){30}", "regular expression is too large");
	compile_refused("(((a{100}){100}){100}){100}", "regular expression is too large");
	compile_refused("a{65536}", "number too big in {} quantifier");
	compile_refused("foo)|(.*", "unmatched closing parenthesis");
	compile_refused("(unclosed", "missing closing parenthesis");
	compile_refused("a{2,1}", "numbers out of order in {} quantifier");
	compile_refused("*a", "quantifier does not follow a repeatable item");
	compile_refused("a**", "quantifier does not follow a repeatable item");
	compile_refused("x\\", "\\ at end of pattern");
	/* no switching to UTF or Unicode properties: a comm stays bytes */
	compile_refused("(*UTF)a", "using UTF is disabled by the application");
	compile_refused("(*UCP)a", "using UCP is disabled by the application");
	/* one byte over the length limit */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	compile_refused(big, "longer than the limit");
	big[sizeof(big) - 2] = '\0';
	pattern_free(compile_ok(big));
	/* one level over the nesting limit */
	nested(deep, PATTERN_MAX_NESTING + 1);
	compile_refused(deep, "parentheses are too deeply nested");
	nested(deep, PATTERN_MAX_NESTING);
	pattern_free(compile_ok(deep));
	pattern_free(NULL);
}

/* A match that would backtrack for seconds gives up after PATTERN_MATCH_LIMIT steps (about a
 * millisecond), every time, and says so; the pattern cannot raise its own limits. */
static void test_matches_that_reach_a_limit_give_up(void **state)
{
	static const char *const slow[] = {
		"(a|a|a|a)*[bc]",
		"((a|a)|(a|a))*[bc]",
		"(*LIMIT_MATCH=4000000000)(a|a|a|a|a|a|a|a)*[bc]",
	};
	struct buf text = BUF_INIT;
	struct pattern *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(slow) / sizeof(slow[0]); i++) {
		p = compile_ok(slow[i]);
		assert_int_equal(match(p, "aaaaaaaaaaaaaad"), -E2BIG);
		assert_int_equal(match(p, "aaaaaaaaaaaaaad"), -E2BIG);
		assert_int_equal(pattern_gave_up(p), 2);
		/* other comms are still matched */
		assert_int_equal(match(p, "ab"), 1);
		assert_int_equal(match(p, "x"), 0);
		assert_int_equal(pattern_gave_up(p), 2);
		pattern_free(p);
	}
	/* 4,000 capture groups: every backtracking frame holds 4,000 pairs; the heap limit stops
	 * it before it takes 256 MB */
	for (i = 0; i < 4000; i++)
		buf_addstr(&text, "()");
	p = compile_ok(text.buf);
	assert_int_equal(match(p, ""), -E2BIG);
	assert_int_equal(pattern_gave_up(p), 1);
	pattern_free(p);
	buf_done(&text);
}

/* A long list of names takes about a step per name: far from the limit. */
static void test_a_long_list_of_names_is_within_the_limits(void **state)
{
	struct buf text = BUF_INIT;
	struct pattern *p;
	char name[32];
	int i;

	(void)state;
	for (i = 0; i < 700; i++)
		buf_addf(&text, "%sname%d", i ? "|" : "", i);
	assert_true(text.len <= PATTERN_MAX_LENGTH);
	p = compile_ok(text.buf);
	for (i = 0; i < 700; i += 7) {
		snprintf(name, sizeof(name), "name%d", i);
		assert_int_equal(match(p, name), 1);
	}
	assert_int_equal(match(p, "name700"), 0);
	assert_int_equal(match(p, "name"), 0);
	assert_int_equal(pattern_gave_up(p), 0);
	pattern_free(p);
	buf_done(&text);
}

/* ---- hostile comms ----------------------------------------------------------------------- */

/* A comm is up to 15 bytes of anything but NUL: invalid UTF-8, a sequence cut in two, control
 * characters, a newline. Each is matched as bytes, without an error. */
static void test_hostile_comms_are_bytes(void **state)
{
	static const char *const comms[] = {
		"\xff\xfe\xfd", "caf\xc3", "\xc3\xa4", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\nb", "x) (y",
		"\"\\\n\r\t\x01\x7f", "\xe2\x82", "-----------15--", "",
	};
	static const char *const any[] = { ".*", "(.|\\n)*", "[^a]*|.*", "(?s).*", "(?m)^.*$" };
	struct pattern *p;
	size_t i, k;

	(void)state;
	for (k = 0; k < sizeof(any) / sizeof(any[0]); k++) {
		p = compile_ok(any[k]);
		for (i = 0; i < sizeof(comms) / sizeof(comms[0]); i++)
			if (match(p, comms[i]) != 1)
				fail_msg("\"%s\" does not match comm %zu", any[k], i);
		pattern_free(p);
	}
	/* '.' is one byte, whatever the byte; a class of high bytes is bytes too */
	expect("caf.", YES("caf\xc3"), NO("caf\xc3\xa9"));
	expect("caf..", YES("caf\xc3\xa9"), NO("caf\xc3"));
	expect("[\\x80-\\xff]+", YES("\xff\xfe", "\xc3\xa4"), NO("a\xff"));
	expect("\xc3\xa4", YES("\xc3\xa4"), NO("\xc3"));
	expect("a.b", YES("a\nb", "a\rb"), NO("ab"));
	expect("x\\) \\(y", YES("x) (y"), NULL);
	/* the length is authoritative: a NUL byte is a byte like any other */
	p = compile_ok("a.b");
	assert_int_equal(pattern_match(p, "a\0b", 3), 1);
	assert_int_equal(pattern_match(p, "a\0bc", 3), 1);
	assert_int_equal(pattern_match(p, "a\0bc", 4), 0);
	assert_int_equal(pattern_match(p, NULL, 0), 0);
	pattern_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_comm_is_matched),
		cmocka_unit_test(test_posix_syntax_that_means_the_same),
		cmocka_unit_test(test_backslash_letter_is_an_escape_now),
		cmocka_unit_test(test_gnu_word_anchors_are_characters_now),
		cmocka_unit_test(test_backslash_in_brackets_is_an_escape_now),
		cmocka_unit_test(test_count_without_a_minimum),
		cmocka_unit_test(test_collating_elements_are_refused),
		cmocka_unit_test(test_patterns_refused_before_and_taken_now),
		cmocka_unit_test(test_hostile_patterns_are_refused_at_once),
		cmocka_unit_test(test_matches_that_reach_a_limit_give_up),
		cmocka_unit_test(test_a_long_list_of_names_is_within_the_limits),
		cmocka_unit_test(test_hostile_comms_are_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
