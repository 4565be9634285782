/* test_collect.c — the collector's carry across cycles, on a proc tree the test edits.
 *
 * The tree is a copy of one fixture process (tests/fixtures/proc/310, nginx; see its README)
 * under a temporary directory, and cycles run at times the test chooses
 * (collector_cycle_at), so min-age and max-age are exact. The test edits the copy between
 * cycles: smaps alone (a change the collector must not see until it reads smaps again: if
 * the quadrants change, it read it), status (memory that moved), stat (another process on the
 * same pid). Expected quadrant sums are the fixture's (DERIVATION.md, section 6) and what the
 * edit adds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect.h"
#include "snapshot.h"

#define SEC(x) ((uint64_t)(x) * 1000000000u)
#define FIXTURE "tests/fixtures/proc/310/"

struct tree {
	char dir[64];
	char pid[128];
};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void put(const struct tree *t, const char *name, const char *text, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->pid, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void copy(const struct tree *t, const char *name)
{
	char src[256];
	size_t len;
	char *text;

	snprintf(src, sizeof(src), FIXTURE "%s", name);
	text = slurp(src, &len);
	put(t, name, text, len);
	free(text);
}

/* Replaces the first `old` in the tree's file `name` with `new`. */
static void edit(const struct tree *t, const char *name, const char *old, const char *new)
{
	char path[256], *text, *at, *out;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", t->pid, name);
	text = slurp(path, &len);
	at = strstr(text, old);
	assert_non_null(at);
	out = malloc(len - strlen(old) + strlen(new) + 1);
	assert_non_null(out);
	memcpy(out, text, (size_t)(at - text));
	strcpy(out + (at - text), new);
	strcat(out, at + strlen(old));
	put(t, name, out, strlen(out));
	free(text);
	free(out);
}

static int setup(void **state)
{
	static const char *const files[] = { "stat", "status", "smaps_rollup", "smaps", "cgroup" };
	struct tree *t = calloc(1, sizeof(*t));
	char path[256];
	FILE *f;
	size_t i;

	assert_non_null(t);
	strcpy(t->dir, "/tmp/procmem-collect-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(path, sizeof(path), "%s/stat", t->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("btime 1700000000\n", f);
	fclose(f);
	snprintf(t->pid, sizeof(t->pid), "%s/310", t->dir);
	assert_int_equal(mkdir(t->pid, 0700), 0);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		copy(t, files[i]);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	static const char *const files[] = { "stat", "status", "smaps_rollup", "smaps", "cgroup" };
	struct tree *t = *state;
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t->pid, files[i]);
		unlink(path);
	}
	rmdir(t->pid);
	snprintf(path, sizeof(path), "%s/stat", t->dir);
	unlink(path);
	rmdir(t->dir);
	free(t);
	return 0;
}

static uint64_t quad_rss(const struct snapshot *s)
{
	uint64_t sum = 0;
	int q;

	assert_int_equal(s->nprocs, 1);
	assert_true(s->procs[0].flags & SAMPLE_QUADRANTS);
	for (q = 0; q < QUADRANT_COUNT; q++)
		sum += s->procs[0].quad[q].rss;
	return sum;
}

struct run {
	struct collector *c;
	struct collect_opts o;
};

static struct snapshot *cycle(struct run *r, uint64_t at)
{
	struct snapshot *s;

	assert_int_equal(collector_cycle_at(r->c, &r->o, at, &s), 0);
	return s;
}

/* The fixture's 310: quadrant resident 5384 kB (its rollup Rss). */
#define RSS_310 (5384u * 1024)

