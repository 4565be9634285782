/* test_snapshot.c — totals, per-user and per-unit aggregation, per-process selection, and the
 * top mapped files accumulator.
 *
 * Samples are built by hand, with figures chosen so that every expected total below is a sum
 * written out in the test; the regular expressions are compiled the way config.c compiles
 * --include and --exclude (anchored "^(RE)$", REG_EXTENDED | REG_NOSUB).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pattern.h"
#include "snapshot.h"

#define KB(x) ((uint64_t)(x) * 1024u)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- building samples --------------------------------------------------------------------- */

struct spec {
	uint32_t pid;
	const char *comm, *user, *unit;
	uint64_t rss, swap;		 /* status VmRSS, VmSwap (kB) */
	int rollup;			 /* 0: not read; 1: read, with every field */
	uint64_t pss, pclean, pdirty;	 /* rollup (kB) */
	int quads;			 /* full smaps read */
	uint64_t qrss[QUADRANT_COUNT];	 /* quadrant resident (kB); size, pss, swap, dirty derived */
};

static void add_sample(struct snapshot *s, const struct spec *sp)
{
	struct proc_sample *p = snapshot_add_proc(s);
	int q;

	assert_non_null(p);
	p->pid = sp->pid;
	p->ppid = 1;
	p->uid = 1000;
	assert_int_equal(snapshot_str(s, sp->comm, strlen(sp->comm), &p->comm), 0);
	assert_int_equal(snapshot_str(s, sp->user, strlen(sp->user), &p->user), 0);
	assert_int_equal(snapshot_str(s, sp->unit, strlen(sp->unit), &p->unit), 0);
	p->status.have = PROC_STATUS_UID | PROC_STATUS_VMRSS | PROC_STATUS_VMSWAP;
	p->status.vm_rss = KB(sp->rss);
	p->status.vm_swap = KB(sp->swap);
	if (sp->rollup) {
		p->flags |= SAMPLE_ROLLUP;
		p->rollup.have = ROLLUP_RSS | ROLLUP_PSS | ROLLUP_PRIVATE_CLEAN | ROLLUP_PRIVATE_DIRTY |
				 ROLLUP_SWAP | ROLLUP_SWAP_PSS | ROLLUP_PSS_DIRTY;
		p->rollup.rss = KB(sp->rss);
		p->rollup.pss = KB(sp->pss);
		p->rollup.private_clean = KB(sp->pclean);
		p->rollup.private_dirty = KB(sp->pdirty);
	}
	if (sp->quads) {
		p->flags |= SAMPLE_QUADRANTS;
		for (q = 0; q < QUADRANT_COUNT; q++) {
			p->quad[q].rss = KB(sp->qrss[q]);
			p->quad[q].size = 2 * KB(sp->qrss[q]);
			p->quad[q].pss = KB(sp->qrss[q]) / 2;
			p->quad[q].swap = KB(q);
			p->quad[q].dirty = KB(sp->qrss[q]) / 4;
			p->quad[q].pss_dirty = KB(sp->qrss[q]) / 8;
		}
	}
}

static struct snapshot *build(enum smaps_mode mode, const struct spec *specs, size_t n)
{
	struct snapshot *s = snapshot_new(mode);
	size_t i;

	assert_non_null(s);
	for (i = 0; i < n; i++)
		add_sample(s, &specs[i]);
	return s;
}

static const struct select_opts SELECT_ALL = { 0 };

/* A small machine, in no particular pid order. In full mode pid 300 was skipped as too large
 * (rollup read, no quadrants) and pid 500 could not be read past status (EACCES). */
static const struct spec machine[] = {
	/* pid comm      user        unit             rss  swap roll pss  pcl  pdi quads qrss[pa,pf,sa,sf] */
	{ 400, "nginx",  "www-data", "nginx.service", 900, 10, 1, 300, 20, 180, 1, { 200, 100, 50, 550 } },
	{ 100, "systemd", "root",    "init.scope",    1200, 0, 1, 700, 100, 400, 1, { 500, 300, 0, 400 } },
	{ 401, "nginx",  "www-data", "nginx.service", 800, 30, 1, 250, 10, 150, 1, { 150, 100, 50, 500 } },
	{ 300, "java",   "alice",    "app.service",   5000, 7, 1, 4000, 0, 3900, 0, { 0 } },
	{ 500, "sshd",   "root",     "sshd.service",  600, 3, 0, 0, 0, 0, 0, { 0 } },
	{ 200, "bash",   "alice",    "session-3.scope", 300, 0, 1, 120, 4, 96, 1, { 90, 150, 0, 60 } },
	{ 600, "kworker/0:1", "root", "",             0, 0, 0, 0, 0, 0, 0, { 0 } },
};

