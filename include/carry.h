/* carry.h — when a process's full smaps must be read again, and in what order.
 *
 * Full smaps (quadrants, mapped files) costs some nine times smaps_rollup, and on a real host
 * most processes' memory does not move between two cycles. So the collector reads status and
 * smaps_rollup of every process every cycle and full smaps only when this module says so; in
 * between, the quadrants and mapped-file contributions of the last full read are carried.
 *
 * A full read is due when the process is new to the collector, or when a figure the cycle has
 * anyway (status VmSize, VmRSS, RssAnon, RssFile, RssShmem, VmSwap; rollup Rss, Pss, Swap)
 * moved beyond the tolerance since the last full read and that read is at least min_age old
 * (after a process's first read, less a per-process spread: see carry_min_age), or when the
 * last full read is older than max_age (less a per-process spread of up to a quarter of it, so
 * processes that started together are not all due in the same cycle).
 *
 * The tolerance of a figure is max(64 KiB, 1/64 of it) (about 1.6%). The floor absorbs the
 * PSS jitter every process sharing libc sees when other processes come and go (a few hundred
 * bytes to a few KiB each time); the relative part keeps a big process that allocates and
 * frees in a steady rhythm from being re-read every time. So a carried process's quadrant
 * resident sum stays within the tolerance of its current rollup Rss (it equalled it at the
 * read), and likewise its virtual sum against VmSize, its swap against Swap, its pss against Pss.
 *
 * Past --smaps-budget the due reads wait; the order (carry_due_cmp) is: new processes first
 * (they have no quadrants at all, so each leaves its whole size out of the machine's totals),
 * then those past max_age, oldest first (so none is starved by busier ones), then those that
 * moved, the most bytes first (the error a carried process adds to the totals is what it moved).
 *
 * Pure functions and plain structs: no I/O, no clock.
 */
#ifndef PROCMEM_CARRY_H
#define PROCMEM_CARRY_H

#include <stdbool.h>
#include <stdint.h>

#include "procfs.h"

#define CARRY_TOLERANCE_FLOOR (64u * 1024)
#define CARRY_TOLERANCE_SHIFT 6 /* 1/64 */

/* The figures a full read is compared against, from status and smaps_rollup. */
enum {
	CARRY_BASIS_VM_SIZE,
	CARRY_BASIS_VM_RSS,
	CARRY_BASIS_RSS_ANON,
	CARRY_BASIS_RSS_FILE,
	CARRY_BASIS_RSS_SHMEM,
	CARRY_BASIS_VM_SWAP,
	CARRY_BASIS_ROLLUP_RSS,
	CARRY_BASIS_ROLLUP_PSS,
	CARRY_BASIS_ROLLUP_SWAP,
	CARRY_BASIS_COUNT
};

struct smaps_basis {
	uint32_t have; /* 1u << CARRY_BASIS_* */
	uint64_t v[CARRY_BASIS_COUNT];
};
void smaps_basis_from(const struct proc_status *st, const struct smaps_rollup *ru, struct smaps_basis *ret);

uint64_t carry_tolerance(uint64_t v);
/* The largest move of a figure present in both, counting only figures that moved beyond their
 * tolerance (taken of the larger of the two values); 0: none did. A figure present in one
 * basis only counts as moved by its value. */
uint64_t smaps_basis_moved(const struct smaps_basis *then, const struct smaps_basis *now);

struct carry_policy {
	uint64_t min_age_ns, max_age_ns;
};

enum carry_due {
	CARRY_KEEP,   /* carry the last full read */
	CARRY_NEW,    /* no full read yet */
	CARRY_OLD,    /* older than max_age */
	CARRY_MOVED,  /* moved beyond the tolerance, and at least min_age old */
};

/* What one process's state says. `last_ns` is when its last full read was (monotonic ns),
 * `first` whether that read was its first; `seed` spreads the ages per process (a hash of pid
 * and start time). *ret_moved gets the bytes moved (smaps_basis_moved), for the order. */
enum carry_due carry_decide(const struct carry_policy *pol, bool have_full, uint64_t last_ns, bool first,
			    const struct smaps_basis *then, const struct smaps_basis *now, uint64_t now_ns,
			    uint64_t seed, uint64_t *ret_moved);

/* max_age less this process's spread: what carry_decide compares the age with. */
uint64_t carry_max_age(const struct carry_policy *pol, uint64_t seed);
/* min_age, after a process's first full read less a spread of [0, min_age) (by the seed):
 * processes read together for the first time (every process in the daemon's first cycle, a
 * burst of new ones) would otherwise stay in step for good, all due in the same cycle every
 * min_age, and that cycle would read them all. Only a process's second read can come early,
 * once; after it, reads are min_age apart at least. */
uint64_t carry_min_age(const struct carry_policy *pol, uint64_t seed, bool first);
uint64_t carry_seed(uint32_t pid, uint64_t start_ticks);

/* A read waiting for the budget. */
struct carry_due_item {
	enum carry_due why;
	uint64_t age_ns, moved;
	uint32_t pid; /* the last tie-break, so the order is total */
	uint32_t index; /* the caller's */
};
/* qsort comparator: the order documented above. */
int carry_due_cmp(const void *a, const void *b);

/* ---- processes over --smaps-max-rss ------------------------------------------------------- */

/* The cost of reading a process's smaps_rollup, estimated from its RSS before it was ever
 * measured: 10 ms per GiB resident (measured: 40 ms of kernel time for 4 GiB of 4 KiB pages). */
uint64_t carry_large_cost_estimate(uint64_t rss);

/* A credit of read time shared by every process over --smaps-max-rss: it grows by `share`
 * (a fraction of one core, in millionths) of the wall time that passed, and each read spends
 * its measured cost. A read is allowed while the credit covers its estimated cost; the credit
 * never holds more than the largest cost waiting (so a quiet hour does not buy a burst). */
struct large_credit {
	int64_t ns;
	uint64_t last_ns; /* when it was last topped up; 0: never */
};
void large_credit_top_up(struct large_credit *c, uint64_t now_ns, uint32_t share_ppm, uint64_t cap_ns);
bool large_credit_take(struct large_credit *c, uint64_t estimate_ns);
void large_credit_spend(struct large_credit *c, uint64_t cost_ns);

#endif
