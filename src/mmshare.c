/* mmshare.c — which processes of a cycle share one mm; see mmshare.h.
 *
 * A hash of mm layouts (uthash) whose entries come from a pool sized for the cycle's processes,
 * so a cycle allocates nothing per process: a group's members sit in the entry while it has one
 * mm (every process with a layout of its own, nearly all of them) and move to a grown array
 * only for the layouts that fork children share.
 */
#include "mmshare.h"

#include <assert.h>
#include <errno.h>
#include <linux/kcmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
/* uthash must not exit() when memory runs out: a failed add leaves the item out of the table
 * and sets the calling function's local `oom`. */
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (oom = true)
#include <uthash.h>

#define LAYOUT_WORDS 10

struct member {
	uint32_t pid;
	size_t sample;
};

struct group {
	UT_hash_handle hh;
	uint64_t layout[LAYOUT_WORDS];
	struct member one; /* the members while there is only one */
	struct member *v;  /* &one, or a malloc'd array: the first process of each mm, in kcmp's order */
	size_t n, alloc;
};

struct mm_share {
	bool use_kcmp;
	struct group *table;
	struct group *pool;
	size_t used, pool_alloc;
};

struct mm_share *mm_share_new(bool use_kcmp)
{
	struct mm_share *m = calloc(1, sizeof(*m));

	if (m)
		m->use_kcmp = use_kcmp;
	return m;
}

static void forget(struct mm_share *m)
{
	size_t i;

	HASH_CLEAR(hh, m->table);
	for (i = 0; i < m->used; i++)
		if (m->pool[i].v != &m->pool[i].one)
			free(m->pool[i].v);
	m->used = 0;
}

void mm_share_free(struct mm_share *m)
{
	if (!m)
		return;
	forget(m);
	free(m->pool);
	free(m);
}

int mm_share_reset(struct mm_share *m, size_t max_procs)
{
	assert(m);
	forget(m);
	if (max_procs > m->pool_alloc) {
		/* the table points into the pool: grown only here, while the table is empty */
		struct group *np = reallocarray(m->pool, max_procs, sizeof(*np));

		if (!np)
			return -ENOMEM;
		m->pool = np;
		m->pool_alloc = max_procs;
	}
	return 0;
}

/* kcmp(KCMP_VM): 0 same mm, <0 a's mm orders before b's, >0 after; INT_MIN on failure. */
static int cmp_mm(uint32_t a, uint32_t b)
{
	long r = syscall(SYS_kcmp, (pid_t)a, (pid_t)b, KCMP_VM, 0UL, 0UL);

	switch (r) {
	case 0:
		return 0;
	case 1:
		return -1;
	case 2:
		return 1;
	default: /* -1 (ESRCH: one is gone; EPERM; ENOSYS), or 3: no order to place it by */
		return -2;
	}
}

int mm_share_find(struct mm_share *m, uint32_t pid, const uint64_t layout[10], size_t *ret_sample,
		  struct mm_share_slot *ret_slot)
{
	struct group *g;
	size_t lo = 0, hi;
	bool oom = false;

	assert(m && layout && ret_sample && ret_slot);
	*ret_slot = (struct mm_share_slot){ NULL, 0 };
	/* no layout: no mm, or no right to see where it lies (start_stack is then printed as 0) */
	if (!m->use_kcmp || layout[2] == 0)
		return 0;
	HASH_FIND(hh, m->table, layout, sizeof(g->layout), g);
	if (!g) {
		if (m->used == m->pool_alloc)
			return 0; /* more processes than the cycle listed: counted on their own */
		g = &m->pool[m->used++];
		memcpy(g->layout, layout, sizeof(g->layout));
		g->v = &g->one;
		g->n = 0;
		g->alloc = 1;
		HASH_ADD(hh, m->table, layout, sizeof(g->layout), g);
		if (oom) {
			m->used--;
			return -ENOMEM;
		}
	}
	for (hi = g->n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_mm(pid, g->v[mid].pid);

		if (c == 0) {
			*ret_sample = g->v[mid].sample;
			return 1;
		}
		if (c == -2)
			return 0; /* cannot tell: counted on its own, and not added */
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*ret_slot = (struct mm_share_slot){ g, lo };
	return 0;
}

int mm_share_add(struct mm_share *m, const struct mm_share_slot *slot, uint32_t pid, size_t sample)
{
	struct group *g = slot->group;

	(void)m;
	if (!g)
		return 0;
	assert(slot->pos <= g->n);
	if (g->n == g->alloc) {
		size_t n = g->alloc * 2;
		struct member *nv = malloc(n * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		memcpy(nv, g->v, g->n * sizeof(*nv));
		if (g->v != &g->one)
			free(g->v);
		g->v = nv;
		g->alloc = n;
	}
	memmove(g->v + slot->pos + 1, g->v + slot->pos, (g->n - slot->pos) * sizeof(*g->v));
	g->v[slot->pos] = (struct member){ pid, sample };
	g->n++;
	return 0;
}