static void totals_sum_over_samples_that_have_each_figure(void **state)
{
	struct snapshot *s = build(SMAPS_FULL, machine, ARRAY_SIZE(machine));
	size_t i;

	(void)state;
	assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
	assert_int_equal(s->nprocs, 7);
	for (i = 1; i < s->nprocs; i++) /* sorted by pid */
		assert_true(s->procs[i - 1].pid < s->procs[i].pid);

	/* pss and uss over the five samples with a rollup (not 500, 600) */
	assert_true(s->have_pss_total && s->have_uss_total);
	assert_int_equal(s->pss_total, KB(300 + 700 + 250 + 4000 + 120));
	assert_int_equal(s->uss_total, KB((20 + 180) + (100 + 400) + (10 + 150) + (0 + 3900) + (4 + 96)));
	/* swap from status, every sample */
	assert_int_equal(s->swap_total, KB(10 + 0 + 30 + 7 + 3 + 0 + 0));

	/* quadrants over the four samples with full smaps (400, 100, 401, 200) */
	assert_true(s->have_quad_total);
	assert_int_equal(s->quad_total[QUADRANT_PRIVATE_ANON].rss, KB(200 + 500 + 150 + 90));
	assert_int_equal(s->quad_total[QUADRANT_PRIVATE_FILE].rss, KB(100 + 300 + 100 + 150));
	assert_int_equal(s->quad_total[QUADRANT_SHARED_ANON].rss, KB(50 + 0 + 50 + 0));
	assert_int_equal(s->quad_total[QUADRANT_SHARED_FILE].rss, KB(550 + 400 + 500 + 60));
	assert_int_equal(s->quad_total[QUADRANT_SHARED_FILE].size, 2 * KB(550 + 400 + 500 + 60));
	assert_int_equal(s->quad_total[QUADRANT_PRIVATE_ANON].pss, KB(200 + 500 + 150 + 90) / 2);
	assert_int_equal(s->quad_total[QUADRANT_SHARED_ANON].swap, 4 * KB(QUADRANT_SHARED_ANON));
	assert_int_equal(s->quad_total[QUADRANT_SHARED_FILE].dirty, KB(550 + 400 + 500 + 60) / 4);
	assert_int_equal(s->quad_total[QUADRANT_PRIVATE_FILE].pss_dirty, KB(100 + 300 + 100 + 150) / 8);
	assert_true(s->have_quad_pss_dirty);
	snapshot_free(s);
}

/* Pss_Dirty is known when the kernel printed it (in the rollup as in smaps, kernels >= 6.0),
 * for some process whose smaps was read. */
static void quadrant_pss_dirty_known_only_where_the_kernel_prints_it(void **state)
{
	struct spec old[ARRAY_SIZE(machine)];
	struct snapshot *s;
	size_t i;

	(void)state;
	s = build(SMAPS_FULL, machine, ARRAY_SIZE(machine));
	for (i = 0; i < s->nprocs; i++)
		s->procs[i].rollup.have &= ~(uint32_t)ROLLUP_PSS_DIRTY;
	assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
	assert_true(s->have_quad_total);
	assert_false(s->have_quad_pss_dirty);
	snapshot_free(s);

	/* only pid 300 has the line, and its smaps was not read */
	s = build(SMAPS_FULL, machine, ARRAY_SIZE(machine));
	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid != 300)
			s->procs[i].rollup.have &= ~(uint32_t)ROLLUP_PSS_DIRTY;
	assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
	assert_false(s->have_quad_pss_dirty);
	snapshot_free(s);

	/* rollup mode: no quadrants at all */
	for (i = 0; i < ARRAY_SIZE(machine); i++) {
		old[i] = machine[i];
		old[i].quads = 0;
	}
	s = build(SMAPS_ROLLUP, old, ARRAY_SIZE(old));
	assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
	assert_false(s->have_quad_pss_dirty);
	snapshot_free(s);
}

static void totals_absent_in_modes_that_cannot_know_them(void **state)
{
	struct snapshot *s;
	struct spec status_only[ARRAY_SIZE(machine)];
	size_t i;
	int q;

	(void)state;
	/* rollup mode: pss and uss, no quadrants */
	for (i = 0; i < ARRAY_SIZE(machine); i++) {
		status_only[i] = machine[i];
		status_only[i].quads = 0;
	}
	s = build(SMAPS_ROLLUP, status_only, ARRAY_SIZE(status_only));
	assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
	assert_true(s->have_pss_total && s->have_uss_total);
	assert_false(s->have_quad_total);
	assert_int_equal(s->pss_total, KB(300 + 700 + 250 + 4000 + 120));
	for (q = 0; q < QUADRANT_COUNT; q++)
		assert_int_equal(s->quad_total[q].rss + s->quad_total[q].size, 0);
	snapshot_free(s);

	/* off: status only; swap is still known */
	for (i = 0; i < ARRAY_SIZE(machine); i++)
		status_only[i].rollup = 0;
	s = build(SMAPS_OFF, status_only, ARRAY_SIZE(status_only));
	assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
	assert_false(s->have_pss_total);
	assert_false(s->have_uss_total);
	assert_false(s->have_quad_total);
	assert_int_equal(s->swap_total, KB(10 + 30 + 7 + 3));
	for (i = 0; i < s->nusers; i++)
		assert_false(s->users[i].have_pss || s->users[i].have_uss);
	snapshot_free(s);
}

