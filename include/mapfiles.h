/* mapfiles.h — the files processes map, keyed by identity, and each process's share of them.
 *
 * A file is its device and inode (from the smaps mapping header), never its path: two files can
 * print the same path (a live "x (deleted)" and a deleted "x"; names that differ only in bytes
 * that are not UTF-8 and so render alike), and one file can print two (hard links, bind
 * mounts). The table holds one entry per file that some process maps, with a reference count;
 * each process's contributions are a `struct mapfile_set`, kept by the collector for as long as
 * the process's quadrants are carried, and dropped (references released, entries freed) the
 * cycle the process is gone.
 *
 * Paths are kept only as needed: the first path a file is seen with is kept while the paths
 * kept add up to less than `path_budget` bytes; past it a file gets its path only when it makes
 * the top N (mapfiles_want_paths() lists those; the collector reads them again from one
 * process's smaps and hands them to mapfiles_offer_path()). So memory is bounded by the number
 * of distinct files mapped (some 100 bytes each) plus the budget, whatever the paths' length:
 * a process mapping 60,000 files of 4 KB paths no longer costs 250 MB.
 *
 * Figures are kept in KiB (smaps prints kB), 32 bits each: one contribution is 16 bytes.
 *
 * Not thread-safe; owned by the collector. Nothing here does I/O.
 */
#ifndef PROCMEM_MAPFILES_H
#define PROCMEM_MAPFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

struct mapfile;
struct mapfiles;

struct mapfile_contrib {
	struct mapfile *file; /* holds one reference */
	uint32_t pss_kb, rss_kb;
};

/* One process's mapped files, each once. Zero-initialised is empty. */
struct mapfile_set {
	struct mapfile_contrib *v;
	uint32_t n, alloc;
};

/* path_budget: bytes of paths kept for files outside the top N. */
struct mapfiles *mapfiles_new(size_t path_budget);
void mapfiles_free(struct mapfiles *t); /* accepts NULL; every set must have been dropped */

/* Adds one mapping of file (dev, inode) to `set`, which is being built for one process: a file
 * mapped several times is one contribution (the set remembers where it put each file through
 * a stamp in the entry, so this is O(1)). Call mapfiles_set_begin() before the first mapping.
 * -ENOMEM leaves the set usable (what was added stays). */
void mapfiles_set_begin(struct mapfiles *t);
int mapfiles_add(struct mapfiles *t, struct mapfile_set *set, uint64_t dev, uint64_t inode,
		 const char *path, size_t path_len, uint64_t pss, uint64_t rss);
/* Releases the set's references (freeing entries no set holds any more) and its array. */
void mapfiles_set_drop(struct mapfiles *t, struct mapfile_set *set);

/* Per-cycle sums: reset, then add the sets of every process alive this cycle. */
void mapfiles_sum_reset(struct mapfiles *t);
void mapfiles_sum_add(struct mapfiles *t, const struct mapfile_set *set);

/* After the sums: marks the files of the top n (by PSS; ties by the path kept, bytewise, then
 * by device and inode) that have no
 * path kept as wanted. Returns how many, or -ENOMEM. */
int mapfiles_want_paths(struct mapfiles *t, size_t n);
/* Whether `set` maps a file marked wanted by mapfiles_want_paths() that still has no path. */
bool mapfiles_set_wants_path(const struct mapfile_set *set);
/* A path for file (dev, inode), kept if the file is wanted and has none yet. */
void mapfiles_offer_path(struct mapfiles *t, uint64_t dev, uint64_t inode, const char *path, size_t len);

/* Copies the top n files into s->mappings (path "" where none could be had). */
int mapfiles_top(struct mapfiles *t, size_t n, struct snapshot *s);

#endif
