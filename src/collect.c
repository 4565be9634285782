/* collect.c — a collection cycle over /proc; see collect.h for what it reads and why.
 *
 * I/O only: every byte read goes to a parser in procfs.c (cgroup.c for cgroup). Whole small
 * files (stat, status, cgroup, smaps_rollup) are read into one reused buffer that grows to the
 * largest file seen; full smaps, which can be tens of megabytes, is read in 64 KiB chunks
 * through the streaming parser, so memory stays bounded whatever the process. No stdio on /proc
 * files: each read is one read(2) loop on a descriptor opened with openat() relative to
 * /proc/PID.
 *
 * A cycle has four passes: (1) every process in pid order: stat, status, strings, and
 * smaps_rollup for those under --smaps-max-rss; the carry decision; (2) the full smaps reads
 * that are due, in carry.h's order, within the budget; (3) the processes over --smaps-max-rss,
 * least recently read first, within their credit; (4) the mapped-file sums over every process
 * alive, and the paths of the top files that none was kept for. What the collector remembers of
 * a process between cycles is a struct proc_state, in an array sorted by pid like the samples:
 * state i belongs to sample i during a cycle. Pass 1 reads a process in stages (read_identity,
 * sample_begin, sample_memory), each of which goes on, ends the process's read with an outcome,
 * or fails; collect_one() runs them and is their one exit, where the directory is closed.
 */
#include "collect.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "carry.h"
#include "clock.h"
#include "mapfiles.h"
#include "mmshare.h"
#include "snapshot.h"
#include "users.h"

/* No /proc file we read whole is near this; a larger one is not what the kernel writes. */
#define WHOLE_FILE_MAX (1u << 20)
#define SMAPS_CHUNK (64u * 1024)
/* the parser leaves at most SMAPS_LINE_MAX bytes of a line unconsumed: a read always has room */
_Static_assert(SMAPS_CHUNK > SMAPS_LINE_MAX, "a chunk must hold the longest line the parser keeps");
/* Paths kept for mapped files outside the top N (mapfiles.h): some 40,000 paths of 100 bytes,
 * far more than a real host maps, and a bound on what a hostile one costs. */
#define MAPFILE_PATH_BUDGET (4u << 20)

/* What the collector keeps of a process from cycle to cycle, keyed by (pid, start time). */
struct proc_state {
	uint32_t pid;
	uint64_t start_ticks;
	uint64_t seed; /* carry_seed() */
	/* the last full smaps read: its figures, when, and what the cycle knew then */
	bool have_full, first_full; /* first_full: that read was the process's first */
	uint64_t full_ns;
	struct smaps_basis basis;
	struct quadrant_sums quad[QUADRANT_COUNT]; /* carried whole, whatever fields it grows */
	struct mapfile_set files;
	/* shares its mm with sample share_first - 1 (mmshare.h), read before it; 0: none */
	size_t share_first;
	/* over --smaps-max-rss: the last rollup read, when, and what it cost */
	bool have_rollup;
	uint64_t rollup_ns, cost_ns;
	struct smaps_rollup rollup;
};
struct collector {
	int procfd;
	DIR *dir;
	struct buf rbuf;	/* whole-file reads */
	struct buf tbuf;	/* a thread's status, read while rbuf holds its process's stat */
	struct buf chunk;	/* smaps chunks */
	struct buf cgroup_ref;	/* procfs/self/cgroup: the machine's hierarchies (cgroup.h) */
	bool have_cgroup_ref;
	uint32_t *pids;
	size_t npids, pids_alloc;
	struct users_cache *users;
	struct mapfiles *files;
	struct mm_share *mms;
	struct proc_state *states, *next; /* last cycle's, sorted by pid; this cycle's, by sample */
	size_t nstates, nnext, states_alloc, next_alloc;
	struct carry_due_item *due, *large; /* this cycle's waiting full reads and large processes */
	size_t ndue, nlarge, due_alloc, large_alloc;
	bool *gone; /* samples found gone after pass 1, by index */
	size_t gone_alloc;
	struct large_credit credit;
	uint64_t errors[COLLECT_ERR_COUNT];
	uint64_t cycles;
	struct select_memory chosen; /* the last cycle's choice of processes (select.h) */
	uint64_t btime, hz;
	uint64_t self_start_cs;
	bool have_btime;
};

/* Reads the whole file `name` under dirfd into b. -errno; -EFBIG past WHOLE_FILE_MAX. */
static int read_whole_at(int dirfd, const char *name, struct buf *b)
{
	int fd, r;

	buf_reset(b);
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = buf_read_fd(b, fd, WHOLE_FILE_MAX, 0);
	close(fd);
	return r;
}

const char *smaps_mode_name(enum smaps_mode m)
{
	switch (m) {
	case SMAPS_OFF:
		return "off";
	case SMAPS_ROLLUP:
		return "rollup";
	case SMAPS_FULL:
		return "full";
	}
	return "?";
}

const char *collect_error_reason(enum collect_error e)
{
	static const char *const names[COLLECT_ERR_COUNT] = {
		[COLLECT_ERR_VANISHED] = "vanished",
		[COLLECT_ERR_PERMISSION] = "permission",
		[COLLECT_ERR_PARSE] = "parse",
		[COLLECT_ERR_SKIPPED_LARGE] = "skipped_large",
		[COLLECT_ERR_SKIPPED_BUDGET] = "skipped_budget",
	};
	return (unsigned)e < COLLECT_ERR_COUNT ? names[e] : "?";
}

/* Maps a read error to what it means for the process. */
static enum collect_error error_reason(int r)
{
	switch (r) {
	case -EACCES:
	case -EPERM:
		return COLLECT_ERR_PERMISSION;
	case -EBADMSG:
	case -ERANGE:
	case -EFBIG:
		return COLLECT_ERR_PARSE;
	default: /* ENOENT, ESRCH, and whatever else an exiting process answers */
		return COLLECT_ERR_VANISHED;
	}
}

/* Whether the proc directory is this process's /proc (its mount, its pid namespace), whose
 * pids kcmp() understands; a fixture tree or another namespace's proc is not. */
