/* test_procfs.c — the pure /proc parsers against captured and crafted kernel text.
 *
 * Every input is handed to the parser in a heap block of exactly its length, without a NUL
 * after it, so that under ASan a read one byte past the end is an error, as it would be at the
 * end of a read() buffer. Expected figures come from the fixture text itself (read off it by
 * hand, or summed by the independent awk script quoted where it is used), from another /proc
 * file of the same stopped process, or from first principles (page counts the helper touched).
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

#include "procfs.h"
#include "testing.h"

#include "fixture_input.h"

#define KB(x) ((uint64_t)(x) * 1024u)
#define LIT(s) (s), (sizeof(s) - 1)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define CAPTURED "tests/fixtures/captured/"
#define CRAFTED "tests/fixtures/crafted/"

/* ---- helpers -------------------------------------------------------------------------------- */

static int status_of(const char *s, size_t n, struct proc_status *ret)
{
	char *b = exact(s, n);
	int r = proc_status_parse(b, n, ret);

	free(b);
	return r;
}

static int statm_of(const char *s, size_t n, struct proc_statm *ret)
{
	char *b = exact(s, n);
	int r = proc_statm_parse(b, n, ret);

	free(b);
	return r;
}

static int btime_of(const char *s, size_t n, uint64_t *ret)
{
	char *b = exact(s, n);
	int r = proc_btime_parse(b, n, ret);

	free(b);
	return r;
}

static int rollup_of(const char *s, size_t n, struct smaps_rollup *ret)
{
	char *b = exact(s, n);
	int r = smaps_rollup_parse(b, n, ret);

	free(b);
	return r;
}

/* Parses a stat line and checks the state, ppid and starttime; returns the parser's result. */
static int stat_of(const char *s, size_t n, struct proc_stat *ret)
{
	char *b = exact(s, n);
	int r = proc_stat_parse(b, n, ret);

	free(b);
	ret->comm = NULL; /* pointed into b */
	return r;
}

/* ---- /proc/PID/stat ------------------------------------------------------------------------- */

static void stat_parses_captured_process(void **state)
{
	struct proc_stat st;
	size_t len;
	char *b = read_fixture(CAPTURED "mapping_kinds.stat", &len);

	(void)state;
	/* "10688 (mapping_kinds) T 10687 10682 4436 0 -1 4194304 129 0 3 0 0 0 0 0 20 0 1 0 897310 ..." */
	assert_int_equal(proc_stat_parse(b, len, &st), 0);
	assert_int_equal(st.comm_len, strlen("mapping_kinds"));
	assert_memory_equal(st.comm, "mapping_kinds", st.comm_len);
	assert_int_equal(st.state, 'T');
	assert_int_equal(st.ppid, 10687);
	assert_int_equal(st.flags, 4194304);
	assert_false(st.flags & PROC_PF_KTHREAD);
	assert_int_equal(st.starttime, 897310);
	/* fields 26-28 and 45-51 of the file, read off by hand */
	{
		static const uint64_t layout[10] = {
			94804696285184, 94804696287369, 140726348315344, 94804696296912,
			94804696297656, 94805267668992, 140726348323219, 140726348323247,
			140726348323247, 140726348324806,
		};
		assert_memory_equal(st.mm_layout, layout, sizeof(layout));
	}
	free(b);
}

/* A line that ends after starttime (or anywhere before field 52) parses, without an mm layout:
 * kernels before 3.3 print fewer fields. */
static void stat_without_the_mm_layout_fields(void **state)
{
	static const char *const lines[] = {
		"7 (x) S 1 7 7 0 -1 4194304 1 0 0 0 0 0 0 0 20 0 1 0 500 ",
		"7 (x) S 1 7 7 0 -1 4194304 1 0 0 0 0 0 0 0 20 0 1 0 500 1 2 3 4 5 6 7 8 9 10 11 12 13 "
		"14 15 16 17 18 19 20 21 22 23 24 25 26 27 28\n",
	};
	struct proc_stat st;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(lines); i++) {
		assert_int_equal(stat_of(lines[i], strlen(lines[i]), &st), 0);
		assert_int_equal(st.starttime, 500);
		assert_true(st.mm_layout[0] == 0 && st.mm_layout[2] == 0 && st.mm_layout[9] == 0);
	}
}

static void stat_parses_captured_kernel_thread_and_zombie(void **state)
{
	struct proc_stat st;
	size_t len;
	char *b;

	(void)state;
	b = read_fixture(CAPTURED "kthreadd.stat", &len);
	/* "2 (kthreadd) S 0 0 0 0 -1 2129984 ... 0 19 0 0 ..." */
	assert_int_equal(proc_stat_parse(b, len, &st), 0);
	assert_memory_equal(st.comm, "kthreadd", st.comm_len);
	assert_int_equal(st.comm_len, 8);
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 0);
	assert_int_equal(st.flags, 2129984);
	assert_true(st.flags & PROC_PF_KTHREAD);
	assert_int_equal(st.starttime, 19);
	assert_true(st.mm_layout[0] == 0 && st.mm_layout[2] == 0 && st.mm_layout[9] == 0); /* no mm */
	free(b);

	b = read_fixture(CAPTURED "zombie.stat", &len);
	/* "12196 (sleep) Z 12194 12185 4436 0 -1 4227084 95 ... 20 0 1 0 900370 0 0 ..." */
	assert_int_equal(proc_stat_parse(b, len, &st), 0);
	assert_memory_equal(st.comm, "sleep", st.comm_len);
	assert_int_equal(st.state, 'Z');
	assert_int_equal(st.ppid, 12194);
	assert_int_equal(st.flags, 4227084);
	assert_false(st.flags & PROC_PF_KTHREAD);
	assert_int_equal(st.starttime, 900370);
	free(b);
}

static void stat_comm_is_between_first_open_and_last_close_paren(void **state)
{
	static const char weird[] = "x) (y\n\"\xff\xc3 z)"; /* what the process wrote to its comm */
	struct proc_stat st;
	size_t len;
	char *b = read_fixture(CAPTURED "weird_comm.stat", &len);

	(void)state;
	assert_int_equal(proc_stat_parse(b, len, &st), 0);
	assert_int_equal(st.comm_len, sizeof(weird) - 1);
	assert_memory_equal(st.comm, weird, st.comm_len);
	assert_ptr_equal(st.comm, b + strlen("12416 ("));
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 12415);
	assert_int_equal(st.starttime, 901793);
	free(b);
}

static void stat_comm_cannot_spoof_the_fields_after_it(void **state)
{
	/* a 14-byte comm that looks like the start of the fields */
	static const char line[] =
		"7 (a) R 1 1 1 1 1) S 42 7 7 0 -1 64 0 0 0 0 0 0 0 0 20 0 1 0 555 0 0\n";
	struct proc_stat st;
	char *b = exact(LIT(line));

	(void)state;
	assert_int_equal(proc_stat_parse(b, sizeof(line) - 1, &st), 0);
	assert_int_equal(st.comm_len, strlen("a) R 1 1 1 1 1"));
	assert_memory_equal(st.comm, "a) R 1 1 1 1 1", st.comm_len);
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 42);
	assert_int_equal(st.flags, 64);
	assert_int_equal(st.starttime, 555);
	free(b);
}

static void stat_accepts_empty_comm_and_negative_fields(void **state)
{
	/* tty_nr, tpgid -1; a real-time task: priority -100, nice -20 (fields 18, 19) */
	static const char line[] =
		"9 () S 1 -9 -9 -1 -1 4194368 0 0 0 0 0 0 0 0 -100 -20 1 0 77 0 0\n";
	struct proc_stat st;
	char *b = exact(LIT(line));

	(void)state;
	assert_int_equal(proc_stat_parse(b, sizeof(line) - 1, &st), 0);
	assert_int_equal(st.comm_len, 0);
	assert_ptr_equal(st.comm, b + 3);
	assert_int_equal(st.ppid, 1);
	assert_int_equal(st.flags, 4194368);
	assert_int_equal(st.starttime, 77);
	free(b);
}

/* Every prefix of a real stat line that stops before the space after starttime (field 22) is
 * a truncated read and must be refused; every prefix that includes that space parses the
 * same as the whole line. */
static void stat_truncated_anywhere_before_starttime_is_refused(void **state)
{
	struct proc_stat whole, st;
	size_t len, cut, need;
	char *b = read_fixture(CAPTURED "mapping_kinds.stat", &len);
	const char *after = " 897310 ";

	(void)state;
	assert_int_equal(proc_stat_parse(b, len, &whole), 0);
	{
		const char *at = memmem(b, len, after, strlen(after));

		assert_non_null(at);
		need = (size_t)(at - b) + strlen(after);
	}
	for (cut = 0; cut <= len; cut++) {
		char *p = exact(b, cut);
		int r = proc_stat_parse(p, cut, &st);

		if (cut < need) {
			if (r != -EBADMSG)
				fail_msg("prefix of %zu bytes: %d, wanted -EBADMSG", cut, r);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(st.starttime, whole.starttime);
			assert_int_equal(st.ppid, whole.ppid);
			assert_int_equal(st.flags, whole.flags);
			assert_int_equal(st.state, whole.state);
			assert_int_equal(st.comm_len, whole.comm_len);
		}
		free(p);
	}
	free(b);
}

static void stat_refuses_numbers_that_do_not_fit(void **state)
{
	struct proc_stat st;

	(void)state;
	/* ppid is a pid: 32 bits */
	assert_int_equal(stat_of(LIT("1 (a) S 4294967295 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n"), &st), 0);
	assert_int_equal(st.ppid, 4294967295u);
	assert_int_equal(stat_of(LIT("1 (a) S 4294967296 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n"), &st),
			 -ERANGE);
	/* flags and starttime: 64 bits */
	assert_int_equal(stat_of(LIT("1 (a) S 1 0 0 0 -1 18446744073709551615 0 0 0 0 0 0 0 0 20 0 1 0 "
				     "18446744073709551615 0\n"), &st), 0);
	assert_true(st.flags == UINT64_MAX && st.starttime == UINT64_MAX);
	assert_int_equal(stat_of(LIT("1 (a) S 1 0 0 0 -1 18446744073709551616 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n"),
				 &st), -ERANGE);
	assert_int_equal(stat_of(LIT("1 (a) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
				     "99999999999999999999999 0\n"), &st), -ERANGE);
}

