/* test_collect.c — the collector, on proc trees the test builds and edits.
 *
 * A tree is a temporary directory with a `stat` (btime) and one directory per process, copied
 * from the fixture processes (tests/fixtures/proc; see its README: 310 is nginx, 2 a kernel
 * thread, 1800 a zombie) and edited: smaps alone (a change the collector must not see until it
 * reads smaps again: if the quadrants change, it read it), status (memory that moved), stat
 * (another process on the same pid), files emptied, removed, broken or unreadable (the error
 * each gives). Cycles run at times the test chooses (collector_cycle_at), so min-age and
 * max-age are exact. Expected quadrant sums are the fixture's (DERIVATION.md, section 6) and
 * what the edit adds.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect.h"
#include "snapshot.h"

#define SEC(x) ((uint64_t)(x) * 1000000000u)
#define FIXTURES "tests/fixtures/proc/"

struct tree {
	char dir[64];
	char pid[128]; /* dir/310, the process the carry tests edit */
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

static void path_of(const struct tree *t, unsigned pid, const char *name, char *ret, size_t size)
{
	int n = snprintf(ret, size, "%s/%u%s%s", t->dir, pid, name ? "/" : "", name ? name : "");

	assert_true(n > 0 && (size_t)n < size);
}

/* Writes the tree's file /PID/name. */
static void put_at(const struct tree *t, unsigned pid, const char *name, const char *text, size_t len)
{
	char path[256];
	FILE *f;

	path_of(t, pid, name, path, sizeof(path));
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void put_str(const struct tree *t, unsigned pid, const char *name, const char *text)
{
	put_at(t, pid, name, text, strlen(text));
}

/* Replaces the first `old` in the tree's file /PID/name with `new`. */
static void edit_at(const struct tree *t, unsigned pid, const char *name, const char *old, const char *new)
{
	char path[256], *text, *at, *out;
	size_t len;

	path_of(t, pid, name, path, sizeof(path));
	text = slurp(path, &len);
	at = strstr(text, old);
	assert_non_null(at);
	out = malloc(len - strlen(old) + strlen(new) + 1);
	assert_non_null(out);
	memcpy(out, text, (size_t)(at - text));
	strcpy(out + (at - text), new);
	strcat(out, at + strlen(old));
	put_at(t, pid, name, out, strlen(out));
	free(text);
	free(out);
}

static void edit(const struct tree *t, const char *name, const char *old, const char *new)
{
	edit_at(t, 310, name, old, new);
}

/* A process /PID in the tree, a copy of the fixture process `from`. */
static void add_proc(const struct tree *t, unsigned pid, unsigned from)
{
	static const char *const files[] = { "stat", "status", "smaps_rollup", "smaps", "cgroup" };
	char src[256], dir[256];
	size_t i, len;

	path_of(t, pid, NULL, dir, sizeof(dir));
	assert_int_equal(mkdir(dir, 0700), 0);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *text;

		snprintf(src, sizeof(src), FIXTURES "%u/%s", from, files[i]);
		text = slurp(src, &len);
		put_at(t, pid, files[i], text, len);
		free(text);
	}
}

/* Makes the tree's /PID/name a file that open() refuses with EACCES, even to root (the tests
 * may run as root): a link to write-only /proc/sys/vm/drop_caches, where proc_sys_permission()
 * holds root to the mode bits. Where that file is missing or readable, mode 000 serves a user
 * other than root; root then skips the test. */
static void make_unreadable(const struct tree *t, unsigned pid, const char *name)
{
	static const char target[] = "/proc/sys/vm/drop_caches";
	char path[256];
	int fd = open(target, O_RDONLY | O_CLOEXEC), e = errno;

	path_of(t, pid, name, path, sizeof(path));
	if (fd < 0 && e == EACCES) {
		assert_int_equal(unlink(path), 0);
		assert_int_equal(symlink(target, path), 0);
		return;
	}
	if (fd >= 0)
		close(fd);
	if (geteuid() == 0)
		skip();
	assert_int_equal(chmod(path, 0), 0);
}