static void stopped_process_is_carried_and_moved_one_reread(void **state)
{
	struct tree *t = *state;
	struct run r = { .o = { .smaps = SMAPS_FULL, .mapping_top = 5, .smaps_min_age_ns = SEC(60),
				.smaps_max_age_ns = SEC(1800) } };
	struct snapshot *s;

	assert_int_equal(collector_new(t->dir, &r.c), 0);
	s = cycle(&r, SEC(1000));
	assert_int_equal(quad_rss(s), RSS_310);
	assert_int_equal(s->smaps_full_reads, 1);
	assert_int_equal(s->smaps_carried, 0);
	assert_false(s->procs[0].flags & SAMPLE_QUADRANTS_CARRIED);
	snapshot_free(s);

	/* smaps changes, nothing the cycle reads anyway does: not read, the old quadrants stand */
	edit(t, "smaps", "Rss:                 640 kB", "Rss:                 704 kB");
	s = cycle(&r, SEC(1100));
	assert_int_equal(quad_rss(s), RSS_310);
	assert_int_equal(s->smaps_full_reads, 0);
	assert_int_equal(s->smaps_carried, 1);
	assert_int_equal(s->smaps_carried_max_age_ns, SEC(100));
	assert_true(s->procs[0].flags & SAMPLE_QUADRANTS_CARRIED);
	assert_true(s->have_mappings && s->nmappings > 0); /* mapped files carried as well */
	snapshot_free(s);

	/* status says RSS moved by 64 kB: within the tolerance (max(64 kB, 5384/64 kB)): still carried */
	edit(t, "status", "VmRSS:\t    5384 kB", "VmRSS:\t    5448 kB");
	s = cycle(&r, SEC(1200));
	assert_int_equal(quad_rss(s), RSS_310);
	assert_int_equal(s->smaps_full_reads, 0);
	snapshot_free(s);

	/* 1 MiB more: moved, and the last read is 300 s old (min-age 60 s): read again */
	edit(t, "status", "VmRSS:\t    5448 kB", "VmRSS:\t    6408 kB");
	s = cycle(&r, SEC(1300));
	assert_int_equal(quad_rss(s), RSS_310 + 64 * 1024);
	assert_int_equal(s->smaps_full_reads, 1);
	assert_int_equal(s->smaps_carried, 0);
	snapshot_free(s);

	/* moved again 10 s later: min-age holds the read back */
	edit(t, "smaps", "Rss:                 704 kB", "Rss:                 768 kB");
	edit(t, "status", "VmRSS:\t    6408 kB", "VmRSS:\t    8408 kB");
	s = cycle(&r, SEC(1310));
	assert_int_equal(quad_rss(s), RSS_310 + 64 * 1024);
	assert_int_equal(s->smaps_full_reads, 0);
	snapshot_free(s);
	s = cycle(&r, SEC(1360));
	assert_int_equal(quad_rss(s), RSS_310 + 128 * 1024);
	assert_int_equal(s->smaps_full_reads, 1);
	snapshot_free(s);

	/* unchanged past max-age (1800 s less up to a quarter): read again */
	edit(t, "smaps", "Rss:                 768 kB", "Rss:                 832 kB");
	s = cycle(&r, SEC(1360 + 1349));
	assert_int_equal(quad_rss(s), RSS_310 + 128 * 1024);
	assert_true(s->smaps_carried_max_age_ns < SEC(1800));
	snapshot_free(s);
	s = cycle(&r, SEC(1360 + 1800));
	assert_int_equal(quad_rss(s), RSS_310 + 192 * 1024);
	assert_int_equal(s->smaps_full_reads, 1);
	snapshot_free(s);
	collector_free(r.c);
}

/* Another process on the same pid (another start time) starts with nothing carried. */
static void reused_pid_is_read_afresh(void **state)
{
	struct tree *t = *state;
	struct run r = { .o = { .smaps = SMAPS_FULL, .mapping_top = 5, .smaps_min_age_ns = SEC(3600),
				.smaps_max_age_ns = SEC(3600) } };
	struct snapshot *s;

	assert_int_equal(collector_new(t->dir, &r.c), 0);
	s = cycle(&r, SEC(1000));
	assert_int_equal(quad_rss(s), RSS_310);
	snapshot_free(s);
	edit(t, "smaps", "Rss:                 640 kB", "Rss:                 704 kB");
	edit(t, "stat", " 1523 ", " 1524 "); /* starttime: clock ticks after boot */
	s = cycle(&r, SEC(1001));
	assert_int_equal(s->procs[0].start_ticks, 1524);
	assert_int_equal(quad_rss(s), RSS_310 + 64 * 1024);
	assert_int_equal(s->smaps_full_reads, 1);
	snapshot_free(s);
	collector_free(r.c);
}