static void stat_refuses_what_the_kernel_does_not_write(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{ "", "empty" },
		{ "1 a S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n", "no parentheses" },
		{ "1 (a S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n", "no closing parenthesis" },
		{ "1 a) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n", "no opening parenthesis" },
		{ "1 )a( S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n", "close before open" },
		{ "1 (a)\n", "nothing after comm" },
		{ "1 (a) S", "state only" },
		{ "1 (a)S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n", "no space after comm" },
		{ "1 (a) S -1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n", "negative ppid" },
		{ "1 (a) S x 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n", "ppid not a number" },
		{ "1 (a) S 1 0 0 0 -1 0x10 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n", "flags not decimal" },
		{ "1 (a) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n", "starttime not followed by a space" },
		{ "1 (a) S 1 0 0 0 -1 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n", "21 fields" },
		{ "1 (a) S 1 0  0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n", "an empty field" },
	};
	struct proc_stat st, sentinel;
	size_t i;

	(void)state;
	memset(&sentinel, 0xa5, sizeof(sentinel));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t n = strlen(bad[i].text);
		char *b = exact(bad[i].text, n);
		int r;

		st = sentinel;
		r = proc_stat_parse(b, n, &st);
		if (r != -EBADMSG)
			fail_msg("%s: %d, wanted -EBADMSG", bad[i].why, r);
		assert_memory_equal(&st, &sentinel, sizeof(st)); /* ret written only on success */
		free(b);
	}
	assert_int_equal(proc_stat_parse(NULL, 0, &st), -EBADMSG);
}

/* ---- /proc/PID/status ----------------------------------------------------------------------- */

static const uint32_t STATUS_ALL_VM = PROC_STATUS_VMSIZE | PROC_STATUS_VMRSS | PROC_STATUS_RSSANON |
				      PROC_STATUS_RSSFILE | PROC_STATUS_RSSSHMEM | PROC_STATUS_VMDATA |
				      PROC_STATUS_VMEXE | PROC_STATUS_VMSWAP;

static void status_parses_captured_process(void **state)
{
	struct proc_status st;
	size_t len;
	char *b = read_fixture(CAPTURED "mapping_kinds.status", &len);

	(void)state;
	assert_int_equal(proc_status_parse(b, len, &st), 0);
	assert_int_equal(st.have, PROC_STATUS_UID | PROC_STATUS_KTHREAD | STATUS_ALL_VM);
	assert_int_equal(st.ruid, 0);
	assert_false(st.kthread);
	assert_int_equal(st.vm_size, KB(2716));
	assert_int_equal(st.vm_rss, KB(1688));
	assert_int_equal(st.rss_anon, KB(136));
	assert_int_equal(st.rss_file, KB(1476));
	assert_int_equal(st.rss_shmem, KB(76));
	assert_int_equal(st.vm_data, KB(300));
	assert_int_equal(st.vm_exe, KB(4));
	assert_int_equal(st.vm_swap, 0);
	/* the kernel's own identity (fs/proc/task_mmu.c task_mem) */
	assert_int_equal(st.vm_rss, st.rss_anon + st.rss_file + st.rss_shmem);
	free(b);

	b = read_fixture(CAPTURED "weird_comm.status", &len);
	/* its Name: line holds a backslash-escaped newline, a quote and invalid UTF-8 */
	assert_int_equal(proc_status_parse(b, len, &st), 0);
	assert_int_equal(st.have, PROC_STATUS_UID | PROC_STATUS_KTHREAD | STATUS_ALL_VM);
	assert_int_equal(st.vm_size, KB(16568));
	assert_int_equal(st.vm_rss, KB(13500));
	assert_int_equal(st.vm_rss, st.rss_anon + st.rss_file + st.rss_shmem);
	free(b);
}

/* status and statm of the same stopped process agree, field by field (fs/proc/task_mmu.c). */
static void status_agrees_with_statm_of_the_same_process(void **state)
{
	struct proc_status st;
	struct proc_statm sm;
	size_t len, len2;
	char *b = read_fixture(CAPTURED "mapping_kinds.status", &len);
	char *m = read_fixture(CAPTURED "mapping_kinds.statm", &len2);

	(void)state;
	assert_int_equal(proc_status_parse(b, len, &st), 0);
	assert_int_equal(proc_statm_parse(m, len2, &sm), 0);
	/* "679 422 388 1 0 108 0" in 4 KiB pages */
	assert_int_equal(sm.size, 679);
	assert_int_equal(sm.resident, 422);
	assert_int_equal(sm.shared, 388);
	assert_int_equal(sm.text, 1);
	assert_int_equal(sm.lib, 0);
	assert_int_equal(sm.data, 108);
	assert_int_equal(sm.dt, 0);
	assert_int_equal(sm.size * 4096, st.vm_size);
	assert_int_equal(sm.resident * 4096, st.vm_rss);
	assert_int_equal(sm.shared * 4096, st.rss_file + st.rss_shmem);
	assert_int_equal(sm.text * 4096, st.vm_exe);
	assert_int_equal(sm.data * 4096, st.vm_data + KB(132) /* VmStk */);
	free(b);
	free(m);
}

static void status_of_kernel_thread_and_zombie_has_no_memory_fields(void **state)
{
	struct proc_status st;
	size_t len;
	char *b;

	(void)state;
	b = read_fixture(CAPTURED "kthreadd.status", &len);
	assert_int_equal(proc_status_parse(b, len, &st), 0);
	assert_int_equal(st.have, PROC_STATUS_UID | PROC_STATUS_KTHREAD);
	assert_true(st.kthread);
	assert_int_equal(st.ruid, 0);
	free(b);

	b = read_fixture(CAPTURED "zombie.status", &len);
	assert_int_equal(proc_status_parse(b, len, &st), 0);
	assert_int_equal(st.have, PROC_STATUS_UID | PROC_STATUS_KTHREAD);
	assert_false(st.kthread);
	free(b);
}

static void status_of_older_kernels_reports_missing_fields_absent(void **state)
{
	struct proc_status st;
	size_t len;
	char *b;

	(void)state;
	/* Linux 4.4: no RssAnon/RssFile/RssShmem (4.5), no Kthread (6.0) */
	b = read_fixture(CRAFTED "status_linux_4_4", &len);
	assert_int_equal(proc_status_parse(b, len, &st), 0);
	assert_int_equal(st.have, PROC_STATUS_UID | PROC_STATUS_VMSIZE | PROC_STATUS_VMRSS |
					  PROC_STATUS_VMDATA | PROC_STATUS_VMEXE | PROC_STATUS_VMSWAP);
	assert_int_equal(st.ruid, 33);
	assert_false(st.kthread);
	assert_int_equal(st.vm_size, KB(125312));
	assert_int_equal(st.vm_rss, KB(8964));
	assert_int_equal(st.vm_data, KB(6420));
	assert_int_equal(st.vm_exe, KB(1008));
	assert_int_equal(st.vm_swap, KB(40));
	free(b);

	/* Linux 5.10: Rss* present, Kthread not yet */
	b = read_fixture(CRAFTED "status_linux_5_10", &len);
	assert_int_equal(proc_status_parse(b, len, &st), 0);
	assert_int_equal(st.have, PROC_STATUS_UID | STATUS_ALL_VM);
	assert_int_equal(st.ruid, 108);
	assert_int_equal(st.vm_rss, KB(27412));
	assert_int_equal(st.rss_anon + st.rss_file + st.rss_shmem, st.vm_rss);
	assert_int_equal(st.rss_shmem, KB(11624));
	free(b);
}

static void status_reports_each_missing_field_absent_never_zero(void **state)
{
	static const struct {
		const char *line;
		uint32_t bit;
	} fields[] = {
		{ "Uid:\t1000\t1000\t1000\t1000\n", PROC_STATUS_UID },
		{ "Kthread:\t0\n", PROC_STATUS_KTHREAD },
		{ "VmSize:\t    1 kB\n", PROC_STATUS_VMSIZE },
		{ "VmRSS:\t    1 kB\n", PROC_STATUS_VMRSS },
		{ "RssAnon:\t    1 kB\n", PROC_STATUS_RSSANON },
		{ "RssFile:\t    1 kB\n", PROC_STATUS_RSSFILE },
		{ "RssShmem:\t    1 kB\n", PROC_STATUS_RSSSHMEM },
		{ "VmData:\t    1 kB\n", PROC_STATUS_VMDATA },
		{ "VmExe:\t    1 kB\n", PROC_STATUS_VMEXE },
		{ "VmSwap:\t    1 kB\n", PROC_STATUS_VMSWAP },
	};
	struct proc_status st;
	char text[1024];
	size_t i, j;

	(void)state;
	/* all but field i: exactly bit i is missing */
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		uint32_t want = 0;

		text[0] = '\0';
		strcat(text, "Name:\tx\n");
		for (j = 0; j < ARRAY_SIZE(fields); j++)
			if (j != i) {
				strcat(text, fields[j].line);
				want |= fields[j].bit;
			}
		assert_int_equal(status_of(text, strlen(text), &st), 0);
		assert_int_equal(st.have, want);
		assert_false(st.have & fields[i].bit);
	}
	/* only field i: exactly bit i is present */
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		assert_int_equal(status_of(fields[i].line, strlen(fields[i].line), &st), 0);
		assert_int_equal(st.have, fields[i].bit);
	}
	assert_int_equal(status_of(NULL, 0, &st), 0);
	assert_int_equal(st.have, 0);
	/* a zero that is there is present */
	assert_int_equal(status_of(LIT("VmSwap:\t       0 kB\n"), &st), 0);
	assert_int_equal(st.have, PROC_STATUS_VMSWAP);
	assert_int_equal(st.vm_swap, 0);
}

static void status_repeated_field_last_one_wins(void **state)
{
	struct proc_status st;

	(void)state;
	assert_int_equal(status_of(LIT("VmRSS:\t 1 kB\nUid:\t5\t5\t5\t5\nVmRSS:\t 2 kB\nUid:\t7\t0\t0\t0\n"), &st), 0);
	assert_int_equal(st.vm_rss, KB(2));
	assert_int_equal(st.ruid, 7);
	assert_int_equal(status_of(LIT("Kthread:\t1\nKthread:\t0\n"), &st), 0);
	assert_false(st.kthread);
	assert_int_equal(status_of(LIT("Kthread:\t0\nKthread:\t1\n"), &st), 0);
	assert_true(st.kthread);
}

/* The same lines in any order parse to the same figures. */
static void status_fields_parse_in_any_order(void **state)
{
	struct proc_status fwd, rev;
	size_t len, i, n = 0, o = 0;
	char *b = read_fixture(CAPTURED "mapping_kinds.status", &len);
	const char *lines[128];
	size_t lens[128];
	char *r = malloc(len);

	(void)state;
	assert_non_null(r);
	for (i = 0; i < len; i++)
		if (i == 0 || b[i - 1] == '\n') {
			const char *e = memchr(b + i, '\n', len - i);

			assert_non_null(e);
			assert_true(n < ARRAY_SIZE(lines));
			lines[n] = b + i;
			lens[n++] = (size_t)(e - (b + i)) + 1;
		}
	for (i = n; i-- > 0;) {
		memcpy(r + o, lines[i], lens[i]);
		o += lens[i];
	}
	assert_int_equal(o, len);
	assert_int_equal(proc_status_parse(b, len, &fwd), 0);
	assert_int_equal(proc_status_parse(r, len, &rev), 0);
	assert_memory_equal(&fwd, &rev, sizeof(fwd));
	assert_memory_not_equal(b, r, len);
	free(b);
	free(r);
}

