/* loadgen.c — the benchmark's load: N processes, each with M mappings of every quadrant.
 *
 *   loadgen -n N -m M [-p PAGES] [-d DIR] [-c PERCENT -t MS]
 *
 * Forks N children. Each child makes M mappings, the four quadrants in turn (private anonymous,
 * shared anonymous, private file, shared file), each PAGES pages long (default 1), touches every
 * page of them (writes the anonymous ones, reads the file ones, so nothing is dirtied on disk),
 * tells the parent it is ready and sleeps. With -c, PERCENT of the children (every child whose
 * index is below PERCENT% of N) change their memory every MS milliseconds instead of sleeping:
 * each period they map one more private anonymous region of 17 pages and write it, and every
 * 32nd period they unmap all of them, so VmSize and VmRSS step by 68 KiB (over the collector's
 * 64 KiB tolerance) and never come back to a figure they had a few periods before. The first
 * step comes at a random point of the first period, so the children do not move in lockstep. The file mappings of all children map the same file,
 * at the same offsets, so their pages are shared between processes and PSS divides them.
 * Mappings are placed with a one-mapping gap between neighbours so the kernel cannot merge them:
 * /proc/PID/smaps shows exactly M more mappings than the bare process has.
 *
 * When all children are ready the parent prints "ready N M" and one line of child pids, then
 * waits until its standard input reaches end of file or it gets SIGTERM/SIGINT/SIGHUP; then it
 * kills every child by pid (SIGKILL), reaps them, removes its file and exits. Children also die
 * with the parent (PR_SET_PDEATHSIG), so a loadgen killed with SIGKILL leaves nothing behind.
 * If any child fails to set up, the parent cleans up the same way and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
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
	fprintf(stderr, "usage: loadgen -n PROCESSES -m MAPPINGS [-p PAGES] [-d DIR] [-c PERCENT -t MS]\n");
	exit(2);
}

static unsigned long parse_ul(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		usage();
	return v;
}

/* The child's work: never returns. Reports setup failure by exiting non-zero before writing
 * its ready byte. */
