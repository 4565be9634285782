/* snapshot.h — one collection cycle's figures, and the aggregation over them.
 *
 * The collector fills a snapshot (one struct proc_sample per process read), then
 * snapshot_finish() sorts it by pid, computes the machine totals and the per-user and per-unit
 * aggregates, and marks which processes get per-process series. After that the snapshot is
 * immutable: the renderer reads it, any number of threads may read it at once.
 *
 * Memory: a snapshot owns everything it points to. Strings (comm, user, unit, exe, cgroup
 * paths, container and pod IDs, mapping paths) live in its arena, NUL-terminated; the arrays are its own. snapshot_free() frees all.
 */
#ifndef PROCMEM_SNAPSHOT_H
#define PROCMEM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "cgroup.h"
#include "collect.h" /* the collector's modes and error reasons, which a snapshot records */
#include "procfs.h"
#include "select.h"

struct str {
	const char *s; /* NUL-terminated, in the snapshot's arena; never NULL */
	size_t len;
};

enum {
	SAMPLE_ROLLUP = 1u << 0,    /* `rollup` was read (its own `have` says which fields) */
	SAMPLE_QUADRANTS = 1u << 1, /* `quad` was read from full smaps */
	SAMPLE_EXPORTED = 1u << 2,  /* selected for per-process series */
	/* Shares its mm with a process read before it in the cycle (CLONE_VM without CLONE_THREAD:
	 * a vfork child before it execs, or any number of clones a user makes to multiply their
	 * PSS); looked for in the rollup and full modes. Its series show the mm as the kernel shows
	 * it to each of them, but its memory is left out of the totals and the user and unit sums:
	 * it is counted there once, through the first. */
	SAMPLE_MM_SHARED = 1u << 3,
	/* `quad` is carried from an earlier cycle's full smaps read (the process's memory did not
	 * move beyond the tolerance since, or --smaps-budget was spent); SAMPLE_QUADRANTS is set */
	SAMPLE_QUADRANTS_CARRIED = 1u << 4,
	/* `rollup` is carried from an earlier cycle (a process over --smaps-max-rss, read on its
	 * slower cadence); SAMPLE_ROLLUP is set */
	SAMPLE_ROLLUP_CARRIED = 1u << 5,
	SAMPLE_DETAIL = 1u << 6, /* and every per-process family (select.h); implies EXPORTED */
};

/* Where a process is, from /proc/PID/cgroup (see cgroup.h). */
struct sample_cgroup {
	struct str path; /* its cgroup, bytes as the kernel printed them; "" when not known */
	struct str container_id, pod_uid; /* "" when in none */
	size_t container_len, pod_len;	   /* the prefix of path that is the container's, the pod's cgroup */
	enum cgroup_runtime runtime;
};

struct proc_sample {
	uint32_t pid, ppid, uid;
	uint32_t flags; /* SAMPLE_* */
	uint64_t start_ticks; /* clock ticks after boot (stat field 22) */
	struct str comm, user, unit, exe;
	struct sample_cgroup cg;
	struct proc_status status;
	struct smaps_rollup rollup;
	struct quadrant_sums quad[QUADRANT_COUNT];
};

/* The figure --top ranks by: PSS where it was read, else resident. */
uint64_t proc_sample_rank(const struct proc_sample *p);
/* USS, the resident pages only this process maps: Private_Clean + Private_Dirty of its
 * smaps_rollup. Whether it is known: false (and *ret 0) when the rollup was not read or lacks
 * either line, or when the sum does not fit in 64 bits (a forged rollup: left out everywhere
 * rather than shown wrapped round or saturated). */
bool proc_sample_uss(const struct proc_sample *p, uint64_t *ret);

struct agg_row {
	struct str key; /* user name, unit ("" outside any unit), or the cgroup path of the cgroup,
			   container or pod; AGG_OTHER for the rows summed past --cgroup-top */
	uint64_t processes;
	uint64_t resident, swap; /* over every process in the group */
	uint64_t pss, uss;	 /* over the processes whose smaps_rollup was read */
	bool have_pss, have_uss;
	struct quadrant_sums quad[QUADRANT_COUNT]; /* over the processes whose smaps was read */
	bool have_quad;
	const struct proc_sample *sample; /* one process of the group (its container and pod);
					     NULL in the "other" row */
};
/* The key of the row that sums the cgroups, containers or pods past --cgroup-top: no cgroup path
 * (they all start with '/') and not "" (a process whose cgroup is not known). */
