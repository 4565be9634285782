/* select.h — which processes get per-process series, and how many families each.
 *
 * Totals and aggregates cover every process read; per-process series go only to the processes
 * chosen here, in two tiers. After the filters (--include, --exclude, --min-rss), the --top N
 * processes that rank highest (PSS, RSS where no PSS was read: proc_sample_rank()) get the
 * summary families, those an overview needs (PSS, USS, resident, shared, swap, start time,
 * info); the --detail-top K of those that rank highest get every per-process family (quadrants,
 * PSS by kind, virtual, data, code, swap PSS, ...). 0 is "all" for both: --top 0 chooses every
 * process that passes the filters, --detail-top 0 gives every chosen process every family
 * (what a zeroed struct select_opts asks for: everything, the way tests want it).
 *
 * Every per-process series carries `pid`, so a process that enters the choice starts series in
 * every Prometheus that scrapes it, and one that leaves ends them: churn, which is what a
 * time-series database pays most for. Two dampers:
 *  - age: --top chooses only among processes at least --top-min-age old (by their start time),
 *    so short-lived processes (a build's compilers, cron jobs) never get series; their memory
 *    stays in the totals and aggregates. With --top 0 there is no choice, and no age filter.
 *  - margin (hysteresis): a process chosen last cycle keeps its place until another ranks more
 *    than --top-margin percent above it: a newcomer enters only clearly above the cut, an
 *    incumbent leaves only once clearly below it. Processes of about the same size at the cut
 *    (a pool of workers; every process's PSS moves a little whenever any process maps or
 *    unmaps a shared library) no longer swap places every cycle. Both cuts use it, each with
 *    its own incumbents. Ties go to the incumbent, then to the lower pid.
 *
 * The only state is the last choice, struct select_memory: (pid, start time, tier) of every
 * process chosen, which the caller keeps from cycle to cycle (select_memory_save() after each
 * cycle) and hands back through select_opts.prev. A pid reused by another process (another
 * start time) is a newcomer. No memory (NULL, as at start) means no incumbents.
 *
 * Pure: the same snapshot, options, memory and time give the same choice.
 */
#ifndef PROCMEM_SELECT_H
#define PROCMEM_SELECT_H

#include <stddef.h>
#include <stdint.h>

struct pattern;
struct snapshot;

enum select_tier {
	SELECT_NONE = 0,
	SELECT_SUMMARY = 1, /* the summary families */
	SELECT_DETAIL = 2,  /* every per-process family */
};

struct select_entry {
	uint32_t pid;
	uint32_t tier; /* enum select_tier, never SELECT_NONE */
	uint64_t start_ticks;
};

/* The processes chosen in one cycle, sorted by pid (a pid at most once). Owns `v`. */
struct select_memory {
	struct select_entry *v;
	size_t n, alloc;
};

struct select_opts {
	/* configuration */
	/* whole-comm patterns (pattern.h); a match that gives up counts as no match. Matching
	 * writes to them: one thread at a time. */
	struct pattern *include; /* NULL: every comm */
	struct pattern *exclude; /* NULL: none */
	uint64_t min_rss;	/* bytes; 0: no minimum */
	unsigned top;		/* 0: all that pass the filters */
	unsigned detail_top;	/* of those, how many get every family; 0: all */
	uint64_t top_min_age_ns; /* --top chooses among processes at least this old; 0: any age */
	unsigned top_margin_pct; /* hysteresis of both cuts, percent of the incumbent's rank */
	/* not processes: how many cgroups, containers and pods of each kind get series of their
	 * own, those with most PSS (else RSS); 0: all (snapshot.c) */
	unsigned cgroup_top;

	/* per cycle, from the caller */
	const struct select_memory *prev; /* the last cycle's choice; NULL: none */
	uint64_t now_ns; /* CLOCK_REALTIME that ages are measured at (needed with top_min_age_ns) */
};

/* Marks the chosen processes of a finished snapshot (sorted by pid) SAMPLE_EXPORTED, those of
 * the detail tier also SAMPLE_DETAIL, and sets processes_exported.
 * Called by snapshot_finish(). -ENOMEM on allocation failure (the snapshot's marks are then
 * unspecified). */
int select_processes(struct snapshot *s, const struct select_opts *o);

/* Replaces m's contents with the choice marked in s. 0 or -ENOMEM (m is then emptied: the
 * next cycle chooses without incumbents). */
int select_memory_save(struct select_memory *m, const struct snapshot *s);
void select_memory_done(struct select_memory *m); /* frees; m is empty and usable afterwards */

#endif
