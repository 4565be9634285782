/* snapshot.c — a cycle's figures and the aggregation over them; see snapshot.h.
 *
 * Aggregation sorts rather than hashes: users and units come out sorted for the renderer
 * anyway, and sorting a few thousand pointers costs well under a millisecond. (Top mapped files
 * are in mapfiles.c.)
 */
#include "snapshot.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static void sat_add(uint64_t *dst, uint64_t v)
{
	*dst = *dst > UINT64_MAX - v ? UINT64_MAX : *dst + v;
}

uint64_t proc_sample_rank(const struct proc_sample *p)
{
	if ((p->flags & SAMPLE_ROLLUP) && (p->rollup.have & ROLLUP_PSS))
		return p->rollup.pss;
	return p->status.vm_rss;
}

bool proc_sample_uss(const struct proc_sample *p, uint64_t *ret)
{
	const uint32_t both = ROLLUP_PRIVATE_CLEAN | ROLLUP_PRIVATE_DIRTY;
	const struct smaps_rollup *ru = &p->rollup;

	*ret = 0;
	if (!(p->flags & SAMPLE_ROLLUP) || (ru->have & both) != both ||
	    ru->private_clean > UINT64_MAX - ru->private_dirty)
		return false;
	*ret = ru->private_clean + ru->private_dirty;
	return true;
}

struct snapshot *snapshot_new(enum smaps_mode mode)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	arena_init(&s->arena, 0);
	s->mode = mode;
	return s;
}

void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	free(s->procs);
	free(s->users);
	free(s->units);
	free(s->cgroups);
	free(s->containers);
	free(s->pods);
	free(s->mappings);
	arena_done(&s->arena);
	free(s);
}

struct proc_sample *snapshot_add_proc(struct snapshot *s)
{
	static const struct str empty = { "", 0 };
	struct proc_sample *p;

	assert(s);
	if (s->nprocs == s->procs_alloc) {
		size_t n = s->procs_alloc ? s->procs_alloc * 2 : 256;
		struct proc_sample *np = reallocarray(s->procs, n, sizeof(*np));
		if (!np)
			return NULL;
		s->procs = np;
		s->procs_alloc = n;
	}
	p = &s->procs[s->nprocs++];
	*p = (struct proc_sample){
		.comm = empty, .user = empty, .unit = empty, .exe = empty,
		.cg = { .path = empty, .container_id = empty, .pod_uid = empty },
	};
	return p;
}

void snapshot_drop_last(struct snapshot *s)
{
	assert(s && s->nprocs > 0);
	s->nprocs--;
}

int snapshot_str(struct snapshot *s, const char *src, size_t len, struct str *ret)
{
	char *p = arena_strndup(&s->arena, src, len);

	if (!p)
		return -ENOMEM;
	*ret = (struct str){ p, len };
	return 0;
}

int snapshot_set_cgroup(struct snapshot *s, struct proc_sample *p, const struct cgroup_info *info)
{
	struct cgroup_identity id;
	int r;

	assert(s && p && info);
	if (info->unit_len && (r = snapshot_str(s, info->unit, info->unit_len, &p->unit)) < 0)
		return r;
	if (!info->path)
		return 0;
	r = snapshot_str(s, info->path, info->path_len, &p->cg.path);
	if (r < 0)
		return r;
	cgroup_identify(info->path, info->path_len, &id);
	p->cg.runtime = id.runtime;
	p->cg.container_len = id.container_end;
	p->cg.pod_len = id.pod_end;
	if (id.container_end &&
	    (r = snapshot_str(s, id.container_id, id.container_id_len, &p->cg.container_id)) < 0)
		return r;
	if (id.pod_end && (r = snapshot_str(s, id.pod_uid, id.pod_uid_len, &p->cg.pod_uid)) < 0)
		return r;
	return 0;
}

