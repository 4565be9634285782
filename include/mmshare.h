/* mmshare.h — which processes of a cycle share one mm.
 *
 * clone(CLONE_VM) without CLONE_THREAD makes a process that shares its parent's mm: /proc shows
 * two processes, each with the whole mm's figures (VmRSS, Pss: every page mapped once, by the
 * one mm). Summed as they are, N such processes count one mm N times, and any user can make N
 * as large as they like: 64 MiB and 1,000 clones read as 64 GiB of PSS in the machine's and the
 * user's totals. vfork children share their parent's mm the same way until they exec.
 *
 * Candidates have the same mm layout in stat (where code, stack, data, heap, arguments and
 * environment lie: struct proc_stat's mm_layout), as a fork child has too until it execs;
 * kcmp(KCMP_VM) tells whether two of them do share. Per layout, the first process read of each
 * distinct mm is kept in kcmp's order of their mms, so a process finds its place with O(log n)
 * kcmp calls even among the hundreds of fork children of a prefork server.
 *
 * kcmp needs real pids of the caller's pid namespace and ptrace rights on both processes (the
 * daemon's CAP_SYS_PTRACE; it is in systemd's @system-service filter): it is used only when the
 * collector reads the real /proc. A failure (a process gone, EPERM, ENOSYS) leaves a process
 * counted on its own, as before: this never merges two processes it cannot prove share an mm.
 */
#ifndef PROCMEM_MMSHARE_H
#define PROCMEM_MMSHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mm_share; /* the collector's, reused from cycle to cycle */

/* use_kcmp false: mm_share_find() never finds anything (a fixture tree's pids are not real). */
struct mm_share *mm_share_new(bool use_kcmp);
void mm_share_free(struct mm_share *m); /* accepts NULL */
/* Forgets the last cycle and makes room for up to max_procs processes. 0 or -ENOMEM. */
int mm_share_reset(struct mm_share *m, size_t max_procs);

/* Where a process not found goes, for mm_share_add(). */
struct mm_share_slot {
	void *group; /* NULL: the process is not to be added (no layout, or kcmp failed) */
	size_t pos;
};

/* Looks among the processes added this cycle for one that shares pid's mm. 1: found, its
 * sample index in *ret_sample; 0: none, and *ret_slot says where pid goes; -ENOMEM. layout is
 * the process's stat mm_layout: all 0 (no mm, or no right to see it) finds nothing. */
int mm_share_find(struct mm_share *m, uint32_t pid, const uint64_t layout[10], size_t *ret_sample,
		  struct mm_share_slot *ret_slot);
/* Records pid (sample index `sample`) as the first process of its mm, at the slot find() gave;
 * call it before any other find(). 0 or -ENOMEM. */
int mm_share_add(struct mm_share *m, const struct mm_share_slot *slot, uint32_t pid, size_t sample);

#endif