#define AGG_OTHER "other"

/* A mapped file: its identity (device major << 32 | minor, inode) and one path it was seen with
 * ("" when none could be kept). */
struct mapping_row {
	struct str path;
	uint64_t dev, inode;
	uint64_t pss, rss;
};

/* The daemon's own figures, read once per cycle. */
struct self_sample {
	uint64_t resident, virtual_size; /* bytes */
	uint64_t open_fds, max_fds;
	uint64_t start_time_cs; /* centiseconds since the epoch */
	bool have_memory, have_fds;
};

struct snapshot {
	struct arena arena;
	enum smaps_mode mode;

	struct proc_sample *procs; /* sorted by pid after snapshot_finish() */
	size_t nprocs, procs_alloc;
	uint64_t btime; /* boot time, seconds since the epoch */
	uint64_t hz;	/* clock ticks per second */

	/* machine totals over every process read */
	struct quadrant_sums quad_total[QUADRANT_COUNT];
	bool have_quad_total;
	bool have_quad_pss_dirty; /* some process's smaps had Pss_Dirty (kernels >= 6.0) */
	uint64_t pss_total, uss_total, swap_total;
	bool have_pss_total, have_uss_total;

	struct agg_row *users, *units; /* sorted by key */
	size_t nusers, nunits;
	/* per cgroup (processes directly in it), container and pod (processes in its cgroup and
	 * below): the --cgroup-top with most PSS sorted by key, then AGG_OTHER if any were left */
	struct agg_row *cgroups, *containers, *pods;
	size_t ncgroups, ncontainers, npods;
	uint64_t cgroups_seen, containers_seen, pods_seen; /* how many there were in all */
	struct mapping_row *mappings; /* the top --mapping-top files by PSS, largest first */
	size_t nmappings;
	bool have_mappings;

	uint64_t processes_exported; /* chosen by select.h */
	uint64_t kernel_threads;

	/* full smaps this cycle (full mode): processes read afresh, processes whose quadrants were
	 * carried, and the age of the oldest carried quadrants (0 when none) */
	uint64_t smaps_full_reads, smaps_carried;
	uint64_t smaps_carried_max_age_ns;

	/* about the exporter itself */
	uint64_t cycles_total;
	uint64_t errors_total[COLLECT_ERR_COUNT]; /* cumulative since start */
	uint64_t duration_ns;			  /* wall time of this cycle */
	uint64_t timestamp_ns;			  /* CLOCK_REALTIME at the end of it */
	struct self_sample self;
};

struct snapshot *snapshot_new(enum smaps_mode mode);
void snapshot_free(struct snapshot *s); /* accepts NULL */

/* A zeroed sample at the end of the array, or NULL on allocation failure. */
struct proc_sample *snapshot_add_proc(struct snapshot *s);
/* Drops the last sample added (a process that vanished half-way). */
void snapshot_drop_last(struct snapshot *s);
/* Copies s[0..len) into the snapshot's arena. Returns -ENOMEM. */
int snapshot_str(struct snapshot *s, const char *src, size_t len, struct str *ret);
/* Sets p's unit and cgroup (path, container, pod) from a parsed /proc/PID/cgroup, copying what
 * it keeps into the arena. Returns -ENOMEM. */
int snapshot_set_cgroup(struct snapshot *s, struct proc_sample *p, const struct cgroup_info *info);

/* Sorts, totals, aggregates, selects (select_processes()). -ENOMEM on allocation failure. */
int snapshot_finish(struct snapshot *s, const struct select_opts *sel);

/* The first n processes in --top's order (proc_sample_rank(), most first; equal ranks by pid),
 * over every process read, filters ignored: into ret[0..n). Returns how many, min(n, nprocs).
 * O(nprocs * n): meant for a short list (the landing page's twenty). */
size_t snapshot_rank_top(const struct snapshot *s, size_t n, const struct proc_sample **ret);

#endif