/* No process read (or none readable) is still a known zero in the modes that read smaps. */
static void totals_of_empty_snapshot(void **state)
{
	static const enum smaps_mode modes[] = { SMAPS_OFF, SMAPS_ROLLUP, SMAPS_FULL };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		struct snapshot *s = snapshot_new(modes[i]);

		assert_non_null(s);
		assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
		assert_int_equal(s->pss_total + s->uss_total + s->swap_total, 0);
		assert_int_equal(s->have_pss_total, modes[i] != SMAPS_OFF);
		assert_int_equal(s->have_uss_total, modes[i] != SMAPS_OFF);
		assert_int_equal(s->have_quad_total, modes[i] == SMAPS_FULL);
		assert_int_equal(s->nusers + s->nunits + s->processes_exported, 0);
		snapshot_free(s);
	}
	snapshot_free(NULL);
}

static const struct agg_row *row(const struct agg_row *rows, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i].key.len == strlen(key) && memcmp(rows[i].key.s, key, rows[i].key.len) == 0)
			return &rows[i];
	fail_msg("no row \"%s\"", key);
	return NULL;
}

static void assert_sorted_unique(const struct agg_row *rows, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++) {
		size_t a = rows[i - 1].key.len, b = rows[i].key.len;
		int c = memcmp(rows[i - 1].key.s, rows[i].key.s, a < b ? a : b);

		assert_true(c < 0 || (c == 0 && a < b));
	}
}

static void users_aggregate_every_process_by_name(void **state)
{
	struct snapshot *s = build(SMAPS_FULL, machine, ARRAY_SIZE(machine));
	const struct agg_row *r;

	(void)state;
	assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
	assert_int_equal(s->nusers, 3);
	assert_sorted_unique(s->users, s->nusers);
	assert_string_equal(s->users[0].key.s, "alice");
	assert_string_equal(s->users[1].key.s, "root");
	assert_string_equal(s->users[2].key.s, "www-data");

	r = row(s->users, s->nusers, "alice"); /* 300 java, 200 bash */
	assert_int_equal(r->processes, 2);
	assert_int_equal(r->resident, KB(5000 + 300));
	assert_int_equal(r->swap, KB(7 + 0));
	assert_true(r->have_pss && r->have_uss);
	assert_int_equal(r->pss, KB(4000 + 120));
	assert_int_equal(r->uss, KB(3900 + 100));

	r = row(s->users, s->nusers, "root"); /* 100 systemd, 500 sshd (no rollup), 600 kworker */
	assert_int_equal(r->processes, 3);
	assert_int_equal(r->resident, KB(1200 + 600 + 0));
	assert_int_equal(r->swap, KB(0 + 3 + 0));
	assert_true(r->have_pss);
	assert_int_equal(r->pss, KB(700));
	assert_int_equal(r->uss, KB(500));

	r = row(s->users, s->nusers, "www-data"); /* 400, 401 */
	assert_int_equal(r->processes, 2);
	assert_int_equal(r->resident, KB(900 + 800));
	assert_int_equal(r->pss, KB(300 + 250));
	assert_int_equal(r->uss, KB(200 + 160));
	snapshot_free(s);
}

/* Three processes of alice share one mm (clone(CLONE_VM)): the collector marks the two read
 * after the first. Their series keep the mm's figures; totals and sums count it once, and
 * count the processes. */
static void a_shared_mm_is_counted_once(void **state)
{
	static const struct spec clones[] = {
		/* pid comm user unit rss swap roll pss pcl pdi quads qrss */
		{ 700, "evil", "alice", "evil.service", 65536, 8, 1, 65000, 0, 64000, 1, { 64000, 1000, 0, 0 } },
		{ 701, "evil", "alice", "evil.service", 65536, 8, 1, 65000, 0, 64000, 1, { 64000, 1000, 0, 0 } },
		{ 702, "evil", "alice", "evil.service", 65536, 8, 1, 65000, 0, 64000, 1, { 64000, 1000, 0, 0 } },
		{ 200, "bash", "alice", "session-3.scope", 300, 0, 1, 120, 4, 96, 1, { 90, 150, 0, 60 } },
	};
	struct snapshot *s = build(SMAPS_FULL, clones, ARRAY_SIZE(clones));
	const struct agg_row *r;
	size_t i;

	(void)state;
	s->procs[1].flags |= SAMPLE_MM_SHARED;
	s->procs[2].flags |= SAMPLE_MM_SHARED;
	assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
	assert_int_equal(s->pss_total, KB(65000 + 120));
	assert_int_equal(s->uss_total, KB(64000 + 100));
	assert_int_equal(s->swap_total, KB(8));
	assert_int_equal(s->quad_total[QUADRANT_PRIVATE_ANON].rss, KB(64000 + 90));
	assert_int_equal(s->quad_total[QUADRANT_PRIVATE_FILE].pss, KB(1000 + 150) / 2);
	r = row(s->users, s->nusers, "alice");
	assert_int_equal(r->processes, 4);
	assert_int_equal(r->resident, KB(65536 + 300));
	assert_int_equal(r->swap, KB(8));
	assert_int_equal(r->pss, KB(65000 + 120));
	assert_int_equal(r->uss, KB(64000 + 100));
	r = row(s->units, s->nunits, "evil.service");
	assert_int_equal(r->processes, 3);
	assert_int_equal(r->resident, KB(65536));
	assert_true(r->have_pss);
	assert_int_equal(r->pss, KB(65000));
	/* the series of each keep what the kernel says of it */
	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid >= 700)
			assert_int_equal(s->procs[i].rollup.pss, KB(65000));
	snapshot_free(s);
}