static void status_accepts_odd_spacing(void **state)
{
	static const char *const ok[] = {
		"VmRSS:\t    1688 kB\n", /* the kernel's */
		"VmRSS:1688 kB\n",
		"VmRSS: 1688 kB\n",
		"VmRSS:\t \t 1688\t kB\n",
		"VmRSS:  1688kB\n",
		"VmRSS:\t1688 kB \t\n",
		"VmRSS:\t01688 kB\n",
	};
	struct proc_status st;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		int r = status_of(ok[i], strlen(ok[i]), &st);

		if (r != 0)
			fail_msg("\"%s\": %d", ok[i], r);
		assert_int_equal(st.have, PROC_STATUS_VMRSS);
		assert_int_equal(st.vm_rss, KB(1688));
	}
	assert_int_equal(status_of(LIT("Uid:1000 0 0 0\n"), &st), 0);
	assert_int_equal(st.ruid, 1000);
	assert_int_equal(status_of(LIT("Kthread:   1\n"), &st), 0);
	assert_true(st.kthread);
}

static void status_refuses_a_size_without_kb(void **state)
{
	static const char *const bad[] = {
		"VmRSS:\t1688\n",	"VmRSS:\t1688 KB\n",	"VmRSS:\t1688 kb\n", "VmRSS:\t1688 kBx\n",
		"VmRSS:\t1688 kB x\n",	"VmRSS:\t1688 MB\n",	"VmRSS:\tkB\n",	      "VmRSS:\n",
		"VmRSS:\t-1 kB\n",	"VmRSS:\t+1 kB\n",	"VmRSS:\t1 688 kB\n", "VmRSS:\t0x10 kB\n",
		"RssShmem:\t12 k\n",	"VmSwap:\t1.5 kB\n",
	};
	struct proc_status st, sentinel;
	size_t i;

	(void)state;
	memset(&sentinel, 0x5a, sizeof(sentinel));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int r;

		st = sentinel;
		r = status_of(bad[i], strlen(bad[i]), &st);
		if (r != -EBADMSG)
			fail_msg("\"%s\": %d, wanted -EBADMSG", bad[i], r);
		assert_memory_equal(&st, &sentinel, sizeof(st));
	}
	/* a malformed Uid or Kthread is no better */
	assert_int_equal(status_of(LIT("Uid:\tx\t0\t0\t0\n"), &st), -EBADMSG);
	assert_int_equal(status_of(LIT("Uid:\n"), &st), -EBADMSG);
	assert_int_equal(status_of(LIT("Kthread:\tyes\n"), &st), -EBADMSG);
}

static void status_refuses_sizes_whose_bytes_overflow(void **state)
{
	struct proc_status st;

	(void)state;
	/* 2^54 - 1 kB = 2^64 - 1024 bytes: the largest that fits */
	assert_int_equal(status_of(LIT("VmSize:\t18014398509481983 kB\n"), &st), 0);
	assert_int_equal(st.vm_size, UINT64_MAX - 1023);
	/* 2^54 kB = 2^64 bytes */
	assert_int_equal(status_of(LIT("VmSize:\t18014398509481984 kB\n"), &st), -ERANGE);
	assert_int_equal(status_of(LIT("VmSwap:\t18446744073709551615 kB\n"), &st), -ERANGE);
	/* more digits than 64 bits hold */
	assert_int_equal(status_of(LIT("VmRSS:\t18446744073709551616 kB\n"), &st), -ERANGE);
	assert_int_equal(status_of(LIT("VmRSS:\t99999999999999999999999999 kB\n"), &st), -ERANGE);
	/* uid is 32 bits */
	assert_int_equal(status_of(LIT("Uid:\t4294967295\t0\t0\t0\n"), &st), 0);
	assert_int_equal(st.ruid, UINT32_MAX);
	assert_int_equal(status_of(LIT("Uid:\t4294967296\t0\t0\t0\n"), &st), -ERANGE);
}

static void status_ignores_an_unterminated_last_line(void **state)
{
	struct proc_status st;

	(void)state;
	/* a read cut short in the middle of "VmSwap:\t 12345 kB" */
	assert_int_equal(status_of(LIT("VmRSS:\t 12 kB\nVmSwap:\t 12"), &st), 0);
	assert_int_equal(st.have, PROC_STATUS_VMRSS);
	assert_int_equal(st.vm_rss, KB(12));
	/* even a complete-looking one: its number may have been cut */
	assert_int_equal(status_of(LIT("VmRSS:\t 12 kB\nVmSwap:\t 4 kB"), &st), 0);
	assert_int_equal(st.have, PROC_STATUS_VMRSS);
	/* and one that would be an error if it were trusted */
	assert_int_equal(status_of(LIT("VmRSS:\t 12 kB\nVmSwap:\t 99999999999999999999"), &st), 0);
	assert_int_equal(st.have, PROC_STATUS_VMRSS);
	assert_int_equal(status_of(LIT("VmRSS:\t 12 kB"), &st), 0);
	assert_int_equal(st.have, 0);
}

static void status_matches_field_names_whole(void **state)
{
	struct proc_status st;

	(void)state;
	/* names that share a prefix with known ones, or known ones not at a line start */
	assert_int_equal(status_of(LIT("VmRSSx:\t5 kB\nVmSwapPss:\t5 kB\nRssAnonX:\tjunk\n"
				       "Uids:\tjunk\nKthreads:\tjunk\n VmRSS:\t5 kB\nxVmRSS:\tjunk\n"
				       "VmPeak:\t9 kB\nVmHWM:\t9 kB\n"), &st), 0);
	assert_int_equal(st.have, 0);
}

/* ---- /proc/PID/statm and /proc/stat --------------------------------------------------------- */

static void statm_parses_captured_and_refuses_malformed(void **state)
{
	struct proc_statm sm, sentinel;
	size_t len, i;
	char *b = read_fixture(CAPTURED "kthreadd.statm", &len);
	static const char *const bad[] = {
		"",
		"0 0 0 0 0 0 0",	   /* unterminated */
		"1 2 3 4 5 6\n",	   /* six fields */
		"1 2 3 4 5 6 7 8\n",	   /* eight */
		"1 2 3 4 5 6 7 \n",	   /* trailing space */
		"1  2 3 4 5 6 7\n",	   /* two spaces */
		"1 2 3 x 5 6 7\n",	   /* not a number */
		"1 2 3 -4 5 6 7\n",	   /* negative */
		"\n",			   /* empty line */
		"1\t2\t3\t4\t5\t6\t7\n", /* tabs */
	};

	(void)state;
	assert_int_equal(proc_statm_parse(b, len, &sm), 0);
	assert_int_equal(sm.size + sm.resident + sm.shared + sm.text + sm.lib + sm.data + sm.dt, 0);
	free(b);

	assert_int_equal(statm_of(LIT("1 2 3 4 5 6 7\ntrailing junk"), &sm), 0);
	assert_true(sm.size == 1 && sm.resident == 2 && sm.shared == 3 && sm.text == 4 && sm.lib == 5 &&
		    sm.data == 6 && sm.dt == 7);
	assert_int_equal(statm_of(LIT("18446744073709551615 0 0 0 0 0 0\n"), &sm), 0);
	assert_int_equal(sm.size, UINT64_MAX);
	assert_int_equal(statm_of(LIT("18446744073709551616 0 0 0 0 0 0\n"), &sm), -ERANGE);

	memset(&sentinel, 0xa5, sizeof(sentinel));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int r;

		sm = sentinel;
		r = statm_of(bad[i], strlen(bad[i]), &sm);
		if (r != -EBADMSG)
			fail_msg("\"%s\": %d, wanted -EBADMSG", bad[i], r);
		assert_memory_equal(&sm, &sentinel, sizeof(sm));
	}
	assert_int_equal(proc_statm_parse(NULL, 0, &sm), -EBADMSG);
}

