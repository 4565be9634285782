/* test_auth.c — basic auth's pure parts: the users file parser (comments, blank lines, CRLF,
 * what it refuses and on which line, that no hash is echoed), the Authorization header decoder
 * (scheme, whitespace, strict padded base64 and its edge cases, the first ':' splits), and
 * password checks (right, wrong, unknown user, the cache, concurrent checks on the verifier).
 *
 * The bcrypt hashes are made at test time by libcrypt itself (crypt_gensalt_rn and crypt_rn
 * with a fresh salt, cost 4 to keep it cheap), not by the module under test; the fixed hash
 * strings below only need to be well-formed, never to verify. */
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "buf.h"

/* well-formed bcrypt strings (60 characters, cost 04 and 12) that match no password used here */
#define H04 "$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"
#define H12 "$2y$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"

/* bcrypt of password with a fresh salt, by libcrypt */
static void make_hash(const char *password, char out[128])
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;
	const char *h;

	assert_non_null(crypt_gensalt_rn("$2b$", 4, NULL, 0, setting, (int)sizeof(setting)));
	memset(&cd, 0, sizeof(cd));
	h = crypt_rn(password, setting, &cd, (int)sizeof(cd));
	assert_non_null(h);
	assert_int_equal(strlen(h), 60);
	snprintf(out, 128, "%s", h);
}

/* Parses text; returns the result, with *line and the error message. */
static int parse(const char *text, struct auth **a, unsigned *line, struct buf *err)
{
	buf_reset(err);
	*line = 0;
	*a = NULL;
	return auth_parse(text, strlen(text), a, line, err);
}

static void test_weak_users_are_named_with_cost_and_line(void **state)
{
	struct buf err = BUF_INIT, out = BUF_INIT;
	struct auth *a;
	unsigned line;

	(void)state;
	/* cost 04 on lines 2 and 4, cost 12 on line 3 */
	assert_int_equal(parse("# users\nprom:" H04 "\nops:" H12 "\nold:$2y$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n",
			       &a, &line, &err), 0);
	assert_int_equal(auth_weak_users(a, 10, &out), 2);
	assert_string_equal(out.buf, "\"prom\" (cost 4, line 2), \"old\" (cost 4, line 4)");
	buf_reset(&out);
	assert_int_equal(auth_weak_users(a, 4, &out), 0); /* the bound is "under" */
	assert_string_equal(out.buf, "");
	assert_int_equal(auth_weak_users(a, 13, &out), 3);
	auth_free(a);
	buf_done(&out);
	buf_done(&err);
}

static void test_users_file_takes_comments_blank_lines_crlf_and_trailing_space(void **state)
{
	struct buf err = BUF_INIT;
	struct auth *a;
	unsigned line;

	(void)state;
	assert_int_equal(parse("# who may scrape\n\n  \nprom:" H04 "\r\n\t# indented comment\nops:" H12 "  \t\n",
			       &a, &line, &err), 0);
	assert_int_equal(auth_user_count(a), 2);
	auth_free(a);
	/* no newline at the end */
	assert_int_equal(parse("prom:" H04, &a, &line, &err), 0);
	assert_int_equal(auth_user_count(a), 1);
	auth_free(a);
	/* $2a$ too */
	assert_int_equal(parse("prom:$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n", &a, &line, &err), 0);
	auth_free(a);
	buf_done(&err);
}

static void expect_refused_n(const char *text, size_t len, unsigned want_line, const char *reason)
{
	struct buf err = BUF_INIT;
	struct auth *a = NULL;
	unsigned line = 0;

	assert_int_equal(auth_parse(text, len, &a, &line, &err), -EINVAL);
	assert_null(a);
	assert_int_equal(line, want_line);
	if (!strstr(err.buf, reason))
		fail_msg("for %s: \"%s\" does not say \"%s\"", text, err.buf, reason);
	/* no hash or password, nor any part of one, in the message */
	assert_null(strstr(err.buf, "abcdefghij"));
	assert_null(strstr(err.buf, "saltsalt"));
	assert_null(strstr(err.buf, "secret"));
	buf_done(&err);
}

static void expect_refused(const char *text, unsigned want_line, const char *reason)
{
	expect_refused_n(text, strlen(text), want_line, reason);
}

