/* carry.c — the full-read decision and order; see carry.h for the policy and why. */
#include "carry.h"

#include <assert.h>

void smaps_basis_from(const struct proc_status *st, const struct smaps_rollup *ru, struct smaps_basis *ret)
{
	static const struct {
		uint32_t bit;
		int at;
	} status_bits[] = {
		{ PROC_STATUS_VMSIZE, CARRY_BASIS_VM_SIZE },	 { PROC_STATUS_VMRSS, CARRY_BASIS_VM_RSS },
		{ PROC_STATUS_RSSANON, CARRY_BASIS_RSS_ANON }, { PROC_STATUS_RSSFILE, CARRY_BASIS_RSS_FILE },
		{ PROC_STATUS_RSSSHMEM, CARRY_BASIS_RSS_SHMEM }, { PROC_STATUS_VMSWAP, CARRY_BASIS_VM_SWAP },
	};
	struct smaps_basis b = { 0 };
	size_t i;

	assert(st && ret);
	b.v[CARRY_BASIS_VM_SIZE] = st->vm_size;
	b.v[CARRY_BASIS_VM_RSS] = st->vm_rss;
	b.v[CARRY_BASIS_RSS_ANON] = st->rss_anon;
	b.v[CARRY_BASIS_RSS_FILE] = st->rss_file;
	b.v[CARRY_BASIS_RSS_SHMEM] = st->rss_shmem;
	b.v[CARRY_BASIS_VM_SWAP] = st->vm_swap;
	for (i = 0; i < sizeof(status_bits) / sizeof(status_bits[0]); i++)
		if (st->have & status_bits[i].bit)
			b.have |= 1u << status_bits[i].at;
	if (ru) {
		b.v[CARRY_BASIS_ROLLUP_RSS] = ru->rss;
		b.v[CARRY_BASIS_ROLLUP_PSS] = ru->pss;
		b.v[CARRY_BASIS_ROLLUP_SWAP] = ru->swap;
		b.have |= (ru->have & ROLLUP_RSS ? 1u << CARRY_BASIS_ROLLUP_RSS : 0) |
			  (ru->have & ROLLUP_PSS ? 1u << CARRY_BASIS_ROLLUP_PSS : 0) |
			  (ru->have & ROLLUP_SWAP ? 1u << CARRY_BASIS_ROLLUP_SWAP : 0);
	}
	*ret = b;
}

uint64_t carry_tolerance(uint64_t v)
{
	uint64_t rel = v >> CARRY_TOLERANCE_SHIFT;
	return rel > CARRY_TOLERANCE_FLOOR ? rel : CARRY_TOLERANCE_FLOOR;
}

uint64_t smaps_basis_moved(const struct smaps_basis *then, const struct smaps_basis *now)
{
	uint64_t most = 0;
	int i;

	for (i = 0; i < CARRY_BASIS_COUNT; i++) {
		bool a = then->have & (1u << i), b = now->have & (1u << i);
		uint64_t x = then->v[i], y = now->v[i], d;

		if (!a && !b)
			continue;
		if (a != b) {
			d = a ? x : y;
			d = d ? d : 1; /* a figure that appeared or went is a change, even at 0 */
		} else {
			d = x > y ? x - y : y - x;
			if (d <= carry_tolerance(x > y ? x : y))
				continue;
		}
		if (d > most)
			most = d;
	}
	return most;
}

uint64_t carry_seed(uint32_t pid, uint64_t start_ticks)
{
	/* splitmix64's finaliser: neighbouring pids and start times land far apart */
	uint64_t z = ((uint64_t)pid << 32 ^ start_ticks) + 0x9E3779B97F4A7C15u;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

uint64_t carry_max_age(const struct carry_policy *pol, uint64_t seed)
{
	uint64_t spread = pol->max_age_ns / 4;

	return pol->max_age_ns - (spread ? seed % spread : 0);
}

uint64_t carry_min_age(const struct carry_policy *pol, uint64_t seed, bool first)
{
	/* the seed rotated by half: not the same remainder as max-age's spread */
	uint64_t r = seed >> 32 | seed << 32;

	return first && pol->min_age_ns ? pol->min_age_ns - r % pol->min_age_ns : pol->min_age_ns;
}

enum carry_due carry_decide(const struct carry_policy *pol, bool have_full, uint64_t last_ns, bool first,
			    const struct smaps_basis *then, const struct smaps_basis *now, uint64_t now_ns,
			    uint64_t seed, uint64_t *ret_moved)
{
	uint64_t age, moved;

	assert(pol && now && ret_moved);
	*ret_moved = 0;
	if (!have_full || !then)
		return CARRY_NEW;
	age = now_ns > last_ns ? now_ns - last_ns : 0;
	moved = smaps_basis_moved(then, now);
	*ret_moved = moved;
	if (age >= carry_max_age(pol, seed))
		return CARRY_OLD;
	if (moved && age >= carry_min_age(pol, seed, first))
		return CARRY_MOVED;
	return CARRY_KEEP;
}

int carry_due_cmp(const void *x, const void *y)
{
	const struct carry_due_item *a = x, *b = y;
	/* classes in order: new, old, moved */
	static const int rank[] = { [CARRY_KEEP] = 3, [CARRY_NEW] = 0, [CARRY_OLD] = 1, [CARRY_MOVED] = 2 };

	if (a->why != b->why)
		return rank[a->why] < rank[b->why] ? -1 : 1;
	if (a->why == CARRY_MOVED && a->moved != b->moved)
		return a->moved > b->moved ? -1 : 1;
	if (a->age_ns != b->age_ns)
		return a->age_ns > b->age_ns ? -1 : 1;
	return a->pid < b->pid ? -1 : a->pid > b->pid;
}

uint64_t carry_large_cost_estimate(uint64_t rss)
{
	/* 10 ms per GiB: 10,000,000 ns per 2^30 bytes, about 1 ns per 107 bytes */
	return (uint64_t)((unsigned __int128)rss * 10000000u >> 30);
}

void large_credit_top_up(struct large_credit *c, uint64_t now_ns, uint32_t share_ppm, uint64_t cap_ns)
{
	if (c->last_ns && now_ns > c->last_ns) {
		unsigned __int128 add = (unsigned __int128)(now_ns - c->last_ns) * share_ppm / 1000000u;
		int64_t cap = cap_ns > INT64_MAX ? INT64_MAX : (int64_t)cap_ns;

		if (add > (unsigned __int128)INT64_MAX)
			add = INT64_MAX;
		c->ns = c->ns > cap - (int64_t)add ? cap : c->ns + (int64_t)add;
		if (c->ns > cap)
			c->ns = cap;
	}
	c->last_ns = now_ns;
}

bool large_credit_take(struct large_credit *c, uint64_t estimate_ns)
{
	return c->ns >= 0 && (uint64_t)c->ns >= estimate_ns;
}

void large_credit_spend(struct large_credit *c, uint64_t cost_ns)
{
	int64_t d = cost_ns > INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)cost_ns;

	c->ns = c->ns < INT64_MIN / 2 + d ? INT64_MIN / 2 : c->ns - d;
}