/* Rollup mode carries nothing: back in full mode, the process is read afresh. */
static void rollup_mode_and_mode_changes(void **state)
{
	struct tree *t = *state;
	struct run r = { .o = { .smaps = SMAPS_FULL, .mapping_top = 5, .smaps_min_age_ns = SEC(60),
				.smaps_max_age_ns = SEC(1800) } };
	struct snapshot *s;

	assert_int_equal(collector_new(t->dir, &r.c), 0);
	s = cycle(&r, SEC(1000));
	snapshot_free(s);
	r.o.smaps = SMAPS_ROLLUP;
	s = cycle(&r, SEC(1015));
	assert_int_equal(s->nprocs, 1);
	assert_true(s->procs[0].flags & SAMPLE_ROLLUP);
	assert_false(s->procs[0].flags & SAMPLE_QUADRANTS);
	snapshot_free(s);
	/* back to full: what was carried went with rollup mode; read afresh */
	edit(t, "smaps", "Rss:                 640 kB", "Rss:                 704 kB");
	r.o.smaps = SMAPS_FULL;
	s = cycle(&r, SEC(1030));
	assert_int_equal(quad_rss(s), RSS_310 + 64 * 1024);
	assert_int_equal(s->smaps_full_reads, 1);
	snapshot_free(s);
	collector_free(r.c);
}

/* Over --smaps-max-rss: not read while the credit is empty (the first cycle), read once it
 * covers the estimate, carried in between; share 0: never read. */
static void large_processes_on_their_credit(void **state)
{
	struct tree *t = *state;
	struct run r = { .o = { .smaps = SMAPS_FULL, .mapping_top = 5, .smaps_min_age_ns = SEC(60),
				.smaps_max_age_ns = SEC(1800), .smaps_max_rss = 1024 * 1024,
				.smaps_large_share_ppm = 10000 } };
	struct snapshot *s;

	assert_int_equal(collector_new(t->dir, &r.c), 0);
	s = cycle(&r, SEC(1000));
	assert_false(s->procs[0].flags & (SAMPLE_ROLLUP | SAMPLE_QUADRANTS));
	assert_int_equal(s->errors_total[COLLECT_ERR_SKIPPED_LARGE], 1);
	snapshot_free(s);
	/* 15 s at 1%: 150 ms of credit, far more than 5 MiB's estimate (about 50 us) */
	s = cycle(&r, SEC(1015));
	assert_true(s->procs[0].flags & SAMPLE_ROLLUP);
	assert_false(s->procs[0].flags & SAMPLE_ROLLUP_CARRIED);
	assert_int_equal(quad_rss(s), RSS_310);
	assert_int_equal(s->procs[0].rollup.rss, RSS_310);
	assert_int_equal(s->errors_total[COLLECT_ERR_SKIPPED_LARGE], 1);
	snapshot_free(s);
	collector_free(r.c);

	r.o.smaps_large_share_ppm = 0;
	assert_int_equal(collector_new(t->dir, &r.c), 0);
	for (int i = 0; i < 3; i++) {
		s = cycle(&r, SEC(1000 + 15 * (uint64_t)i));
		assert_false(s->procs[0].flags & (SAMPLE_ROLLUP | SAMPLE_QUADRANTS));
		assert_int_equal(s->errors_total[COLLECT_ERR_SKIPPED_LARGE], (uint64_t)i + 1);
		snapshot_free(s);
	}
	collector_free(r.c);
}

static void names_of_modes_and_errors(void **state)
{
	(void)state;
	assert_string_equal(smaps_mode_name(SMAPS_OFF), "off");
	assert_string_equal(smaps_mode_name(SMAPS_ROLLUP), "rollup");
	assert_string_equal(smaps_mode_name(SMAPS_FULL), "full");
	assert_string_equal(collect_error_reason(COLLECT_ERR_VANISHED), "vanished");
	assert_string_equal(collect_error_reason(COLLECT_ERR_PERMISSION), "permission");
	assert_string_equal(collect_error_reason(COLLECT_ERR_PARSE), "parse");
	assert_string_equal(collect_error_reason(COLLECT_ERR_SKIPPED_LARGE), "skipped_large");
	assert_string_equal(collect_error_reason(COLLECT_ERR_SKIPPED_BUDGET), "skipped_budget");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(stopped_process_is_carried_and_moved_one_reread, setup, teardown),
		cmocka_unit_test_setup_teardown(reused_pid_is_read_afresh, setup, teardown),
		cmocka_unit_test_setup_teardown(rollup_mode_and_mode_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(large_processes_on_their_credit, setup, teardown),
		cmocka_unit_test(names_of_modes_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