static int str_cmp(const struct str *a, const struct str *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->s, b->s, n);

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int cmp_pid(const void *a, const void *b)
{
	const struct proc_sample *x = a, *y = b;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Most-ranked first; equal ranks by pid, so the choice is stable from cycle to cycle. */
static int cmp_rank(const void *a, const void *b)
{
	const struct proc_sample *const *x = a, *const *y = b;
	uint64_t rx = proc_sample_rank(*x), ry = proc_sample_rank(*y);

	if (rx != ry)
		return rx > ry ? -1 : 1;
	return (*x)->pid < (*y)->pid ? -1 : (*x)->pid > (*y)->pid;
}

size_t snapshot_rank_top(const struct snapshot *s, size_t n, const struct proc_sample **ret)
{
	size_t i, have = 0;

	for (i = 0; i < s->nprocs && n > 0; i++) {
		const struct proc_sample *p = &s->procs[i];
		size_t at = have;

		/* insertion into the sorted prefix; past the last place when it ranks below it */
		while (at > 0 && cmp_rank(&p, &ret[at - 1]) < 0)
			at--;
		if (at == n)
			continue;
		if (have < n)
			have++;
		memmove(&ret[at + 1], &ret[at], (have - 1 - at) * sizeof(*ret));
		ret[at] = p;
	}
	return have;
}

static void quad_add(struct quadrant_sums dst[QUADRANT_COUNT], const struct quadrant_sums src[QUADRANT_COUNT])
{
	int q;

	for (q = 0; q < QUADRANT_COUNT; q++)
		quadrant_sums_add(&dst[q], &src[q]);
}

static void totals(struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->nprocs; i++) {
		const struct proc_sample *p = &s->procs[i];
		uint64_t uss;

		if (p->flags & SAMPLE_MM_SHARED)
			continue; /* counted through the process it shares its mm with */
		if (p->status.have & PROC_STATUS_VMSWAP)
			sat_add(&s->swap_total, p->status.vm_swap);
		if (p->flags & SAMPLE_ROLLUP) {
			if (p->rollup.have & ROLLUP_PSS) {
				sat_add(&s->pss_total, p->rollup.pss);
				s->have_pss_total = true;
			}
			if (proc_sample_uss(p, &uss)) {
				sat_add(&s->uss_total, uss);
				s->have_uss_total = true;
			}
		}
		if (p->flags & SAMPLE_QUADRANTS) {
			quad_add(s->quad_total, p->quad);
			/* the kernel that wrote Pss_Dirty in the rollup wrote it in smaps too */
			if ((p->flags & SAMPLE_ROLLUP) && (p->rollup.have & ROLLUP_PSS_DIRTY))
				s->have_quad_pss_dirty = true;
		}
	}
	/* the machine's quadrants exist in full mode even when no process could be read */
	s->have_quad_total = s->mode == SMAPS_FULL;
	if (s->mode != SMAPS_OFF)
		s->have_pss_total = s->have_uss_total = true;
}

static void agg_add(struct agg_row *row, const struct proc_sample *p)
{
	/* a process that shares its mm with one read before it adds itself, not that memory */
	uint64_t once = p->flags & SAMPLE_MM_SHARED ? 0 : 1, uss;

	row->processes++;
	sat_add(&row->resident, once * p->status.vm_rss);
	sat_add(&row->swap, once * p->status.vm_swap);
	if (p->flags & SAMPLE_QUADRANTS) {
		if (once)
			quad_add(row->quad, p->quad);
		row->have_quad = true;
	}
	if (!(p->flags & SAMPLE_ROLLUP))
		return;
	if (p->rollup.have & ROLLUP_PSS) {
		sat_add(&row->pss, once * p->rollup.pss);
		row->have_pss = true;
	}
	if (proc_sample_uss(p, &uss)) {
		sat_add(&row->uss, once * uss);
		row->have_uss = true;
	}
}

/* Adds a whole row (of the ones summed into "other"). */
static void agg_merge(struct agg_row *dst, const struct agg_row *src)
{
	sat_add(&dst->processes, src->processes);
	sat_add(&dst->resident, src->resident);
	sat_add(&dst->swap, src->swap);
	sat_add(&dst->pss, src->pss);
	sat_add(&dst->uss, src->uss);
	quad_add(dst->quad, src->quad);
	dst->have_pss = dst->have_pss || src->have_pss;
	dst->have_uss = dst->have_uss || src->have_uss;
	dst->have_quad = dst->have_quad || src->have_quad;
}

/* A process's key for one kind of aggregate; false when it is in no group of that kind. */
typedef bool (*agg_key_fn)(const struct proc_sample *p, struct str *ret);

struct keyed {
	struct str key;
	const struct proc_sample *p;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	return str_cmp(&x->key, &y->key);
}

/* Groups the samples by `key`; rows come out sorted by key. `scratch` has room for every
 * sample. */
static int aggregate(const struct snapshot *s, struct keyed *scratch, agg_key_fn key,
		     struct agg_row **ret, size_t *ret_n)
{
	struct agg_row *rows;
	size_t i, m = 0, n = 0;

	for (i = 0; i < s->nprocs; i++)
		if (key(&s->procs[i], &scratch[m].key))
			scratch[m++].p = &s->procs[i];
	*ret = NULL;
	*ret_n = 0;
	if (m == 0)
		return 0;
	qsort(scratch, m, sizeof(*scratch), cmp_keyed);
	rows = calloc(m, sizeof(*rows)); /* at most one row per process */
	if (!rows)
		return -ENOMEM;
	for (i = 0; i < m; i++) {
		if (n == 0 || str_cmp(&rows[n - 1].key, &scratch[i].key) != 0) {
			rows[n].key = scratch[i].key;
			rows[n++].sample = scratch[i].p;
		}
		agg_add(&rows[n - 1], scratch[i].p);
	}
	*ret = rows;
	*ret_n = n;
	return 0;
}

