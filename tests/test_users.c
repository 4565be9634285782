/* test_users.c — the uid -> name cache: one resolver call per uid, numeric fallback, clearing,
 * and the real NSS resolver. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "users.h"
#include "testing.h"

/* A user database the test controls, counting the calls it gets per uid. */
struct fake_db {
	const char *name[8]; /* for uids 0..7; NULL: no such user */
	int error;	     /* returned for uids without a name (default -ENOENT) */
	unsigned calls[8], other_calls;
};

static int fake_resolve(uint32_t uid, char *ret_name, size_t size, void *userdata)
{
	struct fake_db *db = userdata;

	assert_true(size >= 256); /* room for any name NSS gives (LOGIN_NAME_MAX) */
	if (uid >= 8) {
		db->other_calls++;
		return db->error ? db->error : -ENOENT;
	}
	db->calls[uid]++;
	if (!db->name[uid]) {
		strcpy(ret_name, "garbage left behind"); /* a failing resolver may scribble */
		return db->error ? db->error : -ENOENT;
	}
	strcpy(ret_name, db->name[uid]);
	return 0;
}

static void cache_calls_the_resolver_once_per_uid(void **state)
{
	struct fake_db db = { .name = { "root", [5] = "alice" } };
	struct users_cache *c = users_cache_new(fake_resolve, &db);
	const char *first, *again;
	size_t len = 0;
	int i;

	(void)state;
	assert_non_null(c);
	assert_int_equal(users_cache_misses(c), 0);
	first = users_cache_name(c, 0, &len);
	assert_string_equal(first, "root");
	assert_int_equal(len, 4);
	for (i = 0; i < 100; i++) {
		again = users_cache_name(c, 0, &len);
		assert_ptr_equal(again, first);
	}
	assert_string_equal(users_cache_name(c, 5, NULL), "alice");
	assert_string_equal(users_cache_name(c, 5, &len), "alice");
	assert_int_equal(len, 5);
	assert_int_equal(db.calls[0], 1);
	assert_int_equal(db.calls[5], 1);
	assert_int_equal(users_cache_misses(c), 2);
	users_cache_free(c);
}

static void unknown_uid_falls_back_to_its_number_and_is_cached(void **state)
{
	struct fake_db db = { .name = { "root" } };
	struct users_cache *c = users_cache_new(fake_resolve, &db);
	size_t len;

	(void)state;
	assert_string_equal(users_cache_name(c, 3, &len), "3");
	assert_int_equal(len, 1);
	assert_string_equal(users_cache_name(c, 3, &len), "3");
	assert_int_equal(db.calls[3], 1);
	assert_string_equal(users_cache_name(c, 4294967295u, &len), "4294967295");
	assert_int_equal(len, 10);
	assert_string_equal(users_cache_name(c, 1000, &len), "1000");
	assert_string_equal(users_cache_name(c, 1000, &len), "1000");
	assert_int_equal(db.other_calls, 2);
	assert_int_equal(users_cache_misses(c), 3);
	users_cache_free(c);

	/* any resolver error, not only "no such user" (an LDAP server down, say) */
	db = (struct fake_db){ .error = -EIO };
	c = users_cache_new(fake_resolve, &db);
	assert_string_equal(users_cache_name(c, 2, &len), "2");
	assert_string_equal(users_cache_name(c, 2, &len), "2");
	assert_int_equal(db.calls[2], 1);
	users_cache_free(c);
}

/* A user with subordinate uids runs processes under ever new ones, cycle after cycle: the cache
 * holds the uids of the last cycle only, not every uid it ever saw. */
static void sweep_keeps_the_uids_of_the_last_cycle_only(void **state)
{
	struct fake_db db = { .name = { "root" } };
	struct users_cache *c = users_cache_new(fake_resolve, &db);
	uint32_t cycle, i;

	(void)state;
	for (cycle = 0; cycle < 100; cycle++) {
		assert_string_equal(users_cache_name(c, 0, NULL), "root");
		for (i = 0; i < 1000; i++)
			assert_non_null(users_cache_name(c, 100000 + cycle * 1000 + i, NULL));
		users_cache_sweep(c);
		assert_int_equal(users_cache_size(c), 1 + 1000);
	}
	assert_int_equal(users_cache_misses(c), 1 + 100 * 1000); /* root once, each new uid once */
	assert_int_equal(db.calls[0], 1);
	/* the last cycle's uids are still there; a sweep with none asked for empties the cache */
	assert_string_equal(users_cache_name(c, 100000 + 99 * 1000, NULL), "199000");
	assert_int_equal(users_cache_misses(c), 1 + 100 * 1000);
	users_cache_sweep(c);
	assert_int_equal(users_cache_size(c), 1);
	users_cache_sweep(c);
	assert_int_equal(users_cache_size(c), 0);
	assert_string_equal(users_cache_name(c, 0, NULL), "root");
	assert_int_equal(db.calls[0], 2);
	users_cache_free(c);
}