static void test_users_file_refuses_bad_lines_with_line_and_reason(void **state)
{
	(void)state;
	expect_refused("# c\nprom\n", 2, "expected user:bcrypt-hash");
	expect_refused(":" H04 "\n", 1, "empty user name");
	expect_refused(" prom:" H04 "\n", 1, "whitespace");
	expect_refused("prom :" H04 "\n", 1, "whitespace");
	expect_refused("pr\x01om:" H04 "\n", 1, "control character");
	expect_refused("prom:secret\n", 1, "not bcrypt");
	expect_refused("prom:\n", 1, "not bcrypt");
	expect_refused("prom:$6$saltsalt$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123\n", 1, "not bcrypt");
	expect_refused("prom:$2x$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n", 1, "not bcrypt");
	expect_refused("prom:$2b$03$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n", 1, "not bcrypt");
	expect_refused("prom:$2b$32$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n", 1, "not bcrypt");
	expect_refused("prom:" H04 "x\n", 1, "not bcrypt");	   /* 61 characters */
	expect_refused("prom:$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ0123\n", 1, "not bcrypt"); /* 59 */
	expect_refused("prom:$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ0123!\n", 1, "not bcrypt");
	expect_refused("prom:" H04 "\nops:" H04 "\nprom:" H12 "\n", 3, "appears twice (first on line 1)");
	expect_refused_n("prom:" H04 "\n\0ops:" H04 "\n", 5 + 60 + 1 + 1 + 4 + 60 + 1, 2, "NUL");
	expect_refused("", 0, "no users");
	expect_refused("# nobody\n\n", 0, "no users");
}

/* auth_load() returns the reason as a negative errno: a bad file is -EINVAL, a file it cannot
 * read is the read's own error (not folded into -EINVAL, nor is -ENOMEM) */
static void test_load_returns_the_errno_of_what_failed(void **state)
{
	char dir[] = "/tmp/test_auth.XXXXXX", path[64];
	struct buf err = BUF_INIT;
	struct auth *a = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/users", dir);
	assert_int_equal(auth_load(path, &a, &err), -ENOENT);
	assert_non_null(strstr(err.buf, path));
	assert_null(a);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("prom:secret\n", f);
	fclose(f);
	buf_reset(&err);
	assert_int_equal(auth_load(path, &a, &err), -EINVAL);
	assert_non_null(strstr(err.buf, ":1: "));
	assert_null(a);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("prom:" H04 "\n", f);
	fclose(f);
	buf_reset(&err);
	assert_int_equal(auth_load(path, &a, &err), 0);
	assert_int_equal(auth_user_count(a), 1);
	auth_free(a);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	buf_done(&err);
}

static void test_users_file_names_are_compared_exactly(void **state)
{
	struct buf err = BUF_INIT;
	struct auth *a, *b;
	unsigned line;

	(void)state;
	/* case differs: two users */
	assert_int_equal(parse("prom:" H04 "\nProm:" H04 "\n", &a, &line, &err), 0);
	assert_int_equal(auth_user_count(a), 2);
	/* the same users and hashes in another order are the same file; another hash is not */
	assert_int_equal(parse("Prom:" H04 "\nprom:" H04 "\n", &b, &line, &err), 0);
	assert_true(auth_same(a, b));
	auth_free(b);
	assert_int_equal(parse("Prom:" H04 "\nprom:" H12 "\n", &b, &line, &err), 0);
	assert_false(auth_same(a, b));
	assert_false(auth_same(a, NULL));
	assert_true(auth_same(NULL, NULL));
	auth_free(b);
	auth_free(a);
	buf_done(&err);
}