static bool key_user(const struct proc_sample *p, struct str *ret)
{
	*ret = p->user;
	return true;
}

static bool key_unit(const struct proc_sample *p, struct str *ret)
{
	*ret = p->unit;
	return true;
}

static bool key_cgroup(const struct proc_sample *p, struct str *ret)
{
	*ret = p->cg.path;
	return true;
}

static bool key_container(const struct proc_sample *p, struct str *ret)
{
	*ret = (struct str){ p->cg.path.s, p->cg.container_len };
	return p->cg.container_len > 0;
}

static bool key_pod(const struct proc_sample *p, struct str *ret)
{
	*ret = (struct str){ p->cg.path.s, p->cg.pod_len };
	return p->cg.pod_len > 0;
}

static uint64_t row_rank(const struct agg_row *r)
{
	return r->have_pss ? r->pss : r->resident;
}

/* Most-ranked first; equal ranks by key, so the choice is stable from cycle to cycle. */
static int cmp_row_rank(const void *a, const void *b)
{
	const struct agg_row *x = a, *y = b;
	uint64_t rx = row_rank(x), ry = row_rank(y);

	if (rx != ry)
		return rx > ry ? -1 : 1;
	return str_cmp(&x->key, &y->key);
}

static int cmp_row_key(const void *a, const void *b)
{
	const struct agg_row *x = a, *y = b;
	return str_cmp(&x->key, &y->key);
}

/* Keeps the `top` rows with most PSS (else RSS), sorted by key, and sums the rest into one
 * AGG_OTHER row after them. A user who makes thousands of cgroups gets one series for all
 * that do not make the cut. */
static void bound_rows(struct agg_row *rows, size_t *n, unsigned top)
{
	struct agg_row other = { .key = { AGG_OTHER, sizeof(AGG_OTHER) - 1 } };
	size_t i;

	if (top == 0 || *n <= top)
		return;
	qsort(rows, *n, sizeof(*rows), cmp_row_rank);
	for (i = top; i < *n; i++)
		agg_merge(&other, &rows[i]);
	qsort(rows, top, sizeof(*rows), cmp_row_key);
	rows[top] = other; /* rows has room: top < *n */
	*n = top + 1;
}

/* A group key as it will be rendered (utf8.h): two users or units whose names render alike are
 * one group, not two series with one label. */
static int label_form(struct snapshot *s, struct str *k)
{
	char *p;

	if (utf8_label_clean(k->s, k->len))
		return 0;
	p = arena_alloc(&s->arena, 3 * k->len + 1);
	if (!p)
		return -ENOMEM;
	k->len = utf8_label_repair(k->s, k->len, p);
	p[k->len] = '\0';
	k->s = p;
	return 0;
}

int snapshot_finish(struct snapshot *s, const struct select_opts *sel)
{
	struct keyed *scratch;
	size_t i;
	int r;

	assert(s && sel);
	for (i = 0; i < s->nprocs; i++)
		if (label_form(s, &s->procs[i].user) < 0 || label_form(s, &s->procs[i].unit) < 0)
			return -ENOMEM; /* cgroup labels need not: theirs is an injective encoding */
	if (arena_failed(&s->arena))
		return -ENOMEM;
	if (s->nprocs > 1)
		qsort(s->procs, s->nprocs, sizeof(*s->procs), cmp_pid);
	totals(s);
	scratch = calloc(s->nprocs ? s->nprocs : 1, sizeof(*scratch));
	if (!scratch)
		return -ENOMEM;
	r = aggregate(s, scratch, key_user, &s->users, &s->nusers);
	if (r >= 0)
		r = aggregate(s, scratch, key_unit, &s->units, &s->nunits);
	if (r >= 0)
		r = aggregate(s, scratch, key_cgroup, &s->cgroups, &s->ncgroups);
	if (r >= 0)
		r = aggregate(s, scratch, key_container, &s->containers, &s->ncontainers);
	if (r >= 0)
		r = aggregate(s, scratch, key_pod, &s->pods, &s->npods);
	free(scratch);
	if (r < 0)
		return r;
	s->cgroups_seen = s->ncgroups;
	s->containers_seen = s->ncontainers;
	s->pods_seen = s->npods;
	bound_rows(s->cgroups, &s->ncgroups, sel->cgroup_top);
	bound_rows(s->containers, &s->ncontainers, sel->cgroup_top);
	bound_rows(s->pods, &s->npods, sel->cgroup_top);
	return select_processes(s, sel);
}