static void clear_forgets_every_answer(void **state)
{
	struct fake_db db = { .name = { "root", "daemon" } };
	struct users_cache *c = users_cache_new(fake_resolve, &db);

	(void)state;
	assert_string_equal(users_cache_name(c, 1, NULL), "daemon");
	assert_string_equal(users_cache_name(c, 2, NULL), "2");
	/* the administrator edits the user database, then reloads */
	db.name[1] = "renamed";
	db.name[2] = "bin";
	assert_string_equal(users_cache_name(c, 1, NULL), "daemon"); /* still cached */
	users_cache_clear(c);
	assert_string_equal(users_cache_name(c, 1, NULL), "renamed");
	assert_string_equal(users_cache_name(c, 2, NULL), "bin");
	assert_int_equal(db.calls[1], 2);
	assert_int_equal(db.calls[2], 2);
	assert_int_equal(users_cache_misses(c), 4); /* since creation */
	users_cache_clear(c);
	users_cache_clear(c); /* on an empty cache */
	users_cache_free(c);
	users_cache_free(NULL);
}

static int many_resolve(uint32_t uid, char *ret_name, size_t size, void *userdata)
{
	unsigned *calls = userdata;

	(*calls)++;
	snprintf(ret_name, size, "user%u", uid);
	return 0;
}

static void many_uids_each_resolved_once(void **state)
{
	unsigned calls = 0;
	struct users_cache *c = users_cache_new(many_resolve, &calls);
	char want[32];
	uint32_t uid;
	int round;

	(void)state;
	for (round = 0; round < 3; round++)
		for (uid = 0; uid < 5000; uid += 1 + uid % 7) {
			size_t len;
			const char *name = users_cache_name(c, uid, &len);

			snprintf(want, sizeof(want), "user%u", uid);
			assert_string_equal(name, want);
			assert_int_equal(len, strlen(want));
		}
	assert_int_equal(calls, users_cache_misses(c));
	for (uid = 0, calls = 0; uid < 5000; uid += 1 + uid % 7)
		calls++;
	assert_int_equal(users_cache_misses(c), calls);
	users_cache_free(c);
}

static int longest_resolve(uint32_t uid, char *ret_name, size_t size, void *userdata)
{
	(void)uid;
	(void)userdata;
	memset(ret_name, 'n', size - 1);
	ret_name[size - 1] = '\0';
	return 0;
}

static void names_up_to_the_buffer_size_are_kept_whole(void **state)
{
	struct users_cache *c = users_cache_new(longest_resolve, NULL);
	size_t len;
	const char *name = users_cache_name(c, 1, &len);

	(void)state;
	assert_int_equal(len, strlen(name));
	assert_true(len >= 255);
	users_cache_free(c);
}

/* The real resolver, through this machine's NSS: uid 0 is root on every Linux. */
static void nss_resolver_maps_uid_0_to_root(void **state)
{
	struct users_cache *c = users_cache_new(NULL, NULL);
	char name[256];
	size_t len;

	(void)state;
	assert_int_equal(users_resolve_nss(0, name, sizeof(name), NULL), 0);
	assert_string_equal(name, "root");
	assert_string_equal(users_cache_name(c, 0, &len), "root");
	assert_int_equal(len, 4);
	/* "root" and its NUL need 5 bytes */
	assert_int_equal(users_resolve_nss(0, name, 5, NULL), 0);
	assert_int_equal(users_resolve_nss(0, name, 4, NULL), -ENAMETOOLONG);
	users_cache_free(c);
}

static void nss_resolver_says_enoent_for_a_uid_without_a_name(void **state)
{
	char name[256];
	uint32_t uid = 3999999999u;

	(void)state;
	if (getpwuid(uid))
		skip(); /* some directory gives this uid a name after all */
	assert_int_equal(users_resolve_nss(uid, name, sizeof(name), NULL), -ENOENT);
	{
		struct users_cache *c = users_cache_new(NULL, NULL);

		assert_string_equal(users_cache_name(c, uid, NULL), "3999999999");
		users_cache_free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cache_calls_the_resolver_once_per_uid),
		cmocka_unit_test(unknown_uid_falls_back_to_its_number_and_is_cached),
		cmocka_unit_test(sweep_keeps_the_uids_of_the_last_cycle_only),
		cmocka_unit_test(clear_forgets_every_answer),
		cmocka_unit_test(many_uids_each_resolved_once),
		cmocka_unit_test(names_up_to_the_buffer_size_are_kept_whole),
		cmocka_unit_test(nss_resolver_maps_uid_0_to_root),
		cmocka_unit_test(nss_resolver_says_enoent_for_a_uid_without_a_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
