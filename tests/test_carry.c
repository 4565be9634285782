/* test_carry.c — when a full smaps read is due, the order of due reads past the budget, and the
 * read credit of processes over --smaps-max-rss. Pure functions: time is a number here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "carry.h"

#define KB(x) ((uint64_t)(x) * 1024u)
#define MB(x) ((uint64_t)(x) << 20)
#define GB(x) ((uint64_t)(x) << 30)
#define SEC(x) ((uint64_t)(x) * 1000000000u)

static const struct carry_policy pol = { SEC(60), SEC(1800) };

static struct smaps_basis basis(uint64_t rss, uint64_t pss)
{
	struct proc_status st = { 0 };
	struct smaps_rollup ru = { 0 };
	struct smaps_basis b;

	st.have = PROC_STATUS_VMSIZE | PROC_STATUS_VMRSS | PROC_STATUS_RSSANON | PROC_STATUS_RSSFILE |
		  PROC_STATUS_RSSSHMEM | PROC_STATUS_VMSWAP;
	st.vm_size = 4 * rss;
	st.vm_rss = rss;
	st.rss_anon = rss / 2;
	st.rss_file = rss - rss / 2;
	ru.have = ROLLUP_RSS | ROLLUP_PSS | ROLLUP_SWAP;
	ru.rss = rss;
	ru.pss = pss;
	smaps_basis_from(&st, &ru, &b);
	return b;
}

static void tolerance_is_64k_or_a_64th(void **state)
{
	(void)state;
	assert_int_equal(carry_tolerance(0), KB(64));
	assert_int_equal(carry_tolerance(MB(4)), KB(64)); /* 4 MiB / 64 = 64 KiB: the crossing */
	assert_int_equal(carry_tolerance(MB(64)), MB(1));
	assert_int_equal(carry_tolerance(UINT64_MAX), UINT64_MAX >> 6);
}

static void moved_counts_only_figures_beyond_their_tolerance(void **state)
{
	struct smaps_basis a = basis(MB(100), MB(50)), b;

	(void)state;
	assert_int_equal(smaps_basis_moved(&a, &a), 0);
	/* PSS jitter from other processes sharing libc: a few KiB */
	b = basis(MB(100), MB(50) + KB(3));
	assert_int_equal(smaps_basis_moved(&a, &b), 0);
	/* 1/64 of 100 MiB is 1.5625 MiB: within it, nothing; past it, the largest move */
	b = basis(MB(100) + KB(1600), MB(50));
	assert_int_equal(smaps_basis_moved(&a, &b), 0);
	b = basis(MB(102), MB(50));
	assert_int_equal(smaps_basis_moved(&a, &b), MB(8)); /* VmSize is 4 x rss here: moved 8 MiB */
	/* a small process: the 64 KiB floor */
	a = basis(KB(1000), KB(500));
	b = basis(KB(1000), KB(500) + KB(64));
	assert_int_equal(smaps_basis_moved(&a, &b), 0);
	b = basis(KB(1000), KB(500) + KB(65));
	assert_int_equal(smaps_basis_moved(&a, &b), KB(65));
	/* a figure that appears (swap enabled meanwhile) is a move, even at 0 */
	b = a;
	b.have &= ~(1u << CARRY_BASIS_VM_SWAP);
	assert_true(smaps_basis_moved(&b, &a) > 0);
	assert_true(smaps_basis_moved(&a, &b) > 0);
}

static void decide_new_keep_moved_old(void **state)
{
	struct smaps_basis a = basis(MB(10), MB(5)), moved = basis(MB(20), MB(10));
	uint64_t t0 = SEC(1000), m, seed = 12345;

	(void)state;
	assert_int_equal(carry_decide(&pol, false, 0, false, NULL, &a, t0, seed, &m), CARRY_NEW);
	assert_int_equal(m, 0);
	/* unchanged: kept until max-age (less its spread) */
	assert_int_equal(carry_decide(&pol, true, t0, false, &a, &a, t0 + SEC(15), seed, &m), CARRY_KEEP);
	assert_int_equal(carry_decide(&pol, true, t0, false, &a, &a, t0 + SEC(1349), seed, &m), CARRY_KEEP);
	assert_int_equal(carry_decide(&pol, true, t0, false, &a, &a, t0 + SEC(1800), seed, &m), CARRY_OLD);
	/* moved: not before min-age */
	assert_int_equal(carry_decide(&pol, true, t0, false, &a, &moved, t0 + SEC(59), seed, &m), CARRY_KEEP);
	assert_int_equal(m, MB(40)); /* VmSize moved 40 MiB */
	assert_int_equal(carry_decide(&pol, true, t0, false, &a, &moved, t0 + SEC(60), seed, &m), CARRY_MOVED);
	/* min-age 0: every cycle it moved */
	{
		struct carry_policy p0 = { 0, SEC(1800) };
		assert_int_equal(carry_decide(&p0, true, t0, false, &a, &moved, t0, seed, &m), CARRY_MOVED);
	}
	/* a clock that went backwards (a test clock, a restored VM) is age 0, not a huge age */
	assert_int_equal(carry_decide(&pol, true, t0, false, &a, &a, t0 - SEC(5), seed, &m), CARRY_KEEP);
}

/* After a process's first read, min-age is shortened by a spread over [0, min-age), so that
 * processes read together the first time drift apart: over 2,000 processes the spread covers
 * the whole range; after a later read min-age is whole again. */
