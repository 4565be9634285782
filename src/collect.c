/* collect.c — a collection cycle over /proc; see collect.h for what it reads and why.
 *
 * I/O only: every byte read goes to a parser in procfs.c. Whole small files (stat, status,
 * cgroup, smaps_rollup) are read into one reused buffer that grows to the largest file seen;
 * full smaps, which can be tens of megabytes, is read in 64 KiB chunks through the streaming
 * parser, so memory stays bounded whatever the process. No stdio on /proc files: each read is
 * one read(2) loop on a descriptor opened with openat() relative to /proc/PID.
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
#include "mmshare.h"
#include "users.h"

/* No /proc file we read whole is near this; a larger one is not what the kernel writes. */
#define WHOLE_FILE_MAX (1u << 20)
#define SMAPS_CHUNK (64u * 1024)
/* the parser leaves at most SMAPS_LINE_MAX bytes of a line unconsumed: a read always has room */
_Static_assert(SMAPS_CHUNK > SMAPS_LINE_MAX, "a chunk must hold the longest line the parser keeps");

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
	struct mapping_acc *maps;
	struct mm_share *mms;
	uint64_t errors[COLLECT_ERR_COUNT];
	uint64_t cycles;
	uint32_t resume_pid; /* where the smaps budget ran out last cycle; 0: from the start */
	uint64_t btime, hz;
	uint64_t self_start_cs;
	bool have_btime;
};

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

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
	c->maps = mapping_acc_new();
	c->mms = mm_share_new(is_real_proc(c->procfd));
	if (!c->users || !c->maps || !c->mms) {
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
	mapping_acc_free(c->maps);
	mm_share_free(c->mms);
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
	struct mapping_acc *maps; /* NULL: top mapped files not wanted */
};

static int on_mapping(const struct smaps_mapping *m, void *userdata)
{
	struct smaps_ctx *ctx = userdata;

	if (!ctx->maps || (m->quadrant != QUADRANT_PRIVATE_FILE && m->quadrant != QUADRANT_SHARED_FILE))
		return 0;
	return mapping_acc_add(ctx->maps, m->path, m->path_len, m->sums.pss, m->sums.rss);
}

/* Streams /proc/PID/smaps through the parser. A process that vanishes half-way has already
 * added its first mappings to this cycle's per-file sums; undoing that would need a second
 * accumulation for every process to guard against a rare race, so it stays: an error of part
 * of one process's share, for one cycle. A stop request is honoured between reads (-EINTR):
 * a process with 60,000 mappings takes seconds to read, and the daemon should not wait for it. */