static void btime_is_found_absent_or_refused(void **state)
{
	uint64_t t = 7;
	size_t len;
	char *b = read_fixture(CAPTURED "proc_stat", &len);

	(void)state;
	assert_int_equal(proc_btime_parse(b, len, &t), 0);
	assert_int_equal(t, 1795411081);
	free(b);

	assert_int_equal(btime_of(LIT("cpu  1 2 3\nbtime 0\n"), &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(btime_of(LIT("btime 18446744073709551615\n"), &t), 0);
	assert_int_equal(t, UINT64_MAX);

	t = 7;
	assert_int_equal(btime_of(LIT("cpu  1 2 3\nctxt 5\nprocesses 9\n"), &t), -ENOENT);
	assert_int_equal(btime_of(NULL, 0, &t), -ENOENT);
	assert_int_equal(btime_of(LIT("btime 1795411081"), &t), -ENOENT); /* unterminated */
	assert_int_equal(btime_of(LIT("btimes 5\nxbtime 5\n btime 5\n"), &t), -ENOENT);
	assert_int_equal(t, 7);

	assert_int_equal(btime_of(LIT("btime abc\n"), &t), -EBADMSG);
	assert_int_equal(btime_of(LIT("btime 12x\n"), &t), -EBADMSG);
	assert_int_equal(btime_of(LIT("btime -1\n"), &t), -EBADMSG);
	assert_int_equal(btime_of(LIT("btime \n"), &t), -EBADMSG);
	assert_int_equal(btime_of(LIT("btime 18446744073709551616\n"), &t), -ERANGE);
	assert_int_equal(t, 7);
}

/* ---- /proc/PID/smaps_rollup ----------------------------------------------------------------- */

static const uint32_t ROLLUP_ALL = ROLLUP_RSS | ROLLUP_PSS | ROLLUP_PSS_ANON | ROLLUP_PSS_FILE |
				   ROLLUP_PSS_SHMEM | ROLLUP_PRIVATE_CLEAN | ROLLUP_PRIVATE_DIRTY |
				   ROLLUP_SWAP | ROLLUP_SWAP_PSS | ROLLUP_SHARED_DIRTY |
				   ROLLUP_PSS_DIRTY | ROLLUP_ANON_HUGE_PAGES | ROLLUP_LOCKED;

static void rollup_parses_captured_process(void **state)
{
	struct smaps_rollup ru;
	struct proc_status st;
	size_t len;
	char *b = read_fixture(CAPTURED "mapping_kinds.smaps_rollup", &len);

	(void)state;
	assert_int_equal(smaps_rollup_parse(b, len, &ru), 0);
	assert_int_equal(ru.have, ROLLUP_ALL);
	assert_int_equal(ru.rss, KB(1688));
	assert_int_equal(ru.pss, KB(278));
	assert_int_equal(ru.pss_anon, KB(136));
	assert_int_equal(ru.pss_file, KB(66));
	assert_int_equal(ru.pss_shmem, KB(76));
	assert_int_equal(ru.private_clean, KB(12));
	assert_int_equal(ru.private_dirty, KB(236));
	assert_int_equal(ru.swap, 0);
	assert_int_equal(ru.swap_pss, 0);
	assert_int_equal(ru.shared_dirty, 0);
	assert_int_equal(ru.pss_dirty, KB(236));
	assert_int_equal(ru.anon_huge_pages, 0);
	assert_int_equal(ru.locked, 0);
	/* Pss is the sum of its kinds; Rss is status's VmRSS of the same stopped process */
	assert_int_equal(ru.pss_anon + ru.pss_file + ru.pss_shmem, ru.pss);
	free(b);
	b = read_fixture(CAPTURED "mapping_kinds.status", &len);
	assert_int_equal(proc_status_parse(b, len, &st), 0);
	assert_int_equal(ru.rss, st.vm_rss);
	free(b);
}

static void rollup_of_older_kernel_lacks_pss_kinds(void **state)
{
	struct smaps_rollup ru;
	size_t len;
	char *b = read_fixture(CRAFTED "smaps_rollup_linux_4_14", &len);

	(void)state;
	assert_int_equal(smaps_rollup_parse(b, len, &ru), 0);
	assert_int_equal(ru.have, ROLLUP_ALL & ~(ROLLUP_PSS_ANON | ROLLUP_PSS_FILE | ROLLUP_PSS_SHMEM |
						 ROLLUP_PSS_DIRTY));
	assert_int_equal(ru.rss, KB(8964));
	assert_int_equal(ru.pss, KB(3311));
	assert_int_equal(ru.private_clean, KB(140));
	assert_int_equal(ru.private_dirty, KB(2984));
	assert_int_equal(ru.swap, KB(40));
	assert_int_equal(ru.swap_pss, KB(40));
	free(b);
}

static void rollup_empty_or_header_only_has_nothing(void **state)
{
	struct smaps_rollup ru;

	(void)state;
	assert_int_equal(rollup_of(NULL, 0, &ru), 0);
	assert_int_equal(ru.have, 0);
	assert_int_equal(rollup_of(LIT("55e4c7a6b000-7ffd3b3fe000 ---p 00000000 00:00 0"
				       "                          [rollup]\n"), &ru), 0);
	assert_int_equal(ru.have, 0);
	/* the header line is skipped, whatever it holds; lines after it still count, fields not
	 * wanted (Shared_Clean, Anonymous, ShmemPmdMapped) do not */
	assert_int_equal(rollup_of(LIT("ab-cd ---p 0 0:0 0 [rollup]\nPss: 4 kB\nPss_Dirty: 3 kB\n"
				       "SwapPss: 1 kB\nShared_Clean: 9 kB\nAnonymous: 9 kB\n"
				       "ShmemPmdMapped: 9 kB\n"), &ru), 0);
	assert_int_equal(ru.have, ROLLUP_PSS | ROLLUP_PSS_DIRTY | ROLLUP_SWAP_PSS);
	assert_int_equal(ru.pss, KB(4));
	assert_int_equal(ru.pss_dirty, KB(3));
	assert_int_equal(ru.swap_pss, KB(1));
	assert_int_equal(ru.shared_dirty + ru.anon_huge_pages + ru.locked, 0);
	/* unterminated last line */
	assert_int_equal(rollup_of(LIT("Rss: 8 kB\nPss: 4 kB"), &ru), 0);
	assert_int_equal(ru.have, ROLLUP_RSS);
}

static void rollup_refuses_malformed_values(void **state)
{
	static const char *const bad[] = {
		"Rss:\n", "Rss: 12\n", "Rss: x kB\n", "Pss: 1 MB\n", "Pss_Anon: -1 kB\n",
		"Private_Dirty: 1 kB 2\n", "Swap: 1kBB\n", "SwapPss: kB\n", "Shared_Dirty: 0x10 kB\n",
		"Pss_Dirty: 1.5 kB\n", "AnonHugePages: 2048\n", "Locked: +4 kB\n",
	};
	struct smaps_rollup ru, sentinel;
	size_t i;

	(void)state;
	memset(&sentinel, 0xa5, sizeof(sentinel));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int r;

		ru = sentinel;
		r = rollup_of(bad[i], strlen(bad[i]), &ru);
		if (r != -EBADMSG)
			fail_msg("\"%s\": %d, wanted -EBADMSG", bad[i], r);
		assert_memory_equal(&ru, &sentinel, sizeof(ru));
	}
	assert_int_equal(rollup_of(LIT("Pss: 18014398509481984 kB\n"), &ru), -ERANGE);
	assert_int_equal(rollup_of(LIT("Pss: 18014398509481983 kB\n"), &ru), 0);
	assert_int_equal(ru.pss, UINT64_MAX - 1023);
}

/* ---- smaps: classification ------------------------------------------------------------------ */

static void classify_follows_design_rules(void **state)
{
	static const struct {
		bool shared;
		uint64_t inode;
		const char *path;
		enum quadrant want;
	} rows[] = {
		/* no backing inode: anonymous, whatever the name */
		{ false, 0, "", QUADRANT_PRIVATE_ANON },
		{ true, 0, "", QUADRANT_SHARED_ANON },
		{ false, 0, "[heap]", QUADRANT_PRIVATE_ANON },
		{ false, 0, "[stack]", QUADRANT_PRIVATE_ANON },
		{ false, 0, "[vdso]", QUADRANT_PRIVATE_ANON },
		{ false, 0, "[vvar]", QUADRANT_PRIVATE_ANON },
		{ false, 0, "[vsyscall]", QUADRANT_PRIVATE_ANON },
		{ false, 0, "[anon:pool]", QUADRANT_PRIVATE_ANON },
		/* files */
		{ false, 332835, "/usr/lib/x86_64-linux-gnu/libc.so.6", QUADRANT_PRIVATE_FILE },
		{ true, 332280, "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache", QUADRANT_SHARED_FILE },
		{ false, 7, "/usr/bin/prog (deleted)", QUADRANT_PRIVATE_FILE },
		{ true, 7, "/tmp/with space", QUADRANT_SHARED_FILE },
		{ true, 7, "/tmp/new\\012line", QUADRANT_SHARED_FILE },
		/* memfd is a file (DESIGN: backing file with an inode) */
		{ true, 1025, "/memfd:buf (deleted)", QUADRANT_SHARED_FILE },
		{ false, 1025, "/memfd:buf (deleted)", QUADRANT_PRIVATE_FILE },
		/* shared anonymous in disguise */
		{ true, 4242, "/dev/zero (deleted)", QUADRANT_SHARED_ANON },
		{ true, 32769, "/SYSV0000abcd (deleted)", QUADRANT_SHARED_ANON },
		{ true, 2, "/SYSV00000000 (deleted)", QUADRANT_SHARED_ANON },
		{ true, 2, "/SYSVffffffff (deleted)", QUADRANT_SHARED_ANON },
		{ true, 7, "[anon_shmem:x]", QUADRANT_SHARED_ANON },
		/* a private mapping of /dev/zero: inode of the device, anonymous pages */
		{ false, 4, "/dev/zero", QUADRANT_PRIVATE_ANON },
		/* MAP_ANONYMOUS|MAP_HUGETLB, as 6.18 prints it (seen with nr_hugepages=2) */
		{ false, 704400, "/anon_hugepage (deleted)", QUADRANT_PRIVATE_ANON },
		{ true, 704401, "/anon_hugepage (deleted)", QUADRANT_SHARED_ANON },
		{ false, 7, "/anon_hugepage", QUADRANT_PRIVATE_FILE },
		/* near misses stay files */
		{ true, 7, "/SYSV0000abc (deleted)", QUADRANT_SHARED_FILE },
		{ true, 7, "/SYSV0000abcde (deleted)", QUADRANT_SHARED_FILE },
		{ true, 7, "/SYSV0000abcg (deleted)", QUADRANT_SHARED_FILE },
		{ true, 7, "/SYSV0000abcd", QUADRANT_SHARED_FILE },
		{ true, 7, "/SYSV0000abcd (deleted)x", QUADRANT_SHARED_FILE },
		{ true, 7, "/tmp/SYSV0000abcd (deleted)", QUADRANT_SHARED_FILE },
		{ true, 7, "/dev/zero (deleted) ", QUADRANT_SHARED_FILE },
		{ true, 7, "/dev/zeros", QUADRANT_SHARED_FILE },
		{ false, 7, "/dev/zero2", QUADRANT_PRIVATE_FILE },
		{ false, 7, "/srv/dev/zero", QUADRANT_PRIVATE_FILE },
		{ true, 7, "[anon_shmem", QUADRANT_SHARED_FILE },
		{ true, 7, "[anon:x]", QUADRANT_SHARED_FILE },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		size_t n = strlen(rows[i].path);
		char *p = exact(rows[i].path, n);
		enum quadrant q = smaps_classify_mapping(rows[i].shared, rows[i].inode, p, n);

		if (q != rows[i].want)
			fail_msg("%s inode %llu \"%s\": %s/%s, wanted %s/%s", rows[i].shared ? "s" : "p",
				 (unsigned long long)rows[i].inode, rows[i].path, quadrant_sharing(q),
				 quadrant_backing(q), quadrant_sharing(rows[i].want),
				 quadrant_backing(rows[i].want));
		free(p);
	}
	/* the length is what counts, not a NUL */
	assert_int_equal(smaps_classify_mapping(true, 9, "/dev/zero (deleted)", 9), QUADRANT_SHARED_ANON);
	assert_int_equal(smaps_classify_mapping(false, 9, "/dev/zeroXYZ", 9), QUADRANT_PRIVATE_ANON);
	assert_int_equal(smaps_classify_mapping(true, 9, "/dev/zero (deleted)", 18), QUADRANT_SHARED_FILE);
	assert_int_equal(smaps_classify_mapping(false, 0, "", 0), QUADRANT_PRIVATE_ANON);
}

static void quadrant_names_match_design_labels(void **state)
{
	(void)state;
	assert_string_equal(quadrant_sharing(QUADRANT_PRIVATE_ANON), "private");
	assert_string_equal(quadrant_backing(QUADRANT_PRIVATE_ANON), "anonymous");
	assert_string_equal(quadrant_sharing(QUADRANT_PRIVATE_FILE), "private");
	assert_string_equal(quadrant_backing(QUADRANT_PRIVATE_FILE), "file");
	assert_string_equal(quadrant_sharing(QUADRANT_SHARED_ANON), "shared");
	assert_string_equal(quadrant_backing(QUADRANT_SHARED_ANON), "anonymous");
	assert_string_equal(quadrant_sharing(QUADRANT_SHARED_FILE), "shared");
	assert_string_equal(quadrant_backing(QUADRANT_SHARED_FILE), "file");
}

/* ---- smaps: the streaming parser ------------------------------------------------------------ */

struct rec_map {
	enum quadrant q;
	char *path;
	size_t path_len;
	bool path_cut;
	struct quadrant_sums sums;
};

struct recorder {
	struct rec_map *v;
	size_t n, alloc;
	size_t fail_at; /* return -ECANCELED from the callback for mapping number fail_at (1-based) */
};

static int record(const struct smaps_mapping *m, void *userdata)
{
	struct recorder *rec = userdata;
	struct rec_map *e;

	assert_non_null(m->path);
	if (rec->n == rec->alloc) {
		rec->alloc = rec->alloc ? rec->alloc * 2 : 16;
		rec->v = realloc(rec->v, rec->alloc * sizeof(*rec->v));
		assert_non_null(rec->v);
	}
	e = &rec->v[rec->n++];
	e->q = m->quadrant;
	e->path_len = m->path_len;
	e->path = exact(m->path, m->path_len);
	e->path_cut = m->path_cut;
	e->sums = m->sums;
	if (rec->fail_at && rec->n == rec->fail_at)
		return -ECANCELED;
	return 0;
}

static void recorder_done(struct recorder *rec)
{
	size_t i;

	for (i = 0; i < rec->n; i++)
		free(rec->v[i].path);
	free(rec->v);
	*rec = (struct recorder){ 0 };
}

static void assert_same_mappings(const struct recorder *a, const struct recorder *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_int_equal(a->v[i].q, b->v[i].q);
		assert_int_equal(a->v[i].path_len, b->v[i].path_len);
		assert_memory_equal(a->v[i].path, b->v[i].path, a->v[i].path_len);
		assert_int_equal(a->v[i].path_cut, b->v[i].path_cut);
		assert_memory_equal(&a->v[i].sums, &b->v[i].sums, sizeof(a->v[i].sums));
	}
}

