/* select.c — the choice of processes for per-process series; see select.h for the policy.
 *
 * One pass over the snapshot (sorted by pid) merged with the last choice (sorted by pid) gives
 * each candidate its rank and its last tier; then each cut is a sort of the candidates by
 * rank with the incumbents' margin, most first (a total order, pid last, so any sort gives the
 * same choice). The margin is applied as a product, compared in 128 bits: rank * (100 + margin)
 * against rank * 100 never overflows and never rounds.
 */
#include "select.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "pattern.h"
#include "snapshot.h"

struct cand {
	struct proc_sample *p;
	uint64_t rank;
	enum select_tier was;
};

/* a cut: whose incumbents it favours, and by how much */
struct cut {
	enum select_tier tier;
	unsigned margin_pct;
};

static bool passes_filters(const struct proc_sample *p, const struct select_opts *o)
{
	if (o->min_rss && p->status.vm_rss < o->min_rss)
		return false;
	/* a match that gave up (< 0) is no match: not included, not excluded */
	if (o->include && pattern_match(o->include, p->comm.s, p->comm.len) <= 0)
		return false;
	if (o->exclude && pattern_match(o->exclude, p->comm.s, p->comm.len) > 0)
		return false;
	return true;
}

/* Whether p started at least top_min_age_ns before now. A start time the snapshot cannot tell
 * (no boot time or clock tick rate) passes; one after `now` (the clock went back) does not. */
static bool old_enough(const struct snapshot *s, const struct proc_sample *p, const struct select_opts *o)
{
	unsigned __int128 start;

	if (!o->top_min_age_ns || s->hz == 0)
		return true;
	start = (unsigned __int128)s->btime * 1000000000u +
		(unsigned __int128)p->start_ticks * 1000000000u / s->hz;
	return start <= o->now_ns && o->now_ns - (uint64_t)start >= o->top_min_age_ns;
}

/* Most first: rank times (100 + margin) for the incumbents of the cut, times 100 for the rest;
 * then incumbents; then the lower pid. Returns <0 when a goes first. */
static int cmp_cand(const struct cand *a, const struct cand *b, const struct cut *c)
{
	bool ia = a->was >= c->tier, ib = b->was >= c->tier;
	unsigned __int128 sa = (unsigned __int128)a->rank * (100u + (ia ? c->margin_pct : 0u));
	unsigned __int128 sb = (unsigned __int128)b->rank * (100u + (ib ? c->margin_pct : 0u));

	if (sa != sb)
		return sa > sb ? -1 : 1;
	if (ia != ib)
		return ia ? -1 : 1;
	return a->p->pid < b->p->pid ? -1 : a->p->pid > b->p->pid;
}

static int cmp_cand_r(const void *a, const void *b, void *cut)
{
	return cmp_cand(a, b, cut);
}

int select_processes(struct snapshot *s, const struct select_opts *o)
{
	struct cand *v;
	size_t i, m = 0, n = 0, chosen, detail;
	const struct select_memory *prev = o->prev;

	assert(s && o);
	s->processes_exported = 0;
	if (s->nprocs == 0)
		return 0;
	v = malloc(s->nprocs * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < s->nprocs; i++) {
		struct proc_sample *p = &s->procs[i];
		enum select_tier was = SELECT_NONE;

		p->flags &= ~(uint32_t)(SAMPLE_EXPORTED | SAMPLE_DETAIL);
		/* both sorted by pid: walk the memory alongside */
		while (prev && m < prev->n && prev->v[m].pid < p->pid)
			m++;
		if (prev && m < prev->n && prev->v[m].pid == p->pid &&
		    prev->v[m].start_ticks == p->start_ticks)
			was = (enum select_tier)prev->v[m].tier;
		if (!passes_filters(p, o) || (o->top && !old_enough(s, p, o)))
			continue;
		v[n++] = (struct cand){ .p = p, .rank = proc_sample_rank(p), .was = was };
	}
	chosen = n;
	if (o->top && n > o->top) {
		struct cut c = { SELECT_SUMMARY, o->top_margin_pct };

		qsort_r(v, n, sizeof(*v), cmp_cand_r, &c);
		chosen = o->top;
	}
	detail = o->detail_top && o->detail_top < chosen ? o->detail_top : chosen;
	if (detail < chosen) {
		struct cut c = { SELECT_DETAIL, o->top_margin_pct };

		qsort_r(v, chosen, sizeof(*v), cmp_cand_r, &c);
	}
	for (i = 0; i < chosen; i++)
		v[i].p->flags |= SAMPLE_EXPORTED | (i < detail ? SAMPLE_DETAIL : 0u);
	s->processes_exported = chosen;
	free(v);
	return 0;
}

int select_memory_save(struct select_memory *m, const struct snapshot *s)
{
	size_t i, n = 0;

	assert(m && s);
	if (m->alloc < s->processes_exported) {
		struct select_entry *nv = reallocarray(m->v, s->processes_exported, sizeof(*nv));

		if (!nv) {
			m->n = 0;
			return -ENOMEM;
		}
		m->v = nv;
		m->alloc = s->processes_exported;
	}
	for (i = 0; i < s->nprocs && n < m->alloc; i++) {
		const struct proc_sample *p = &s->procs[i];

		if (!(p->flags & SAMPLE_EXPORTED))
			continue;
		m->v[n++] = (struct select_entry){
			.pid = p->pid,
			.tier = p->flags & SAMPLE_DETAIL ? SELECT_DETAIL : SELECT_SUMMARY,
			.start_ticks = p->start_ticks,
		};
	}
	m->n = n;
	return 0;
}

void select_memory_done(struct select_memory *m)
{
	if (!m)
		return;
	free(m->v);
	*m = (struct select_memory){ 0 };
}