/* Decodes header; on success checks the credentials against want (NUL-free). */
static void expect_decoded(const char *header, const char *want, size_t want_colon)
{
	char *creds = NULL;
	size_t len = 99, colon = 99;

	assert_int_equal(auth_decode_basic(header, &creds, &len, &colon), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(creds, want, len);
	assert_int_equal(creds[len], '\0');
	assert_int_equal(colon, want_colon);
	auth_free_credentials(creds, len);
}

static void expect_malformed(const char *header)
{
	char *creds = NULL;
	size_t len = 0, colon = 0;

	if (auth_decode_basic(header, &creds, &len, &colon) != -EINVAL)
		fail_msg("\"%s\" was accepted", header);
	assert_null(creds);
}

static void test_header_decodes_basic_credentials(void **state)
{
	(void)state;
	/* RFC 7617's example: Aladdin:open sesame */
	expect_decoded("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Aladdin:open sesame", 7);
	/* the scheme is case-insensitive; spaces and tabs around the token are dropped */
	expect_decoded("bAsIc QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Aladdin:open sesame", 7);
	expect_decoded("Basic \t  QWxhZGRpbjpvcGVuIHNlc2FtZQ==  \t", "Aladdin:open sesame", 7);
	/* the first ':' splits: the password may hold more */
	expect_decoded("Basic dTpwOmE6c3M=", "u:p:a:ss", 1); /* u:p:a:ss */
	/* empty user and empty password are well-formed (and then simply wrong) */
	expect_decoded("Basic Og==", ":", 0);	      /* ":" */
	expect_decoded("Basic OnB3", ":pw", 0);     /* ":pw", no padding needed */
	expect_decoded("Basic dTo=", "u:", 1);      /* "u:", one '=' */
	/* '/' and '+' are base64 digits */
	expect_decoded("Basic Pz8/Pzo+Pj4+", "????:>>>>", 4);
	/* UTF-8 is passed through as bytes */
	expect_decoded("Basic w6k6w6k=", "\xc3\xa9:\xc3\xa9", 2);
}

static void test_header_refuses_malformed_credentials(void **state)
{
	(void)state;
	expect_malformed("");
	expect_malformed("Basic");
	expect_malformed("Basic ");
	expect_malformed("Basic    ");
	expect_malformed("BasicQWxhZGRpbjpvcGVuIHNlc2FtZQ==");	     /* no space after the scheme */
	expect_malformed("Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==");     /* another scheme */
	expect_malformed("Digest username=\"Aladdin\"");
	expect_malformed("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ");	     /* padding missing */
	expect_malformed("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=");	     /* padding short */
	expect_malformed("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ===");     /* padding long */
	expect_malformed("Basic QWxh=GRpbjpvcGVuIHNlc2FtZQ==");	     /* '=' in the middle */
	expect_malformed("Basic QWxhZGRpbjpvcGVu IHNlc2FtZQ==");     /* a space inside */
	expect_malformed("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==,Basic");
	expect_malformed("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ-_");	     /* base64url is not base64 */
	expect_malformed("Basic =");
	expect_malformed("Basic ====");
	expect_malformed("Basic QQ==QQ==");			     /* padding, then more */
	expect_malformed("Basic QWxhZGRpbg==");			     /* "Aladdin": no ':' */
	expect_malformed("Basic dQB4OnB3");			     /* "u\0x:pw": a NUL byte */
	expect_malformed("Basic dTpwAHc=");			     /* "u:p\0w" */
}

/* ---- checks ------------------------------------------------------------------------------- */

struct fixture {
	struct auth *a;
	char prom[128], ops[128];
};

static int checks_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct buf text = BUF_INIT, err = BUF_INIT;
	unsigned line;

	if (!f)
		return -1;
	make_hash("right horse", f->prom);
	make_hash("pa:ss", f->ops);
	buf_addf(&text, "prom:%s\nops:%s\n", f->prom, f->ops);
	if (auth_parse(text.buf, text.len, &f->a, &line, &err) < 0) {
		fprintf(stderr, "%u: %s\n", line, err.buf);
		return -1;
	}
	buf_done(&text);
	buf_done(&err);
	*state = f;
	return 0;
}

static int checks_teardown(void **state)
{
	struct fixture *f = *state;

	auth_free(f->a);
	free(f);
	return 0;
}

static int check(struct auth *a, const char *user, const char *pass)
{
	return auth_check(a, user, strlen(user), pass, strlen(pass));
}

static int cached(struct auth *a, const char *user, const char *pass)
{
	return auth_check_cached(a, user, strlen(user), pass, strlen(pass));
}

static void test_check_accepts_only_the_right_password_of_a_known_user(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(check(f->a, "prom", "wrong horse"), 0);
	assert_int_equal(check(f->a, "prom", "right hors"), 0);
	assert_int_equal(check(f->a, "prom", "right horsee"), 0);
	assert_int_equal(check(f->a, "prom", ""), 0);
	assert_int_equal(check(f->a, "Prom", "right horse"), 0);
	assert_int_equal(check(f->a, "nobody", "right horse"), 0);
	assert_int_equal(check(f->a, "", "right horse"), 0);
	assert_int_equal(check(f->a, "ops", "right horse"), 0);
	assert_int_equal(check(f->a, "prom", "right horse"), 1);
	assert_int_equal(check(f->a, "ops", "pa:ss"), 1);
	/* a password with a NUL byte is never right, even if crypt would stop at the NUL */
	assert_int_equal(auth_check(f->a, "prom", 4, "right horse\0x", 13), 0);
}