/* The -c children's work after setup: never returns. */
static void change_forever(unsigned idx, unsigned long period_ms)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t step = 17 * (size_t)page, j;
	char *regions[32];
	unsigned k = 0;
	struct timespec ts;

	/* spread the children over the period (idx is as good a seed as any) */
	{
		unsigned long long ns = (unsigned long long)((idx * 7919u) % 1000u) * period_ms * 1000u;

		ts.tv_sec = (time_t)(ns / 1000000000u);
		ts.tv_nsec = (long)(ns % 1000000000u);
		nanosleep(&ts, NULL);
	}
	for (;;) {
		if (k == 32) {
			for (k = 0; k < 32; k++)
				munmap(regions[k], step);
			k = 0;
		}
		regions[k] = mmap(NULL, step, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (regions[k] == MAP_FAILED)
			_exit(7);
		for (j = 0; j < step; j += (size_t)page)
			regions[k][j] = 1;
		k++;
		ts.tv_sec = (time_t)(period_ms / 1000);
		ts.tv_nsec = (long)(period_ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
}

static void child(unsigned idx, int file_fd, unsigned m, size_t len, int ready_fd, pid_t parent,
		  unsigned long period_ms)
{
	long page = sysconf(_SC_PAGESIZE);
	char name[16];
	char *base;
	unsigned i;
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(3);
	/* the driver waits for our parent's output and watches its stdin: hold neither */
	{
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
			_exit(3);
		close(null);
	}
	snprintf(name, sizeof(name), "pmload%02u", idx % 20);
	prctl(PR_SET_NAME, name);

	/* find room for 2*m slots, then give it back and place each mapping in every other slot */
	base = mmap(NULL, 2 * (size_t)m * len + len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		_exit(4);
	munmap(base, 2 * (size_t)m * len + len);
	for (i = 0; i < m; i++) {
		unsigned q = i % 4, k = i / 4;
		char *want = base + 2 * (size_t)i * len, *p;
		int flags = MAP_FIXED_NOREPLACE | (q == 1 || q == 3 ? MAP_SHARED : MAP_PRIVATE);
		size_t j;

		if (q < 2)
			p = mmap(want, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
		else /* private file mappings map the first half of the file, shared ones the second */
			p = mmap(want, len, PROT_READ, flags, file_fd,
				 (off_t)((q == 2 ? 0 : (size_t)(m + 3) / 4) + k) * (off_t)len);
		if (p == MAP_FAILED)
			_exit(5);
		for (j = 0; j < len; j += (size_t)page) {
			if (q < 2)
				p[j] = (char)(i + 1);
			else
				(void)*(volatile char *)(p + j);
		}
	}
	close(file_fd);
	if (write(ready_fd, "r", 1) != 1)
		_exit(6);
	close(ready_fd);
	if (period_ms)
		change_forever(idx, period_ms);
	sigemptyset(&none);
	for (;;)
		sigsuspend(&none); /* until SIGKILL */
}

static void kill_all(pid_t *pids, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
				;
}

int main(int argc, char **argv)
{
	unsigned long n = 0, m = 0, pages = 1, percent = 0, period_ms = 0;
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char path[4096];
	long page = sysconf(_SC_PAGESIZE);
	size_t len, file_len, off;
	pid_t *pids, self = getpid();
	int opt, fd, ready[2], status = 0;
	unsigned i, got = 0;
	struct sigaction sa = { 0 };
	char *chunk;

	while ((opt = getopt(argc, argv, "n:m:p:d:c:t:")) != -1) {
		switch (opt) {
		case 'n': n = parse_ul(optarg, 30000); break;
		case 'm': m = parse_ul(optarg, 60000); break;
		case 'p': pages = parse_ul(optarg, 1024); break;
		case 'd': dir = optarg; break;
		case 'c': percent = parse_ul(optarg, 100); break;
		case 't': period_ms = parse_ul(optarg, 3600000); break;
		default: usage();
		}
	}
	if (optind != argc || n == 0 || pages == 0 || (percent && !period_ms))
		usage();
	len = (size_t)pages * (size_t)page;

	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* the file the file-backed mappings share: written, so its pages are real page cache */
	snprintf(path, sizeof(path), "%s/pmload-%d.dat", dir, (int)self);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	file_len = 2 * ((m + 3) / 4) * len + len;
	chunk = malloc(len);
	if (!chunk) {
		unlink(path);
		return 1;
	}
	memset(chunk, 'x', len);
	for (off = 0; off < file_len; off += len)
		if (write(fd, chunk, len) != (ssize_t)len) {
			perror("write");
			unlink(path);
			return 1;
		}
	free(chunk);

	pids = calloc(n, sizeof(*pids));
	if (!pids || pipe2(ready, O_CLOEXEC) < 0) {
		unlink(path);
		return 1;
	}
	for (i = 0; i < n && !got_stop; i++) {
		pid_t p = fork();

		if (p < 0) {
			perror("fork");
			status = 1;
			break;
		}
		if (p == 0) {
			close(ready[0]);
			child(i, fd, (unsigned)m, len, ready[1], self,
			      (unsigned long)i * 100 < n * percent ? period_ms : 0);
		}
		pids[i] = p;
	}
	close(ready[1]);
	/* every child writes one byte when ready; one that fails exits, and when all are either
	 * ready or dead the pipe reaches EOF */
	while (status == 0 && got < i && !got_stop) {
		char b[256];
		ssize_t r = read(ready[0], b, sizeof(b));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (unsigned)r;
	}
	close(ready[0]);
	if (status == 0 && got != n) {
		fprintf(stderr, "loadgen: %u of %lu children ready\n", got, n);
		status = 1;
	}
	if (status == 0 && !got_stop) {
		printf("ready %lu %lu\n", n, m);
		for (i = 0; i < n; i++)
			printf("%s%d", i ? " " : "", (int)pids[i]);
		printf("\n");
		fflush(stdout);
		/* wait for EOF on stdin or a signal */
		while (!got_stop) {
			struct pollfd pfd = { .fd = 0, .events = POLLIN };
			char b[256];

			if (poll(&pfd, 1, -1) < 0)
				continue;
			if (read(0, b, sizeof(b)) <= 0)
				break;
		}
	}
	kill_all(pids, n);
	close(fd);
	unlink(path);
	free(pids);
	return status;
}