static void units_aggregate_with_empty_unit_for_processes_outside_one(void **state)
{
	struct snapshot *s = build(SMAPS_ROLLUP, machine, ARRAY_SIZE(machine));
	const struct agg_row *r;

	(void)state;
	assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
	assert_int_equal(s->nunits, 6);
	assert_sorted_unique(s->units, s->nunits);
	assert_int_equal(s->units[0].key.len, 0); /* "" sorts first */
	assert_string_equal(s->units[0].key.s, "");
	assert_int_equal(s->units[0].processes, 1);
	assert_false(s->units[0].have_pss); /* the kernel thread has no rollup */

	r = row(s->units, s->nunits, "nginx.service");
	assert_int_equal(r->processes, 2);
	assert_int_equal(r->resident, KB(900 + 800));
	assert_int_equal(r->swap, KB(10 + 30));
	assert_int_equal(r->pss, KB(300 + 250));
	r = row(s->units, s->nunits, "sshd.service");
	assert_int_equal(r->processes, 1);
	assert_false(r->have_pss);
	assert_false(r->have_uss);
	assert_int_equal(r->pss + r->uss, 0);
	assert_int_equal(r->resident, KB(600));
	snapshot_free(s);
}

/* Rows are keyed by the bytes of the name, not by where the string lives, and a name that is a
 * prefix of another is a different row. */
static void aggregation_groups_by_string_content(void **state)
{
	static const struct spec specs[] = {
		{ 1, "a", "ab", "x.service", 1, 0, 0, 0, 0, 0, 0, { 0 } },
		{ 2, "a", "abc", "x.service", 2, 0, 0, 0, 0, 0, 0, { 0 } },
		{ 3, "a", "ab", "x.service", 4, 0, 0, 0, 0, 0, 0, { 0 } },
		{ 4, "a", "Ab", "x.servicf", 8, 0, 0, 0, 0, 0, 0, { 0 } },
		{ 5, "a", "ab", "x.service", 16, 0, 0, 0, 0, 0, 0, { 0 } },
	};
	struct snapshot *s = build(SMAPS_OFF, specs, ARRAY_SIZE(specs));

	(void)state;
	assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
	assert_int_equal(s->nusers, 3);
	assert_string_equal(s->users[0].key.s, "Ab"); /* bytewise: 'A' < 'a' */
	assert_string_equal(s->users[1].key.s, "ab");
	assert_string_equal(s->users[2].key.s, "abc");
	assert_int_equal(s->users[1].processes, 3);
	assert_int_equal(s->users[1].resident, KB(1 + 4 + 16));
	assert_int_equal(s->users[2].resident, KB(2));
	assert_int_equal(s->nunits, 2);
	assert_int_equal(row(s->units, s->nunits, "x.service")->resident, KB(1 + 2 + 4 + 16));
	snapshot_free(s);
}

/* ---- selection ---------------------------------------------------------------------------- */

static void compile(struct pattern **re, const char *expr)
{
	struct buf err = BUF_INIT;

	assert_int_equal(pattern_compile(expr, re, &err), 0);
	buf_done(&err);
}

static bool exported(const struct snapshot *s, uint32_t pid)
{
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return s->procs[i].flags & SAMPLE_EXPORTED;
	fail_msg("no pid %u", pid);
	return false;
}

/* The pids exported, as a bit per pid/100 (the machine's pids are multiples of 100, or +1). */
static unsigned exported_set(const struct snapshot *s)
{
	unsigned set = 0, n = 0;
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].flags & SAMPLE_EXPORTED) {
			set |= 1u << (s->procs[i].pid / 100 * 2 + s->procs[i].pid % 100);
			n++;
		}
	assert_int_equal(n, s->processes_exported);
	return set;
}
#define PIDBIT(pid) (1u << ((pid) / 100 * 2 + (pid) % 100))

static struct snapshot *select_machine(enum smaps_mode mode, const struct select_opts *sel)
{
	struct snapshot *s = build(mode, machine, ARRAY_SIZE(machine));

	assert_int_equal(snapshot_finish(s, sel), 0);
	return s;
}

/* Sets p's cgroup from a cgroup file, as the collector does. */
static void in_cgroup(struct snapshot *s, size_t i, const char *file)
{
	struct cgroup_info info;

	assert_int_equal(proc_cgroup_parse(file, strlen(file), NULL, 0, &info), 0);
	assert_int_equal(snapshot_set_cgroup(s, &s->procs[i], &info), 0);
}

/* --cgroup-top: the N with most PSS (RSS where no PSS was read; equal figures by path, so the
 * cut is the same from cycle to cycle), sorted by path, then one "other" row with the rest. */
