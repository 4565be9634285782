/* procmem_bench.c — the collector's cost against the kernel's, in one process, interleaved.
 *
 *   procmem_bench [--modes off,rollup,full] [--reps N] [--procfs DIR] [--render]
 *                 [--render-reps N] [--tops N,N...] [--no-floor]
 *
 * For each mode it runs, alternately, the floor and our collection cycle (A B B A A B ...: the
 * order flips every pair so neither side always runs on a warmer cache), and measures each
 * pass's wall time (CLOCK_MONOTONIC), CPU time (CLOCK_PROCESS_CPUTIME_ID: exact, ns) and its
 * user/system split (getrusage; the kernel splits the exact total by tick samples, so the split
 * is statistical while the sum is not).
 *
 * The floor is the least any reader of the same figures must pay: it lists the proc directory
 * and, for every process, opens /proc/PID as a directory and read()s the very files the
 * collector reads, in the same order, into one buffer, until end of file, parsing nothing:
 * status and stat always; for processes that are not kernel threads also cgroup and the exe
 * link; in rollup and full mode smaps_rollup; in full mode smaps. Which processes are kernel
 * threads is worked out once before timing (the collector learns it from the status it reads
 * anyway), so the floor does no work that is not the kernel's. Our cycle is collector_cycle()
 * of build/libprocmem.a, as the daemon calls it, followed by snapshot_free().
 *
 * --render also times expo_render() of a full-mode snapshot in both formats, page_render() of
 * the landing page and the /top table, and
 * gz_deflate_body() of the text rendering at every gzip level (size and CPU, best of
 * --render-reps), once per --tops selection (default "100,0": the default --top, and every
 * process).
 *
 * --no-floor runs our cycles only, for profilers: bench/profile.sh runs it under callgrind with
 * collection toggled on inside collector_cycle() only.
 *
 * Output: one JSON object on stdout (the driver, bench/run.py, makes the tables).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "collect.h"
#include "expo.h"
#include "gz.h"
#include "page.h"
#include "procfs.h"
#include "snapshot.h"

#define PID_LIMIT (1u << 22) /* PID_MAX_LIMIT on 64-bit */

struct sample {
	uint64_t wall_ns, cpu_ns, user_ns, sys_ns;
};

struct meter {
	uint64_t wall, cpu;
	struct rusage ru;
};

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u;
}

static void meter_start(struct meter *m)
{
	getrusage(RUSAGE_SELF, &m->ru);
	m->cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	m->wall = clock_ns(CLOCK_MONOTONIC);
}

static struct sample meter_stop(const struct meter *m)
{
	uint64_t wall = clock_ns(CLOCK_MONOTONIC), cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (struct sample){
		.wall_ns = wall - m->wall,
		.cpu_ns = cpu - m->cpu,
		.user_ns = tv_ns(&ru.ru_utime) - tv_ns(&m->ru.ru_utime),
		.sys_ns = tv_ns(&ru.ru_stime) - tv_ns(&m->ru.ru_stime),
	};
}

/* ---- the floor ------------------------------------------------------------------------------ */

struct floor {
	int procfd;
	DIR *dir;
	unsigned char *kthread; /* bitmap by pid */
	char *buf;
	size_t size;
	uint64_t bytes; /* read in the last pass */
};

static bool is_kthread(const struct floor *f, unsigned long pid)
{
	return pid < PID_LIMIT && (f->kthread[pid / 8] & (1u << (pid % 8)));
}

/* read() until end of file into the one buffer, overwriting: the bytes are not looked at */
static void floor_read(struct floor *f, int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return;
	while ((n = read(fd, f->buf, f->size)) > 0)
		f->bytes += (uint64_t)n;
	close(fd);
}

