/* test_mapfiles.c — mapped files keyed by device and inode, per-process contributions, the top N
 * and the paths kept only as needed.
 *
 * Every expected sum is written out from the contributions the test adds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapfiles.h"
#include "testing.h"

#define KB(x) ((uint64_t)(x) * 1024u)
#define DEV(maj, min) ((uint64_t)(maj) << 32 | (min))

static void add(struct mapfiles *t, struct mapfile_set *set, uint64_t dev, uint64_t ino, const char *path,
		uint64_t pss_kb, uint64_t rss_kb)
{
	assert_int_equal(mapfiles_add(t, set, dev, ino, path, strlen(path), KB(pss_kb), KB(rss_kb)), 0);
}

static struct snapshot *top(struct mapfiles *t, struct mapfile_set *sets, size_t nsets, size_t n)
{
	struct snapshot *s = snapshot_new(SMAPS_FULL);
	size_t i;

	assert_non_null(s);
	mapfiles_sum_reset(t);
	for (i = 0; i < nsets; i++)
		mapfiles_sum_add(t, &sets[i]);
	assert_int_equal(mapfiles_top(t, n, s), 0);
	return s;
}

static void drop_all(struct mapfiles *t, struct mapfile_set *sets, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mapfiles_set_drop(t, &sets[i]);
}

/* Three processes map libc; one maps it in four pieces; a file at another inode with the same
 * path is another file; the same inode on another device too. */
static void sums_are_by_device_and_inode_not_by_path(void **state)
{
	struct mapfiles *t = mapfiles_new(1 << 20);
	struct mapfile_set sets[3] = { { 0 } };
	struct snapshot *s;

	(void)state;
	mapfiles_set_begin(t);
	add(t, &sets[0], DEV(254, 0), 100, "/usr/lib/libc.so.6", 10, 40);
	add(t, &sets[0], DEV(254, 0), 200, "/x (deleted)", 3, 3); /* live file named "x (deleted)" */
	add(t, &sets[0], DEV(254, 0), 100, "/usr/lib/libc.so.6", 5, 5);
	add(t, &sets[0], DEV(254, 0), 100, "/usr/lib/libc.so.6", 1, 1);
	add(t, &sets[0], DEV(254, 0), 100, "/usr/lib/libc.so.6", 0, 4);
	assert_int_equal(sets[0].n, 2); /* libc once, however many mappings */
	mapfiles_set_begin(t);
	add(t, &sets[1], DEV(254, 0), 100, "/usr/lib/libc.so.6", 7, 50);
	add(t, &sets[1], DEV(254, 0), 300, "/x (deleted)", 2, 2); /* a deleted file "x" */
	add(t, &sets[1], DEV(0, 5), 100, "/usr/lib/libc.so.6", 1, 1); /* same inode, other device */
	mapfiles_set_begin(t);
	add(t, &sets[2], DEV(254, 0), 100, "/usr/lib/libc.so.6", 1, 1);
	add(t, &sets[2], DEV(254, 0), 400, "/empty", 0, 0); /* nothing resident: not kept */
	assert_int_equal(sets[2].n, 1);
	assert_int_equal(mapfiles_count(t), 4);

	s = top(t, sets, 3, 10);
	assert_int_equal(s->nmappings, 4);
	assert_int_equal(s->mappings[0].dev, DEV(254, 0));
	assert_int_equal(s->mappings[0].inode, 100);
	assert_int_equal(s->mappings[0].pss, KB(10 + 5 + 1 + 0 + 7 + 1));
	assert_int_equal(s->mappings[0].rss, KB(40 + 5 + 1 + 4 + 50 + 1));
	assert_int_equal(s->mappings[1].inode, 200);
	assert_string_equal(s->mappings[1].path.s, "/x (deleted)");
	assert_int_equal(s->mappings[1].pss, KB(3));
	assert_int_equal(s->mappings[2].inode, 300);
	assert_string_equal(s->mappings[2].path.s, "/x (deleted)");
	assert_int_equal(s->mappings[2].pss, KB(2));
	assert_int_equal(s->mappings[3].dev, DEV(0, 5));
	assert_int_equal(s->mappings[3].pss, KB(1));
	snapshot_free(s);

	/* a process gone: its share goes, and files no one maps leave the table */
	mapfiles_set_drop(t, &sets[1]);
	assert_int_equal(mapfiles_count(t), 2);
	s = top(t, sets, 3, 10); /* sets[1] is empty now */
	assert_int_equal(s->nmappings, 2);
	assert_int_equal(s->mappings[0].pss, KB(10 + 5 + 1 + 0 + 1));
	snapshot_free(s);
	drop_all(t, sets, 3);
	assert_int_equal(mapfiles_count(t), 0);
	assert_int_equal(mapfiles_path_bytes(t), 0);
	mapfiles_free(t);
}

