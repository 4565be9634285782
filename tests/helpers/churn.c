/* churn — process churn for the integration tests: starts short-lived processes as fast as it can.
 *
 *   churn MAX_CHILDREN SECONDS COMM [reuse]
 *
 * First maps 200 pages, writes them and makes every other one PROT_NONE: 200 mappings, so that
 * each child's smaps takes several reads. The children are processes of their own (own pid,
 * own /proc/PID, this program as parent) made with clone(CLONE_VM): they share this program's
 * address space instead of copying it. A fork() costs about 2 ms on the VMs this runs on (page
 * tables copied under virtualisation) and gave 150 to 450 children a second; a clone(CLONE_VM)
 * costs about 30 µs. This program changes nothing in that address space once the first child
 * runs (no malloc, no stdio buffer), so every child's address space is the same from the moment
 * it appears in /proc to its exit.
 *
 * Keeps up to 64 children alive at once; each names itself COMM (prctl), lives for 1 to 9 ms and
 * exits. Exits are reaped as they come, each replaced by a new child, until MAX_CHILDREN have
 * been started, SECONDS have passed, or SIGTERM arrives. Then it waits for the children still
 * alive (they exit by themselves within 9 ms), prints "forked N reused R of A" and exits 0: when
 * it is gone, so are all its children, reaped.
 *
 * With "reuse", every other child is given the pid of the child reaped just before it (when one
 * was reaped since the last such child), by
 * writing that pid minus one to /proc/sys/kernel/ns_last_pid (Linux 3.3+, root): pid reuse
 * within microseconds, so a collector that lists a pid and reads it a moment later meets a
 * different process. That file belongs to the caller's pid namespace: use "reuse" only in a
 * namespace of its own (unshare --pid --mount-proc). A children asked for a pid, R got it;
 * without "reuse", or when the file cannot be opened, both are 0.
 *
 * Writes "ready\n" to standard output once the first children run. Bounded in count, time and
 * concurrency, so that it cannot exhaust pids or memory on a shared machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONCURRENT 64
#define PAGES 200
#define STACK (64 * 1024)

static volatile sig_atomic_t stop;
static const char *child_comm;
static char *stacks;
static pid_t slot_pid[CONCURRENT];

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

/* Runs in the child, on its own stack, in the shared address space: system calls only. */
static int child(void *arg)
{
	struct timespec nap = { 0, 1000000 + (long)((unsigned long)arg % 8000u) * 1000 };

	prctl(PR_SET_NAME, child_comm);
	nanosleep(&nap, NULL);
	return 0; /* glibc's clone() ends the child with _exit(0) */
}

/* The layout every child shares, and the children's stacks. */
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
	stacks = mmap(NULL, (size_t)CONCURRENT * STACK, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return stacks == MAP_FAILED ? -1 : 0;
}

static void say(const char *text)
{
	size_t len = strlen(text);

	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		text += n;
		len -= (size_t)n;
	}
}

/* Frees the slot of a reaped child; returns its pid, or -1 when there was none. */
static pid_t reap(int flags)
{
	pid_t pid = waitpid(-1, NULL, flags);
	int i;

	if (pid <= 0)
		return -1;
	for (i = 0; i < CONCURRENT; i++)
		if (slot_pid[i] == pid)
			slot_pid[i] = 0;
	return pid;
}

/* Asks the kernel to give the next process of this pid namespace the pid `want`. */
static void ask_pid(int last_pid_fd, pid_t want)
{
	char text[24];
	int len = snprintf(text, sizeof(text), "%d", (int)want - 1);

	if (pwrite(last_pid_fd, text, (size_t)len, 0) != len)
		(void)0; /* the child then gets the next free pid: no reuse counted */
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	unsigned long max, forked = 0, asked = 0, reused = 0, seed = 1;
	unsigned alive = 0;
	pid_t last_reaped = -1;
	int last_pid_fd = -1;
	double deadline;
	char text[80];

	if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "reuse") != 0)) {
		fprintf(stderr, "usage: churn MAX_CHILDREN SECONDS COMM [reuse]\n");
		return 2;
	}
	max = strtoul(argv[1], NULL, 10);
	deadline = now() + strtod(argv[2], NULL);
	child_comm = argv[3];
	if (argc == 5) {
		last_pid_fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
		if (last_pid_fd < 0)
			fprintf(stderr, "churn: no pid reuse: /proc/sys/kernel/ns_last_pid: %s\n",
				strerror(errno));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (build_layout() < 0) {
		perror("churn: mmap");
		return 1;
	}

	while (!stop && forked < max && now() < deadline) {
		pid_t pid, want = -1;
		int slot;

		while (alive > 0 && (pid = reap(WNOHANG)) > 0) {
			alive--; /* no zombie waits for the whole batch */
			last_reaped = pid;
		}
		for (slot = 0; slot < CONCURRENT && slot_pid[slot] != 0; slot++)
			;
		if (slot == CONCURRENT) {
			pid = reap(0);
			if (pid > 0) {
				alive--;
				last_reaped = pid;
			} else if (errno != EINTR) {
				break;
			}
			continue;
		}
		seed = seed * 1103515245u + 12345u;
		if (last_pid_fd >= 0 && last_reaped > 1 && forked % 2 == 1) {
			want = last_reaped;
			asked++;
			last_reaped = -1; /* once: the next child that asks wants a newer exit */
			ask_pid(last_pid_fd, want);
		}
		pid = clone(child, stacks + (size_t)(slot + 1) * STACK, CLONE_VM | SIGCHLD,
			    (void *)(seed >> 8));
		if (pid < 0) {
			if (errno == EAGAIN && alive > 0) {
				if ((pid = reap(0)) > 0)
					alive--; /* out of pids or over a limit: wait for one to exit */
				continue;
			}
			perror("churn: clone");
			return 1;
		}
		slot_pid[slot] = pid;
		alive++;
		reused += pid == want;
		if (++forked == CONCURRENT)
			say("ready\n");
	}
	while (alive > 0) {
		if (reap(0) > 0)
			alive--;
		else if (errno != EINTR)
			break;
	}
	if (forked < CONCURRENT)
		say("ready\n");
	snprintf(text, sizeof(text), "forked %lu reused %lu of %lu\n", forked, reused, asked);
	say(text);
	return 0;
}