struct smaps_result {
	int r;
	struct quadrant_sums q[QUADRANT_COUNT];
	uint64_t mappings;
	struct recorder rec;
};

static void whole_parse(const char *text, size_t len, struct smaps_result *out)
{
	char *b = exact(text, len);

	memset(out, 0, sizeof(*out));
	out->r = smaps_parse(b, len, record, &out->rec, out->q, &out->mappings);
	free(b);
}

/* Feeds text in the chunks that end at cuts[0..ncuts), then the rest, the way the collector
 * does: bytes the parser did not consume are kept and fed again in front of the next chunk.
 * Each feed gets an exact-size copy. */
static void chunked_parse(const char *text, size_t len, const size_t *cuts, size_t ncuts,
			  struct smaps_result *out)
{
	struct smaps_parser p;
	char *pending = malloc(len + 1);
	size_t have = 0, pos = 0, i;
	int r = 0;

	assert_non_null(pending);
	memset(out, 0, sizeof(*out));
	smaps_parser_init(&p, record, &out->rec);
	for (i = 0; i <= ncuts && r >= 0; i++) {
		size_t next = i < ncuts ? cuts[i] : len, used = (size_t)-1;
		char *chunk;

		assert_true(next >= pos && next <= len);
		memcpy(pending + have, text + pos, next - pos);
		have += next - pos;
		pos = next;
		chunk = exact(pending, have);
		r = smaps_parser_feed(&p, chunk, have, &used);
		free(chunk);
		if (r < 0)
			break;
		assert_true(used <= have);
		/* only a partial last line may be left over, and no more of it than a line holds */
		assert_null(memchr(pending + used, '\n', have - used));
		assert_true(have - used <= SMAPS_LINE_MAX);
		memmove(pending, pending + used, have - used);
		have -= used;
	}
	if (r >= 0)
		r = smaps_parser_finish(&p);
	out->r = r;
	memcpy(out->q, p.q, sizeof(p.q));
	out->mappings = p.mappings;
	smaps_parser_done(&p);
	free(pending);
}

static void assert_same_result(const struct smaps_result *a, const struct smaps_result *b)
{
	assert_int_equal(a->r, b->r);
	assert_memory_equal(a->q, b->q, sizeof(a->q));
	assert_int_equal(a->mappings, b->mappings);
	assert_same_mappings(&a->rec, &b->rec);
}

static void result_done(struct smaps_result *r)
{
	recorder_done(&r->rec);
}

static void assert_sums(const struct quadrant_sums *got, uint64_t size_kb, uint64_t rss_kb,
			uint64_t pss_kb, uint64_t swap_kb)
{
	assert_int_equal(got->size, KB(size_kb));
	assert_int_equal(got->rss, KB(rss_kb));
	assert_int_equal(got->pss, KB(pss_kb));
	assert_int_equal(got->swap, KB(swap_kb));
}

static void assert_dirty(const struct quadrant_sums *got, uint64_t dirty_kb, uint64_t pss_dirty_kb)
{
	assert_int_equal(got->dirty, KB(dirty_kb));
	assert_int_equal(got->pss_dirty, KB(pss_dirty_kb));
}

static const struct rec_map *find_mapping(const struct recorder *rec, const char *suffix)
{
	size_t i, n = strlen(suffix);

	for (i = 0; i < rec->n; i++)
		if (rec->v[i].path_len >= n &&
		    memcmp(rec->v[i].path + rec->v[i].path_len - n, suffix, n) == 0)
			return &rec->v[i];
	fail_msg("no mapping ending in \"%s\"", suffix);
	return NULL;
}

/* The captured smaps of tests/helpers/mapping_kinds, stopped. Expected sums (kB) per quadrant
 * from the fixture by an independent script (tests/fixtures/captured/README.md, quad.awk):
 *   private_anon maps=16 size=456 rss=88 pss=84 swap=0 dirty=84 pss_dirty=84
 *   private_file maps=16 size=2124 rss=1512 pss=105 swap=0 dirty=64 pss_dirty=64
 *   shared_anon maps=3 size=88 rss=56 pss=56 swap=0 dirty=56 pss_dirty=56
 *   shared_file maps=3 size=52 rss=32 pss=32 swap=0 dirty=32 pss_dirty=32 */
static void smaps_captured_sums_per_quadrant(void **state)
{
	struct smaps_result res;
	size_t len;
	char *b = read_fixture(CAPTURED "mapping_kinds.smaps", &len);

	(void)state;
	whole_parse(b, len, &res);
	assert_int_equal(res.r, 0);
	assert_int_equal(res.mappings, 38);
	assert_int_equal(res.rec.n, 38);
	assert_sums(&res.q[QUADRANT_PRIVATE_ANON], 456, 88, 84, 0);
	assert_sums(&res.q[QUADRANT_PRIVATE_FILE], 2124, 1512, 105, 0);
	assert_sums(&res.q[QUADRANT_SHARED_ANON], 88, 56, 56, 0);
	assert_sums(&res.q[QUADRANT_SHARED_FILE], 52, 32, 32, 0);
	assert_dirty(&res.q[QUADRANT_PRIVATE_ANON], 84, 84);
	assert_dirty(&res.q[QUADRANT_PRIVATE_FILE], 64, 64);
	assert_dirty(&res.q[QUADRANT_SHARED_ANON], 56, 56);
	assert_dirty(&res.q[QUADRANT_SHARED_FILE], 32, 32);
	result_done(&res);
	free(b);
}

/* DESIGN.md's invariants, against the other files of the same stopped process. */
static void smaps_captured_quadrants_sum_to_rollup_and_status(void **state)
{
	struct smaps_result res;
	struct smaps_rollup ru;
	struct proc_status st;
	uint64_t size = 0, rss = 0, pss = 0, dirty = 0, pss_dirty = 0;
	size_t len;
	char *b;
	int q;

	(void)state;
	b = read_fixture(CAPTURED "mapping_kinds.smaps", &len);
	whole_parse(b, len, &res);
	free(b);
	b = read_fixture(CAPTURED "mapping_kinds.smaps_rollup", &len);
	assert_int_equal(smaps_rollup_parse(b, len, &ru), 0);
	free(b);
	b = read_fixture(CAPTURED "mapping_kinds.status", &len);
	assert_int_equal(proc_status_parse(b, len, &st), 0);
	free(b);

	assert_int_equal(res.r, 0);
	for (q = 0; q < QUADRANT_COUNT; q++) {
		size += res.q[q].size;
		rss += res.q[q].rss;
		pss += res.q[q].pss;
		dirty += res.q[q].dirty;
		pss_dirty += res.q[q].pss_dirty;
	}
	assert_int_equal(size, st.vm_size + KB(4)); /* + the [vsyscall] page smaps lists */
	assert_int_equal(rss, ru.rss);
	/* each mapping's Pss line is rounded down to a kB, the rollup's is not */
	assert_true(pss <= ru.pss);
	assert_true(ru.pss - pss < KB(res.mappings));
	assert_int_equal(dirty, ru.shared_dirty + ru.private_dirty);
	assert_true(pss_dirty <= ru.pss_dirty && ru.pss_dirty - pss_dirty < KB(res.mappings));
	/* the shmem pages are the shared anonymous mappings plus the memfd (a shmem file) */
	assert_int_equal(res.q[QUADRANT_SHARED_ANON].rss + find_mapping(&res.rec, "/memfd:pm-memfd (deleted)")->sums.rss,
			 st.rss_shmem);
	result_done(&res);
}

/* The helper's own mappings, by first principles: it touched a known number of 4 KiB pages in
 * each, and nothing else maps them, so Pss = Rss. */
static void smaps_captured_callback_sees_each_mapping(void **state)
{
	struct smaps_result res;
	const struct rec_map *m;
	size_t len, i, files = 0;
	char *b = read_fixture(CAPTURED "mapping_kinds.smaps", &len);

	(void)state;
	whole_parse(b, len, &res);
	assert_int_equal(res.r, 0);

	m = find_mapping(&res.rec, "/with space");
	assert_int_equal(m->q, QUADRANT_SHARED_FILE);
	assert_sums(&m->sums, 12, 8, 8, 0);
	assert_memory_equal(m->path, "/tmp/pm-kinds-", 14);
	/* one page read, one written (copied): the read fault may map the file's other cached
	 * pages too (the kernel's fault-around), so at least those two, at most all four */
	m = find_mapping(&res.rec, "/new\nline"); /* smaps prints it "/new\\012line" */
	assert_int_equal(m->q, QUADRANT_PRIVATE_FILE);
	assert_int_equal(m->sums.size, KB(16));
	assert_true(m->sums.rss >= KB(8) && m->sums.rss <= KB(16));
	assert_int_equal(m->sums.pss, m->sums.rss);
	m = find_mapping(&res.rec, "/gone (deleted)");
	assert_int_equal(m->q, QUADRANT_SHARED_FILE);
	assert_sums(&m->sums, 8, 4, 4, 0);
	m = find_mapping(&res.rec, "/memfd:pm-memfd (deleted)");
	assert_int_equal(m->q, QUADRANT_SHARED_FILE);
	assert_int_equal(m->path_len, strlen("/memfd:pm-memfd (deleted)"));
	assert_sums(&m->sums, 32, 20, 20, 0);

	/* anonymous mappings are reported without a path; find them by size */
	for (i = 0; i < res.rec.n; i++) {
		const struct rec_map *e = &res.rec.v[i];

		if (e->q == QUADRANT_PRIVATE_FILE || e->q == QUADRANT_SHARED_FILE) {
			assert_true(e->path_len > 0);
			assert_int_equal(e->path[0], '/');
			files++;
			continue;
		}
		assert_int_equal(e->path_len, 0);
		if (e->q == QUADRANT_SHARED_ANON && e->sums.size == KB(20)) /* /dev/zero (deleted) */
			assert_sums(&e->sums, 20, 12, 12, 0);
		if (e->q == QUADRANT_SHARED_ANON && e->sums.size == KB(28)) /* SysV */
			assert_sums(&e->sums, 28, 16, 16, 0);
		if (e->q == QUADRANT_SHARED_ANON && e->sums.size == KB(40)) /* unnamed here */
			assert_sums(&e->sums, 40, 28, 28, 0);
		if (e->q == QUADRANT_PRIVATE_ANON && e->sums.size == KB(24)) /* private /dev/zero */
			assert_sums(&e->sums, 24, 8, 8, 0);
		if (e->q == QUADRANT_PRIVATE_ANON && e->sums.size == KB(36)) /* [anon:pm-name] */
			assert_sums(&e->sums, 36, 24, 24, 0);
	}
	assert_int_equal(files, 16 + 3);
	result_done(&res);
	free(b);
}

