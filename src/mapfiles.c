/* mapfiles.c — mapped files by device and inode; see mapfiles.h.
 *
 * One malloc per distinct file, kept while any process maps it: on a steady host the table
 * does not allocate from cycle to cycle. The per-cycle sums live in the entries; the top N is a
 * partial selection over an array of entry pointers built once per cycle (O(files log files),
 * a few thousand files on a real host).
 */
#include "mapfiles.h"
#include "testing.h" /* mapfiles_count, mapfiles_path_bytes */

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
/* uthash must not exit() when memory runs out: a failed add leaves the item out of the table
 * and sets the calling function's local `oom`. */
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (oom = true)
#include <uthash.h>

struct mapfile_key {
	uint64_t dev, inode;
};

struct mapfile {
	UT_hash_handle hh;
	struct mapfile_key key;
	uint64_t refs;	      /* sets holding it */
	uint64_t pss, rss;    /* this cycle's sums, bytes */
	uint64_t stamp;	      /* the set being built that last added it */
	uint32_t slot;	      /* where in that set */
	bool want_path;
	char *path;	      /* NULL: not kept */
	size_t path_len;
};

struct mapfiles {
	struct mapfile *table;
	size_t count;
	size_t path_bytes, path_budget;
	uint64_t stamp; /* of the set being built */
};

struct mapfiles *mapfiles_new(size_t path_budget)
{
	struct mapfiles *t = calloc(1, sizeof(*t));

	if (t)
		t->path_budget = path_budget;
	return t;
}

static void entry_free(struct mapfiles *t, struct mapfile *f)
{
	HASH_DEL(t->table, f); /* uthash frees its buckets with the last entry */
	t->count--;
	t->path_bytes -= f->path ? f->path_len + 1 : 0;
	free(f->path);
	free(f);
}

void mapfiles_free(struct mapfiles *t)
{
	struct mapfile *f, *tmp;

	if (!t)
		return;
	HASH_ITER(hh, t->table, f, tmp)
		entry_free(t, f);
	free(t);
}

size_t mapfiles_count(const struct mapfiles *t) { return t->count; }
size_t mapfiles_path_bytes(const struct mapfiles *t) { return t->path_bytes; }

static void keep_path(struct mapfiles *t, struct mapfile *f, const char *path, size_t len)
{
	char *p = malloc(len + 1);

	if (!p)
		return; /* a path is a nicety: the figures stand without it */
	memcpy(p, path, len);
	p[len] = '\0';
	f->path = p;
	f->path_len = len;
	f->want_path = false;
	t->path_bytes += len + 1;
}

void mapfiles_set_begin(struct mapfiles *t)
{
	t->stamp++;
}

static uint32_t kb_sat(uint64_t bytes)
{
	uint64_t kb = bytes / 1024;
	return kb > UINT32_MAX ? UINT32_MAX : (uint32_t)kb;
}

static uint32_t add_sat32(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

int mapfiles_add(struct mapfiles *t, struct mapfile_set *set, uint64_t dev, uint64_t inode,
		 const char *path, size_t path_len, uint64_t pss, uint64_t rss)
{
	struct mapfile_key key = { dev, inode };
	struct mapfile *f;
	struct mapfile_contrib *c;
	bool oom = false;

	assert(t && set && (path || path_len == 0));
	if (pss == 0 && rss == 0)
		return 0; /* nothing resident: nothing to add to any sum */
	HASH_FIND(hh, t->table, &key, sizeof(key), f);
	if (f && f->stamp == t->stamp) {
		c = &set->v[f->slot];
		c->pss_kb = add_sat32(c->pss_kb, kb_sat(pss));
		c->rss_kb = add_sat32(c->rss_kb, kb_sat(rss));
		return 0;
	}
	if (set->n == set->alloc) {
		uint32_t n = set->alloc ? set->alloc * 2 : 16;
		struct mapfile_contrib *nv;

		if (set->alloc > UINT32_MAX / 2)
			return -ENOMEM;
		nv = reallocarray(set->v, n, sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		set->v = nv;
		set->alloc = n;
	}
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f)
			return -ENOMEM;
		f->key = key;
		HASH_ADD(hh, t->table, key, sizeof(key), f);
		if (oom) {
			free(f);
			return -ENOMEM;
		}
		t->count++;
	}
	if (!f->path && t->path_bytes + path_len + 1 <= t->path_budget)
		keep_path(t, f, path, path_len);
	f->refs++;
	f->stamp = t->stamp;
	f->slot = set->n;
	set->v[set->n++] = (struct mapfile_contrib){ f, kb_sat(pss), kb_sat(rss) };
	return 0;
}

