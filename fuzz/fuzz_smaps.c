/* fuzz_smaps — the streaming smaps parser, fed in chunks the fuzzer chooses, against the
 * whole-buffer parse of the same text (a differential property, not just "no crash").
 *
 * Input: 8 bytes of chunk-size seed, then the smaps text. The chunked run does what the
 * collector does (src/collect.c, read_smaps_at): a window holds the bytes not yet consumed,
 * each "read" appends the next chunk, feed() is called on the whole window, and what it did
 * not consume is moved to the front. Both runs must agree on the result code, the totals, the
 * mapping count and every reported mapping (quadrant, path, sums), in order. Also checked:
 * the totals are the saturating sums of the reported mappings; a reported path is
 * NUL-terminated, empty for the anonymous quadrants, at most SMAPS_PATH_MAX bytes and ends in
 * SMAPS_PATH_CUT past that; feed() consumes every complete line it is given, stops inside a
 * line only to skip what is past SMAPS_LINE_MAX of it, and never leaves more than
 * SMAPS_LINE_MAX bytes unconsumed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "testing.h"

struct record {
	unsigned char *log; /* (quadrant, sums, path_len, path) per mapping, back to back */
	size_t len, alloc;
	uint64_t n;
	struct quadrant_sums sum[QUADRANT_COUNT]; /* saturating sums of what was reported */
	int stop_at; /* fail the callback at this mapping (-1: never) */
};

static void rec_add(struct record *r, const void *p, size_t n)
{
	if (r->len + n > r->alloc) {
		size_t a = r->alloc ? r->alloc : 4096;
		while (a < r->len + n)
			a *= 2;
		r->log = realloc(r->log, a);
		if (!r->log)
			abort();
		r->alloc = a;
	}
	memcpy(r->log + r->len, p, n);
	r->len += n;
}

static uint64_t sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int on_mapping(const struct smaps_mapping *m, void *userdata)
{
	struct record *r = userdata;
	struct quadrant_sums *t;
	bool file = m->quadrant == QUADRANT_PRIVATE_FILE || m->quadrant == QUADRANT_SHARED_FILE;

	if (m->quadrant >= QUADRANT_COUNT || !m->path || (!file && m->path_len != 0))
		abort();
	if (m->path[m->path_len] != '\0')
		abort();
	if (m->path_cut ? m->path_len > SMAPS_PATH_MAX + sizeof(SMAPS_PATH_CUT) - 1 ||
				  m->path_len < sizeof(SMAPS_PATH_CUT) - 1 ||
				  memcmp(m->path + m->path_len - (sizeof(SMAPS_PATH_CUT) - 1),
					 SMAPS_PATH_CUT, sizeof(SMAPS_PATH_CUT) - 1) != 0
			: m->path_len > SMAPS_PATH_MAX)
		abort();
	rec_add(r, &m->quadrant, sizeof(m->quadrant));
	rec_add(r, &m->sums, sizeof(m->sums));
	rec_add(r, &m->path_len, sizeof(m->path_len));
	rec_add(r, m->path, m->path_len);
	rec_add(r, &m->path_cut, sizeof(m->path_cut));
	t = &r->sum[m->quadrant];
	t->size = sat(t->size, m->sums.size);
	t->rss = sat(t->rss, m->sums.rss);
	t->pss = sat(t->pss, m->sums.pss);
	t->swap = sat(t->swap, m->sums.swap);
	t->dirty = sat(t->dirty, m->sums.dirty);
	t->pss_dirty = sat(t->pss_dirty, m->sums.pss_dirty);
	if (r->stop_at >= 0 && r->n == (uint64_t)r->stop_at)
		return -ECANCELED;
	r->n++;
	return 0;
}

/* xorshift64*: the chunk sizes, from the seed */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static int chunked(const char *text, size_t len, uint64_t seed, struct record *rec,
		   struct quadrant_sums q[QUADRANT_COUNT], uint64_t *mappings)
{
	struct smaps_parser p;
	char *win = NULL;
	size_t have = 0, pos = 0, walloc = 0;
	int r = 0;

	smaps_parser_init(&p, on_mapping, rec);
	while (pos < len) {
		/* mostly small chunks (1..64 bytes), sometimes large ones */
		uint64_t x = next_rand(&seed);
		size_t n = (x & 3) ? (size_t)(x >> 8) % 64 + 1 : (size_t)(x >> 8) % 4096 + 1;
		size_t used;

		if (n > len - pos)
			n = len - pos;
		if (have + n > walloc) {
			walloc = have + n;
			win = realloc(win, walloc);
			if (!win)
				abort();
		}
		memcpy(win + have, text + pos, n);
		have += n;
		pos += n;
		r = smaps_parser_feed(&p, win, have, &used);
		if (r < 0)
			break;
		if (used > have || (used < have && memchr(win + used, '\n', have - used)))
			abort(); /* consumed past the window, or left a complete line behind */
		if (have - used > SMAPS_LINE_MAX)
			abort(); /* left more of a line than a caller's buffer must hold */
		if (used > 0 && used < have && win[used - 1] != '\n')
			abort(); /* stopped inside a line, yet left some of it */
		memmove(win, win + used, have - used);
		have -= used;
	}
	if (r >= 0)
		r = smaps_parser_finish(&p);
	if (r >= 0) {
		memcpy(q, p.q, sizeof(p.q));
		*mappings = p.mappings;
	}
	smaps_parser_done(&p);
	free(win);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct quadrant_sums qa[QUADRANT_COUNT] = { 0 }, qb[QUADRANT_COUNT] = { 0 };
	struct record a = { .stop_at = -1 }, b = { .stop_at = -1 };
	uint64_t seed, ma = 0, mb = 0;
	const char *text;
	size_t len;
	int ra, rb;

	if (size < 8)
		return 0;
	memcpy(&seed, data, 8);
	seed |= 1; /* xorshift needs a nonzero state */
	text = (const char *)data + 8;
	len = size - 8;
	/* now and then, make the callback stop the parse half-way: both must stop at the same
	 * mapping with the same error */
	if ((seed & 0xf0) == 0xf0)
		a.stop_at = b.stop_at = (int)((seed >> 8) & 7);

	ra = smaps_parse(text, len, on_mapping, &a, qa, &ma);
	rb = chunked(text, len, seed, &b, qb, &mb);
	if (ra != rb)
		abort();
	if (a.len != b.len || (a.len && memcmp(a.log, b.log, a.len) != 0))
		abort();
	if (ra >= 0) {
		if (memcmp(qa, qb, sizeof(qa)) != 0 || ma != mb)
			abort();
		/* the totals are the sums of what was reported, and every mapping was reported */
		if (memcmp(qa, a.sum, sizeof(qa)) != 0 || ma != a.n)
			abort();
	}
	free(a.log);
	free(b.log);
	return 0;
}
