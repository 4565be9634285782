/* test_select.c — the choice of processes for per-process series (select.h): the two tiers,
 * the age filter and the margin (hysteresis), cycle after cycle.
 *
 * Most cases are fixture files, tests/fixtures/select/NAME.sel (format in the README there): a
 * sequence of cycles, each a snapshot of processes with start times and PSS and the tier each
 * must get, worked out by hand. The harness runs them as the collector does: snapshot_finish()
 * with the last cycle's choice as select_opts.prev, then select_memory_save(). The rest are
 * edges a fixture cannot write: ranks near 2^64, no boot time, the filters, the memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pattern.h"
#include "select.h"
#include "snapshot.h"

#define FIXTURES "tests/fixtures/select/"
#define HZ 100u
#define NS 1000000000ull

/* ---- the fixture format -------------------------------------------------------------------- */

struct line {
	char *words[8];
	int n;
};

/* Splits a line at blanks; '#' lines and blank lines have no words. */
static void split(char *s, struct line *l)
{
	l->n = 0;
	if (*s == '#')
		return;
	while (*s && l->n < 8) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			*s++ = '\0';
		if (!*s)
			break;
		l->words[l->n++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\n')
			s++;
	}
}

static uint64_t number(const char *w, const char *file, int lineno)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(w, &end, 10);
	if (errno || end == w || *end || *w == '-')
		fail_msg("%s:%d: \"%s\" is not a number", file, lineno, w);
	return v;
}

struct proc_want {
	uint32_t pid;
	enum select_tier tier;
};

struct run {
	const char *file;
	struct select_opts opts;
	struct select_memory mem;
	struct snapshot *s;
	struct proc_want want[64];
	size_t nwant;
	uint64_t now_s;
	int cycle_line, cycles;
};

static enum select_tier tier_of(const struct proc_sample *p)
{
	if (!(p->flags & SAMPLE_EXPORTED)) {
		assert_false(p->flags & SAMPLE_DETAIL); /* no detail without the summary */
		return SELECT_NONE;
	}
	return p->flags & SAMPLE_DETAIL ? SELECT_DETAIL : SELECT_SUMMARY;
}

/* Runs the cycle collected in r and checks every process's tier. */
static void finish_cycle(struct run *r)
{
	static const char tiers[] = "-sd";
	size_t i, j, exported = 0;

	if (!r->s)
		return;
	r->opts.prev = r->cycles ? &r->mem : NULL;
	r->opts.now_ns = r->now_s * NS;
	assert_int_equal(snapshot_finish(r->s, &r->opts), 0);
	for (i = 0; i < r->nwant; i++) {
		const struct proc_sample *p = NULL;

		for (j = 0; j < r->s->nprocs; j++)
			if (r->s->procs[j].pid == r->want[i].pid)
				p = &r->s->procs[j];
		assert_non_null(p);
		if (tier_of(p) != r->want[i].tier)
			fail_msg("%s: cycle at line %d: pid %u got tier %c, want %c", r->file, r->cycle_line,
				 p->pid, tiers[tier_of(p)], tiers[r->want[i].tier]);
		exported += r->want[i].tier != SELECT_NONE;
	}
	assert_int_equal(r->s->processes_exported, exported);
	assert_int_equal(r->nwant, r->s->nprocs); /* every process checked */
	assert_int_equal(select_memory_save(&r->mem, r->s), 0);
	assert_int_equal(r->mem.n, exported);
	for (i = 1; i < r->mem.n; i++)
		assert_true(r->mem.v[i - 1].pid < r->mem.v[i].pid);
	snapshot_free(r->s);
	r->s = NULL;
	r->nwant = 0;
	r->cycles++;
}

static void add_proc(struct run *r, const struct line *l, int lineno)
{
	struct proc_sample *p = snapshot_add_proc(r->s);
	const char *t = l->words[3];

	assert_non_null(p);
	assert_true(r->nwant < sizeof(r->want) / sizeof(r->want[0]));
	p->pid = (uint32_t)number(l->words[0], r->file, lineno);
	p->start_ticks = number(l->words[1], r->file, lineno) * HZ;
	p->status.have = PROC_STATUS_VMRSS;
	p->status.vm_rss = 1u << 30; /* more than any rank: the rank must come from the rollup */
	p->flags = SAMPLE_ROLLUP;
	p->rollup.have = ROLLUP_PSS;
	p->rollup.pss = number(l->words[2], r->file, lineno) * 1024;
	if (strlen(t) != 1 || !strchr("-sd", *t))
		fail_msg("%s:%d: tier \"%s\" is not -, s or d", r->file, lineno, t);
	r->want[r->nwant++] = (struct proc_want){
		p->pid, *t == 'd' ? SELECT_DETAIL : *t == 's' ? SELECT_SUMMARY : SELECT_NONE
	};
}