static int read_smaps_at(struct collector *c, int dirfd, bool want_maps,
			 const volatile sig_atomic_t *stop, struct quadrant_sums ret[QUADRANT_COUNT])
{
	struct smaps_ctx ctx = { .maps = want_maps ? c->maps : NULL };
	struct smaps_parser p;
	size_t have = 0;
	int fd, r = 0;
	bool any = false;

	fd = openat(dirfd, "smaps", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	smaps_parser_init(&p, on_mapping, &ctx);
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

/* Reads smaps_rollup (and in full mode smaps) into the sample. */
static int read_smaps(struct collector *c, int dirfd, const struct collect_opts *o,
		      struct proc_sample *ps)
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
	if (o->smaps != SMAPS_FULL)
		return 0;
	r = read_smaps_at(c, dirfd, o->mapping_top > 0, o->stop, ps->quad);
	if (r < 0)
		return r;
	r = smaps_check_whole(c, dirfd, ps);
	if (r < 0)
		return r;
	ps->flags |= SAMPLE_QUADRANTS;
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

enum proc_outcome { PROC_SAMPLED, PROC_KTHREAD, PROC_SKIPPED };

/* Reads one process. Errors that concern only this process are counted here and return
 * PROC_SKIPPED; only allocation failure is returned as an error. */
static int collect_one(struct collector *c, struct snapshot *s, const struct collect_opts *o,
		       uint32_t pid, uint64_t *smaps_ns, bool *budget_spent)
{
	struct proc_status status;
	struct proc_stat st;
	struct proc_sample *ps;
	struct mm_share_slot slot = { NULL, 0 };
	size_t first;
	char name[16];
	int dirfd, r;

	snprintf(name, sizeof(name), "%u", pid);
	dirfd = openat(c->procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		c->errors[error_reason(-errno)]++;
		return PROC_SKIPPED;
	}
	r = read_whole_at(dirfd, "status", &c->rbuf);
	if (r >= 0 && c->rbuf.len == 0)
		r = -ESRCH;
	if (r >= 0)
		r = proc_status_parse(c->rbuf.buf, c->rbuf.len, &status);
	if (r >= 0 && !(status.have & PROC_STATUS_UID))
		r = -EBADMSG;
	if (r < 0)
		goto skip;
	/* stat last of the two: comm points into rbuf until it is copied */
	r = read_whole_at(dirfd, "stat", &c->rbuf);
	if (r >= 0)
		r = proc_stat_parse(c->rbuf.buf, c->rbuf.len, &st);
	if (r < 0)
		goto skip;
	if (status.kthread || (st.flags & PROC_PF_KTHREAD)) {
		close(dirfd);
		return PROC_KTHREAD;
	}
	if (!(status.have & PROC_STATUS_VMSIZE)) {
		r = pick_memory_dir(c, &dirfd, pid, &status);
		if (r == 0 && (st.state == 'Z' || st.state == 'X')) {
			close(dirfd); /* a zombie holds no memory: nothing to say, nothing wrong */
			return PROC_SKIPPED;
		}
		if (r == 0)
			r = -ESRCH; /* exiting: its mm is already gone */
		if (r < 0)
			goto skip;
	}
	ps = snapshot_add_proc(s);
	if (!ps) {
		close(dirfd);
		return -ENOMEM;
	}
	ps->pid = pid;
	ps->ppid = st.ppid;
	ps->uid = status.ruid;
	ps->start_ticks = st.starttime;
	ps->status = status;
	r = sample_strings(c, s, dirfd, &st, ps);
	/* Not in off mode: its sums are status's RSS, which counts a page once for every process
	 * that maps it anyway, and the kcmp calls among the hundreds of fork children of a prefork
	 * server would cost as much as the mode's whole read (measured: 40 -> 49 ms a cycle with
	 * 2,000 such children). */
	if (r >= 0 && o->smaps != SMAPS_OFF)
		r = mm_share_find(c->mms, pid, st.mm_layout, &first, &slot);
	if (r < 0) {
		close(dirfd);
		return r;
	}
	if (r > 0) {
		/* shares its mm with a process read before it (mmshare.h): the same mm, so the same
		 * smaps figures, not read again; counted in the sums once, through that process */
		const struct proc_sample *f = &s->procs[first];

		ps->rollup = f->rollup;
		memcpy(ps->quad, f->quad, sizeof(ps->quad));
		ps->flags |= SAMPLE_MM_SHARED | (f->flags & (SAMPLE_ROLLUP | SAMPLE_QUADRANTS));
		close(dirfd);
		return PROC_SAMPLED;
	}
	if (o->smaps != SMAPS_OFF) {
		if (o->smaps_max_rss && status.vm_rss > o->smaps_max_rss) {
			c->errors[COLLECT_ERR_SKIPPED_LARGE]++;
		} else if (*budget_spent) {
			c->errors[COLLECT_ERR_SKIPPED_BUDGET]++;
		} else {
			uint64_t t0 = now_ns(CLOCK_MONOTONIC);

			r = read_smaps(c, dirfd, o, ps);
			*smaps_ns += now_ns(CLOCK_MONOTONIC) - t0;
			if (o->smaps_budget_ns && *smaps_ns >= o->smaps_budget_ns)
				*budget_spent = true;
			if (r == -ENOMEM || r == -EINTR) { /* EINTR: the daemon is stopping */
				close(dirfd);
				return r;
			}
			if (r < 0) {
				enum collect_error e = error_reason(r);

				c->errors[e]++;
				if (e == COLLECT_ERR_VANISHED)
					snapshot_drop_last(s);
				/* permission or parse: the status figures stand, and so does the
				 * rollup if it was read (SAMPLE_ROLLUP says so): a full smaps that
				 * fails takes only the quadrants with it */
				close(dirfd);
				if (e == COLLECT_ERR_VANISHED)
					return PROC_SKIPPED;
				r = mm_share_add(c->mms, &slot, pid, s->nprocs - 1);
				return r < 0 ? r : PROC_SAMPLED;
			}
		}
	}
	close(dirfd);
	r = mm_share_add(c->mms, &slot, pid, s->nprocs - 1);
	return r < 0 ? r : PROC_SAMPLED;
skip:
	close(dirfd);
	if (r == -ENOMEM)
		return r;
	c->errors[error_reason(r)]++;
	return PROC_SKIPPED;
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

int collector_cycle(struct collector *c, const struct collect_opts *o, struct snapshot **ret)
{
	uint64_t t0 = now_ns(CLOCK_MONOTONIC), last_tick = t0, smaps_ns = 0;
	struct snapshot *s;
	bool budget_spent = false;
	uint32_t resume = 0;
	size_t i, start = 0;
	int r;

	assert(c && o && ret);
	s = snapshot_new(o->smaps);
	if (!s)
		return -ENOMEM;
	s->btime = c->btime;
	s->hz = c->have_btime ? c->hz : 0;
	mapping_acc_reset(c->maps);
	read_cgroup_ref(c);

	r = list_pids(c);
	if (r >= 0)
		r = mm_share_reset(c->mms, c->npids);
	if (r < 0)
		goto fail;
	/* start where the budget ran out last time, wrapping round */
	while (c->resume_pid && start < c->npids && c->pids[start] < c->resume_pid)
		start++;
	if (start == c->npids)
		start = 0;
	for (i = 0; i < c->npids; i++) {
		uint32_t pid = c->pids[(start + i) % c->npids];
		bool was_spent = budget_spent;

		if (o->stop && *o->stop) {
			r = -EINTR;
			goto fail;
		}
		r = collect_one(c, s, o, pid, &smaps_ns, &budget_spent);
		if (r < 0)
			goto fail;
		if (r == PROC_KTHREAD)
			s->kernel_threads++;
		if (budget_spent && !was_spent)
			resume = pid; /* this one was read; the next cycle starts after it */
		if (o->tick) {
			uint64_t now = now_ns(CLOCK_MONOTONIC);
			if (now - last_tick >= o->tick_ns) {
				o->tick(o->tick_userdata);
				last_tick = now;
			}
		}
	}
	c->resume_pid = resume ? resume + 1 : 0;

	if (o->smaps == SMAPS_FULL) {
		r = mapping_acc_top(c->maps, o->mapping_top, s);
		if (r < 0)
			goto fail;
	}
	r = snapshot_finish(s, &o->select);
	if (r < 0)
		goto fail;
	collect_self(c, &s->self);
	users_cache_sweep(c->users);
	c->cycles++;
	s->cycles_total = c->cycles;
	memcpy(s->errors_total, c->errors, sizeof(c->errors));
	s->duration_ns = now_ns(CLOCK_MONOTONIC) - t0;
	s->timestamp_ns = now_ns(CLOCK_REALTIME);
	*ret = s;
	return 0;
fail:
	snapshot_free(s);
	return r;
}