static void floor_pass(struct floor *f, enum smaps_mode mode)
{
	char link[4096 + 16];
	struct dirent *de;

	f->bytes = 0;
	rewinddir(f->dir);
	while ((de = readdir(f->dir))) {
		unsigned long pid;
		char *end;
		int dirfd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		dirfd = openat(f->procfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			continue;
		floor_read(f, dirfd, "status");
		floor_read(f, dirfd, "stat");
		pid = strtoul(de->d_name, &end, 10);
		if (!is_kthread(f, pid)) {
			floor_read(f, dirfd, "cgroup");
			(void)!readlinkat(dirfd, "exe", link, sizeof(link));
			if (mode != SMAPS_OFF)
				floor_read(f, dirfd, "smaps_rollup");
			if (mode == SMAPS_FULL)
				floor_read(f, dirfd, "smaps");
		}
		close(dirfd);
	}
}

/* Before timing: which pids are kernel threads, with the library's own parsers. */
static int floor_init(struct floor *f, const char *procfs)
{
	struct buf b = BUF_INIT;
	struct dirent *de;

	*f = (struct floor){ .size = 1u << 20 };
	f->procfd = open(procfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->procfd < 0)
		return -errno;
	f->dir = opendir(procfs);
	f->kthread = calloc(PID_LIMIT / 8, 1);
	f->buf = malloc(f->size);
	if (!f->dir || !f->kthread || !f->buf)
		return -ENOMEM;
	while ((de = readdir(f->dir))) {
		struct proc_status st;
		unsigned long pid;
		char path[sizeof(de->d_name) + 16];
		int fd;
		ssize_t n;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = strtoul(de->d_name, NULL, 10);
		snprintf(path, sizeof(path), "%s/status", de->d_name);
		fd = openat(f->procfd, path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		buf_reset(&b);
		while (buf_grow(&b, 4096) == 0 && (n = read(fd, buf_tail(&b), buf_avail(&b))) > 0)
			buf_advance(&b, (size_t)n);
		close(fd);
		if (proc_status_parse(b.buf, b.len, &st) == 0 && pid < PID_LIMIT &&
		    (st.kthread || !(st.have & PROC_STATUS_VMSIZE)))
			f->kthread[pid / 8] |= (unsigned char)(1u << (pid % 8));
	}
	buf_done(&b);
	return 0;
}

/* ---- output --------------------------------------------------------------------------------- */

static void print_samples(const char *name, const struct sample *s, size_t n)
{
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
		{ "wall_ns", offsetof(struct sample, wall_ns) },
		{ "cpu_ns", offsetof(struct sample, cpu_ns) },
		{ "user_ns", offsetof(struct sample, user_ns) },
		{ "sys_ns", offsetof(struct sample, sys_ns) },
	};
	size_t k, i;

	printf("\"%s\": {", name);
	for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
		printf("%s\"%s\": [", k ? ", " : "", fields[k].key);
		for (i = 0; i < n; i++) {
			uint64_t v;
			memcpy(&v, (const char *)&s[i] + fields[k].off, sizeof(v));
			printf("%s%llu", i ? ", " : "", (unsigned long long)v);
		}
		printf("]");
	}
	printf("}");
}

/* ---- main ----------------------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: procmem_bench [--modes off,rollup,full] [--reps N] [--procfs DIR] "
			"[--render] [--render-reps N] [--tops N,N...] [--no-floor]\n");
	exit(2);
}

static int run_mode(struct collector *c, struct floor *f, enum smaps_mode mode, unsigned reps,
		    bool first, bool no_floor)
{
	struct collect_opts o = { .smaps = mode, .mapping_top = 20 };
	struct sample *fl = calloc(reps, sizeof(*fl)), *ours = calloc(reps, sizeof(*ours));
	size_t nprocs = 0, kthreads = 0;
	uint64_t bytes = 0;
	unsigned i;
	int r = 0;

	if (!fl || !ours)
		return -ENOMEM;
	/* one untimed round of each: caches, the user name lookups, the buffers' growth */
	if (!no_floor)
		floor_pass(f, mode);
	{
		struct snapshot *s;
		r = collector_cycle(c, &o, &s);
		if (r < 0)
			goto out;
		snapshot_free(s);
	}
	for (i = 0; i < reps; i++) {
		bool floor_first = (i % 2) == 0;
		int k;

		for (k = 0; k < 2; k++) {
			struct meter m;

			if ((k == 0) == floor_first) {
				if (no_floor)
					continue;
				meter_start(&m);
				floor_pass(f, mode);
				fl[i] = meter_stop(&m);
				bytes = f->bytes;
			} else {
				struct snapshot *s;

				meter_start(&m);
				r = collector_cycle(c, &o, &s);
				if (r < 0)
					goto out;
				nprocs = s->nprocs;
				kthreads = s->kernel_threads;
				snapshot_free(s);
				ours[i] = meter_stop(&m);
			}
		}
	}
	printf("%s{\"mode\": \"%s\", \"processes\": %zu, \"kernel_threads\": %zu, \"floor_bytes\": %llu, ",
	       first ? "" : ", ", smaps_mode_name(mode), nprocs, kthreads, (unsigned long long)bytes);
	print_samples("floor", fl, reps);
	printf(", ");
	print_samples("ours", ours, reps);
	printf("}");
out:
	free(fl);
	free(ours);
	return r;
}

