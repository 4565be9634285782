/* fuzz_expo_series — no series twice in any exposition the renderer can produce.
 *
 * The input builds a snapshot the way the collector can: processes with ascending pids and any
 * bytes in comm, user, unit and exe; rollup and quadrants present or not; mapped files with any
 * device, inode and path bytes (devices and inodes drawn from a few values, so files collide
 * often), spread over the processes through struct mapfile_set as the collector does. Then
 * snapshot_finish() (any --top, --detail-top, --top-min-age, --top-margin and clock), a second
 * choice (select_processes(), other options) with the first as the last cycle's, as the
 * collector makes one every cycle, expo_render() and expo_render_tail() in both formats.
 *
 * Properties: the choice has at most --top processes (any number with 0), the detail tier at
 * most --detail-top of them and only processes chosen. In both formats: every sample line's
 * series (the text before its value) appears once; every family has one TYPE line and its
 * samples follow it without interleaving; the OpenMetrics text ends in "# EOF". Paths or names that differ only in bytes that render alike
 * (invalid UTF-8, a literal U+FFFD, NUL) are exactly what this looks for.
 *
 * Input: a byte stream read front to back (below, "byte" is the next one, 0 when it runs out).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expo.h"
#include "mapfiles.h"
#include "snapshot.h"

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t u32(struct in *in)
{
	uint64_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | u8(in);
	return v;
}

/* A string: a length byte (mod 24), then that many bytes. */
static const char *bytes(struct in *in, size_t *len)
{
	size_t n = u8(in) % 24;
	const char *s = (const char *)in->p;

	if (n > in->n)
		n = in->n;
	in->p += n;
	in->n -= n;
	*len = n;
	return n ? s : "";
}

static void str(struct snapshot *s, struct in *in, struct str *dst)
{
	size_t len;
	const char *b = bytes(in, &len);

	if (snapshot_str(s, b, len, dst) < 0)
		abort();
}

static int cmp_line(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	return strcmp(x, y);
}

/* Checks one rendering; modifies it (NULs at line ends). */
static void check(char *text, size_t len, bool om)
{
	char **series = NULL, **types = NULL;
	size_t ns = 0, nt = 0, i;
	char family[512] = "";
	char *line = text, *end = text + len;

	if (om && (len < 6 || memcmp(end - 6, "# EOF\n", 6) != 0))
		abort();
	series = malloc((len / 2 + 1) * sizeof(*series));
	types = malloc((len / 2 + 1) * sizeof(*types));
	if (!series || !types)
		abort();
	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line)), *sp;

		if (!nl)
			abort(); /* every line ends in a newline */
		*nl = '\0';
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char *name = line + 7, *e = strchr(name, ' ');

			if (!e || (size_t)(e - name) >= sizeof(family))
				abort();
			memcpy(family, name, (size_t)(e - name));
			family[e - name] = '\0';
			types[nt++] = name;
			*e = '\0';
		} else if (line[0] != '#') {
			sp = strrchr(line, ' ');
			if (!sp || sp == line)
				abort();
			*sp = '\0';
			/* a sample belongs to the family whose TYPE came last (no interleaving) */
			if (!family[0] || strncmp(line, family, strlen(family)) != 0)
				abort();
			series[ns++] = line;
		}
		line = nl + 1;
	}
	qsort(series, ns, sizeof(*series), cmp_line);
	for (i = 1; i < ns; i++)
		if (strcmp(series[i - 1], series[i]) == 0)
			abort(); /* one series twice */
	qsort(types, nt, sizeof(*types), cmp_line);
	for (i = 1; i < nt; i++)
		if (strcmp(types[i - 1], types[i]) == 0)
			abort(); /* one family twice */
	free(series);
	free(types);
}

/* The dampers and the clock: any margin, an age of up to 4 minutes, a now that may be before
 * some processes' start (the clock went back). */
static void choose(struct in *in, const struct snapshot *s, struct select_opts *sel)
{
	sel->top_margin_pct = u8(in) * 4u;
	sel->top_min_age_ns = (uint64_t)u8(in) * 1000000000u;
	sel->now_ns = (s->btime + u32(in) % 50000000u) * 1000000000u;
}