void mapfiles_set_drop(struct mapfiles *t, struct mapfile_set *set)
{
	uint32_t i;

	assert(t && set);
	for (i = 0; i < set->n; i++) {
		struct mapfile *f = set->v[i].file;

		assert(f->refs > 0);
		if (--f->refs == 0)
			entry_free(t, f);
	}
	free(set->v);
	*set = (struct mapfile_set){ 0 };
}

static void sat_add(uint64_t *dst, uint64_t v)
{
	*dst = *dst > UINT64_MAX - v ? UINT64_MAX : *dst + v;
}

void mapfiles_sum_reset(struct mapfiles *t)
{
	struct mapfile *f, *tmp;

	HASH_ITER(hh, t->table, f, tmp)
		f->pss = f->rss = 0;
}

void mapfiles_sum_add(struct mapfiles *t, const struct mapfile_set *set)
{
	uint32_t i;

	(void)t;
	for (i = 0; i < set->n; i++) {
		sat_add(&set->v[i].file->pss, (uint64_t)set->v[i].pss_kb * 1024);
		sat_add(&set->v[i].file->rss, (uint64_t)set->v[i].rss_kb * 1024);
	}
}

bool mapfiles_set_wants_path(const struct mapfile_set *set)
{
	uint32_t i;

	for (i = 0; i < set->n; i++)
		if (set->v[i].file->want_path && !set->v[i].file->path)
			return true;
	return false;
}

/* Most PSS first; ties by the path kept (bytewise; files without one after), then device and
 * inode. */
static int cmp_pss(const void *x, const void *y)
{
	const struct mapfile *a = *(const struct mapfile *const *)x, *b = *(const struct mapfile *const *)y;
	int c;

	if (a->pss != b->pss)
		return a->pss > b->pss ? -1 : 1;
	if (!a->path != !b->path)
		return a->path ? -1 : 1;
	if (a->path) {
		c = memcmp(a->path, b->path, a->path_len < b->path_len ? a->path_len : b->path_len);
		if (c || a->path_len != b->path_len)
			return c ? c : a->path_len < b->path_len ? -1 : 1;
	}
	if (a->key.dev != b->key.dev)
		return a->key.dev < b->key.dev ? -1 : 1;
	return a->key.inode < b->key.inode ? -1 : a->key.inode > b->key.inode;
}

/* The top n entries, sorted, in a fresh array; *ret_n is how many (<= n). */
static int top(const struct mapfiles *t, size_t n, struct mapfile ***ret, size_t *ret_n)
{
	struct mapfile **all, *f, *tmp;
	size_t i = 0;

	if (n > t->count)
		n = t->count;
	*ret = NULL;
	*ret_n = 0;
	if (n == 0)
		return 0;
	all = malloc(t->count * sizeof(*all));
	if (!all)
		return -ENOMEM;
	HASH_ITER(hh, t->table, f, tmp)
		all[i++] = f;
	qsort(all, t->count, sizeof(*all), cmp_pss);
	*ret = all;
	*ret_n = n;
	return 0;
}

int mapfiles_want_paths(struct mapfiles *t, size_t n)
{
	struct mapfile **all;
	size_t i, k = 0;
	int r;

	r = top(t, n, &all, &n);
	if (r < 0 || !all)
		return r;
	for (i = 0; i < n; i++)
		if (!all[i]->path) {
			all[i]->want_path = true;
			k++;
		}
	for (; i < t->count; i++)
		all[i]->want_path = false; /* wanted once, out of the top since: not any more */
	free(all);
	return (int)k;
}

void mapfiles_offer_path(struct mapfiles *t, uint64_t dev, uint64_t inode, const char *path, size_t len)
{
	struct mapfile_key key = { dev, inode };
	struct mapfile *f;

	HASH_FIND(hh, t->table, &key, sizeof(key), f);
	if (f && f->want_path && !f->path)
		keep_path(t, f, path, len);
}

int mapfiles_top(struct mapfiles *t, size_t n, struct snapshot *s)
{
	struct mapfile **all;
	size_t i;
	int r;

	assert(t && s);
	s->have_mappings = true;
	r = top(t, n, &all, &n);
	if (r < 0 || n == 0)
		return r;
	s->mappings = calloc(n, sizeof(*s->mappings));
	if (!s->mappings) {
		r = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct mapfile *f = all[i];

		r = snapshot_str(s, f->path ? f->path : "", f->path ? f->path_len : 0, &s->mappings[i].path);
		if (r < 0)
			goto out;
		s->mappings[i].dev = f->key.dev;
		s->mappings[i].inode = f->key.inode;
		s->mappings[i].pss = f->pss;
		s->mappings[i].rss = f->rss;
	}
	s->nmappings = n;
out:
	free(all);
	return r;
}