static int run_render(struct collector *c, unsigned reps, unsigned top, bool first)
{
	struct collect_opts o = { .smaps = SMAPS_FULL, .mapping_top = 20, .select.top = top };
	struct buf out[EXPO_FORMAT_COUNT] = { BUF_INIT, BUF_INIT }, z = BUF_INIT;
	struct snapshot *s;
	unsigned i, level;
	int f, r;

	r = collector_cycle(c, &o, &s);
	if (r < 0)
		return r;
	printf("%s{\"top\": %u, \"processes\": %zu, \"exported\": %llu", first ? "" : ", ", top,
	       s->nprocs, (unsigned long long)s->processes_exported);
	for (f = 0; f < EXPO_FORMAT_COUNT; f++) {
		uint64_t best = UINT64_MAX;

		for (i = 0; i < reps; i++) {
			struct meter m;
			struct sample x;

			buf_reset(&out[f]);
			meter_start(&m);
			expo_render(s, (enum expo_format)f, &out[f]);
			x = meter_stop(&m);
			if (x.cpu_ns < best)
				best = x.cpu_ns;
		}
		if (buf_failed(&out[f])) {
			r = -ENOMEM;
			goto out;
		}
		printf(", \"%s\": {\"bytes\": %zu, \"cpu_ns\": %llu}", f == EXPO_TEXT ? "text" : "openmetrics",
		       out[f].len, (unsigned long long)best);
	}
	/* the pages for people (/ and /top), rendered once per cycle once asked for */
	for (f = 0; f < PAGE_KIND_COUNT; f++) {
		struct page_info info = { .version = "bench", .host = "host" };
		uint64_t best = UINT64_MAX;
		size_t at, len = 0;

		for (i = 0; i < reps; i++) {
			struct meter m;
			struct sample x;

			buf_reset(&z);
			meter_start(&m);
			page_render(s, &info, (enum page_kind)f, &z, &at);
			x = meter_stop(&m);
			if (x.cpu_ns < best)
				best = x.cpu_ns;
			len = z.len;
		}
		printf(", \"%s\": {\"bytes\": %zu, \"cpu_ns\": %llu}", f == PAGE_HTML ? "page_html" : "page_text",
		       len, (unsigned long long)best);
	}
	printf(", \"gzip\": [");
	for (level = 1; level <= 9; level++) {
		uint64_t best = UINT64_MAX;
		uint32_t crc;

		for (i = 0; i < reps; i++) {
			struct meter m;
			struct sample x;

			buf_reset(&z);
			meter_start(&m);
			r = gz_deflate_body(out[EXPO_TEXT].buf, out[EXPO_TEXT].len, (int)level, &z, &crc);
			x = meter_stop(&m);
			if (r < 0)
				goto out;
			if (x.cpu_ns < best)
				best = x.cpu_ns;
		}
		printf("%s{\"level\": %u, \"bytes\": %zu, \"cpu_ns\": %llu}", level > 1 ? ", " : "", level,
		       z.len + GZ_HEADER_LEN + 8, (unsigned long long)best);
	}
	printf("]}");
out:
	for (f = 0; f < EXPO_FORMAT_COUNT; f++)
		buf_done(&out[f]);
	buf_done(&z);
	snapshot_free(s);
	return r;
}

int main(int argc, char **argv)
{
	const char *procfs = "/proc", *modes = "off,rollup,full";
	unsigned reps = 10, render_reps = 5;
	const char *tops = "100,0";
	bool render = false, first = true, no_floor = false;
	struct collector *c;
	struct floor f;
	char *list, *tok, *save = NULL;
	int i, r;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--modes") && i + 1 < argc)
			modes = argv[++i];
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--render-reps") && i + 1 < argc)
			render_reps = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--tops") && i + 1 < argc)
			tops = argv[++i];
		else if (!strcmp(argv[i], "--procfs") && i + 1 < argc)
			procfs = argv[++i];
		else if (!strcmp(argv[i], "--render"))
			render = true;
		else if (!strcmp(argv[i], "--no-floor"))
			no_floor = true;
		else
			usage();
	}
	if (reps == 0 || render_reps == 0)
		usage();
	r = floor_init(&f, procfs);
	if (r < 0) {
		fprintf(stderr, "procmem_bench: %s: %s\n", procfs, strerror(-r));
		return 1;
	}
	r = collector_new(procfs, &c);
	if (r < 0) {
		fprintf(stderr, "procmem_bench: collector: %s\n", strerror(-r));
		return 1;
	}
	printf("{\"reps\": %u, \"modes\": [", reps);
	list = strdup(modes);
	for (tok = strtok_r(list, ",", &save); tok && r >= 0; tok = strtok_r(NULL, ",", &save)) {
		enum smaps_mode m;

		if (!strcmp(tok, "off"))
			m = SMAPS_OFF;
		else if (!strcmp(tok, "rollup"))
			m = SMAPS_ROLLUP;
		else if (!strcmp(tok, "full"))
			m = SMAPS_FULL;
		else
			usage();
		r = run_mode(c, &f, m, reps, first, no_floor);
		first = false;
	}
	free(list);
	printf("]");
	if (r >= 0 && render) {
		printf(", \"render\": [");
		list = strdup(tops);
		first = true;
		for (tok = strtok_r(list, ",", &save); tok && r >= 0; tok = strtok_r(NULL, ",", &save)) {
			r = run_render(c, render_reps, (unsigned)atoi(tok), first);
			first = false;
		}
		free(list);
		printf("]");
	}
	printf("}\n");
	collector_free(c);
	if (r < 0) {
		fprintf(stderr, "procmem_bench: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