static bool is_real_proc(int procfd)
{
	struct stat a, b;

	return fstat(procfd, &a) == 0 && stat("/proc", &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int collector_new(const char *procfs, struct collector **ret)
{
	struct collector *c;
	struct proc_stat st;
	int fd, r;

	assert(procfs && ret);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->procfd = -1;
	buf_init(&c->rbuf);
	buf_init(&c->tbuf);
	buf_init(&c->chunk);
	buf_init(&c->cgroup_ref);
	c->procfd = open(procfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->procfd < 0) {
		r = -errno;
		goto fail;
	}
	fd = dup(c->procfd);
	if (fd < 0 || !(c->dir = fdopendir(fd))) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	c->users = users_cache_new(NULL, NULL);
	c->files = mapfiles_new(MAPFILE_PATH_BUDGET);
	c->mms = mm_share_new(is_real_proc(c->procfd));
	if (!c->users || !c->files || !c->mms) {
		r = -ENOMEM;
		goto fail;
	}
	c->hz = (uint64_t)sysconf(_SC_CLK_TCK);
	if (c->hz == 0 || c->hz > 1000000)
		c->hz = 100;
	if (read_whole_at(c->procfd, "stat", &c->rbuf) >= 0 &&
	    proc_btime_parse(c->rbuf.buf, c->rbuf.len, &c->btime) >= 0)
		c->have_btime = true;

	/* the daemon's own start time, from the real /proc whatever procfs is */
	{
		uint64_t btime;
		if (read_whole_at(AT_FDCWD, "/proc/stat", &c->rbuf) >= 0 &&
		    proc_btime_parse(c->rbuf.buf, c->rbuf.len, &btime) >= 0 &&
		    read_whole_at(AT_FDCWD, "/proc/self/stat", &c->rbuf) >= 0 &&
		    proc_stat_parse(c->rbuf.buf, c->rbuf.len, &st) >= 0)
			c->self_start_cs = btime * 100 + st.starttime * 100 / c->hz;
	}
	*ret = c;
	return 0;
fail:
	collector_free(c);
	return r;
}

void collector_free(struct collector *c)
{
	if (!c)
		return;
	if (c->dir)
		closedir(c->dir);
	if (c->procfd >= 0)
		close(c->procfd);
	buf_done(&c->rbuf);
	buf_done(&c->tbuf);
	buf_done(&c->chunk);
	buf_done(&c->cgroup_ref);
	free(c->pids);
	users_cache_free(c->users);
	if (c->files) {
		size_t i;

		for (i = 0; i < c->nstates; i++)
			mapfiles_set_drop(c->files, &c->states[i].files);
		mapfiles_free(c->files);
	}
	free(c->states);
	free(c->next);
	free(c->due);
	free(c->large);
	free(c->gone);
	mm_share_free(c->mms);
	select_memory_done(&c->chosen);
	free(c);
}

void collector_clear_caches(struct collector *c)
{
	users_cache_clear(c->users);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Fills c->pids with the numeric entries of the proc directory, sorted. */
static int list_pids(struct collector *c)
{
	struct dirent *de;

	c->npids = 0;
	rewinddir(c->dir);
	errno = 0;
	while ((de = readdir(c->dir))) {
		const char *s = de->d_name;
		uint64_t v = 0;

		if (*s < '1' || *s > '9')
			continue;
		for (; *s >= '0' && *s <= '9' && v <= UINT32_MAX; s++)
			v = v * 10 + (uint64_t)(*s - '0');
		if (*s || v > UINT32_MAX)
			continue;
		if (c->npids == c->pids_alloc) {
			size_t n = c->pids_alloc ? c->pids_alloc * 2 : 1024;
			uint32_t *np = reallocarray(c->pids, n, sizeof(*np));
			if (!np)
				return -ENOMEM;
			c->pids = np;
			c->pids_alloc = n;
		}
		c->pids[c->npids++] = (uint32_t)v;
	}
	if (errno)
		return -errno;
	qsort(c->pids, c->npids, sizeof(*c->pids), cmp_u32);
	return 0;
}

struct smaps_ctx {
	struct mapfiles *files;
	struct mapfile_set *set; /* NULL: mapped files not wanted */
	bool offer_paths;	 /* only hand paths to the table (mapfiles_offer_path) */
};

static int on_mapping(const struct smaps_mapping *m, void *userdata)
{
	struct smaps_ctx *ctx = userdata;

	if (m->quadrant != QUADRANT_PRIVATE_FILE && m->quadrant != QUADRANT_SHARED_FILE)
		return 0;
	if (ctx->offer_paths) {
		mapfiles_offer_path(ctx->files, m->dev, m->inode, m->path, m->path_len);
		return 0;
	}
	if (!ctx->set)
		return 0;
	return mapfiles_add(ctx->files, ctx->set, m->dev, m->inode, m->path, m->path_len, m->sums.pss,
			    m->sums.rss);
}

/* Streams /proc/PID/smaps through the parser, mapped files to ctx (a set the caller drops if
 * the read fails). A stop request is honoured between reads (-EINTR):
 * a process with 60,000 mappings takes seconds to read, and the daemon should not wait for it. */
static int read_smaps_at(struct collector *c, int dirfd, struct smaps_ctx *ctx,
			 const volatile sig_atomic_t *stop, struct quadrant_sums ret[QUADRANT_COUNT])
{
	struct smaps_parser p;
	size_t have = 0;
	int fd, r = 0;
	bool any = false;

	fd = openat(dirfd, "smaps", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	smaps_parser_init(&p, on_mapping, ctx);
	buf_reset(&c->chunk);
	if (buf_grow(&c->chunk, SMAPS_CHUNK) < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		size_t used;
		ssize_t n;

		if (stop && *stop) {
			r = -EINTR;
			break;
		}
		assert(have <= SMAPS_LINE_MAX && have < buf_avail(&c->chunk));
		n = read(fd, c->chunk.buf + have, buf_avail(&c->chunk) - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		any = true;
		have += (size_t)n;
		r = smaps_parser_feed(&p, c->chunk.buf, have, &used);
		if (r < 0)
			break;
		memmove(c->chunk.buf, c->chunk.buf + used, have - used);
		have -= used;
	}
	if (r >= 0 && !any)
		r = -ESRCH; /* an empty smaps: the process lost its mm between status and here */
	if (r >= 0)
		r = smaps_parser_finish(&p);
	if (r >= 0)
		memcpy(ret, p.q, sizeof(p.q));
out:
	smaps_parser_done(&p);
	close(fd);
	return r;
}

/* A process that exits while its smaps is read ends the file early, cleanly: each read() gives
 * a few KiB of whole mappings under a reference on the mm, and the next one, finding the mm
 * gone (a zombie, not yet reaped), reads as end of file, not as an error. The quadrants would
 * then describe part of the process. Such a cut shows as an address space smaller than status
 * said; so does a process that unmapped something meanwhile, so a mismatch is only a reason to
 * look: statm reads all zeros once exit_mm() has dropped the mm, and a reaped process has no
 * statm. Reading statm only on a mismatch keeps the cost off the common case. */
static int smaps_check_whole(struct collector *c, int dirfd, const struct proc_sample *ps)
{
	uint64_t size = 0, page = (uint64_t)sysconf(_SC_PAGESIZE);
	struct proc_statm sm;
	int q, r;

	for (q = 0; q < QUADRANT_COUNT; q++)
		size += ps->quad[q].size;
	/* smaps may also list the [vsyscall] gate page, which VmSize leaves out */
	if (size == ps->status.vm_size || size == ps->status.vm_size + page)
		return 0;
	r = read_whole_at(dirfd, "statm", &c->rbuf);
	if (r < 0)
		return r;
	r = proc_statm_parse(c->rbuf.buf, c->rbuf.len, &sm);
	if (r < 0)
		return r;
	return sm.size == 0 ? -ESRCH : 0;
}

/* Reads smaps_rollup into ps->rollup. */
static int read_rollup(struct collector *c, int dirfd, struct proc_sample *ps)
{
	int r;

	r = read_whole_at(dirfd, "smaps_rollup", &c->rbuf);
	if (r < 0)
		return r;
	if (c->rbuf.len == 0)
		return -ESRCH; /* exited: rollup of a process without an mm is empty */
	r = smaps_rollup_parse(c->rbuf.buf, c->rbuf.len, &ps->rollup);
	if (r < 0)
		return r;
	ps->flags |= SAMPLE_ROLLUP;
	return 0;
}

/* Reads full smaps into the state (quadrants, mapped files) and the sample, or leaves both as
 * they were on failure. */
static int read_full(struct collector *c, int dirfd, const struct collect_opts *o, struct proc_sample *ps,
		     struct proc_state *st, uint64_t now)
{
	struct mapfile_set set = { 0 };
	struct smaps_ctx ctx = { .files = c->files, .set = o->mapping_top > 0 ? &set : NULL };
	struct quadrant_sums quad[QUADRANT_COUNT];
	int r;

	mapfiles_set_begin(c->files);
	r = read_smaps_at(c, dirfd, &ctx, o->stop, quad);
	if (r >= 0) {
		memcpy(ps->quad, quad, sizeof(quad));
		r = smaps_check_whole(c, dirfd, ps);
	}
	if (r < 0) {
		mapfiles_set_drop(c->files, &set);
		return r;
	}
	mapfiles_set_drop(c->files, &st->files); /* after the add: files mapped by both stay */
	st->files = set;
	memcpy(st->quad, quad, sizeof(quad));
	smaps_basis_from(&ps->status, ps->flags & SAMPLE_ROLLUP ? &ps->rollup : NULL, &st->basis);
	st->first_full = !st->have_full;
	st->have_full = true;
	st->full_ns = now;
	ps->flags = (ps->flags | SAMPLE_QUADRANTS) & ~(uint32_t)SAMPLE_QUADRANTS_CARRIED;
	return 0;
}

static void carry_full(struct proc_sample *ps, const struct proc_state *st)
{
	memcpy(ps->quad, st->quad, sizeof(ps->quad));
	ps->flags |= SAMPLE_QUADRANTS | SAMPLE_QUADRANTS_CARRIED;
}

/* Forgets what a state carries (its files go back to the table). */
static void state_forget(struct collector *c, struct proc_state *st)
{
	mapfiles_set_drop(c->files, &st->files);
	st->have_full = st->have_rollup = false;
}

static int grow(void **v, size_t *alloc, size_t need, size_t size)
{
	size_t n = *alloc ? *alloc : 256;
	void *nv;

	if (need <= *alloc)
		return 0;
	while (n < need)
		n *= 2;
	nv = reallocarray(*v, n, size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*alloc = n;
	return 0;
}

/* The state of (pid, start) for this cycle: last cycle's if it is the same process, else a new
 * one. Last cycle's states of lower pids are gone: forgotten. *cursor walks c->states. */
static struct proc_state *state_take(struct collector *c, size_t *cursor, uint32_t pid, uint64_t start)
{
	struct proc_state *st = &c->next[c->nnext++];

	while (*cursor < c->nstates && c->states[*cursor].pid < pid)
		state_forget(c, &c->states[(*cursor)++]);
	if (*cursor < c->nstates && c->states[*cursor].pid == pid) {
		struct proc_state *old = &c->states[(*cursor)++];

		if (old->start_ticks == start) {
			*st = *old;
			return st;
		}
		state_forget(c, old); /* a reused pid inherits nothing */
	}
	*st = (struct proc_state){ .pid = pid, .start_ticks = start, .seed = carry_seed(pid, start) };
	return st;
}

static int due_add(struct carry_due_item **v, size_t *n, size_t *alloc, struct carry_due_item item)
{
	if (grow((void **)v, alloc, *n + 1, sizeof(**v)) < 0)
		return -ENOMEM;
	(*v)[(*n)++] = item;
	return 0;
}

/* The daemon's own cgroup file, read through procfs (absent from a fixture tree, or where the
 * daemon is not in procfs's pid namespace: then the rules alone judge a file). */
static void read_cgroup_ref(struct collector *c)
{
	struct cgroup_info info;

	c->have_cgroup_ref = read_whole_at(c->procfd, "self/cgroup", &c->cgroup_ref) >= 0 &&
			     proc_cgroup_parse(c->cgroup_ref.buf, c->cgroup_ref.len, NULL, 0, &info) >= 0;
}

static int parse_cgroup_rbuf(struct collector *c, struct cgroup_info *ret)
{
	return proc_cgroup_parse(c->rbuf.buf, c->rbuf.len,
				 c->have_cgroup_ref ? c->cgroup_ref.buf : NULL, c->cgroup_ref.len, ret);
}

/* Reads and parses dirfd's cgroup file. One that does not match the daemon's own may mean the
 * machine's hierarchies changed between the two reads (a hierarchy mounted or gone: a container
 * runtime or a systemd starting up does that): both are read again, and the file is refused only
 * if they still disagree. A forged file always does; it costs two more reads of small files. */
static int read_cgroup(struct collector *c, int dirfd, struct cgroup_info *ret)
{
	int r = read_whole_at(dirfd, "cgroup", &c->rbuf);

	if (r < 0)
		return r;
	r = parse_cgroup_rbuf(c, ret);
	if (r != -ESTALE)
		return r;
	read_cgroup_ref(c);
	r = read_whole_at(dirfd, "cgroup", &c->rbuf);
	return r < 0 ? r : parse_cgroup_rbuf(c, ret);
}

/* The comm, user, exe strings of a sample, and its unit and cgroup. */
static int sample_strings(struct collector *c, struct snapshot *s, int dirfd,
			  const struct proc_stat *st, struct proc_sample *ps)
{
	struct cgroup_info cg;
	const char *name;
	size_t len;
	char link[4096 + 16];
	ssize_t n;
	int r;

	r = snapshot_str(s, st->comm, st->comm_len, &ps->comm);
	if (r < 0)
		return r;
	name = users_cache_name(c->users, ps->uid, &len);
	if (!name)
		return -ENOMEM;
	r = snapshot_str(s, name, len, &ps->user);
	if (r < 0)
		return r;
	r = read_cgroup(c, dirfd, &cg);
	if (r == -EBADMSG || r == -ESTALE)
		c->errors[COLLECT_ERR_PARSE]++; /* a forged line, say: attributed to no cgroup */
	else if (r >= 0 && (r = snapshot_set_cgroup(s, ps, &cg)) < 0)
		return r;
	/* EACCES without ptrace rights, ENOENT for kernel threads and exiting processes: "" */
	n = readlinkat(dirfd, "exe", link, sizeof(link));
	if (n > 0 && (size_t)n < sizeof(link))
		return snapshot_str(s, link, (size_t)n, &ps->exe);
	return 0;
}

/* Picks the directory to read a process's memory through, when /proc/PID shows no mm (status
 * without Vm lines). That is a zombie, or a process on its way out, or one whose thread-group
 * leader exited (the thread: pthread_exit() or the exit system call in main) while other
 * threads run on: /proc/PID then shows the leader, a zombie whose stat says Z and whose smaps
 * is empty, yet the process holds all its memory. Any live thread's /proc/PID/task/TID shows
 * the same mm (status, smaps_rollup, smaps, statm, cgroup, exe), so read it through the first
 * one that has it. *dirfd becomes that directory (the leader's is closed) and *status takes the
 * thread's memory figures, keeping the leader's uid: the process's identity (pid, start time,
 * comm, parent, user) is the leader's, as ps shows it. Returns 1 if it switched, 0 if no
 * thread has an mm, -ENOMEM. */
static int pick_memory_dir(struct collector *c, int *dirfd, uint32_t pid, struct proc_status *status)
{
	struct dirent *de;
	int taskfd, r = 0;
	DIR *d;

	taskfd = openat(*dirfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (taskfd < 0)
		return errno == ENOMEM ? -ENOMEM : 0;
	d = fdopendir(taskfd);
	if (!d) {
		close(taskfd);
		return -ENOMEM;
	}
	while (r == 0 && (de = readdir(d))) {
		struct proc_status ts;
		char *end;
		unsigned long tid = strtoul(de->d_name, &end, 10);
		int fd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || *end || tid == pid)
			continue;
		fd = openat(taskfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue; /* exited meanwhile */
		r = read_whole_at(fd, "status", &c->tbuf);
		if (r >= 0)
			r = proc_status_parse(c->tbuf.buf, c->tbuf.len, &ts);
		if (r >= 0 && (ts.have & PROC_STATUS_VMSIZE)) {
			ts.ruid = status->ruid;
			*status = ts;
			close(*dirfd);
			*dirfd = fd;
			r = 1;
		} else {
			close(fd);
			r = r == -ENOMEM ? r : 0;
		}
	}
	closedir(d);
	return r;
}

/* A cycle's settings and snapshot, for the passes. */
struct cycle {
	const struct collect_opts *o;
	struct snapshot *s;
	uint64_t now, last_tick;
};

/* What pass 1 tells the cycle of one process. The stages of collect_one() return
 * COLLECT_NEXT (0: go on to the next stage), an outcome, or -errno. */
enum collect_outcome {
	COLLECT_NEXT,
	COLLECT_SAMPLED,
	COLLECT_KTHREAD,
	COLLECT_SKIPPED, /* gone, unreadable (counted in c->errors) or a zombie (not counted) */
};

/* One process as pass 1 reads it. */
struct proc_read {
	uint32_t pid;
	int dirfd; /* /proc/PID, or a live thread's task/TID (pick_memory_dir()); -1: none */
	struct proc_status status;
	struct proc_stat stat;
	struct proc_sample *ps;	  /* once sampled: cy->s->procs[index] */
	struct proc_state *state; /* c->next[index] */
	uint32_t index;
	struct mm_share_slot slot;
};

/* The age of something read at `then`; UINT64_MAX if it never was. */
static uint64_t age_since(bool have, uint64_t then, uint64_t now)
{
	return !have ? UINT64_MAX : now > then ? now - then : 0;
}

/* Stage 1: /proc/PID, its status and stat. A process whose leader exited is read through a live
 * thread (pick_memory_dir()). COLLECT_NEXT, COLLECT_KTHREAD, COLLECT_SKIPPED (a zombie), or
 * -errno: a reason to count (error_reason()), or -ENOMEM. */
static int read_identity(struct collector *c, struct proc_read *rd)
{
	char name[16];
	int r;

	snprintf(name, sizeof(name), "%u", rd->pid);
	rd->dirfd = openat(c->procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rd->dirfd < 0)
		return -errno;
	r = read_whole_at(rd->dirfd, "status", &c->rbuf);
	if (r >= 0 && c->rbuf.len == 0)
		r = -ESRCH;
	if (r >= 0)
		r = proc_status_parse(c->rbuf.buf, c->rbuf.len, &rd->status);
	if (r >= 0 && !(rd->status.have & PROC_STATUS_UID))
		r = -EBADMSG;
	/* stat last of the two: comm points into rbuf until it is copied */
	if (r >= 0)
		r = read_whole_at(rd->dirfd, "stat", &c->rbuf);
	if (r >= 0)
		r = proc_stat_parse(c->rbuf.buf, c->rbuf.len, &rd->stat);
	if (r < 0)
		return r;
	if (rd->status.kthread || (rd->stat.flags & PROC_PF_KTHREAD))
		return COLLECT_KTHREAD;
	if (rd->status.have & PROC_STATUS_VMSIZE)
		return COLLECT_NEXT;
	r = pick_memory_dir(c, &rd->dirfd, rd->pid, &rd->status);
	if (r == 0 && (rd->stat.state == 'Z' || rd->stat.state == 'X'))
		return COLLECT_SKIPPED; /* a zombie holds no memory: nothing to say, nothing wrong */
	if (r == 0)
		return -ESRCH; /* exiting: its mm is already gone */
	return r < 0 ? r : COLLECT_NEXT;
}

/* Stage 2: the sample and the process's state, its strings, and whether it shares its mm with a
 * process read before it. COLLECT_NEXT, COLLECT_SAMPLED (it shares), or -ENOMEM. */
static int sample_begin(struct collector *c, struct cycle *cy, struct proc_read *rd, size_t *cursor)
{
	struct proc_sample *ps = snapshot_add_proc(cy->s);
	size_t first;
	int r;

	if (!ps || grow((void **)&c->next, &c->next_alloc, c->nnext + 1, sizeof(*c->next)) < 0)
		return -ENOMEM;
	rd->ps = ps;
	rd->index = (uint32_t)(cy->s->nprocs - 1);
	ps->pid = rd->pid;
	ps->ppid = rd->stat.ppid;
	ps->uid = rd->status.ruid;
	ps->start_ticks = rd->stat.starttime;
	ps->status = rd->status;
	rd->state = state_take(c, cursor, rd->pid, rd->stat.starttime);
	r = sample_strings(c, cy->s, rd->dirfd, &rd->stat, ps);
	if (r < 0)
		return r;
	rd->state->share_first = 0;
	/* Not in off mode: its sums are status's RSS, which counts a page once for every process
	 * that maps it anyway, and the kcmp calls among the hundreds of fork children of a prefork
	 * server would cost as much as the mode's whole read (measured: 40 -> 49 ms a cycle with
	 * 2,000 such children). */
	if (cy->o->smaps == SMAPS_OFF)
		return COLLECT_NEXT;
	r = mm_share_find(c->mms, rd->pid, rd->stat.mm_layout, &first, &rd->slot);
	if (r <= 0)
		return r;
	/* shares its mm with a process read before it (mmshare.h): the same mm, so the same smaps
	 * figures, not read again (not even in full); it takes them from that process once the
	 * cycle's reads are done (share_figures()), and is counted in the sums once, through
	 * that process */
	state_forget(c, rd->state);
	rd->state->share_first = first + 1;
	ps->flags |= SAMPLE_MM_SHARED;
	return COLLECT_SAMPLED;
}

/* Full mode, after the rollup was read: queues the full smaps read if carry.h says it is due,
 * and carries the last one's quadrants until (unless) pass 2 reads it afresh. */
static int queue_full(struct collector *c, struct cycle *cy, struct proc_read *rd)
{
	struct carry_policy pol = { cy->o->smaps_min_age_ns, cy->o->smaps_max_age_ns };
	struct carry_due_item item = { .pid = rd->pid, .index = rd->index };
	struct proc_state *st = rd->state;
	struct smaps_basis basis;

	smaps_basis_from(&rd->ps->status, &rd->ps->rollup, &basis);
	item.why = carry_decide(&pol, st->have_full, st->full_ns, st->first_full, &st->basis, &basis,
				cy->now, st->seed, &item.moved);
	item.age_ns = age_since(st->have_full, st->full_ns, cy->now);
	if (st->have_full)
		carry_full(rd->ps, st);
	if (item.why == CARRY_KEEP)
		return 0;
	return due_add(&c->due, &c->ndue, &c->due_alloc, item);
}

/* Stage 3, rollup and full modes, a process under --smaps-max-rss: its smaps_rollup, and in
 * full mode whether its full smaps is due. COLLECT_NEXT; COLLECT_SKIPPED if it vanished (its
 * sample dropped, counted); -ENOMEM. A refusal or a parse error is counted and the sample
 * keeps its status figures. */
static int sample_rollup(struct collector *c, struct cycle *cy, struct proc_read *rd)
{
	enum collect_error e;
	int r;

	rd->state->have_rollup = false;
	r = read_rollup(c, rd->dirfd, rd->ps);
	if (r >= 0 && cy->o->smaps == SMAPS_FULL)
		return queue_full(c, cy, rd);
	state_forget(c, rd->state);
	if (r >= 0 || r == -ENOMEM)
		return r;
	e = error_reason(r);
	c->errors[e]++;
	if (e == COLLECT_ERR_VANISHED) {
		snapshot_drop_last(cy->s);
		c->nnext--;
		return COLLECT_SKIPPED;
	}
	rd->ps->flags &= ~(uint32_t)SAMPLE_ROLLUP; /* permission or parse: status stands */
	return COLLECT_NEXT;
}

/* Stage 3: what the mode reads of the process's memory now, or queues for pass 3. */
static int sample_memory(struct collector *c, struct cycle *cy, struct proc_read *rd)
{
	const struct collect_opts *o = cy->o;
	struct carry_due_item item = { .pid = rd->pid, .index = rd->index };

	if (o->smaps == SMAPS_OFF) {
		state_forget(c, rd->state);
		return COLLECT_NEXT;
	}
	if (!o->smaps_max_rss || rd->status.vm_rss <= o->smaps_max_rss)
		return sample_rollup(c, cy, rd);
	/* over --smaps-max-rss: pass 3 decides */
	item.age_ns = age_since(rd->state->have_rollup, rd->state->rollup_ns, cy->now);
	return due_add(&c->large, &c->nlarge, &c->large_alloc, item);
}

/* Pass 1 for one process: stat, status, strings, and under --smaps-max-rss smaps_rollup; then
 * whether its full smaps is due (queued in c->due) or its quadrants are carried. Errors that
 * concern only this process are counted here and give COLLECT_SKIPPED; only allocation failure
 * is returned as an error. */
static int collect_one(struct collector *c, struct cycle *cy, uint32_t pid, size_t *cursor)
{
	struct proc_read rd = { .pid = pid, .dirfd = -1 };
	int r;

	r = read_identity(c, &rd);
	if (r == COLLECT_NEXT)
		r = sample_begin(c, cy, &rd, cursor);
	if (r == COLLECT_NEXT)
		r = sample_memory(c, cy, &rd);
	if (r == COLLECT_NEXT) {
		r = mm_share_add(c->mms, &rd.slot, pid, rd.index);
		r = r < 0 ? r : COLLECT_SAMPLED;
	}
	if (rd.dirfd >= 0)
		close(rd.dirfd);
	if (r < 0 && r != -ENOMEM) {
		assert(!rd.ps); /* once sampled, a stage counts its own errors */
		c->errors[error_reason(r)]++;
		r = COLLECT_SKIPPED;
	}
	return r;
}

/* Opens /proc/PID again for a read after pass 1, if it is still the same process. */
static int reopen(struct collector *c, const struct proc_sample *ps, int *ret_dirfd)
{
	struct proc_status status;
	struct proc_stat st;
	char name[16];
	int dirfd, r;

	snprintf(name, sizeof(name), "%u", ps->pid);
	dirfd = openat(c->procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	r = read_whole_at(dirfd, "stat", &c->rbuf);
	if (r >= 0)
		r = proc_stat_parse(c->rbuf.buf, c->rbuf.len, &st);
	if (r >= 0 && st.starttime != ps->start_ticks)
		r = -ESRCH;
	/* a leader that exited shows no mm: read through a live thread, as pass 1 did */
	if (r >= 0)
		r = read_whole_at(dirfd, "status", &c->rbuf);
	if (r >= 0)
		r = proc_status_parse(c->rbuf.buf, c->rbuf.len, &status);
	if (r >= 0 && !(status.have & PROC_STATUS_VMSIZE))
		r = pick_memory_dir(c, &dirfd, ps->pid, &status) > 0 ? 0 : -ESRCH;
	if (r < 0) {
		close(dirfd);
		return r;
	}
	*ret_dirfd = dirfd;
	return 0;
}

/* A read in pass 2 or 3 failed: count it; a process gone is dropped at the end of the cycle,
 * one that refused loses its quadrants (carried ones too: the next cycle reads it as new) and
 * keeps what was read before (status, and its rollup, which a failed full smaps does not take
 * with it). */
static int read_failed(struct collector *c, struct proc_sample *ps, size_t i, int r)
{
	enum collect_error e = error_reason(r);
	struct proc_state *st = &c->next[i];

	if (r == -ENOMEM || r == -EINTR) /* EINTR: the daemon is stopping */
		return r;
	c->errors[e]++;
	mapfiles_set_drop(c->files, &st->files);
	st->have_full = false;
	ps->flags &= ~(uint32_t)(SAMPLE_QUADRANTS | SAMPLE_QUADRANTS_CARRIED);
	if (e == COLLECT_ERR_VANISHED)
		c->gone[i] = true;
	return 0;
}

static void tick(struct cycle *cy)
{
	if (cy->o->tick) {
		uint64_t t = clock_monotonic_ns();
		if (t - cy->last_tick >= cy->o->tick_ns) {
			cy->o->tick(cy->o->tick_userdata);
			cy->last_tick = t;
		}
	}
}

/* Pass 2: the due full reads, in carry.h's order, while the budget lasts. */
static int pass_full(struct collector *c, struct cycle *cy)
{
	const struct collect_opts *o = cy->o;
	uint64_t spent = 0;
	size_t k;
	int r;

	if (c->ndue > 1)
		qsort(c->due, c->ndue, sizeof(*c->due), carry_due_cmp);
	for (k = 0; k < c->ndue; k++) {
		size_t i = c->due[k].index;
		struct proc_sample *ps = &cy->s->procs[i];
		uint64_t t0;
		int dirfd;

		if (o->stop && *o->stop)
			return -EINTR;
		if (o->smaps_budget_ns && spent >= o->smaps_budget_ns) {
			c->errors[COLLECT_ERR_SKIPPED_BUDGET]++; /* carried if it has quadrants */
			continue;
		}
		t0 = clock_monotonic_ns();
		r = reopen(c, ps, &dirfd);
		if (r >= 0) {
			r = read_full(c, dirfd, o, ps, &c->next[i], cy->now);
			close(dirfd);
		}
		spent += clock_monotonic_ns() - t0;
		if (r >= 0)
			cy->s->smaps_full_reads++;
		else if (read_failed(c, ps, i, r) < 0)
			return r;
		tick(cy);
	}
	return 0;
}

/* Pass 3's order: least recently read first (all CARRY_KEEP, so by age), each with its cost
 * estimate in `moved`; the credit topped up for this cycle. */
static void large_order(struct collector *c, struct cycle *cy)
{
	uint64_t cap = 0;
	size_t k;

	for (k = 0; k < c->nlarge; k++) {
		size_t i = c->large[k].index;
		const struct proc_state *st = &c->next[i];
		uint64_t est = st->cost_ns ? st->cost_ns
					   : carry_large_cost_estimate(cy->s->procs[i].status.vm_rss);

		c->large[k].moved = est; /* the estimate rides in `moved` */
		cap = est > cap ? est : cap;
	}
	large_credit_top_up(&c->credit, cy->now, cy->o->smaps_large_share_ppm, cap);
	if (c->nlarge > 1)
		qsort(c->large, c->nlarge, sizeof(*c->large), carry_due_cmp);
}

/* A large process not read this cycle: its last figures carried, if it has any. */
static void large_carry(struct collector *c, struct cycle *cy, size_t i)
{
	struct proc_sample *ps = &cy->s->procs[i];
	const struct proc_state *st = &c->next[i];

	if (!st->have_rollup) {
		c->errors[COLLECT_ERR_SKIPPED_LARGE]++;
		return;
	}
	ps->rollup = st->rollup;
	ps->flags |= SAMPLE_ROLLUP | SAMPLE_ROLLUP_CARRIED;
	if (st->have_full && cy->o->smaps == SMAPS_FULL)
		carry_full(ps, st);
}

/* Reads a large process's rollup, and in full mode its full smaps if carry.h says so. */
static int read_large(struct collector *c, struct cycle *cy, int dirfd, size_t i)
{
	const struct collect_opts *o = cy->o;
	struct carry_policy pol = { o->smaps_min_age_ns, o->smaps_max_age_ns };
	struct proc_sample *ps = &cy->s->procs[i];
	struct proc_state *st = &c->next[i];
	struct smaps_basis basis;
	uint64_t moved;
	int r;

	r = read_rollup(c, dirfd, ps);
	if (r < 0) {
		st->have_rollup = false;
		ps->flags &= ~(uint32_t)SAMPLE_ROLLUP;
		return r;
	}
	st->rollup = ps->rollup;
	st->have_rollup = true;
	st->rollup_ns = cy->now;
	if (o->smaps != SMAPS_FULL)
		return 0;
	smaps_basis_from(&ps->status, &ps->rollup, &basis);
	if (carry_decide(&pol, st->have_full, st->full_ns, st->first_full, &st->basis, &basis, cy->now,
			 st->seed, &moved) == CARRY_KEEP) {
		carry_full(ps, st);
		return 0;
	}
	r = read_full(c, dirfd, o, ps, st, cy->now);
	if (r >= 0)
		cy->s->smaps_full_reads++;
	return r;
}

/* Pass 3: processes over --smaps-max-rss, least recently read first, while the credit lasts. */
static int pass_large(struct collector *c, struct cycle *cy)
{
	const struct collect_opts *o = cy->o;
	size_t k;
	int r;

	large_order(c, cy);
	for (k = 0; k < c->nlarge; k++) {
		size_t i = c->large[k].index;
		struct proc_state *st = &c->next[i];
		uint64_t t0;
		int dirfd;

		if (o->stop && *o->stop)
			return -EINTR;
		if (!o->smaps_large_share_ppm || !large_credit_take(&c->credit, c->large[k].moved)) {
			large_carry(c, cy, i);
			continue;
		}
		t0 = clock_monotonic_ns();
		r = reopen(c, &cy->s->procs[i], &dirfd);
		if (r >= 0) {
			r = read_large(c, cy, dirfd, i);
			close(dirfd);
		}
		st->cost_ns = clock_monotonic_ns() - t0;
		large_credit_spend(&c->credit, st->cost_ns);
		if (r < 0 && read_failed(c, &cy->s->procs[i], i, r) < 0)
			return r;
		tick(cy);
	}
	return 0;
}

/* Pass 4: the mapped-file sums over every process alive, the paths the top files lack (read
 * again from the smaps of a process that maps them), the top N into the snapshot. */
static int pass_files(struct collector *c, struct cycle *cy)
{
	const struct collect_opts *o = cy->o;
	size_t i;
	int r;

	mapfiles_sum_reset(c->files);
	for (i = 0; i < c->nnext; i++)
		if (!c->gone[i] && (cy->s->procs[i].flags & SAMPLE_QUADRANTS))
			mapfiles_sum_add(c->files, &c->next[i].files);
	r = mapfiles_want_paths(c->files, o->mapping_top);
	if (r < 0)
		return r;
	for (i = 0; r > 0 && i < c->nnext; i++) {
		struct smaps_ctx ctx = { .files = c->files, .offer_paths = true };
		struct quadrant_sums quad[QUADRANT_COUNT];
		int dirfd;

		if (c->gone[i] || !mapfiles_set_wants_path(&c->next[i].files))
			continue;
		if (reopen(c, &cy->s->procs[i], &dirfd) < 0)
			continue;
		r = read_smaps_at(c, dirfd, &ctx, o->stop, quad);
		close(dirfd);
		if (r == -ENOMEM || r == -EINTR)
			return r;
		r = 1;
	}
	return mapfiles_top(c->files, o->mapping_top, cy->s);
}

/* The processes that share an mm with one read before them take its figures, as they are once
 * every read is done (a full read in pass 2 came after pass 1 saw them). */
static void share_figures(struct collector *c, struct snapshot *s)
{
	size_t i;

	for (i = 0; i < c->nnext; i++) {
		size_t f = c->next[i].share_first;
		struct proc_sample *ps = &s->procs[i];

		if (!f--)
			continue;
		ps->flags &= ~(uint32_t)(SAMPLE_ROLLUP | SAMPLE_QUADRANTS);
		if (c->gone[f])
			continue; /* gone since: so is this one's reading of the mm */
		ps->rollup = s->procs[f].rollup;
		memcpy(ps->quad, s->procs[f].quad, sizeof(ps->quad));
		ps->flags |= s->procs[f].flags & (SAMPLE_ROLLUP | SAMPLE_QUADRANTS);
	}
}

/* Drops the samples (and states) of processes found gone after pass 1; the states of this
 * cycle become the ones to compare with next cycle. */
static void finish_states(struct collector *c, struct snapshot *s, size_t cursor)
{
	struct proc_state *swap;
	size_t i, n = 0;

	while (cursor < c->nstates)
		state_forget(c, &c->states[cursor++]);
	for (i = 0; i < c->nnext; i++) {
		if (c->gone[i])
			continue;
		s->procs[n] = s->procs[i];
		c->next[n++] = c->next[i];
	}
	s->nprocs = n;
	swap = c->states;
	c->states = c->next;
	c->nstates = n;
	c->next = swap;
	i = c->states_alloc;
	c->states_alloc = c->next_alloc;
	c->next_alloc = i;
	c->nnext = 0;
}

/* The carried-figure gauges. */
static void carried_figures(const struct collector *c, struct snapshot *s, uint64_t now)
{
	size_t i;

	for (i = 0; i < s->nprocs; i++) {
		const struct proc_sample *p = &s->procs[i];
		uint64_t age;

		if (!(p->flags & SAMPLE_QUADRANTS_CARRIED))
			continue;
		s->smaps_carried++;
		age = now > c->states[i].full_ns ? now - c->states[i].full_ns : 0;
		if (age > s->smaps_carried_max_age_ns)
			s->smaps_carried_max_age_ns = age;
	}
}

/* The daemon's own figures, always from the real /proc. */
static void collect_self(struct collector *c, struct self_sample *self)
{
	struct proc_statm sm;
	struct rlimit rl;
	long page = sysconf(_SC_PAGESIZE);
	DIR *d;

	self->start_time_cs = c->self_start_cs;
	if (read_whole_at(AT_FDCWD, "/proc/self/statm", &c->rbuf) >= 0 &&
	    proc_statm_parse(c->rbuf.buf, c->rbuf.len, &sm) >= 0 && page > 0) {
		self->resident = sm.resident * (uint64_t)page;
		self->virtual_size = sm.size * (uint64_t)page;
		self->have_memory = true;
	}
	d = opendir("/proc/self/fd");
	if (d && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		uint64_t n = 0;
		struct dirent *de;

		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				n++;
		self->open_fds = n ? n - 1 : 0; /* not counting the directory's own descriptor */
		self->max_fds = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
		self->have_fds = true;
	}
	if (d)
		closedir(d);
}

/* Pass 1: every process in pid order (collect_one()). */
static int pass_procs(struct collector *c, struct cycle *cy, size_t *cursor)
{
	const struct collect_opts *o = cy->o;
	size_t i;
	int r;

	r = list_pids(c);
	if (r >= 0)
		r = mm_share_reset(c->mms, c->npids);
	if (r < 0)
		return r;
	for (i = 0; i < c->npids; i++) {
		if (o->stop && *o->stop)
			return -EINTR;
		r = collect_one(c, cy, c->pids[i], cursor);
		if (r < 0)
			return r;
		if (r == COLLECT_KTHREAD)
			cy->s->kernel_threads++;
		tick(cy);
	}
	if (grow((void **)&c->gone, &c->gone_alloc, c->nnext + 1, sizeof(*c->gone)) < 0)
		return -ENOMEM;
	memset(c->gone, 0, c->nnext * sizeof(*c->gone));
	return 0;
}

/* The passes that read; on failure, what this cycle learnt is dropped with it: every state,
 * old and new, forgotten. */
static int cycle_read(struct collector *c, struct cycle *cy, size_t *cursor)
{
	size_t i;
	int r;

	c->nnext = c->ndue = c->nlarge = 0;
	read_cgroup_ref(c);
	r = pass_procs(c, cy, cursor);
	if (r >= 0)
		r = pass_full(c, cy);
	if (r >= 0)
		r = pass_large(c, cy);
	if (r >= 0 && cy->o->smaps == SMAPS_FULL)
		r = pass_files(c, cy);
	if (r >= 0)
		return 0;
	for (i = 0; i < c->nnext; i++)
		state_forget(c, &c->next[i]);
	while (*cursor < c->nstates)
		state_forget(c, &c->states[(*cursor)++]);
	c->nstates = c->nnext = 0;
	return r;
}

/* The figures over the whole cycle, the choice of processes (select.h), the daemon's own. */
static int cycle_finish(struct collector *c, struct cycle *cy, size_t cursor, uint64_t t0)
{
	struct select_opts sel = cy->o->select;
	struct snapshot *s = cy->s;
	int r;

	share_figures(c, s);
	finish_states(c, s, cursor);
	if (cy->o->smaps == SMAPS_FULL)
		carried_figures(c, s, cy->now);
	sel.prev = &c->chosen;
	sel.now_ns = clock_realtime_ns();
	r = snapshot_finish(s, &sel);
	if (r < 0)
		return r;
	/* on -ENOMEM the memory is emptied: the next cycle chooses without incumbents, which is
	 * all that is lost */
	(void)select_memory_save(&c->chosen, s);
	collect_self(c, &s->self);
	users_cache_sweep(c->users);
	c->cycles++;
	s->cycles_total = c->cycles;
	memcpy(s->errors_total, c->errors, sizeof(c->errors));
	s->duration_ns = clock_monotonic_ns() - t0;
	s->timestamp_ns = clock_realtime_ns();
	return 0;
}

int collector_cycle_at(struct collector *c, const struct collect_opts *o, uint64_t now,
		       struct snapshot **ret)
{
	uint64_t t0 = clock_monotonic_ns();
	struct cycle cy = { .o = o, .now = now ? now : t0, .last_tick = t0 };
	size_t cursor = 0;
	int r;

	assert(c && o && ret);
	cy.s = snapshot_new(o->smaps);
	if (!cy.s)
		return -ENOMEM;
	cy.s->btime = c->btime;
	cy.s->hz = c->have_btime ? c->hz : 0;
	r = cycle_read(c, &cy, &cursor);
	if (r >= 0)
		r = cycle_finish(c, &cy, cursor, t0);
	if (r < 0) {
		snapshot_free(cy.s);
		return r;
	}
	*ret = cy.s;
	return 0;
}

int collector_cycle(struct collector *c, const struct collect_opts *o, struct snapshot **ret)
{
	return collector_cycle_at(c, o, 0, ret);
}