static void cgroup_top_keeps_the_largest_and_sums_the_rest(void **state)
{
	static const struct spec specs[] = {
		/* pid comm user unit rss swap roll pss pcl pdi */
		{ 1, "a", "u", "", 100, 1, 1, 40, 0, 10, 0, { 0 } },  /* /c: PSS 40 */
		{ 2, "a", "u", "", 100, 2, 1, 30, 0, 10, 0, { 0 } },  /* /b: PSS 30 */
		{ 3, "a", "u", "", 100, 3, 1, 30, 0, 10, 0, { 0 } },  /* /a: PSS 30, ties with /b, sorts first */
		{ 4, "a", "u", "", 500, 4, 0, 0, 0, 0, 0, { 0 } },    /* /d: no PSS read, ranks by RSS 500 */
		{ 5, "a", "u", "", 100, 5, 1, 5, 0, 1, 0, { 0 } },    /* /e */
		{ 6, "a", "u", "", 100, 6, 1, 5, 0, 1, 0, { 0 } },    /* /e again */
	};
	static const char *const files[] = { "0::/c\n", "0::/b\n", "0::/a\n", "0::/d\n", "0::/e\n", "0::/e\n" };
	struct select_opts sel = { .cgroup_top = 3 };
	struct snapshot *s = build(SMAPS_ROLLUP, specs, ARRAY_SIZE(specs));
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(files); i++)
		in_cgroup(s, i, files[i]);
	assert_int_equal(snapshot_finish(s, &sel), 0);
	assert_int_equal(s->cgroups_seen, 5);
	/* kept: /d (500 by RSS), /c (40), /a (30, before /b by path); sorted by path */
	assert_int_equal(s->ncgroups, 4);
	assert_string_equal(s->cgroups[0].key.s, "/a");
	assert_string_equal(s->cgroups[1].key.s, "/c");
	assert_string_equal(s->cgroups[2].key.s, "/d");
	assert_false(s->cgroups[2].have_pss);
	assert_int_equal(s->cgroups[2].sample->pid, 4);
	/* the rest: /b and /e (two processes) */
	assert_string_equal(s->cgroups[3].key.s, AGG_OTHER);
	assert_null(s->cgroups[3].sample);
	assert_int_equal(s->cgroups[3].processes, 3);
	assert_int_equal(s->cgroups[3].pss, KB(30 + 5 + 5));
	assert_int_equal(s->cgroups[3].uss, KB(10 + 1 + 1));
	assert_int_equal(s->cgroups[3].resident, KB(300));
	assert_int_equal(s->cgroups[3].swap, KB(2 + 5 + 6));
	assert_true(s->cgroups[3].have_pss && s->cgroups[3].have_uss);
	/* no containers or pods in these paths */
	assert_int_equal(s->ncontainers + s->npods + s->containers_seen + s->pods_seen, 0);
	snapshot_free(s);

	/* as many as the bound, or no bound: no "other" */
	for (i = 0; i < 2; i++) {
		sel.cgroup_top = i ? 0 : 5;
		s = build(SMAPS_ROLLUP, specs, ARRAY_SIZE(specs));
		for (size_t k = 0; k < ARRAY_SIZE(files); k++)
			in_cgroup(s, k, files[k]);
		assert_int_equal(snapshot_finish(s, &sel), 0);
		assert_int_equal(s->ncgroups, 5);
		assert_string_equal(s->cgroups[4].key.s, "/e");
		assert_int_equal(s->cgroups[4].processes, 2);
		snapshot_free(s);
	}
}

/* A container is its cgroup and everything below it; a pod likewise. */
static void containers_and_pods_group_by_their_cgroup(void **state)
{
	static const struct spec specs[] = {
		{ 1, "a", "u", "", 10, 0, 1, 10, 0, 1, 0, { 0 } },
		{ 2, "a", "u", "", 20, 0, 1, 20, 0, 2, 0, { 0 } },
		{ 3, "a", "u", "", 40, 0, 1, 40, 0, 4, 0, { 0 } },
		{ 4, "a", "u", "", 80, 0, 1, 80, 0, 8, 0, { 0 } },
	};
	static const char *const files[] = {
		"0::/system.slice/docker-0000000000000000000000000000000000000000000000000000000000000000.scope\n",
		"0::/system.slice/docker-0000000000000000000000000000000000000000000000000000000000000000.scope/a/b\n",
		"0::/kubepods/pod0b0b0b0b-1111-2222-3333-444444444444/1111111111111111111111111111111111111111111111111111111111111111\n",
		"0::/kubepods/pod0b0b0b0b-1111-2222-3333-444444444444\n",
	};
	struct snapshot *s = build(SMAPS_ROLLUP, specs, ARRAY_SIZE(specs));
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(files); i++)
		in_cgroup(s, i, files[i]);
	assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
	assert_int_equal(s->ncgroups, 4);
	assert_int_equal(s->ncontainers, 2);
	assert_int_equal(s->containers[0].key.len, strlen("/kubepods/pod0b0b0b0b-1111-2222-3333-444444444444/1111111111111111111111111111111111111111111111111111111111111111"));
	assert_int_equal(s->containers[0].pss, KB(40));
	assert_int_equal(s->containers[1].key.len, strlen("/system.slice/docker-0000000000000000000000000000000000000000000000000000000000000000.scope"));
	assert_int_equal(s->containers[1].pss, KB(10 + 20));
	assert_int_equal(s->containers[1].processes, 2);
	assert_int_equal(s->containers[1].sample->cg.runtime, CGROUP_RUNTIME_DOCKER);
	assert_int_equal(s->npods, 1);
	assert_int_equal(s->pods[0].pss, KB(40 + 80));
	assert_string_equal(s->pods[0].sample->cg.pod_uid.s, "0b0b0b0b-1111-2222-3333-444444444444");
	assert_int_equal(s->containers_seen, 2);
	assert_int_equal(s->pods_seen, 1);
	snapshot_free(s);
}

