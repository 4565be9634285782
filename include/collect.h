/* collect.h — one collection cycle over /proc: the only code that opens /proc files.
 *
 * A cycle lists the numeric entries of the proc directory and reads, for each process, with
 * openat() relative to its /proc/PID directory (so a pid reused mid-read cannot mix two
 * processes): stat (comm, ppid, start time), status (memory figures, uid), cgroup (unit,
 * cgroup, container, pod),
 * the exe link, then, in rollup and full modes, smaps_rollup: every process, every cycle, so
 * PSS, USS and swap PSS never have gaps. Status is read first and always: it is cheap and does
 * not take the target's mmap lock.
 *
 * Full smaps (quadrants, mapped files) walks the target's page tables under that lock at some
 * nine times the rollup's cost, so in full mode it is read only when carry.h says so (a new
 * process, memory that moved, figures too old), in the order carry.h gives, within a time
 * budget per cycle (--smaps-budget, which governs nothing else). Otherwise the quadrants and
 * mapped-file contributions of the process's last full read are carried: the collector keeps
 * them by (pid, start time), so a reused pid never inherits them, and drops them the cycle the
 * process is gone. Machine quadrant totals and the top mapped files are sums over the current
 * figures, fresh or carried, of the processes alive this cycle.
 *
 * Processes over --smaps-max-rss are read (rollup, and full smaps when due) on a slower cadence:
 * their reads share a credit of --smaps-large-share of one core, each spending its measured
 * cost; in between, their last figures are carried. --smaps-large-share 0 reads none of them.
 *
 * A process that vanishes mid-read is dropped and counted; EACCES on smaps keeps the status
 * figures and is counted; kernel threads (no memory of their own) are counted apart; zombies
 * (no memory left) are skipped. A process whose leader thread exited while others run on looks
 * like a zombie in /proc/PID but is not: it is read through a live thread's
 * /proc/PID/task/TID, under the leader's identity. In the rollup and full modes, a process that
 * shares its mm with one read before it (mmshare.h) takes that one's smaps figures instead of
 * reading them again, and is marked so that the sums count the mm once. Nothing about one
 * process can break the cycle.
 */
#ifndef PROCMEM_COLLECT_H
#define PROCMEM_COLLECT_H

#include <signal.h>
#include <stdint.h>

#include "select.h"

/* What the collector reads of each process (--smaps). */
enum smaps_mode {
	SMAPS_OFF,    /* status only */
	SMAPS_ROLLUP, /* + smaps_rollup: pss, uss, swap_pss, pss by kind */
	SMAPS_FULL,   /* + full smaps: quadrants and top mapped files */
};
/* "off", "rollup", "full": the option's words. */
const char *smaps_mode_name(enum smaps_mode m);

/* Why a process was not read in full; counted per reason (struct snapshot's errors_total). */
enum collect_error {
	COLLECT_ERR_VANISHED,	    /* exited between listing and reading (ENOENT, ESRCH, empty) */
	COLLECT_ERR_PERMISSION,	    /* EACCES: status figures still exported */
	COLLECT_ERR_PARSE,	    /* text that is not what the kernel writes */
	COLLECT_ERR_SKIPPED_LARGE,  /* RSS over --smaps-max-rss: status figures only */
	COLLECT_ERR_SKIPPED_BUDGET, /* --smaps-budget spent: status figures only */
	COLLECT_ERR_COUNT
};
/* The reason's label value in procmem_collect_errors_total; "?" for none of them. */
const char *collect_error_reason(enum collect_error e);

struct snapshot;

struct collect_opts {
	enum smaps_mode smaps;
	uint64_t smaps_max_rss;	  /* bytes; 0: no bound */
	uint64_t smaps_budget_ns; /* time for full smaps reads per cycle; 0: no budget */
	uint64_t smaps_min_age_ns, smaps_max_age_ns; /* see carry.h */
	uint32_t smaps_large_share_ppm; /* of one core, for processes over smaps_max_rss; 0: none */
	unsigned mapping_top;
	struct select_opts select;
	/* checked between processes: a cycle stops early (-EINTR) when it becomes nonzero */
	const volatile sig_atomic_t *stop;
	/* called between processes, at most every `tick_ns` (the watchdog ping); may be NULL */
	void (*tick)(void *userdata);
	void *tick_userdata;
	uint64_t tick_ns;
};

struct collector;

/* procfs: the proc directory ("/proc", or a fixture tree). The daemon's own figures always
 * come from the real /proc/self. Returns -errno if procfs cannot be opened. */
int collector_new(const char *procfs, struct collector **ret);
void collector_free(struct collector *c); /* accepts NULL */

/* Runs a cycle; on success *ret is a finished snapshot the caller owns. */
int collector_cycle(struct collector *c, const struct collect_opts *o, struct snapshot **ret);

/* Runs a cycle as if the monotonic clock said `now_ns`; 0: the clock. The ages of carried
 * figures are differences of these times: the daemon passes the cycle's tick on the interval's
 * grid, so that they are whole intervals; tests pass the times they choose. */
int collector_cycle_at(struct collector *c, const struct collect_opts *o, uint64_t now_ns,
		       struct snapshot **ret);

/* Forgets cached user names (on reload). */
void collector_clear_caches(struct collector *c);

#endif
