/* churnload.c — a host whose processes come and go, for the churn benchmark (bench/churn.py).
 *
 *   churnload [-b N] [-B MIN:MAX] [-w N] [-W KIB:PCT:MS] [-r RATE] [-l MIN:MAX] [-s MIN:MAX] [-x SEED]
 *
 * Three kinds of children, each with private anonymous memory it has written (so it is
 * resident, and its PSS is about its size):
 *  - -b N long-lived processes, sizes log-uniform between -B MIN and MAX KiB (default 64:16384),
 *    named pmbase00 ... pmbase19 (the index modulo 20: twenty commands, as on a real host);
 *  - -w N workers of about -W KIB each (default 4096), named pmworker: every MS milliseconds
 *    (default 15000) each draws a new size uniformly within PCT percent (default 10) of KIB and
 *    writes up to it or gives back what is above it (MADV_DONTNEED): a pool of look-alike
 *    processes whose ranks reshuffle all the time, as a web server's workers do. Their first
 *    step comes at a random point of the first period, so they do not move in lockstep;
 *  - -r RATE short-lived processes a second (default 0), each living a time log-uniform between
 *    -l MIN and MAX milliseconds (default 100:10000) with a size log-uniform between -s MIN and
 *    MAX KiB (default 1024:16384), named in turn pmcc1, pmas, pmld, pmsh, pmpython: a build's
 *    compilers or a cron host's jobs. Started on a fixed schedule; when the machine cannot keep
 *    up, the schedule is not caught up later (the rate achieved is reported).
 * Sizes and lifetimes come from a generator seeded by -x (default 1): a run is repeatable.
 *
 * Prints "ready B W" once the long-lived processes and workers have written their memory, then
 * starts the short-lived ones until its standard input reaches end of file or it gets
 * SIGTERM/SIGINT/SIGHUP; then it kills every child by pid (SIGKILL), reaps them, prints
 * "spawned N in S s" and exits. Children die with it too (PR_SET_PDEATHSIG), so a churnload
 * killed outright leaves nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_stop;

static void on_stop(int sig)
{
	(void)sig;
	got_stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: churnload [-b N] [-B MIN:MAX] [-w N] [-W KIB:PCT:MS] [-r RATE] "
			"[-l MIN:MAX] [-s MIN:MAX] [-x SEED]\n");
	exit(2);
}

static unsigned long parse_ul(const char *s, char **end, unsigned long max)
{
	unsigned long v;

	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || *end == s || v > max)
		usage();
	return v;
}

/* "A:B" or "A:B:C" into v[0..n) */
static void parse_list(const char *s, unsigned long *v, int n, unsigned long max)
{
	char *end;
	int i;

	for (i = 0; i < n; i++) {
		v[i] = parse_ul(s, &end, max);
		if (*end != (i == n - 1 ? '\0' : ':'))
			usage();
		s = end + 1;
	}
}

/* xorshift64*: small, fast, and the same sequence for the same seed everywhere */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / 9007199254740992.0; /* [0, 1) */
}

static unsigned long log_uniform(uint64_t *s, unsigned long lo, unsigned long hi)
{
	if (hi <= lo)
		return lo;
	return (unsigned long)exp(log((double)lo) + rng_unit(s) * (log((double)hi) - log((double)lo)));
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Maps `max` KiB and writes the first `kib` of them; never returns NULL (exits instead). */
static char *grab(size_t max_kib, size_t kib)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, max_kib * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t j;

	if (p == MAP_FAILED)
		_exit(4);
	for (j = 0; j < kib * 1024; j += (size_t)page)
		p[j] = 1;
	return p;
}

/* Common to every child: die with the parent, a name, no hold on the driver's pipes. */
static void child_setup(const char *name, pid_t parent)
{
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(3);
	prctl(PR_SET_NAME, name);
	/* the driver waits for our parent's output and watches its stdin: hold neither */
	{
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0)
			_exit(3);
		close(null);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
}

static void park(void)
{
	sigset_t none;

	sigemptyset(&none);
	for (;;)
		sigsuspend(&none); /* until SIGKILL */
}

static void worker(unsigned long kib, unsigned long pct, unsigned long period_ms, uint64_t seed,
		   int ready_fd)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t max = kib + kib * pct / 100, now = kib, j;
	char *p = grab(max, now);

	if (write(ready_fd, "r", 1) != 1)
		_exit(6);
	close(ready_fd);
	sleep_ms((unsigned long)(rng_unit(&seed) * (double)period_ms));
	for (;;) {
		size_t next = (size_t)((double)kib * (1.0 + (2.0 * rng_unit(&seed) - 1.0) * (double)pct / 100.0));

		next = next / 4 * 4; /* whole pages */
		if (next > now) {
			for (j = now * 1024; j < next * 1024; j += (size_t)page)
				p[j] = 1;
		} else if (next < now) {
			madvise(p + next * 1024, (now - next) * 1024, MADV_DONTNEED);
		}
		now = next;
		sleep_ms(period_ms);
	}
}

struct kids {
	pid_t *v;
	size_t n, alloc;
};

static int kids_add(struct kids *k, pid_t p)
{
	if (k->n == k->alloc) {
		size_t na = k->alloc ? 2 * k->alloc : 256;
		pid_t *nv = realloc(k->v, na * sizeof(*nv));

		if (!nv)
			return -1;
		k->v = nv;
		k->alloc = na;
	}
	k->v[k->n++] = p;
	return 0;
}