static void select_all_by_default(void **state)
{
	struct snapshot *s = select_machine(SMAPS_FULL, &SELECT_ALL);

	(void)state;
	assert_int_equal(s->processes_exported, 7);
	assert_int_equal(exported_set(s), PIDBIT(100) | PIDBIT(200) | PIDBIT(300) | PIDBIT(400) |
						  PIDBIT(401) | PIDBIT(500) | PIDBIT(600));
	snapshot_free(s);
}

static void select_include_and_exclude_match_whole_comm(void **state)
{
	struct select_opts sel = { 0 };
	struct pattern *inc, *exc;
	struct snapshot *s;

	(void)state;
	/* anchored: "ngin" does not match "nginx" */
	compile(&inc, "ngin");
	sel.include = inc;
	s = select_machine(SMAPS_FULL, &sel);
	assert_int_equal(s->processes_exported, 0);
	snapshot_free(s);
	pattern_free(inc);

	compile(&inc, "nginx|sshd|java");
	sel.include = inc;
	s = select_machine(SMAPS_FULL, &sel);
	assert_int_equal(exported_set(s), PIDBIT(400) | PIDBIT(401) | PIDBIT(500) | PIDBIT(300));
	snapshot_free(s);

	/* exclude wins over include */
	compile(&exc, "java|kworker/.*");
	sel.exclude = exc;
	s = select_machine(SMAPS_FULL, &sel);
	assert_int_equal(exported_set(s), PIDBIT(400) | PIDBIT(401) | PIDBIT(500));
	snapshot_free(s);

	/* exclude alone */
	sel.include = NULL;
	s = select_machine(SMAPS_FULL, &sel);
	assert_int_equal(exported_set(s), PIDBIT(100) | PIDBIT(200) | PIDBIT(400) | PIDBIT(401) | PIDBIT(500));
	assert_false(exported(s, 600));
	snapshot_free(s);
	pattern_free(inc);
	pattern_free(exc);
}

static void select_min_rss_is_inclusive(void **state)
{
	struct select_opts sel = { .min_rss = KB(900) };
	struct snapshot *s = select_machine(SMAPS_FULL, &sel);

	(void)state;
	/* resident 900 (400), 1200 (100), 5000 (300) */
	assert_int_equal(exported_set(s), PIDBIT(400) | PIDBIT(100) | PIDBIT(300));
	snapshot_free(s);
}

static void select_top_ranks_by_pss_then_rss(void **state)
{
	struct select_opts sel = { .top = 3 };
	struct snapshot *s;

	(void)state;
	/* ranks: PSS where the rollup was read (300: 4000, 100: 700, 400: 300, 401: 250, 200: 120),
	 * resident where not (500: 600, 600: 0) */
	s = select_machine(SMAPS_FULL, &sel);
	assert_int_equal(exported_set(s), PIDBIT(300) | PIDBIT(100) | PIDBIT(500));
	snapshot_free(s);
	sel.top = 4;
	s = select_machine(SMAPS_FULL, &sel);
	assert_int_equal(exported_set(s), PIDBIT(300) | PIDBIT(100) | PIDBIT(500) | PIDBIT(400));
	snapshot_free(s);
	/* top larger than the candidates: all of them */
	sel.top = 100;
	s = select_machine(SMAPS_FULL, &sel);
	assert_int_equal(s->processes_exported, 7);
	snapshot_free(s);
	/* in off mode everything ranks by resident: 300 (5000), 100 (1200), 400 (900) */
	sel.top = 3;
	{
		struct spec off[ARRAY_SIZE(machine)];
		size_t i;

		for (i = 0; i < ARRAY_SIZE(machine); i++) {
			off[i] = machine[i];
			off[i].rollup = off[i].quads = 0;
		}
		s = build(SMAPS_OFF, off, ARRAY_SIZE(off));
		assert_int_equal(snapshot_finish(s, &sel), 0);
		assert_int_equal(exported_set(s), PIDBIT(300) | PIDBIT(100) | PIDBIT(400));
		snapshot_free(s);
	}
}

static void select_top_after_filters(void **state)
{
	struct select_opts sel = { .top = 2 };
	struct pattern *inc;
	struct snapshot *s;

	(void)state;
	compile(&inc, "nginx|bash|sshd");
	sel.include = inc;
	/* candidates 400 (300), 401 (250), 200 (120), 500 (rss 600) */
	s = select_machine(SMAPS_FULL, &sel);
	assert_int_equal(exported_set(s), PIDBIT(500) | PIDBIT(400));
	snapshot_free(s);
	sel.min_rss = KB(850); /* leaves 400 (900) only */
	s = select_machine(SMAPS_FULL, &sel);
	assert_int_equal(exported_set(s), PIDBIT(400));
	snapshot_free(s);
	pattern_free(inc);
}