static void run_fixture(const char *name)
{
	char path[256], text[256];
	struct run r = { .file = name };
	struct line l;
	int lineno = 0;
	bool have_options = false;
	FILE *f;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	while (fgets(text, sizeof(text), f)) {
		lineno++;
		split(text, &l);
		if (l.n == 0)
			continue;
		if (strcmp(l.words[0], "options") == 0 && l.n == 5) {
			r.opts.top = (unsigned)number(l.words[1], name, lineno);
			r.opts.detail_top = (unsigned)number(l.words[2], name, lineno);
			r.opts.top_margin_pct = (unsigned)number(l.words[3], name, lineno);
			r.opts.top_min_age_ns = number(l.words[4], name, lineno) * NS;
			have_options = true;
		} else if (strcmp(l.words[0], "cycle") == 0 && l.n == 2 && have_options) {
			finish_cycle(&r);
			r.s = snapshot_new(SMAPS_ROLLUP);
			assert_non_null(r.s);
			r.s->btime = 0;
			r.s->hz = HZ;
			r.now_s = number(l.words[1], name, lineno);
			r.cycle_line = lineno;
		} else if (l.n == 4 && r.s) {
			add_proc(&r, &l, lineno);
		} else {
			fail_msg("%s:%d: cannot read this line", name, lineno);
		}
	}
	fclose(f);
	finish_cycle(&r);
	assert_true(r.cycles >= 2); /* a fixture of one cycle would not test the memory */
	select_memory_done(&r.mem);
}

static void fixture_flapping_without_margin(void **state)
{
	(void)state;
	run_fixture("flap-margin0.sel");
}

static void fixture_flapping_damped_by_margin(void **state)
{
	(void)state;
	run_fixture("flap-margin20.sel");
}

static void fixture_detail_tier_has_its_own_incumbents(void **state)
{
	(void)state;
	run_fixture("detail.sel");
}

static void fixture_young_processes_wait(void **state)
{
	(void)state;
	run_fixture("young.sel");
}

static void fixture_top_0_has_no_age_filter(void **state)
{
	(void)state;
	run_fixture("all-young.sel");
}

static void fixture_reused_pid_is_a_newcomer(void **state)
{
	(void)state;
	run_fixture("reuse.sel");
}

/* ---- edges -------------------------------------------------------------------------------- */

static struct proc_sample *add(struct snapshot *s, uint32_t pid, const char *comm, uint64_t pss,
			       uint64_t start_ticks)
{
	struct proc_sample *p = snapshot_add_proc(s);

	assert_non_null(p);
	p->pid = pid;
	p->start_ticks = start_ticks;
	assert_int_equal(snapshot_str(s, comm, strlen(comm), &p->comm), 0);
	p->status.have = PROC_STATUS_VMRSS;
	p->status.vm_rss = pss;
	p->flags = SAMPLE_ROLLUP;
	p->rollup.have = ROLLUP_PSS;
	p->rollup.pss = pss;
	return p;
}

static const struct proc_sample *find(const struct snapshot *s, uint32_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	fail_msg("no pid %u", pid);
	return NULL;
}

static void margin_never_overflows(void **state)
{
	struct select_opts o = { .top = 1, .top_margin_pct = 1000 };
	struct select_memory mem = { 0 };
	struct snapshot *s;

	(void)state;
	/* 2^64 - 1 times 1100 does not fit in 64 bits: compared in 128, the incumbent (2) keeps
	 * its place against a newcomer (1) of the same rank, and a newcomer 11 times larger than
	 * an incumbent of rank 2^60 does not pass it (margin 1000%: more than 11 times is needed) */
	s = snapshot_new(SMAPS_ROLLUP);
	add(s, 2, "a", UINT64_MAX, 0);
	add(s, 1, "b", UINT64_MAX - 1, 0);
	assert_int_equal(snapshot_finish(s, &o), 0);
	assert_true(find(s, 2)->flags & SAMPLE_EXPORTED);
	assert_int_equal(select_memory_save(&mem, s), 0);
	snapshot_free(s);

	s = snapshot_new(SMAPS_ROLLUP);
	add(s, 2, "a", UINT64_MAX - 1, 0);
	add(s, 1, "b", UINT64_MAX, 0);
	o.prev = &mem;
	assert_int_equal(snapshot_finish(s, &o), 0);
	assert_true(find(s, 2)->flags & SAMPLE_EXPORTED);
	assert_false(find(s, 1)->flags & SAMPLE_EXPORTED);
	assert_int_equal(select_memory_save(&mem, s), 0);
	snapshot_free(s);

	s = snapshot_new(SMAPS_ROLLUP);
	add(s, 2, "a", 1ull << 60, 0);
	add(s, 1, "b", 11ull << 60, 0);
	assert_int_equal(snapshot_finish(s, &o), 0);
	assert_true(find(s, 2)->flags & SAMPLE_EXPORTED);
	snapshot_free(s);
	select_memory_done(&mem);
}