/* tests/fixtures/crafted/smaps_kinds, one mapping of each kind; per mapping (kB):
 *                                              quadrant       Size Rss Pss Swap  SD  PD PssD
 *  1 r--p 1234  /usr/bin/prog                  private/file      8   8   8    0   0   0   0
 *  2 rw-p 0     [heap]                         private/anon    132 100 100   20   0 100 100
 *  3 rw-s 4242  /dev/zero (deleted)            shared/anon       4   4   2    0   4   0   2
 *  4 rw-p 4     /dev/zero                      private/anon      8   4   4    4   0   4   4
 *  5 rw-s 32769 /SYSV0000abcd (deleted)        shared/anon      16  12   6    4   8   4   6
 *  6 rw-s 7     [anon_shmem:x]                 shared/anon       4   4   4    0   0   4   4
 *  7 rw-s 1025  /memfd:buf (deleted)           shared/file       8   8   4    0   8   0   4
 *  8 r--p 99    /opt/my app/lib one.so         private/file      4   4   1    0   0   0   0
 *  9 rw-s 100   /var/lib/a\012b (deleted)      shared/file       4   4   4    0   0   4   4
 * 10 rw-p 0     [anon:pool]                    private/anon      4   4   4    0   0   4   4
 * 11 rw-p 1234  /usr/bin/prog (deleted)        private/file      4   4   4    0   0   4   4
 * 12 rw-p 0     (no name, trailing space)      private/anon      8   8   8    0   0   8   8
 * 13 r--s 555   /usr/share/x.cache             shared/file      12  12   3    0   0   0   0
 * 14 rw-p 0     [stack]                        private/anon    132  16  16    8   0  16  16
 * 15 r-xp 0     [vdso]                         private/anon      8   4   0    0   0   0   0
 * 16 --xp 0     [vsyscall]                     private/anon      4   0   0    0   0   0   0
 * (SD, PD, PssD: Shared_Dirty, Private_Dirty, Pss_Dirty; dirty is SD + PD. Mapping 5 has both:
 * 8 kB shared by four processes, Pss 2, and 4 kB of its own, Pss 4.) */
static const struct {
	enum quadrant q;
	const char *path; /* for file-backed mappings; "" for anonymous ones */
	uint64_t size, rss, pss, swap, dirty, pss_dirty;
} kinds[] = {
	{ QUADRANT_PRIVATE_FILE, "/usr/bin/prog", 8, 8, 8, 0, 0, 0 },
	{ QUADRANT_PRIVATE_ANON, "", 132, 100, 100, 20, 100, 100 },
	{ QUADRANT_SHARED_ANON, "", 4, 4, 2, 0, 4, 2 },
	{ QUADRANT_PRIVATE_ANON, "", 8, 4, 4, 4, 4, 4 },
	{ QUADRANT_SHARED_ANON, "", 16, 12, 6, 4, 8 + 4, 6 },
	{ QUADRANT_SHARED_ANON, "", 4, 4, 4, 0, 4, 4 },
	{ QUADRANT_SHARED_FILE, "/memfd:buf (deleted)", 8, 8, 4, 0, 8, 4 },
	{ QUADRANT_PRIVATE_FILE, "/opt/my app/lib one.so", 4, 4, 1, 0, 0, 0 },
	{ QUADRANT_SHARED_FILE, "/var/lib/a\nb (deleted)", 4, 4, 4, 0, 4, 4 }, /* printed a\\012b */
	{ QUADRANT_PRIVATE_ANON, "", 4, 4, 4, 0, 4, 4 },
	{ QUADRANT_PRIVATE_FILE, "/usr/bin/prog (deleted)", 4, 4, 4, 0, 4, 4 },
	{ QUADRANT_PRIVATE_ANON, "", 8, 8, 8, 0, 8, 8 },
	{ QUADRANT_SHARED_FILE, "/usr/share/x.cache", 12, 12, 3, 0, 0, 0 },
	{ QUADRANT_PRIVATE_ANON, "", 132, 16, 16, 8, 16, 16 },
	{ QUADRANT_PRIVATE_ANON, "", 8, 4, 0, 0, 0, 0 },
	{ QUADRANT_PRIVATE_ANON, "", 4, 0, 0, 0, 0, 0 },
};

static void smaps_crafted_kinds_classified_and_summed(void **state)
{
	struct smaps_result res;
	size_t len, i;
	char *b = read_fixture(CRAFTED "smaps_kinds", &len);

	(void)state;
	whole_parse(b, len, &res);
	assert_int_equal(res.r, 0);
	assert_int_equal(res.mappings, ARRAY_SIZE(kinds));
	assert_int_equal(res.rec.n, ARRAY_SIZE(kinds));
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		const struct rec_map *m = &res.rec.v[i];

		if (m->q != kinds[i].q)
			fail_msg("mapping %zu: %s/%s, wanted %s/%s", i + 1, quadrant_sharing(m->q),
				 quadrant_backing(m->q), quadrant_sharing(kinds[i].q),
				 quadrant_backing(kinds[i].q));
		assert_int_equal(m->path_len, strlen(kinds[i].path));
		assert_memory_equal(m->path, kinds[i].path, m->path_len);
		assert_sums(&m->sums, kinds[i].size, kinds[i].rss, kinds[i].pss, kinds[i].swap);
		assert_dirty(&m->sums, kinds[i].dirty, kinds[i].pss_dirty);
	}
	/* the table above, summed by hand per quadrant */
	assert_sums(&res.q[QUADRANT_PRIVATE_FILE], 8 + 4 + 4, 8 + 4 + 4, 8 + 1 + 4, 0);
	assert_sums(&res.q[QUADRANT_PRIVATE_ANON], 132 + 8 + 4 + 8 + 132 + 8 + 4,
		    100 + 4 + 4 + 8 + 16 + 4 + 0, 100 + 4 + 4 + 8 + 16 + 0 + 0, 20 + 4 + 8);
	assert_sums(&res.q[QUADRANT_SHARED_ANON], 4 + 16 + 4, 4 + 12 + 4, 2 + 6 + 4, 4);
	assert_sums(&res.q[QUADRANT_SHARED_FILE], 8 + 4 + 12, 8 + 4 + 12, 4 + 4 + 3, 0);
	assert_dirty(&res.q[QUADRANT_PRIVATE_FILE], 0 + 0 + 4, 0 + 0 + 4);
	assert_dirty(&res.q[QUADRANT_PRIVATE_ANON], 100 + 4 + 4 + 8 + 16 + 0 + 0, 100 + 4 + 4 + 8 + 16 + 0 + 0);
	assert_dirty(&res.q[QUADRANT_SHARED_ANON], 4 + (8 + 4) + 4, 2 + 6 + 4);
	assert_dirty(&res.q[QUADRANT_SHARED_FILE], 8 + 4 + 0, 4 + 4 + 0);
	result_done(&res);
	free(b);
}

/* Splitting the text at any byte changes nothing: every split into two chunks of the crafted
 * fixture gives exactly the whole-buffer result, sums and callbacks alike. */
static void smaps_every_split_point_gives_the_same_result(void **state)
{
	struct smaps_result whole, split;
	size_t len, cut;
	char *b = read_fixture(CRAFTED "smaps_kinds", &len);

	(void)state;
	whole_parse(b, len, &whole);
	assert_int_equal(whole.r, 0);
	for (cut = 0; cut <= len; cut++) {
		chunked_parse(b, len, &cut, 1, &split);
		assert_same_result(&whole, &split);
		result_done(&split);
	}
	result_done(&whole);
	free(b);
}

static void chunkings_match_whole(const char *path)
{
	struct smaps_result whole, split;
	size_t len, *cuts, n, round;
	char *b = read_fixture(path, &len);

	cuts = malloc((len + 1) * sizeof(*cuts));
	assert_non_null(cuts);
	whole_parse(b, len, &whole);
	assert_int_equal(whole.r, 0);

	/* 1-byte chunks */
	for (n = 0; n < len; n++)
		cuts[n] = n + 1;
	chunked_parse(b, len, cuts, len, &split);
	assert_same_result(&whole, &split);
	result_done(&split);

	/* random chunk sizes, from tiny to larger than a mapping */
	for (round = 0; round < 40; round++) {
		size_t pos = 0, max = (size_t)1 << (round % 12);

		n = 0;
		while (pos < len) {
			pos += 1 + (size_t)(rng_next() % max);
			if (pos > len)
				pos = len;
			cuts[n++] = pos;
		}
		chunked_parse(b, len, cuts, n, &split);
		assert_same_result(&whole, &split);
		result_done(&split);
	}
	result_done(&whole);
	free(cuts);
	free(b);
}

static void smaps_random_chunkings_give_the_same_result(void **state)
{
	(void)state;
	chunkings_match_whole(CAPTURED "mapping_kinds.smaps");
	chunkings_match_whole(CRAFTED "smaps_kinds");
}

static void smaps_feed_consumes_only_complete_lines(void **state)
{
	static const char text[] = "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \nSize:   4 kB\nRss:";
	struct smaps_parser p;
	size_t used = 99;
	char *b = exact(LIT(text));

	(void)state;
	smaps_parser_init(&p, NULL, NULL);
	assert_int_equal(smaps_parser_feed(&p, b, sizeof(text) - 1, &used), 0);
	assert_int_equal(used, sizeof(text) - 1 - strlen("Rss:"));
	assert_int_equal(p.mappings, 0); /* not complete until the next header or the end */
	assert_int_equal(smaps_parser_feed(&p, b, 0, &used), 0);
	assert_int_equal(used, 0);
	assert_int_equal(smaps_parser_finish(&p), 0);
	assert_int_equal(p.mappings, 1);
	assert_sums(&p.q[QUADRANT_PRIVATE_ANON], 4, 0, 0, 0);
	smaps_parser_done(&p);
	smaps_parser_done(NULL);
	free(b);
}

