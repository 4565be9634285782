/* churn — process churn for the integration tests: forks short-lived children as fast as it can.
 *
 *   churn MAX_CHILDREN SECONDS COMM
 *
 * First maps 200 pages, writes them and makes every other one PROT_NONE: 200 mappings that
 * every child inherits, so that each child's smaps takes several reads and its address space
 * is the same from the moment it appears in /proc to its exit. Keeps up to 32 children alive at
 * once; each names itself COMM (prctl), lives for 5 to 25 ms and exits. Exits are reaped
 * between forks, each replaced by a new child, until MAX_CHILDREN have been forked, SECONDS
 * have passed, or SIGTERM arrives. Then it waits for the children still alive (they exit by
 * themselves within 25 ms), prints "forked N" and exits 0: when it is gone, so are all its
 * children, reaped.
 *
 * Writes "ready\n" to standard output once the first children run. Bounded in count, time and
 * concurrency, so that it cannot exhaust pids or memory on a shared machine.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONCURRENT 32
#define PAGES 200

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void child(const char *comm, unsigned seed)
{
	struct timespec nap = { 0, 5000000 + (long)(seed % 20000u) * 1000 };

	prctl(PR_SET_NAME, comm);
	nanosleep(&nap, NULL);
	_exit(0);
}

/* The layout every child inherits. */
static int build_layout(void)
{
	size_t i;
	char *p = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	for (i = 0; i < PAGES * 4096; i += 4096)
		p[i] = 1;
	for (i = 4096; i < PAGES * 4096; i += 2 * 4096)
		if (mprotect(p + i, 4096, PROT_NONE) < 0)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	unsigned long max, forked = 0;
	unsigned alive = 0, seed = 1;
	double deadline;

	if (argc != 4) {
		fprintf(stderr, "usage: churn MAX_CHILDREN SECONDS COMM\n");
		return 2;
	}
	max = strtoul(argv[1], NULL, 10);
	deadline = now() + strtod(argv[2], NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (build_layout() < 0) {
		perror("churn: mmap");
		return 1;
	}

	while (!stop && forked < max && now() < deadline) {
		pid_t pid;

		while (alive < CONCURRENT && forked < max && !stop && now() < deadline) {
			seed = seed * 1103515245u + 12345u;
			pid = fork();
			if (pid < 0) {
				if (errno == EAGAIN)
					break; /* out of pids or over a limit: wait for one to exit */
				perror("churn: fork");
				return 1;
			}
			if (pid == 0)
				child(argv[3], seed >> 8);
			alive++;
			if (++forked == CONCURRENT) {
				printf("ready\n");
				fflush(stdout);
			}
			while (alive > 0 && waitpid(-1, NULL, WNOHANG) > 0)
				alive--; /* no zombie waits for the whole batch */
		}
		if (alive == 0)
			break;
		pid = wait(NULL);
		if (pid > 0)
			alive--;
		else if (errno != EINTR)
			break;
	}
	while (alive > 0) {
		if (wait(NULL) > 0)
			alive--;
		else if (errno != EINTR)
			break;
	}
	if (forked < CONCURRENT)
		printf("ready\n");
	printf("forked %lu\n", forked);
	return 0;
}
