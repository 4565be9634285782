/* procfs.h — pure parsers for the /proc files procmem_exporter reads.
 *
 * Every parser takes a buffer and its length (the buffer need not be NUL-terminated and may hold
 * any bytes), fills a struct, and returns 0 or a negative errno:
 *   -EBADMSG  the text is not what the kernel writes (a known field with a malformed value,
 *             a mapping header that does not parse);
 *   -ERANGE   a number does not fit (a kB value whose byte count overflows 64 bits).
 * Output parameters (`ret`) are written only on success.
 *
 * Conventions shared by all of them, from fs/proc/array.c and fs/proc/task_mmu.c:
 *  - a line counts only when it ends in '\n': an unterminated last line is what a truncated
 *    read leaves, and its number may be cut short, so it is ignored rather than trusted;
 *  - fields are matched by name at the start of a line, in any order; unknown lines are skipped
 *    (newer kernels add fields); when a field repeats, the last one wins;
 *  - sizes are converted from the kernel's "kB" (KiB) to bytes;
 *  - a field that is absent is reported absent (a bit in `have`), never as zero.
 * Nothing here opens a file or reads a global; only the smaps parser allocates (its copy of
 * the current mapping's path).
 */
#ifndef PROCMEM_PROCFS_H
#define PROCMEM_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- /proc/PID/stat --------------------------------------------------------------------- */

#define PROC_PF_KTHREAD 0x00200000u /* include/linux/sched.h */

struct proc_stat {
	const char *comm; /* points into the parsed buffer: raw bytes, any but NUL */
	size_t comm_len;
	char state;
	uint32_t ppid;
	uint64_t flags;
	uint64_t starttime; /* clock ticks since boot */
	/* Fields 26-28 and 45-51: where the mm's code, stack, data, heap, arguments and environment
	 * lie. Equal for processes that share one mm (and for a fork child until it execs), so they
	 * tell which processes may; kcmp() tells which do. All 0 when the process has no mm, when the
	 * reader may not ptrace it (the kernel then prints 1 for the first two), or when the line
	 * ends before them (kernels before 3.3). */
	uint64_t mm_layout[10];
};
/* comm is everything between the first '(' and the last ')', so a name holding ')' or '\n'
 * parses right. */
int proc_stat_parse(const char *buf, size_t len, struct proc_stat *ret);

/* ---- /proc/PID/status -------------------------------------------------------------------- */

enum {
	PROC_STATUS_UID = 1u << 0,
	PROC_STATUS_KTHREAD = 1u << 1,
	PROC_STATUS_VMSIZE = 1u << 2,
	PROC_STATUS_VMRSS = 1u << 3,
	PROC_STATUS_RSSANON = 1u << 4,
	PROC_STATUS_RSSFILE = 1u << 5,
	PROC_STATUS_RSSSHMEM = 1u << 6,
	PROC_STATUS_VMDATA = 1u << 7,
	PROC_STATUS_VMEXE = 1u << 8,
	PROC_STATUS_VMSWAP = 1u << 9,
};

struct proc_status {
	uint32_t have; /* PROC_STATUS_* */
	uint32_t ruid; /* first of the four Uid: values */
	bool kthread;  /* Kthread: 1 (kernels >= 6.0 print the field) */
	uint64_t vm_size, vm_rss, rss_anon, rss_file, rss_shmem, vm_data, vm_exe, vm_swap; /* bytes */
};
int proc_status_parse(const char *buf, size_t len, struct proc_status *ret);

/* ---- /proc/PID/statm ------------------------------------------------------------------------ */

struct proc_statm {
	uint64_t size, resident, shared, text, lib, data, dt; /* pages */
};
int proc_statm_parse(const char *buf, size_t len, struct proc_statm *ret);

/* ---- /proc/stat ----------------------------------------------------------------------------- */

/* The `btime` line: boot time in seconds since the epoch. -ENOENT if there is none. */
int proc_btime_parse(const char *buf, size_t len, uint64_t *ret);

/* ---- /proc/PID/smaps_rollup ----------------------------------------------------------------- */

enum {
	ROLLUP_RSS = 1u << 0,
	ROLLUP_PSS = 1u << 1,
	ROLLUP_PSS_ANON = 1u << 2,
	ROLLUP_PSS_FILE = 1u << 3,
	ROLLUP_PSS_SHMEM = 1u << 4,
	ROLLUP_PRIVATE_CLEAN = 1u << 5,
	ROLLUP_PRIVATE_DIRTY = 1u << 6,
	ROLLUP_SWAP = 1u << 7,
	ROLLUP_SWAP_PSS = 1u << 8,
	ROLLUP_SHARED_DIRTY = 1u << 9,
	ROLLUP_PSS_DIRTY = 1u << 10,	/* kernels >= 6.0 */
	ROLLUP_ANON_HUGE_PAGES = 1u << 11,
	ROLLUP_LOCKED = 1u << 12,
};

struct smaps_rollup {
	uint32_t have; /* ROLLUP_* */
	uint64_t rss, pss, pss_anon, pss_file, pss_shmem, private_clean, private_dirty, swap, swap_pss;
	uint64_t shared_dirty, pss_dirty;
	uint64_t anon_huge_pages; /* AnonHugePages: anonymous THPs mapped by a PMD */
	uint64_t locked;	  /* Locked: the PSS of the VM_LOCKED mappings, not their size */
};
/* An empty buffer parses to nothing present (have == 0): that is what a process without an mm
 * gives on older kernels. */
int smaps_rollup_parse(const char *buf, size_t len, struct smaps_rollup *ret);

/* ---- /proc/PID/smaps ------------------------------------------------------------------------ */

