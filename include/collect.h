/* collect.h — one collection cycle over /proc: the only code that opens /proc files.
 *
 * A cycle lists the numeric entries of the proc directory and reads, for each process, with
 * openat() relative to its /proc/PID directory (so a pid reused mid-read cannot mix two
 * processes): stat (comm, ppid, start time), status (memory figures, uid), cgroup (unit,
 * cgroup, container, pod), the exe link, then, as the smaps mode asks and the safety bounds allow, smaps_rollup and
 * full smaps. Status is read first and always: it is cheap and does not take the target's mmap
 * lock; smaps walks the target's page tables under that lock, so it is bounded by RSS
 * (--smaps-max-rss) and by a time budget per cycle (--smaps-budget). When the budget runs out
 * the next cycle starts where this one stopped, so the same processes are not always the ones
 * left out.
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

#include "snapshot.h"

struct collect_opts {
	enum smaps_mode smaps;
	uint64_t smaps_max_rss;	  /* bytes; 0: no bound */
	uint64_t smaps_budget_ns; /* 0: no budget */
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

/* Forgets cached user names (on reload). */
void collector_clear_caches(struct collector *c);

#endif