static void test_cache_remembers_only_what_verified(void **state)
{
	struct fixture *f = *state;

	/* a fresh file: nothing cached yet */
	assert_int_equal(cached(f->a, "ops", "pa:ss"), 0);
	assert_int_equal(check(f->a, "ops", "pa:ss"), 1);
	assert_int_equal(cached(f->a, "ops", "pa:ss"), 1);
	/* a wrong password after it is neither cached nor verified, and does not evict the right one */
	assert_int_equal(cached(f->a, "ops", "pa:sS"), 0);
	assert_int_equal(check(f->a, "ops", "pa:sS"), 0);
	assert_int_equal(cached(f->a, "ops", "pa:ss"), 1);
	/* per user: ops's password is not prom's */
	assert_int_equal(cached(f->a, "prom", "pa:ss"), 0);
	assert_int_equal(cached(f->a, "nobody", "pa:ss"), 0);
}

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done, ok_sum, calls;
};

static void on_done(void *userdata, int ok)
{
	struct waiter *w = userdata;

	pthread_mutex_lock(&w->lock);
	w->calls++;
	w->ok_sum += ok;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void test_verifier_answers_every_check_once_and_bounds_its_queue(void **state)
{
	struct fixture *f = *state;
	struct auth_verifier *v;
	struct waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0 };
	int submitted = 0, refused = 0;

	assert_int_equal(auth_verifier_new(f->a, 4, &v), 0);
	/* 3 right, then wrong ones until the queue of 4 refuses some */
	for (int i = 0; i < 3; i++)
		assert_int_equal(auth_verifier_submit(v, "prom", 4, "right horse", 11, on_done, &w), 0);
	submitted = 3;
	for (int i = 0; i < 20; i++) {
		int r = auth_verifier_submit(v, "prom", 4, "wrong", 5, on_done, &w);
		if (r == 0)
			submitted++;
		else {
			assert_int_equal(r, -EAGAIN);
			refused++;
		}
	}
	assert_true(refused > 0);
	pthread_mutex_lock(&w.lock);
	while (w.calls < submitted)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	assert_int_equal(w.calls, submitted);
	assert_int_equal(w.ok_sum, 3);
	/* stopping with checks queued answers them as failed, once each */
	w.calls = w.ok_sum = 0;
	submitted = 0;
	for (int i = 0; i < 4; i++)
		if (auth_verifier_submit(v, "nobody", 6, "x", 1, on_done, &w) == 0)
			submitted++;
	auth_verifier_free(v);
	assert_int_equal(w.calls, submitted);
	assert_int_equal(w.ok_sum, 0);
}

int main(void)
{
	const struct CMUnitTest parsing[] = {
		cmocka_unit_test(test_users_file_takes_comments_blank_lines_crlf_and_trailing_space),
		cmocka_unit_test(test_weak_users_are_named_with_cost_and_line),
		cmocka_unit_test(test_users_file_refuses_bad_lines_with_line_and_reason),
		cmocka_unit_test(test_users_file_names_are_compared_exactly),
		cmocka_unit_test(test_load_returns_the_errno_of_what_failed),
		cmocka_unit_test(test_header_decodes_basic_credentials),
		cmocka_unit_test(test_header_refuses_malformed_credentials),
	};
	const struct CMUnitTest checks[] = {
		cmocka_unit_test_setup_teardown(test_check_accepts_only_the_right_password_of_a_known_user,
						checks_setup, checks_teardown),
		cmocka_unit_test_setup_teardown(test_cache_remembers_only_what_verified, checks_setup,
						checks_teardown),
		cmocka_unit_test_setup_teardown(test_verifier_answers_every_check_once_and_bounds_its_queue,
						checks_setup, checks_teardown),
	};
	int failed = cmocka_run_group_tests_name("auth parsing", parsing, NULL, NULL);

	return failed + cmocka_run_group_tests_name("auth checks", checks, NULL, NULL);
}