static void remove_file(const struct tree *t, unsigned pid, const char *name)
{
	char path[256];

	path_of(t, pid, name, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char path[256];
	FILE *f;

	assert_non_null(t);
	strcpy(t->dir, "/tmp/procmem-collect-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(path, sizeof(path), "%s/stat", t->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("btime 1700000000\n", f);
	fclose(f);
	snprintf(t->pid, sizeof(t->pid), "%s/310", t->dir);
	add_proc(t, 310, 310);
	*state = t;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct tree *t = *state;

	assert_int_equal(nftw(t->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
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

/* The sample of pid in s, or NULL. */
static const struct proc_sample *sample_of(const struct snapshot *s, uint32_t pid)
{
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

static void expect_errors(const struct snapshot *s, uint64_t vanished, uint64_t permission, uint64_t parse)
{
	assert_int_equal(s->errors_total[COLLECT_ERR_VANISHED], vanished);
	assert_int_equal(s->errors_total[COLLECT_ERR_PERMISSION], permission);
	assert_int_equal(s->errors_total[COLLECT_ERR_PARSE], parse);
}

/* Pass 1: each way a process can fail to be read gives its reason. Gone before its status or
 * its rollup (no status, an empty status or rollup): vanished, and no sample. Refused rollup:
 * permission; malformed rollup: parse; both keep the sample with its status figures. A status
 * without Uid: parse, no sample. A kernel thread is counted apart, a zombie not at all. */
static void pass1_errors_are_classified_by_reason(void **state)
{
	struct tree *t = *state;
	struct run r = { .o = { .smaps = SMAPS_ROLLUP } };
	const struct proc_sample *p;
	struct snapshot *s;
	char dir[256];

	path_of(t, 101, NULL, dir, sizeof(dir));
	assert_int_equal(mkdir(dir, 0700), 0); /* a directory, nothing in it: exited */
	add_proc(t, 102, 310);
	put_str(t, 102, "status", "");
	add_proc(t, 103, 310);
	make_unreadable(t, 103, "smaps_rollup");
	add_proc(t, 104, 310);
	edit_at(t, 104, "smaps_rollup", "Pss_Anon:           1212 kB", "Pss_Anon:           12l2 kB");
	add_proc(t, 105, 310);
	edit_at(t, 105, "status", "Uid:\t0\t0\t0\t0\n", "");
	add_proc(t, 106, 310);
	put_str(t, 106, "smaps_rollup", "");
	add_proc(t, 2, 2);
	add_proc(t, 1800, 1800);

	assert_int_equal(collector_new(t->dir, &r.c), 0);
	s = cycle(&r, SEC(1000));
	expect_errors(s, 3, 1, 2);
	assert_int_equal(s->kernel_threads, 1);
	assert_int_equal(s->nprocs, 3);
	assert_non_null(p = sample_of(s, 310));
	assert_true(p->flags & SAMPLE_ROLLUP);
	assert_int_equal(p->rollup.pss, 2631 * 1024);
	assert_non_null(p = sample_of(s, 103));
	assert_false(p->flags & SAMPLE_ROLLUP);
	assert_int_equal(p->status.vm_rss, 5384 * 1024);
	assert_non_null(p = sample_of(s, 104));
	assert_false(p->flags & SAMPLE_ROLLUP);
	assert_int_equal(p->status.vm_rss, 5384 * 1024);
	snapshot_free(s);
	collector_free(r.c);
}

/* Pass 2: a full smaps read that fails after the rollup was read. Refused: permission; a
 * mapping header that does not parse: parse; both keep the sample and its rollup, without
 * quadrants. No smaps any more: vanished, and the sample goes. */
static void full_read_errors_are_classified_by_reason(void **state)
{
	struct tree *t = *state;
	struct run r = { .o = { .smaps = SMAPS_FULL, .mapping_top = 5, .smaps_min_age_ns = SEC(60),
				.smaps_max_age_ns = SEC(1800) } };
	const struct proc_sample *p;
	struct snapshot *s;
	unsigned pid;

	add_proc(t, 200, 310);
	make_unreadable(t, 200, "smaps");
	add_proc(t, 201, 310);
	edit_at(t, 201, "smaps", "55d0c8a2a000-55d0c8b0d000 r-xp", "55d0c8a2a000-55d0c8b0d000 r-xq");
	add_proc(t, 202, 310);
	remove_file(t, 202, "smaps");

	assert_int_equal(collector_new(t->dir, &r.c), 0);
	s = cycle(&r, SEC(1000));
	expect_errors(s, 1, 1, 1);
	assert_int_equal(s->smaps_full_reads, 1);
	assert_int_equal(s->nprocs, 3);
	assert_null(sample_of(s, 202));
	for (pid = 200; pid <= 201; pid++) {
		assert_non_null(p = sample_of(s, pid));
		assert_true(p->flags & SAMPLE_ROLLUP);
		assert_false(p->flags & SAMPLE_QUADRANTS);
		assert_int_equal(p->rollup.pss, 2631 * 1024);
	}
	assert_non_null(p = sample_of(s, 310));
	assert_true(p->flags & SAMPLE_QUADRANTS);
	snapshot_free(s);
	collector_free(r.c);
}

/* Whether pid's quadrants were read this cycle (not carried, not missing). */
static bool read_afresh(const struct snapshot *s, uint32_t pid)
{
	const struct proc_sample *p = sample_of(s, pid);

	assert_non_null(p);
	return (p->flags & SAMPLE_QUADRANTS) && !(p->flags & SAMPLE_QUADRANTS_CARRIED);
}

/* A cycle whose --smaps-budget is spent after one full read leaves the others due; the next
 * cycle reads the next one (in carry.h's order: new processes by pid) and carries the one read
 * before, and so on until every process has its quadrants. */
static void budget_cut_cycle_resumes_where_it_stopped(void **state)
{
	struct tree *t = *state;
	struct run r = { .o = { .smaps = SMAPS_FULL, .mapping_top = 5, .smaps_min_age_ns = SEC(3600),
				.smaps_max_age_ns = SEC(7200), .smaps_budget_ns = 1 } };
	struct snapshot *s;

	add_proc(t, 320, 310);
	add_proc(t, 330, 310);
	assert_int_equal(collector_new(t->dir, &r.c), 0);

	s = cycle(&r, SEC(1000));
	assert_int_equal(s->smaps_full_reads, 1);
	assert_int_equal(s->errors_total[COLLECT_ERR_SKIPPED_BUDGET], 2);
	assert_true(read_afresh(s, 310));
	assert_false(sample_of(s, 320)->flags & SAMPLE_QUADRANTS);
	assert_false(sample_of(s, 330)->flags & SAMPLE_QUADRANTS);
	snapshot_free(s);

	s = cycle(&r, SEC(1015));
	assert_int_equal(s->smaps_full_reads, 1);
	assert_int_equal(s->errors_total[COLLECT_ERR_SKIPPED_BUDGET], 3);
	assert_true(sample_of(s, 310)->flags & SAMPLE_QUADRANTS_CARRIED);
	assert_true(read_afresh(s, 320));
	assert_false(sample_of(s, 330)->flags & SAMPLE_QUADRANTS);
	snapshot_free(s);

	s = cycle(&r, SEC(1030));
	assert_int_equal(s->smaps_full_reads, 1);
	assert_int_equal(s->errors_total[COLLECT_ERR_SKIPPED_BUDGET], 3);
	assert_true(read_afresh(s, 330));
	assert_int_equal(s->smaps_carried, 2);
	snapshot_free(s);

	/* nothing due: the budget cuts nothing */
	s = cycle(&r, SEC(1045));
	assert_int_equal(s->smaps_full_reads, 0);
	assert_int_equal(s->smaps_carried, 3);
	assert_int_equal(s->errors_total[COLLECT_ERR_SKIPPED_BUDGET], 3);
	snapshot_free(s);
	collector_free(r.c);
}

/* A full smaps whose mappings do not add up to status's VmSize may be a process that exited
 * mid-read (smaps_check_whole()): statm all zeros (its mm dropped) or no statm (reaped) make it
 * vanished, its sample dropped; a statm with figures means the address space changed
 * meanwhile, and the read stands. Without a mismatch statm is not looked at. */
static void smaps_cut_short_by_exit_is_vanished(void **state)
{
	struct tree *t = *state;
	struct run r = { .o = { .smaps = SMAPS_FULL, .mapping_top = 5, .smaps_min_age_ns = SEC(60),
				.smaps_max_age_ns = SEC(1800) } };
	struct snapshot *s;
	unsigned pid;

	for (pid = 300; pid <= 302; pid++) {
		add_proc(t, pid, 310);
		edit_at(t, pid, "status", "VmSize:\t   17164 kB", "VmSize:\t   17264 kB");
	}
	put_str(t, 300, "statm", "0 0 0 0 0 0 0\n");
	put_str(t, 301, "statm", "4316 1346 987 227 0 420 0\n");
	/* 302: no statm */
	put_str(t, 310, "statm", "0 0 0 0 0 0 0\n"); /* not read: its sizes add up */

	assert_int_equal(collector_new(t->dir, &r.c), 0);
	s = cycle(&r, SEC(1000));
	expect_errors(s, 2, 0, 0);
	assert_int_equal(s->nprocs, 2);
	assert_null(sample_of(s, 300));
	assert_null(sample_of(s, 302));
	assert_true(read_afresh(s, 301));
	assert_true(read_afresh(s, 310));
	assert_int_equal(s->smaps_full_reads, 2);
	snapshot_free(s);
	collector_free(r.c);
}

/* Appends a mapping of `kb` kB at *addr to b: anonymous, or of file `path`. */
static size_t add_mapping(char *b, uint64_t *addr, unsigned kb, const char *path)
{
	int n = sprintf(b, "%012llx-%012llx r--p 00000000 %s %s%s\n"
			   "Size:           %6u kB\nRss:            %6u kB\nPss:            %6u kB\n"
			   "Swap:                0 kB\nVmFlags: rd mr mw me\n",
			(unsigned long long)*addr, (unsigned long long)(*addr + kb * 1024ull),
			path ? "08:01 4242" : "00:00 0", path ? "      " : "", path ? path : "", kb, kb, kb);

	*addr += kb * 1024ull;
	return (size_t)n;
}

/* A mapped file's line longer than the parser keeps (SMAPS_LINE_MAX), and longer than any one
 * read (the collector's chunk, 64 KiB rounded up by its buffer to 128 KiB), among some 600 KiB of
 * smaps, so that reads end inside ordinary lines too: the file's name is cut to SMAPS_PATH_MAX
 * bytes and marked, the line's end is skipped, and every mapping before and after it counts. */
static void long_smaps_line_across_chunks_is_cut(void **state)
{
	struct tree *t = *state;
	struct run r = { .o = { .smaps = SMAPS_FULL, .mapping_top = 1, .smaps_min_age_ns = SEC(60),
				.smaps_max_age_ns = SEC(1800) } };
	size_t path_len = 300 * 1024, len = 0, before;
	char *smaps = malloc(1024 * 1024), *path = malloc(path_len + 1), *want, status[256];
	uint64_t addr = 0x10000000, kb = 0;
	struct snapshot *s;

	assert_non_null(smaps);
	assert_non_null(path);
	path[0] = '/';
	memset(path + 1, 'a', path_len - 1);
	path[path_len] = '\0';
	for (; len < 200 * 1024; kb += 4)
		len += add_mapping(smaps + len, &addr, 4, NULL);
	len += add_mapping(smaps + len, &addr, 1000, path);
	kb += 1000;
	for (before = len; len < before + 100 * 1024; kb += 8)
		len += add_mapping(smaps + len, &addr, 8, NULL);
	put_at(t, 310, "smaps", smaps, len);
	snprintf(status, sizeof(status), "Uid:\t0\t0\t0\t0\nVmSize:\t%8llu kB\nVmRSS:\t%8llu kB\n",
		 (unsigned long long)kb, (unsigned long long)kb);
	put_str(t, 310, "status", status);

	assert_int_equal(collector_new(t->dir, &r.c), 0);
	s = cycle(&r, SEC(1000));
	expect_errors(s, 0, 0, 0);
	assert_int_equal(quad_rss(s), kb * 1024);
	assert_int_equal(s->procs[0].quad[QUADRANT_PRIVATE_FILE].rss, 1000 * 1024);
	assert_int_equal(s->nmappings, 1);
	want = malloc(SMAPS_PATH_MAX + sizeof(SMAPS_PATH_CUT));
	assert_non_null(want);
	memcpy(want, path, SMAPS_PATH_MAX);
	strcpy(want + SMAPS_PATH_MAX, SMAPS_PATH_CUT);
	assert_string_equal(s->mappings[0].path.s, want);
	assert_int_equal(s->mappings[0].pss, 1000 * 1024);
	free(want);
	free(path);
	free(smaps);
	snapshot_free(s);
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
		cmocka_unit_test_setup_teardown(pass1_errors_are_classified_by_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(full_read_errors_are_classified_by_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(budget_cut_cycle_resumes_where_it_stopped, setup, teardown),
		cmocka_unit_test_setup_teardown(smaps_cut_short_by_exit_is_vanished, setup, teardown),
		cmocka_unit_test_setup_teardown(long_smaps_line_across_chunks_is_cut, setup, teardown),
		cmocka_unit_test(names_of_modes_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