static void kids_remove(struct kids *k, pid_t p)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->v[i] == p) {
			k->v[i] = k->v[--k->n];
			return;
		}
}

static void kill_all(struct kids *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		kill(k->v[i], SIGKILL);
	for (i = 0; i < k->n; i++)
		while (waitpid(k->v[i], NULL, 0) < 0 && errno == EINTR)
			;
	k->n = 0;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const char *const short_names[] = { "pmcc1", "pmas", "pmld", "pmsh", "pmpython" };
	unsigned long nbase = 0, base[2] = { 64, 16384 }, nwork = 0, work[3] = { 4096, 10, 15000 };
	unsigned long rate = 0, life[2] = { 100, 10000 }, size[2] = { 1024, 16384 }, seed = 1;
	struct kids longs = { 0 }, shorts = { 0 };
	struct sigaction sa = { 0 };
	pid_t self = getpid();
	uint64_t rng;
	unsigned long spawned = 0, i, got = 0, want;
	int opt, ready[2], status = 0;
	double t0, next;
	char *end;

	while ((opt = getopt(argc, argv, "b:B:w:W:r:l:s:x:")) != -1) {
		switch (opt) {
		case 'b': nbase = parse_ul(optarg, &end, 30000); if (*end) usage(); break;
		case 'B': parse_list(optarg, base, 2, 1ul << 24); break;
		case 'w': nwork = parse_ul(optarg, &end, 30000); if (*end) usage(); break;
		case 'W': parse_list(optarg, work, 3, 1ul << 24); break;
		case 'r': rate = parse_ul(optarg, &end, 10000); if (*end) usage(); break;
		case 'l': parse_list(optarg, life, 2, 3600000); break;
		case 's': parse_list(optarg, size, 2, 1ul << 24); break;
		case 'x': seed = parse_ul(optarg, &end, ~0ul); if (*end) usage(); break;
		default: usage();
		}
	}
	if (optind != argc || base[0] == 0 || size[0] == 0 || life[0] == 0 || work[2] == 0 ||
	    work[1] >= 100)
		usage();
	rng = seed * 0x9e3779b97f4a7c15ull + 1;

	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pipe(ready) < 0)
		return 1;

	want = nbase + nwork;
	for (i = 0; i < want && !got_stop; i++) {
		unsigned long kib = i < nbase ? log_uniform(&rng, base[0], base[1]) : 0;
		uint64_t wseed = rng_next(&rng) | 1;
		pid_t p = fork();

		if (p < 0) {
			perror("churnload: fork");
			status = 1;
			break;
		}
		if (p == 0) {
			char name[16];

			close(ready[0]);
			if (i < nbase) {
				snprintf(name, sizeof(name), "pmbase%02lu", i % 20);
				child_setup(name, self);
				grab(kib, kib);
				if (write(ready[1], "r", 1) != 1)
					_exit(6);
				close(ready[1]);
				park();
			}
			child_setup("pmworker", self);
			worker(work[0], work[1], work[2], wseed, ready[1]);
		}
		if (kids_add(&longs, p) < 0) {
			status = 1;
			break;
		}
	}
	close(ready[1]);
	/* every child writes one byte when ready; one that fails exits, and once all are ready or
	 * dead the pipe reaches end of file */
	while (status == 0 && got < longs.n && !got_stop) {
		char b[256];
		ssize_t r = read(ready[0], b, sizeof(b));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (unsigned long)r;
	}
	close(ready[0]);
	if (status == 0 && got != want) {
		fprintf(stderr, "churnload: %lu of %lu children ready\n", got, want);
		status = 1;
	}
	if (status == 0 && !got_stop) {
		printf("ready %lu %lu\n", nbase, nwork);
		fflush(stdout);
	}
	t0 = next = mono_s();
	while (status == 0 && !got_stop) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		double now = mono_s();
		int timeout = 1000, st;
		pid_t dead;

		while ((dead = waitpid(-1, &st, WNOHANG)) > 0)
			kids_remove(&shorts, dead);
		if (rate && now >= next) {
			unsigned long ms = log_uniform(&rng, life[0], life[1]);
			unsigned long kib = log_uniform(&rng, size[0], size[1]);
			const char *name = short_names[spawned % (sizeof(short_names) / sizeof(short_names[0]))];
			pid_t p = fork();

			if (p == 0) {
				child_setup(name, self);
				grab(kib, kib);
				sleep_ms(ms);
				_exit(0);
			}
			if (p > 0 && kids_add(&shorts, p) == 0)
				spawned++;
			next += 1.0 / (double)rate;
			if (next < now) /* behind: go on from now, without a burst to catch up */
				next = now;
		}
		if (rate)
			timeout = next > now ? (int)((next - now) * 1000.0) : 0;
		/* every round, however busy: end of file on stdin is the signal to stop */
		if (poll(&pfd, 1, timeout) > 0) {
			char b[256];

			if (read(STDIN_FILENO, b, sizeof(b)) <= 0)
				break;
		}
	}
	kill_all(&shorts);
	kill_all(&longs);
	printf("spawned %lu in %.1f s\n", spawned, mono_s() - t0);
	free(shorts.v);
	free(longs.v);
	return status;
}