static void check_choice(const struct snapshot *s, const struct select_opts *sel)
{
	size_t i, exported = 0, detailed = 0;

	for (i = 0; i < s->nprocs; i++) {
		uint32_t f = s->procs[i].flags;

		if ((f & SAMPLE_DETAIL) && !(f & SAMPLE_EXPORTED))
			abort(); /* detail without the summary */
		exported += (f & SAMPLE_EXPORTED) != 0;
		detailed += (f & SAMPLE_DETAIL) != 0;
	}
	if (exported != s->processes_exported || (sel->top && exported > sel->top) ||
	    (sel->detail_top && detailed > sel->detail_top) ||
	    (!sel->detail_top && detailed != exported))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned codes[] = { 200, 304, 401, 404, 405, 414, 431, 503 };
	static const uint64_t requests[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct in in = { data, size };
	enum smaps_mode mode = (enum smaps_mode)(u8(&in) % 3);
	struct snapshot *s = snapshot_new(mode);
	struct mapfiles *files = mapfiles_new(u8(&in) % 2 ? 1 << 20 : 64);
	struct mapfile_set sets[4] = { { 0 } };
	struct select_opts sel = { .top = u8(&in) % 8, .detail_top = u8(&in) % 4 };
	struct select_memory last = { 0 };
	size_t nprocs = u8(&in) % 16, nfiles, i;
	uint32_t pid = 0;

	if (!s || !files)
		abort();
	s->btime = 1700000000;
	s->hz = 100;
	for (i = 0; i < nprocs; i++) {
		struct proc_sample *p = snapshot_add_proc(s);
		uint8_t f = u8(&in);
		int q;

		if (!p)
			abort();
		pid += 1u + u8(&in);
		p->pid = pid;
		p->ppid = u8(&in);
		p->start_ticks = u32(&in);
		str(s, &in, &p->comm);
		str(s, &in, &p->user);
		str(s, &in, &p->unit);
		str(s, &in, &p->exe);
		p->status.have = (uint32_t)u32(&in);
		p->status.vm_rss = u32(&in) << 10;
		p->status.vm_size = p->status.vm_rss * 2;
		if (mode != SMAPS_OFF && (f & 1)) {
			p->flags |= SAMPLE_ROLLUP | (f & 4 ? SAMPLE_ROLLUP_CARRIED : 0);
			p->rollup.have = (uint32_t)u32(&in);
			p->rollup.pss = u32(&in) << 10;
		}
		if (mode == SMAPS_FULL && (f & 2)) {
			p->flags |= SAMPLE_QUADRANTS | (f & 8 ? SAMPLE_QUADRANTS_CARRIED : 0);
			for (q = 0; q < QUADRANT_COUNT; q++)
				p->quad[q].rss = u32(&in) << 10;
		}
	}
	if (mode == SMAPS_FULL) {
		nfiles = u8(&in) % 32;
		for (i = 0; i < nfiles; i++) {
			uint8_t d = u8(&in), which = u8(&in) % 4;
			uint64_t dev = (uint64_t)(d >> 4) << 32 | (d & 15), ino = u8(&in) % 8;
			size_t len;
			const char *path = bytes(&in, &len);

			mapfiles_set_begin(files); /* each add its own mapping run: duplicates collapse */
			if (mapfiles_add(files, &sets[which], dev, ino, path, len, (uint64_t)u8(&in) << 10, 4096) < 0)
				abort();
		}
		mapfiles_sum_reset(files);
		for (i = 0; i < 4; i++)
			mapfiles_sum_add(files, &sets[i]);
		if (mapfiles_top(files, u8(&in) % 40, s) < 0)
			abort();
	}
	s->smaps_full_reads = u8(&in);
	s->smaps_carried = u8(&in);
	s->smaps_carried_max_age_ns = u32(&in);
	choose(&in, s, &sel);
	if (snapshot_finish(s, &sel) < 0)
		abort();
	check_choice(s, &sel);
	/* the next cycle's choice, with this one as the last: incumbents, margins, reused pids */
	if (select_memory_save(&last, s) < 0)
		abort();
	sel = (struct select_opts){ .top = u8(&in) % 8, .detail_top = u8(&in) % 4, .prev = &last };
	choose(&in, s, &sel);
	if (select_processes(s, &sel) < 0)
		abort();
	check_choice(s, &sel);
	select_memory_done(&last);

	for (int f = 0; f < EXPO_FORMAT_COUNT; f++) {
		struct buf out = BUF_INIT;
		struct expo_tail tail = { codes, requests, u8(&in) % 9, 1234 };

		expo_render(s, (enum expo_format)f, &out);
		expo_render_tail(&tail, (enum expo_format)f, &out);
		if (buf_failed(&out))
			abort();
		check(out.buf, out.len, f == EXPO_OPENMETRICS);
		buf_done(&out);
	}
	for (i = 0; i < 4; i++)
		mapfiles_set_drop(files, &sets[i]);
	mapfiles_free(files);
	snapshot_free(s);
	return 0;
}