/* Most PSS first; equal PSS by path, bytewise, then device, then inode. */
static void top_orders_by_pss_then_path_then_identity(void **state)
{
	struct mapfiles *t = mapfiles_new(1 << 20);
	struct mapfile_set set = { 0 };
	struct snapshot *s;

	(void)state;
	mapfiles_set_begin(t);
	add(t, &set, DEV(8, 1), 5, "/a", 5, 1);
	add(t, &set, DEV(8, 1), 3, "/z", 5, 1);
	add(t, &set, DEV(0, 9), 9, "/m", 5, 1);
	add(t, &set, DEV(8, 1), 7, "/m", 5, 1);
	add(t, &set, DEV(8, 1), 6, "/m", 5, 1);
	add(t, &set, DEV(8, 1), 1, "/big", 9, 1);
	s = top(t, &set, 1, 6);
	assert_int_equal(s->nmappings, 6);
	assert_int_equal(s->mappings[0].inode, 1);
	assert_int_equal(s->mappings[1].inode, 5);
	assert_int_equal(s->mappings[2].dev, DEV(0, 9));
	assert_int_equal(s->mappings[3].inode, 6);
	assert_int_equal(s->mappings[4].inode, 7);
	assert_int_equal(s->mappings[5].inode, 3);
	snapshot_free(s);
	s = top(t, &set, 1, 0);
	assert_true(s->have_mappings);
	assert_int_equal(s->nmappings, 0);
	snapshot_free(s);
	mapfiles_set_drop(t, &set);
	mapfiles_free(t);
	mapfiles_free(NULL);
}

/* Past the budget, paths are not kept; a top file without one is wanted, and a path offered
 * for it is kept whatever the budget. The memory held is bounded by the budget plus the top. */
static void paths_past_the_budget_are_resolved_only_for_the_top(void **state)
{
	char path[4000];
	struct mapfiles *t = mapfiles_new(3 * sizeof(path));
	struct mapfile_set set = { 0 };
	struct snapshot *s;
	uint64_t i;

	(void)state;
	memset(path, 'd', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	mapfiles_set_begin(t);
	for (i = 1; i <= 1000; i++) {
		snprintf(path + sizeof(path) - 8, 8, "%06llu", (unsigned long long)i);
		add(t, &set, DEV(0, 40), i, path, i == 500 ? 99 : 1, 1);
	}
	assert_int_equal(mapfiles_count(t), 1000);
	assert_true(mapfiles_path_bytes(t) <= 3 * sizeof(path));
	assert_true(mapfiles_path_bytes(t) > 0);

	mapfiles_sum_reset(t);
	mapfiles_sum_add(t, &set);
	/* top 2: inode 500 (no path kept) and inode 1 (kept: the first one seen) */
	assert_int_equal(mapfiles_want_paths(t, 2), 1);
	assert_true(mapfiles_set_wants_path(&set));
	snprintf(path + sizeof(path) - 8, 8, "%06u", 1u); /* offered for another file: ignored */
	mapfiles_offer_path(t, DEV(0, 40), 7, path, strlen(path));
	snprintf(path + sizeof(path) - 8, 8, "%06u", 500u);
	mapfiles_offer_path(t, DEV(0, 40), 500, path, strlen(path));
	assert_false(mapfiles_set_wants_path(&set));
	assert_int_equal(mapfiles_want_paths(t, 2), 0);

	s = snapshot_new(SMAPS_FULL);
	assert_int_equal(mapfiles_top(t, 2, s), 0);
	assert_int_equal(s->mappings[0].inode, 500);
	assert_string_equal(s->mappings[0].path.s, path);
	snprintf(path + sizeof(path) - 8, 8, "%06u", 1u);
	assert_string_equal(s->mappings[1].path.s, path);
	snapshot_free(s);

	/* a top file whose path no one offered comes out with an empty path */
	s = snapshot_new(SMAPS_FULL);
	assert_int_equal(mapfiles_top(t, 10, s), 0);
	assert_int_equal(s->nmappings, 10);
	assert_int_equal(s->mappings[9].path.len, 0);
	snapshot_free(s);

	mapfiles_set_drop(t, &set);
	assert_int_equal(mapfiles_path_bytes(t), 0);
	mapfiles_free(t);
}

static void figures_saturate(void **state)
{
	struct mapfiles *t = mapfiles_new(1 << 20);
	struct mapfile_set sets[2] = { { 0 } };
	struct snapshot *s;

	(void)state;
	mapfiles_set_begin(t);
	assert_int_equal(mapfiles_add(t, &sets[0], 1, 1, "/big", 4, UINT64_MAX, UINT64_MAX), 0);
	assert_int_equal(mapfiles_add(t, &sets[0], 1, 1, "/big", 4, KB(5), KB(5)), 0);
	mapfiles_set_begin(t);
	assert_int_equal(mapfiles_add(t, &sets[1], 1, 1, "/big", 4, UINT64_MAX, UINT64_MAX), 0);
	s = top(t, sets, 2, 1);
	/* 32-bit KiB per contribution, saturated; the sum of two is exact in 64 bits */
	assert_int_equal(s->mappings[0].pss, 2 * KB(UINT32_MAX));
	assert_int_equal(s->mappings[0].rss, 2 * KB(UINT32_MAX));
	snapshot_free(s);
	drop_all(t, sets, 2);
	mapfiles_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sums_are_by_device_and_inode_not_by_path),
		cmocka_unit_test(top_orders_by_pss_then_path_then_identity),
		cmocka_unit_test(paths_past_the_budget_are_resolved_only_for_the_top),
		cmocka_unit_test(figures_saturate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