static void no_boot_time_means_no_age_filter(void **state)
{
	struct select_opts o = { .top = 5, .top_min_age_ns = 30 * NS, .now_ns = 100 * NS };
	struct snapshot *s = snapshot_new(SMAPS_ROLLUP);

	(void)state;
	/* hz 0: the collector could not read /proc/stat's btime, so no start time is known */
	s->btime = 0;
	s->hz = 0;
	add(s, 1, "a", 10, 99 * HZ);
	assert_int_equal(snapshot_finish(s, &o), 0);
	assert_true(find(s, 1)->flags & SAMPLE_EXPORTED);
	snapshot_free(s);

	/* with it, the same process is 1 s old */
	s = snapshot_new(SMAPS_ROLLUP);
	s->hz = HZ;
	add(s, 1, "a", 10, 99 * HZ);
	assert_int_equal(snapshot_finish(s, &o), 0);
	assert_false(find(s, 1)->flags & SAMPLE_EXPORTED);
	snapshot_free(s);
}

static void filters_come_before_both_cuts_and_the_memory(void **state)
{
	struct select_opts o = { .top = 1, .detail_top = 1, .top_margin_pct = 50 };
	struct select_memory mem = { 0 };
	struct pattern *exc;
	struct buf err = BUF_INIT;
	struct snapshot *s;

	(void)state;
	assert_int_equal(pattern_compile("b", &exc, &err), 0);
	s = snapshot_new(SMAPS_ROLLUP);
	add(s, 1, "a", 100, 0);
	add(s, 2, "b", 90, 0);
	assert_int_equal(snapshot_finish(s, &o), 0);
	assert_int_equal(select_memory_save(&mem, s), 0);
	assert_int_equal(mem.n, 1);
	assert_int_equal(mem.v[0].pid, 1);
	assert_int_equal(mem.v[0].tier, SELECT_DETAIL);
	snapshot_free(s);

	/* the incumbent excluded by a reload's --exclude: out, whatever its margin */
	s = snapshot_new(SMAPS_ROLLUP);
	add(s, 1, "b", 100, 0);
	add(s, 2, "c", 60, 0);
	o.prev = &mem;
	o.exclude = exc;
	assert_int_equal(snapshot_finish(s, &o), 0);
	assert_false(find(s, 1)->flags & SAMPLE_EXPORTED);
	assert_true(find(s, 2)->flags & SAMPLE_DETAIL);
	assert_int_equal(s->processes_exported, 1);
	snapshot_free(s);
	select_memory_done(&mem);
	pattern_free(exc);
	buf_done(&err);
}

static void memory_keeps_the_last_choice_only(void **state)
{
	struct select_opts o = { .top = 2, .detail_top = 1 };
	struct select_memory mem = { 0 };
	struct snapshot *s = snapshot_new(SMAPS_ROLLUP);

	(void)state;
	add(s, 30, "a", 5, 7);
	add(s, 10, "b", 50, 8);
	add(s, 20, "c", 40, 9);
	assert_int_equal(snapshot_finish(s, &o), 0);
	assert_int_equal(select_memory_save(&mem, s), 0);
	assert_int_equal(mem.n, 2);
	assert_int_equal(mem.v[0].pid, 10);
	assert_int_equal(mem.v[0].start_ticks, 8);
	assert_int_equal(mem.v[0].tier, SELECT_DETAIL);
	assert_int_equal(mem.v[1].pid, 20);
	assert_int_equal(mem.v[1].tier, SELECT_SUMMARY);
	snapshot_free(s);

	/* an empty cycle empties it */
	s = snapshot_new(SMAPS_ROLLUP);
	assert_int_equal(snapshot_finish(s, &o), 0);
	assert_int_equal(s->processes_exported, 0);
	assert_int_equal(select_memory_save(&mem, s), 0);
	assert_int_equal(mem.n, 0);
	snapshot_free(s);
	select_memory_done(&mem);
	select_memory_done(&mem); /* twice is harmless */
	select_memory_done(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixture_flapping_without_margin),
		cmocka_unit_test(fixture_flapping_damped_by_margin),
		cmocka_unit_test(fixture_detail_tier_has_its_own_incumbents),
		cmocka_unit_test(fixture_young_processes_wait),
		cmocka_unit_test(fixture_top_0_has_no_age_filter),
		cmocka_unit_test(fixture_reused_pid_is_a_newcomer),
		cmocka_unit_test(margin_never_overflows),
		cmocka_unit_test(no_boot_time_means_no_age_filter),
		cmocka_unit_test(filters_come_before_both_cuts_and_the_memory),
		cmocka_unit_test(memory_keeps_the_last_choice_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