static void smaps_empty_input_has_no_mappings(void **state)
{
	struct quadrant_sums q[QUADRANT_COUNT], zero[QUADRANT_COUNT];
	uint64_t n = 99;
	struct recorder rec = { 0 };

	(void)state;
	memset(q, 0xa5, sizeof(q));
	memset(zero, 0, sizeof(zero));
	assert_int_equal(smaps_parse(NULL, 0, record, &rec, q, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rec.n, 0);
	assert_memory_equal(q, zero, sizeof(q));
	/* blank lines and a lone partial line are no mappings either */
	n = 99;
	assert_int_equal(smaps_parse("\n\n7f00", 6, record, &rec, q, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(smaps_parse("", 0, NULL, NULL, q, NULL), 0);
	recorder_done(&rec);
}

static void smaps_field_before_any_header_is_refused(void **state)
{
	struct quadrant_sums q[QUADRANT_COUNT], sentinel[QUADRANT_COUNT];
	uint64_t n = 99;
	char *b = exact(LIT("Size:   4 kB\n7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"));

	(void)state;
	memset(sentinel, 0xa5, sizeof(sentinel));
	memcpy(q, sentinel, sizeof(q));
	assert_int_equal(smaps_parse(b, strlen("Size:   4 kB\n7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"),
				     NULL, NULL, q, &n), -EBADMSG);
	assert_memory_equal(q, sentinel, sizeof(q)); /* ret untouched */
	assert_int_equal(n, 99);
	free(b);
}

/* A read cut off in the middle of the last mapping: its complete lines count, the cut line
 * does not (procfs.h: leftover bytes without a '\n' are ignored). */
static void smaps_truncated_last_mapping_counts_its_complete_lines(void **state)
{
	static const char text[] =
		"7f0000000000-7f0000002000 rw-p 00000000 00:00 0 \n"
		"Size:                  8 kB\nRss:                   8 kB\nPss:                   8 kB\n"
		"7f0000002000-7f0000006000 r--p 00000000 08:01 42                         /lib/x.so\n"
		"Size:                 16 kB\nKernelPageSize:        4 kB\nRss:                  1";
	struct smaps_result res;

	(void)state;
	whole_parse(LIT(text), &res);
	assert_int_equal(res.r, 0);
	assert_int_equal(res.mappings, 2);
	assert_sums(&res.q[QUADRANT_PRIVATE_ANON], 8, 8, 8, 0);
	assert_sums(&res.q[QUADRANT_PRIVATE_FILE], 16, 0, 0, 0);
	assert_int_equal(res.rec.n, 2);
	assert_memory_equal(res.rec.v[1].path, "/lib/x.so", res.rec.v[1].path_len);
	result_done(&res);

	/* cut inside the header line: that mapping never started */
	whole_parse(LIT("7f0000000000-7f0000002000 rw-p 00000000 00:00 0 \nSize:  8 kB\n7f0000002000-7f00"), &res);
	assert_int_equal(res.r, 0);
	assert_int_equal(res.mappings, 1);
	result_done(&res);
}

/* dirty is Shared_Dirty + Private_Dirty of each mapping, whichever lines it has, each taken
 * once however often it repeats (the last wins, as for every field); Pss_Dirty apart. */
static void smaps_dirty_sums_shared_and_private_dirty(void **state)
{
	static const char text[] =
		"7f0000000000-7f0000004000 rw-p 00000000 00:00 0 \n"
		"Pss_Dirty:             3 kB\nShared_Dirty:          4 kB\nPrivate_Dirty:         8 kB\n"
		"7f0000004000-7f0000006000 rw-p 00000000 00:00 0 \n"
		"Private_Dirty:         4 kB\n"		/* no Shared_Dirty line */
		"7f0000006000-7f0000008000 rw-s 00000000 00:01 9  /SYSV00000009 (deleted)\n"
		"Shared_Dirty:          8 kB\nShared_Dirty:          2 kB\n" /* repeated: 2 */
		"Private_Dirty:         1 kB\nPrivate_Dirty:         1 kB\n"
		"7f0000008000-7f000000a000 r--p 00000000 08:01 7  /lib/x.so\n"
		"Shared_Clean:          8 kB\nPss_Dirty:             0 kB\n"; /* no dirty lines */
	struct smaps_result res;

	(void)state;
	whole_parse(LIT(text), &res);
	assert_int_equal(res.r, 0);
	assert_int_equal(res.rec.n, 4);
	assert_dirty(&res.rec.v[0].sums, 4 + 8, 3);
	assert_dirty(&res.rec.v[1].sums, 4, 0);
	assert_dirty(&res.rec.v[2].sums, 2 + 1, 0);
	assert_dirty(&res.rec.v[3].sums, 0, 0);
	assert_dirty(&res.q[QUADRANT_PRIVATE_ANON], 12 + 4, 3);
	assert_dirty(&res.q[QUADRANT_SHARED_ANON], 3, 0);
	assert_dirty(&res.q[QUADRANT_PRIVATE_FILE], 0, 0);
	result_done(&res);

	/* each half at the largest kB value that fits: their sum saturates, it does not wrap */
	whole_parse(LIT("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"
			"Shared_Dirty: 18014398509481983 kB\nPrivate_Dirty: 18014398509481983 kB\n"), &res);
	assert_int_equal(res.r, 0);
	assert_int_equal(res.q[QUADRANT_PRIVATE_ANON].dirty, UINT64_MAX);
	result_done(&res);

	/* the dirty lines are checked like the others: before any header, or malformed */
	whole_parse(LIT("Shared_Dirty: 4 kB\n7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"), &res);
	assert_int_equal(res.r, -EBADMSG);
	result_done(&res);
	whole_parse(LIT("Pss_Dirty: 4 kB\n"), &res);
	assert_int_equal(res.r, -EBADMSG);
	result_done(&res);
	whole_parse(LIT("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \nPrivate_Dirty: 18014398509481984 kB\n"), &res);
	assert_int_equal(res.r, -ERANGE);
	result_done(&res);
}

static void smaps_refuses_malformed_headers_and_values(void **state)
{
	static const char *const bad[] = {
		"7f00-7f01\n",						      /* nothing after the range */
		"7f0000001000-7f0000000000 rw-p 00000000 00:00 0 \n",	      /* end before start */
		"7f0000000000 7f0000001000 rw-p 00000000 00:00 0 \n",	      /* no '-' */
		"7f0000000000-zz rw-p 00000000 00:00 0 \n",		      /* end not hex */
		"7f0000000000-7f0000001000 rw-x 00000000 00:00 0 \n",	      /* neither s nor p */
		"7f0000000000-7f0000001000 rw- 00000000 00:00 0 \n",	      /* short perms */
		"7f0000000000-7f0000001000 rw-p\n",			      /* stops after perms */
		"7f0000000000-7f0000001000 rw-p 0000000g 00:00 0 \n",	      /* offset not hex */
		"7f0000000000-7f0000001000 rw-p 00000000 00:00\n",	      /* no inode */
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 x \n",	      /* inode not a number */
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 12x /a\n",    /* inode with junk */
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \nRss: 4\n", /* no kB */
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \nSize: four kB\n",
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \nPss: -4 kB\n",
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \nSwap: 4 kB 4\n",
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \nShared_Dirty: 4 MB\n",
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \nPrivate_Dirty: kB\n",
		"7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \nPss_Dirty: 4 kb\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct quadrant_sums q[QUADRANT_COUNT];
		size_t n = strlen(bad[i]);
		char *b = exact(bad[i], n);
		int r = smaps_parse(b, n, NULL, NULL, q, NULL);

		if (r != -EBADMSG)
			fail_msg("\"%s\": %d, wanted -EBADMSG", bad[i], r);
		free(b);
	}
}

static void smaps_refuses_sizes_whose_bytes_overflow(void **state)
{
	struct smaps_result res;

	(void)state;
	whole_parse(LIT("7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \nRss: 18014398509481984 kB\n"), &res);
	assert_int_equal(res.r, -ERANGE);
	result_done(&res);
	whole_parse(LIT("ffffffffffffffff0-ffffffffffffffff1 rw-p 00000000 00:00 0 \n"), &res);
	assert_int_equal(res.r, -ERANGE);
	result_done(&res);
}

static void smaps_callback_error_stops_the_parse(void **state)
{
	struct smaps_result res;
	struct quadrant_sums q[QUADRANT_COUNT];
	size_t len;
	char *b = read_fixture(CRAFTED "smaps_kinds", &len);

	(void)state;
	memset(&res, 0, sizeof(res));
	res.rec.fail_at = 3;
	assert_int_equal(smaps_parse(b, len, record, &res.rec, q, NULL), -ECANCELED);
	assert_int_equal(res.rec.n, 3); /* not called again after the error */
	recorder_done(&res.rec);

	/* the last mapping is reported by finish(): its error comes from there */
	res.rec.fail_at = ARRAY_SIZE(kinds);
	assert_int_equal(smaps_parse(b, len, record, &res.rec, q, NULL), -ECANCELED);
	assert_int_equal(res.rec.n, ARRAY_SIZE(kinds));
	recorder_done(&res.rec);
	free(b);
}

/* A header line for `path` (plen bytes) in `text`, then "Rss: KB kB\n"; returns the length. */
static size_t header_with_path(char *text, const char *path, size_t plen, unsigned rss_kb)
{
	static const char head[] = "7f0000000000-7f0000001000 r--p 00000000 08:01 42 ";
	size_t n = sizeof(head) - 1;

	memcpy(text, head, n);
	memcpy(text + n, path, plen);
	n += plen;
	return n + (size_t)sprintf(text + n, "\nRss: %u kB\n", rss_kb);
}

/* A name of SMAPS_PATH_MAX bytes arrives whole; one byte more and it is cut to SMAPS_PATH_MAX
 * bytes followed by " (cut)"; a name of 300 KiB (a file some thousand directories deep: the
 * kernel prints it whole) too, fed whole or through a window of 64 KiB like the collector's,
 * and the mappings after it are read as ever. */
static void smaps_long_names_are_cut_at_path_max(void **state)
{
	static const size_t plens[] = { SMAPS_PATH_MAX, SMAPS_PATH_MAX + 1, 300 * 1024 };
	size_t k;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(plens); k++) {
		size_t plen = plens[k], len = 0, i, cuts[64], ncuts = 0;
		char *text = malloc(plen + 512), *path = malloc(plen);
		struct smaps_result whole, split;
		bool cut = plen > SMAPS_PATH_MAX;

		assert_non_null(text);
		assert_non_null(path);
		path[0] = '/';
		for (i = 1; i < plen; i++)
			path[i] = i % 8 == 0 ? '/' : (char)('a' + i % 26);
		len += header_with_path(text + len, path, plen, 4);
		len += header_with_path(text + len, "/short", 6, 8);
		whole_parse(text, len, &whole);
		assert_int_equal(whole.r, 0);
		assert_int_equal(whole.rec.n, 2);
		if (cut) {
			assert_int_equal(whole.rec.v[0].path_len, SMAPS_PATH_MAX + strlen(" (cut)"));
			assert_memory_equal(whole.rec.v[0].path + SMAPS_PATH_MAX, " (cut)", 6);
		} else {
			assert_int_equal(whole.rec.v[0].path_len, plen);
		}
		assert_memory_equal(whole.rec.v[0].path, path, SMAPS_PATH_MAX);
		assert_int_equal(whole.rec.v[0].path_cut, cut);
		assert_sums(&whole.rec.v[0].sums, 0, 4, 0, 0);
		assert_int_equal(whole.rec.v[1].path_len, 6);
		assert_memory_equal(whole.rec.v[1].path, "/short", 6);
		assert_false(whole.rec.v[1].path_cut);
		assert_sums(&whole.q[QUADRANT_PRIVATE_FILE], 0, 12, 0, 0);
		/* reads of at most 64 KiB, as read_smaps_at() makes them */
		for (i = 65536; i < len && ncuts < ARRAY_SIZE(cuts); i += 65536 - 7)
			cuts[ncuts++] = i;
		chunked_parse(text, len, cuts, ncuts, &split);
		assert_same_result(&whole, &split);
		result_done(&split);
		result_done(&whole);
		free(path);
		free(text);
	}
}

/* seq_path() prints a newline in a name as "\012" and escapes nothing else, not even a
 * backslash: "\012" is decoded, every other byte (a lone backslash, "\01", "\0120" as a
 * newline and a '0', a tab, bytes that are not UTF-8) is the name's own. */
static void smaps_decodes_the_one_escape_seq_path_writes(void **state)
{
	static const struct {
		const char *printed, *name;
	} rows[] = {
		{ "/a\\012b", "/a\nb" },
		{ "/a\\012\\012", "/a\n\n" },
		{ "/a\\b", "/a\\b" },
		{ "/a\\01", "/a\\01" },
		{ "/a\\0120", "/a\n0" },
		{ "/a\\\\012", "/a\\\n" },
		{ "/a\\013", "/a\\013" },
		{ "/t\tx \xff\x01", "/t\tx \xff\x01" },
		{ "/x (deleted)", "/x (deleted)" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		char text[256];
		struct smaps_result res;
		size_t len = header_with_path(text, rows[i].printed, strlen(rows[i].printed), 4);

		whole_parse(text, len, &res);
		assert_int_equal(res.r, 0);
		assert_int_equal(res.rec.n, 1);
		if (res.rec.v[0].path_len != strlen(rows[i].name) ||
		    memcmp(res.rec.v[0].path, rows[i].name, res.rec.v[0].path_len) != 0)
			fail_msg("printed \"%s\": got \"%.*s\"", rows[i].printed, (int)res.rec.v[0].path_len,
				 res.rec.v[0].path);
		result_done(&res);
	}
}

/* A name of SMAPS_PATH_MAX newlines is printed in 4 * SMAPS_PATH_MAX bytes: the line still fits
 * SMAPS_LINE_MAX, and the name arrives whole. A field line as long as that is not what the kernel
 * writes (refused); a long line the parser does not know is skipped like a short one. */
static void smaps_long_lines_of_other_kinds(void **state)
{
	size_t n = 4 * SMAPS_PATH_MAX, len, i;
	char *text = malloc(n + 2 * SMAPS_LINE_MAX + 512), *printed = malloc(n);
	struct smaps_result res;

	(void)state;
	assert_non_null(text);
	assert_non_null(printed);
	for (i = 0; i < n; i += 4)
		memcpy(printed + i, "\\012", 4);
	len = header_with_path(text, printed, n, 4);
	whole_parse(text, len, &res);
	assert_int_equal(res.r, 0);
	assert_int_equal(res.rec.v[0].path_len, SMAPS_PATH_MAX);
	assert_false(res.rec.v[0].path_cut);
	for (i = 0; i < SMAPS_PATH_MAX; i++)
		assert_int_equal(res.rec.v[0].path[i], '\n');
	result_done(&res);

	/* "Rss:" followed by more blanks than a line may hold */
	len = header_with_path(text, "/f", 2, 4);
	memcpy(text + len, "Rss:", 4);
	memset(text + len + 4, ' ', SMAPS_LINE_MAX);
	len += 4 + SMAPS_LINE_MAX;
	len += (size_t)sprintf(text + len, "4 kB\n");
	whole_parse(text, len, &res);
	assert_int_equal(res.r, -EBADMSG);
	result_done(&res);

	/* an unknown field that long: skipped, the mapping still counts */
	len = header_with_path(text, "/f", 2, 4);
	memcpy(text + len, "Future:", 7);
	memset(text + len + 7, 'x', SMAPS_LINE_MAX);
	len += 7 + SMAPS_LINE_MAX;
	len += (size_t)sprintf(text + len, "\nSize: 4 kB\n");
	whole_parse(text, len, &res);
	assert_int_equal(res.r, 0);
	assert_int_equal(res.rec.n, 1);
	assert_sums(&res.rec.v[0].sums, 4, 4, 0, 0);
	result_done(&res);
	free(printed);
	free(text);
}

/* ---- every parser on damaged input ---------------------------------------------------------- */

static bool documented_error(int r, bool enoent_ok)
{
	return r == 0 || r == -EBADMSG || r == -ERANGE || (enoent_ok && r == -ENOENT);
}

static int count_mapping(const struct smaps_mapping *m, void *userdata)
{
	(void)m;
	(*(unsigned *)userdata)++;
	return 0;
}

/* Runs every parser over b[0..n); each must stay inside the buffer (ASan) and answer 0 or one
 * of the errors procfs.h documents. */
static void all_parsers(const char *b, size_t n)
{
	struct proc_stat st;
	struct proc_status ps;
	struct proc_statm sm;
	struct smaps_rollup ru;
	struct quadrant_sums q[QUADRANT_COUNT];
	uint64_t t, maps;
	unsigned calls = 0;
	int r;

	assert_true(documented_error(proc_stat_parse(b, n, &st), false));
	assert_true(documented_error(proc_status_parse(b, n, &ps), false));
	assert_true(documented_error(proc_statm_parse(b, n, &sm), false));
	assert_true(documented_error(proc_btime_parse(b, n, &t), true));
	assert_true(documented_error(smaps_rollup_parse(b, n, &ru), false));
	r = smaps_parse(b, n, count_mapping, &calls, q, &maps);
	assert_true(documented_error(r, false));
	if (r == 0)
		assert_int_equal(calls, maps);
}

static void parsers_answer_damaged_text_with_documented_errors(void **state)
{
	static const char *const files[] = {
		CAPTURED "mapping_kinds.stat",	   CAPTURED "weird_comm.stat",
		CAPTURED "mapping_kinds.status",   CAPTURED "mapping_kinds.statm",
		CAPTURED "proc_stat",		   CAPTURED "mapping_kinds.smaps_rollup",
		CAPTURED "mapping_kinds.cgroup",   CRAFTED "smaps_kinds",
	};
	size_t f;

	(void)state;
	for (f = 0; f < ARRAY_SIZE(files); f++) {
		size_t len, n, i, k;
		char *b = read_fixture(files[f], &len);

		/* every prefix (the first 2000 bytes of the longer files) */
		for (n = 0; n <= len && n <= 2000; n++) {
			char *p = exact(b, n);

			all_parsers(p, n);
			free(p);
		}
		/* random damage: a few bytes overwritten with bytes the parsers care about */
		for (i = 0; i < 300; i++) {
			static const char alphabet[] = "0123456789abcdefkB :()-/\n\t\xff\0_@.sp";
			char *p = exact(b, len);

			for (k = 0; k < 1 + i % 4; k++)
				p[rng_next() % len] = alphabet[rng_next() % (sizeof(alphabet) - 1)];
			all_parsers(p, len);
			free(p);
		}
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stat_parses_captured_process),
		cmocka_unit_test(stat_without_the_mm_layout_fields),
		cmocka_unit_test(stat_parses_captured_kernel_thread_and_zombie),
		cmocka_unit_test(stat_comm_is_between_first_open_and_last_close_paren),
		cmocka_unit_test(stat_comm_cannot_spoof_the_fields_after_it),
		cmocka_unit_test(stat_accepts_empty_comm_and_negative_fields),
		cmocka_unit_test(stat_truncated_anywhere_before_starttime_is_refused),
		cmocka_unit_test(stat_refuses_numbers_that_do_not_fit),
		cmocka_unit_test(stat_refuses_what_the_kernel_does_not_write),
		cmocka_unit_test(status_parses_captured_process),
		cmocka_unit_test(status_agrees_with_statm_of_the_same_process),
		cmocka_unit_test(status_of_kernel_thread_and_zombie_has_no_memory_fields),
		cmocka_unit_test(status_of_older_kernels_reports_missing_fields_absent),
		cmocka_unit_test(status_reports_each_missing_field_absent_never_zero),
		cmocka_unit_test(status_repeated_field_last_one_wins),
		cmocka_unit_test(status_fields_parse_in_any_order),
		cmocka_unit_test(status_accepts_odd_spacing),
		cmocka_unit_test(status_refuses_a_size_without_kb),
		cmocka_unit_test(status_refuses_sizes_whose_bytes_overflow),
		cmocka_unit_test(status_ignores_an_unterminated_last_line),
		cmocka_unit_test(status_matches_field_names_whole),
		cmocka_unit_test(statm_parses_captured_and_refuses_malformed),
		cmocka_unit_test(btime_is_found_absent_or_refused),
		cmocka_unit_test(rollup_parses_captured_process),
		cmocka_unit_test(rollup_of_older_kernel_lacks_pss_kinds),
		cmocka_unit_test(rollup_empty_or_header_only_has_nothing),
		cmocka_unit_test(rollup_refuses_malformed_values),
		cmocka_unit_test(classify_follows_design_rules),
		cmocka_unit_test(quadrant_names_match_design_labels),
		cmocka_unit_test(smaps_captured_sums_per_quadrant),
		cmocka_unit_test(smaps_captured_quadrants_sum_to_rollup_and_status),
		cmocka_unit_test(smaps_captured_callback_sees_each_mapping),
		cmocka_unit_test(smaps_crafted_kinds_classified_and_summed),
		cmocka_unit_test(smaps_every_split_point_gives_the_same_result),
		cmocka_unit_test(smaps_random_chunkings_give_the_same_result),
		cmocka_unit_test(smaps_feed_consumes_only_complete_lines),
		cmocka_unit_test(smaps_empty_input_has_no_mappings),
		cmocka_unit_test(smaps_field_before_any_header_is_refused),
		cmocka_unit_test(smaps_truncated_last_mapping_counts_its_complete_lines),
		cmocka_unit_test(smaps_dirty_sums_shared_and_private_dirty),
		cmocka_unit_test(smaps_refuses_malformed_headers_and_values),
		cmocka_unit_test(smaps_refuses_sizes_whose_bytes_overflow),
		cmocka_unit_test(smaps_callback_error_stops_the_parse),
		cmocka_unit_test(smaps_long_names_are_cut_at_path_max),
		cmocka_unit_test(smaps_decodes_the_one_escape_seq_path_writes),
		cmocka_unit_test(smaps_long_lines_of_other_kinds),
		cmocka_unit_test(parsers_answer_damaged_text_with_documented_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