static void select_top_ties_go_to_the_lower_pid(void **state)
{
	static const struct spec tied[] = {
		/* equal PSS 50 for 7, 3, 9; 5 ranks by resident 50 (no rollup) */
		{ 7, "a", "u", "", 100, 0, 1, 50, 0, 0, 0, { 0 } },
		{ 9, "a", "u", "", 100, 0, 1, 50, 0, 0, 0, { 0 } },
		{ 3, "a", "u", "", 999, 0, 1, 50, 0, 0, 0, { 0 } },
		{ 5, "a", "u", "", 50, 0, 0, 0, 0, 0, 0, { 0 } },
		{ 8, "a", "u", "", 10, 0, 1, 60, 0, 0, 0, { 0 } },
	};
	struct select_opts sel = { .top = 3 };
	struct snapshot *s = build(SMAPS_ROLLUP, tied, ARRAY_SIZE(tied));

	(void)state;
	assert_int_equal(snapshot_finish(s, &sel), 0);
	assert_int_equal(s->processes_exported, 3);
	assert_true(exported(s, 8));  /* 60 */
	assert_true(exported(s, 3));  /* 50, lowest pid */
	assert_true(exported(s, 5));  /* 50 */
	assert_false(exported(s, 7)); /* 50 */
	assert_false(exported(s, 9)); /* 50 */
	snapshot_free(s);
}

static void rank_is_pss_where_known_else_resident(void **state)
{
	struct proc_sample p;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.status.vm_rss = 1000;
	assert_int_equal(proc_sample_rank(&p), 1000);
	p.rollup.have = ROLLUP_PSS;
	p.rollup.pss = 10;
	assert_int_equal(proc_sample_rank(&p), 1000); /* rollup not read */
	p.flags = SAMPLE_ROLLUP;
	assert_int_equal(proc_sample_rank(&p), 10);
	p.rollup.have = ROLLUP_RSS; /* read, but without a Pss line */
	assert_int_equal(proc_sample_rank(&p), 1000);
	p.rollup.have = ROLLUP_PSS;
	p.rollup.pss = 0; /* a known zero is a rank */
	assert_int_equal(proc_sample_rank(&p), 0);
}

static void assert_same_figures(const struct snapshot *a, const struct snapshot *b)
{
	size_t i;

	assert_int_equal(a->pss_total, b->pss_total);
	assert_int_equal(a->uss_total, b->uss_total);
	assert_int_equal(a->swap_total, b->swap_total);
	assert_memory_equal(a->quad_total, b->quad_total, sizeof(a->quad_total));
	assert_int_equal(a->nusers, b->nusers);
	assert_int_equal(a->nunits, b->nunits);
	for (i = 0; i < a->nusers; i++) {
		assert_string_equal(a->users[i].key.s, b->users[i].key.s);
		assert_int_equal(a->users[i].processes, b->users[i].processes);
		assert_int_equal(a->users[i].resident, b->users[i].resident);
		assert_int_equal(a->users[i].pss, b->users[i].pss);
		assert_int_equal(a->users[i].uss, b->users[i].uss);
		assert_int_equal(a->users[i].swap, b->users[i].swap);
	}
	for (i = 0; i < a->nunits; i++) {
		assert_string_equal(a->units[i].key.s, b->units[i].key.s);
		assert_int_equal(a->units[i].processes, b->units[i].processes);
		assert_int_equal(a->units[i].resident, b->units[i].resident);
		assert_int_equal(a->units[i].pss, b->units[i].pss);
	}
}

static void filters_never_change_totals_or_aggregates(void **state)
{
	struct select_opts sel = { .top = 1, .min_rss = KB(1000) };
	struct snapshot *all, *few;
	struct pattern *inc, *exc;

	(void)state;
	compile(&inc, "java|systemd");
	compile(&exc, "systemd");
	sel.include = inc;
	sel.exclude = exc;
	all = select_machine(SMAPS_FULL, &SELECT_ALL);
	few = select_machine(SMAPS_FULL, &sel);
	assert_int_equal(few->processes_exported, 1);
	assert_true(exported(few, 300));
	assert_int_equal(few->nprocs, all->nprocs);
	assert_same_figures(all, few);
	snapshot_free(few);
	/* a filter that selects nothing */
	pattern_free(inc);
	compile(&inc, "nothing");
	sel.include = inc;
	few = select_machine(SMAPS_FULL, &sel);
	assert_int_equal(few->processes_exported, 0);
	assert_same_figures(all, few);
	snapshot_free(few);
	snapshot_free(all);
	pattern_free(inc);
	pattern_free(exc);
}