static void first_min_age_spreads_the_herd(void **state)
{
	struct smaps_basis a = basis(MB(10), MB(5)), moved = basis(MB(20), MB(10));
	uint64_t lo = UINT64_MAX, hi = 0, m, t0 = SEC(1000);
	uint32_t pid;

	(void)state;
	for (pid = 1000; pid < 3000; pid++) {
		uint64_t seed = carry_seed(pid, 777), first = carry_min_age(&pol, seed, true);

		assert_true(first <= SEC(60));
		assert_int_equal(carry_min_age(&pol, seed, false), SEC(60));
		lo = first < lo ? first : lo;
		hi = first > hi ? first : hi;
		assert_int_equal(carry_decide(&pol, true, t0, true, &a, &moved, t0 + first, seed, &m), CARRY_MOVED);
		if (first > 0)
			assert_int_equal(carry_decide(&pol, true, t0, true, &a, &moved, t0 + first - 1, seed, &m),
					 CARRY_KEEP);
		assert_int_equal(carry_decide(&pol, true, t0, false, &a, &moved, t0 + SEC(59), seed, &m), CARRY_KEEP);
	}
	assert_true(hi - lo > SEC(60) * 9 / 10);
	{
		struct carry_policy p0 = { 0, SEC(1800) };
		assert_int_equal(carry_min_age(&p0, 12345, true), 0);
	}
}

/* max-age is spread over [3/4, 1] of itself by a hash of (pid, start time), so processes started
 * together are not all re-read in one cycle; the spread is wide and depends on both. */
static void max_age_spreads_over_a_quarter(void **state)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	uint32_t pid;

	(void)state;
	for (pid = 1000; pid < 3000; pid++) {
		uint64_t a = carry_max_age(&pol, carry_seed(pid, 777));

		assert_true(a > SEC(1800) * 3 / 4 && a <= SEC(1800));
		lo = a < lo ? a : lo;
		hi = a > hi ? a : hi;
	}
	assert_true(hi - lo > SEC(1800) / 4 * 9 / 10);
	assert_int_not_equal(carry_seed(1000, 1), carry_seed(1000, 2));
	assert_int_not_equal(carry_seed(1000, 1), carry_seed(1001, 1));
}

/* new, then old (oldest first), then moved (most bytes first); pid breaks ties */
static void due_order_new_old_moved(void **state)
{
	struct carry_due_item v[] = {
		{ .why = CARRY_MOVED, .moved = MB(1), .age_ns = SEC(100), .pid = 1 },
		{ .why = CARRY_OLD, .age_ns = SEC(1500), .pid = 2 },
		{ .why = CARRY_NEW, .age_ns = UINT64_MAX, .pid = 9 },
		{ .why = CARRY_MOVED, .moved = MB(50), .age_ns = SEC(61), .pid = 4 },
		{ .why = CARRY_OLD, .age_ns = SEC(1700), .pid = 5 },
		{ .why = CARRY_NEW, .age_ns = UINT64_MAX, .pid = 3 },
		{ .why = CARRY_MOVED, .moved = MB(1), .age_ns = SEC(300), .pid = 7 },
	};
	static const uint32_t want[] = { 3, 9, 5, 2, 4, 7, 1 };
	size_t i;

	(void)state;
	qsort(v, sizeof(v) / sizeof(v[0]), sizeof(v[0]), carry_due_cmp);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(v[i].pid, want[i]);
}

static void large_cost_estimate_is_10ms_per_gib(void **state)
{
	(void)state;
	assert_int_equal(carry_large_cost_estimate(GB(4)), 40000000u);
	assert_int_equal(carry_large_cost_estimate(GB(100)), 1000000000u);
	assert_true(carry_large_cost_estimate(UINT64_MAX) > 0);
}

/* 1% of a core: a 1 s read every 100 s; no credit hoarded past the largest cost waiting; a
 * read that cost more than estimated is paid back before the next. */
static void large_credit_bounds_the_share(void **state)
{
	struct large_credit c = { 0 };
	uint64_t t = SEC(5000);
	int reads = 0, i;

	(void)state;
	large_credit_top_up(&c, t, 10000, SEC(1));
	assert_false(large_credit_take(&c, SEC(1))); /* nothing at the start */
	for (i = 1; i <= 100 * 60 / 15; i++) { /* 100 minutes of 15 s cycles */
		large_credit_top_up(&c, t + (uint64_t)i * SEC(15), 10000, SEC(1));
		if (large_credit_take(&c, SEC(1))) {
			large_credit_spend(&c, SEC(1));
			reads++;
		}
	}
	/* 6000 s at 1% is 60 s of reading: never more than 60 reads of 1 s; fewer by what the
	 * 15 s steps leave over (a read waits for the cycle in which the credit covers it) */
	assert_in_range(reads, 52, 60);

	/* an hour of nothing buys no burst: the credit holds at most the cap */
	c = (struct large_credit){ 0 };
	large_credit_top_up(&c, t, 10000, SEC(1));
	large_credit_top_up(&c, t + SEC(3600), 10000, SEC(1));
	assert_int_equal(c.ns, (int64_t)SEC(1));
	/* overspent: negative until paid back */
	large_credit_spend(&c, SEC(3));
	assert_false(large_credit_take(&c, 1));
	large_credit_top_up(&c, t + SEC(3600) + SEC(200), 10000, SEC(1));
	assert_true(large_credit_take(&c, 0));
	assert_false(large_credit_take(&c, SEC(1)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tolerance_is_64k_or_a_64th),
		cmocka_unit_test(moved_counts_only_figures_beyond_their_tolerance),
		cmocka_unit_test(decide_new_keep_moved_old),
		cmocka_unit_test(first_min_age_spreads_the_herd),
		cmocka_unit_test(max_age_spreads_over_a_quarter),
		cmocka_unit_test(due_order_new_old_moved),
		cmocka_unit_test(large_cost_estimate_is_10ms_per_gib),
		cmocka_unit_test(large_credit_bounds_the_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
