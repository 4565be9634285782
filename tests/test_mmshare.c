/* test_mmshare — which processes share an mm, with real processes and the real kcmp().
 *
 * Forked children have distinct mms (and the same layout as this process, the case of a prefork
 * server): each is placed among the others, none is found. A process searched again is found
 * at its own place (kcmp of a process with itself: the same mm). Processes that really share
 * an mm (clone(CLONE_VM)) are in tests/integration/test_live_shared_mm.py: valgrind, which runs
 * these tests, cannot run such a clone.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mmshare.h"

#define CHILDREN 40

static const uint64_t layout[10] = { 0x1000, 0x2000, 0x7ffd0000, 0x3000, 0x4000, 0x5000,
				     0x7ffd1000, 0x7ffd1010, 0x7ffd1010, 0x7ffd1fe0 };

static pid_t children[CHILDREN];

static int fork_children(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < CHILDREN; i++) {
		children[i] = fork();
		if (children[i] < 0)
			return -1;
		if (children[i] == 0) {
			for (;;)
				pause();
		}
	}
	return 0;
}

static int reap_children(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < CHILDREN; i++) {
		kill(children[i], SIGKILL);
		waitpid(children[i], NULL, 0);
	}
	return 0;
}

static void distinct_mms_are_placed_and_found_again(void **state)
{
	struct mm_share *m = mm_share_new(true);
	struct mm_share_slot slot;
	size_t i, sample = 99;

	(void)state;
	assert_non_null(m);
	assert_int_equal(mm_share_reset(m, CHILDREN + 1), 0);
	assert_int_equal(mm_share_find(m, (uint32_t)getpid(), layout, &sample, &slot), 0);
	assert_non_null(slot.group);
	assert_int_equal(mm_share_add(m, &slot, (uint32_t)getpid(), 0), 0);
	for (i = 0; i < CHILDREN; i++) {
		/* a fork child: the same layout, its own mm */
		assert_int_equal(mm_share_find(m, (uint32_t)children[i], layout, &sample, &slot), 0);
		assert_non_null(slot.group);
		assert_int_equal(mm_share_add(m, &slot, (uint32_t)children[i], i + 1), 0);
	}
	/* each is there once, in kcmp's order: searched again, each finds itself */
	for (i = 0; i < CHILDREN; i++) {
		assert_int_equal(mm_share_find(m, (uint32_t)children[i], layout, &sample, &slot), 1);
		assert_int_equal(sample, i + 1);
	}
	assert_int_equal(mm_share_find(m, (uint32_t)getpid(), layout, &sample, &slot), 1);
	assert_int_equal(sample, 0);

	/* a new cycle forgets */
	assert_int_equal(mm_share_reset(m, 4), 0);
	assert_int_equal(mm_share_find(m, (uint32_t)getpid(), layout, &sample, &slot), 0);
	mm_share_free(m);
	mm_share_free(NULL);
}

static void no_layout_no_kcmp_no_process_finds_nothing(void **state)
{
	static const uint64_t hidden[10] = { 1, 1 }; /* what stat shows without ptrace rights */
	struct mm_share *m = mm_share_new(true), *off = mm_share_new(false);
	struct mm_share_slot slot;
	size_t sample;
	pid_t gone;

	(void)state;
	assert_int_equal(mm_share_reset(m, 8), 0);
	assert_int_equal(mm_share_find(m, (uint32_t)getpid(), hidden, &sample, &slot), 0);
	assert_null(slot.group);
	assert_int_equal(mm_share_add(m, &slot, (uint32_t)getpid(), 0), 0); /* a no-op */

	/* a fixture tree's pids are not real: never compared */
	assert_int_equal(mm_share_reset(off, 8), 0);
	assert_int_equal(mm_share_find(off, (uint32_t)getpid(), layout, &sample, &slot), 0);
	assert_null(slot.group);

	/* a process gone before it could be compared: counted on its own, not added */
	assert_int_equal(mm_share_find(m, (uint32_t)getpid(), layout, &sample, &slot), 0);
	assert_int_equal(mm_share_add(m, &slot, (uint32_t)getpid(), 0), 0);
	gone = fork();
	assert_true(gone >= 0);
	if (gone == 0)
		_exit(0);
	assert_int_equal(waitpid(gone, NULL, 0), gone);
	assert_int_equal(mm_share_find(m, (uint32_t)gone, layout, &sample, &slot), 0);
	assert_null(slot.group);

	mm_share_free(m);
	mm_share_free(off);

	/* more layouts than the cycle listed processes (one appeared since): counted on its own */
	m = mm_share_new(true);
	assert_int_equal(mm_share_reset(m, 1), 0);
	assert_int_equal(mm_share_find(m, (uint32_t)getpid(), layout, &sample, &slot), 0);
	assert_int_equal(mm_share_add(m, &slot, (uint32_t)getpid(), 0), 0);
	{
		static const uint64_t other[10] = { 0x9000, 0x9100, 0x7ffe0000 };

		assert_int_equal(mm_share_find(m, (uint32_t)children[0], other, &sample, &slot), 0);
		assert_null(slot.group);
	}
	mm_share_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(distinct_mms_are_placed_and_found_again),
		cmocka_unit_test(no_layout_no_kcmp_no_process_finds_nothing),
	};
	return cmocka_run_group_tests(tests, fork_children, reap_children);
}