/* More samples than the first allocation, and a dropped last one. */
static void samples_grow_and_drop_last(void **state)
{
	struct snapshot *s = snapshot_new(SMAPS_ROLLUP);
	struct spec sp = { 0, "w", "u", "", 1, 0, 1, 2, 0, 1, 0, { 0 } };
	uint32_t i;

	(void)state;
	for (i = 1000; i > 0; i--) {
		sp.pid = i;
		add_sample(s, &sp);
	}
	sp.pid = 5000;
	sp.pss = 1000000;
	add_sample(s, &sp);
	snapshot_drop_last(s); /* vanished half-way */
	assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
	assert_int_equal(s->nprocs, 1000);
	assert_int_equal(s->procs[0].pid, 1);
	assert_int_equal(s->procs[999].pid, 1000);
	assert_int_equal(s->pss_total, KB(2 * 1000));
	assert_int_equal(s->uss_total, KB(1 * 1000));
	assert_int_equal(s->nusers, 1);
	assert_int_equal(s->users[0].processes, 1000);
	assert_int_equal(s->processes_exported, 1000);
	snapshot_free(s);
}

static void sums_saturate_instead_of_wrapping(void **state)
{
	struct snapshot *s = snapshot_new(SMAPS_ROLLUP);
	struct proc_sample *p;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		p = snapshot_add_proc(s);
		assert_non_null(p);
		p->pid = (uint32_t)i + 1;
		p->flags = SAMPLE_ROLLUP;
		p->rollup.have = ROLLUP_PSS;
		p->rollup.pss = UINT64_MAX - 1;
		p->status.vm_rss = UINT64_MAX - 1;
	}
	assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
	assert_int_equal(s->pss_total, UINT64_MAX);
	assert_int_equal(s->users[0].resident, UINT64_MAX);
	snapshot_free(s);

	s = snapshot_new(SMAPS_FULL);
	for (i = 0; i < 2; i++) {
		p = snapshot_add_proc(s);
		assert_non_null(p);
		p->pid = (uint32_t)i + 1;
		p->flags = SAMPLE_ROLLUP | SAMPLE_QUADRANTS;
		p->quad[QUADRANT_SHARED_FILE].dirty = UINT64_MAX - 1;
		p->quad[QUADRANT_SHARED_FILE].pss_dirty = UINT64_MAX / 2 + 1;
	}
	assert_int_equal(snapshot_finish(s, &SELECT_ALL), 0);
	assert_int_equal(s->quad_total[QUADRANT_SHARED_FILE].dirty, UINT64_MAX);
	assert_int_equal(s->quad_total[QUADRANT_SHARED_FILE].pss_dirty, UINT64_MAX);
	snapshot_free(s);
}

/* USS is one rule for the totals, the aggregates, the exposition and the page: known from a
 * rollup with both Private lines whose sum fits in 64 bits. */
static void uss_known_only_from_a_rollup_with_both_private_lines(void **state)
{
	struct proc_sample p = { .flags = SAMPLE_ROLLUP };
	uint64_t v = 1;

	(void)state;
	p.rollup.private_clean = 3 * 1024;
	p.rollup.private_dirty = 5 * 1024;
	p.rollup.have = ROLLUP_PRIVATE_CLEAN | ROLLUP_PRIVATE_DIRTY;
	assert_true(proc_sample_uss(&p, &v));
	assert_int_equal(v, 8 * 1024);
	p.rollup.have = ROLLUP_PRIVATE_CLEAN;
	assert_false(proc_sample_uss(&p, &v));
	assert_int_equal(v, 0);
	p.rollup.have = ROLLUP_PRIVATE_CLEAN | ROLLUP_PRIVATE_DIRTY;
	p.flags = SAMPLE_QUADRANTS;
	assert_false(proc_sample_uss(&p, &v));
	p.flags = SAMPLE_ROLLUP;
	p.rollup.private_clean = UINT64_MAX - 1023;
	assert_false(proc_sample_uss(&p, &v));
	p.rollup.private_dirty = 1023;
	assert_true(proc_sample_uss(&p, &v));
	assert_int_equal(v, UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(totals_sum_over_samples_that_have_each_figure),
		cmocka_unit_test(quadrant_pss_dirty_known_only_where_the_kernel_prints_it),
		cmocka_unit_test(totals_absent_in_modes_that_cannot_know_them),
		cmocka_unit_test(totals_of_empty_snapshot),
		cmocka_unit_test(users_aggregate_every_process_by_name),
		cmocka_unit_test(a_shared_mm_is_counted_once),
		cmocka_unit_test(units_aggregate_with_empty_unit_for_processes_outside_one),
		cmocka_unit_test(aggregation_groups_by_string_content),
		cmocka_unit_test(cgroup_top_keeps_the_largest_and_sums_the_rest),
		cmocka_unit_test(containers_and_pods_group_by_their_cgroup),
		cmocka_unit_test(select_all_by_default),
		cmocka_unit_test(select_include_and_exclude_match_whole_comm),
		cmocka_unit_test(select_min_rss_is_inclusive),
		cmocka_unit_test(select_top_ranks_by_pss_then_rss),
		cmocka_unit_test(select_top_after_filters),
		cmocka_unit_test(select_top_ties_go_to_the_lower_pid),
		cmocka_unit_test(rank_is_pss_where_known_else_resident),
		cmocka_unit_test(filters_never_change_totals_or_aggregates),
		cmocka_unit_test(samples_grow_and_drop_last),
		cmocka_unit_test(sums_saturate_instead_of_wrapping),
		cmocka_unit_test(uss_known_only_from_a_rollup_with_both_private_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