enum quadrant {
	QUADRANT_PRIVATE_ANON,
	QUADRANT_PRIVATE_FILE,
	QUADRANT_SHARED_ANON,
	QUADRANT_SHARED_FILE,
	QUADRANT_COUNT
};
const char *quadrant_sharing(enum quadrant q); /* "private" | "shared" */
const char *quadrant_backing(enum quadrant q); /* "anonymous" | "file" */

/* Per quadrant, each mapping's smaps lines summed. dirty is Shared_Dirty + Private_Dirty (pmap
 * -x's Dirty column); pss_dirty is Pss_Dirty, which kernels before 6.0 do not print (then 0:
 * whether it is known is the rollup's ROLLUP_PSS_DIRTY, since both files come from the same
 * kernel function). All of a quadrant's figures live here, so that whatever copies a process's
 * quadrants (from one cycle to the next, say) copies every one of them. */
struct quadrant_sums {
	uint64_t size, rss, pss, swap, dirty, pss_dirty; /* bytes */
};
/* dst += src, field by field, saturating. */
void quadrant_sums_add(struct quadrant_sums *dst, const struct quadrant_sums *src);

/* DESIGN.md's classification of one mapping: shared when the permission string has 's';
 * anonymous when there is no backing inode or the file is a shared-anonymous one in disguise
 * ("/dev/zero (deleted)", SysV "/SYSVxxxxxxxx (deleted)", "[anon_shmem:...]", anonymous
 * hugetlb "/anon_hugepage (deleted)") or a private mapping of /dev/zero (whose pages the kernel
 * makes anonymous). `path` is as smaps prints it. */
enum quadrant smaps_classify_mapping(bool shared, uint64_t inode, const char *path, size_t path_len);

/* A mapped file's name is kept to SMAPS_PATH_MAX bytes (PATH_MAX, the longest name one call
 * can open), and a longer one is cut there and ends in SMAPS_PATH_CUT: the kernel prints the
 * whole name however deep the file lies, so a user can make it as long as they like. No name
 * that is not cut is longer than SMAPS_PATH_MAX, so a cut name cannot be mistaken for another
 * that ends in " (cut)".
 * A line longer than SMAPS_LINE_MAX bytes is read as its first SMAPS_LINE_MAX bytes and the
 * rest is skipped, however the text is fed: the kernel's mapping header before the path is
 * under 128 bytes, so this leaves room for SMAPS_PATH_MAX bytes of name even if every byte of
 * it is a newline, which the kernel prints as the four bytes "\012". */
#define SMAPS_PATH_MAX 4096u
#define SMAPS_PATH_CUT " (cut)"
#define SMAPS_LINE_MAX (4u * SMAPS_PATH_MAX + 256u)

/* One mapping, reported when all its lines have been read. */
struct smaps_mapping {
	enum quadrant quadrant;
	/* The file's name, NUL-terminated, valid during the call: smaps's bytes with the one escape
	 * the kernel writes there undone (seq_path() prints a newline as "\012" and nothing else
	 * escaped, not even a backslash: so a name that holds the four bytes "\012" reads as one
	 * that holds a newline; the two cannot be told apart from smaps). Cut as said above. */
	const char *path;
	size_t path_len;
	bool path_cut; /* the name was longer than SMAPS_PATH_MAX (or its line than SMAPS_LINE_MAX) */
	uint64_t dev;	  /* the header's device: major << 32 | minor */
	uint64_t inode;	  /* the header's inode (0: no file) */
	struct quadrant_sums sums;
};
/* Return 0 to go on, negative errno to stop the parse with that error. */
typedef int (*smaps_mapping_fn)(const struct smaps_mapping *m, void *userdata);

/* A streaming parser: full smaps of a process can be tens of megabytes (60,000 mappings at
 * ~760 bytes each), so the collector reads it in chunks and feeds them in; memory stays bounded
 * by one chunk plus SMAPS_LINE_MAX, whatever the text. The parser copies the current mapping's
 * path (for file-backed mappings only) into `path`, which it owns, and the head of a line
 * longer than SMAPS_LINE_MAX into `line`. */
struct smaps_parser {
	struct quadrant_sums q[QUADRANT_COUNT]; /* totals so far, completed mappings only */
	uint64_t mappings;
	smaps_mapping_fn fn; /* may be NULL */
	void *userdata;
	/* private: */
	bool in_mapping;
	bool in_long_line; /* the head of a long line was parsed: skip to its end */
	struct smaps_mapping cur;
	uint64_t cur_shared_dirty, cur_private_dirty; /* summed into cur.sums.dirty at its end */
	char *path;
	size_t path_alloc;
	char *line; /* SMAPS_LINE_MAX + 1 bytes, allocated at the first long line */
};
void smaps_parser_init(struct smaps_parser *p, smaps_mapping_fn fn, void *userdata);
/* Parses every complete line of buf[0..len) and sets *ret_consumed to the bytes used; the rest
 * (a partial last line, never more than SMAPS_LINE_MAX bytes) must be fed again, followed by
 * more text. A caller's buffer must hold at least SMAPS_LINE_MAX + 1 bytes: a partial line that
 * long is known to be a long line and is consumed (its head parsed, the rest skipped). */
int smaps_parser_feed(struct smaps_parser *p, const char *buf, size_t len, size_t *ret_consumed);
/* Ends the input: reports the last mapping. Leftover bytes without a '\n' are ignored. */
int smaps_parser_finish(struct smaps_parser *p);
/* Frees what the parser owns. Accepts NULL. */
void smaps_parser_done(struct smaps_parser *p);

#endif
