/* memlayout — a process with a known memory layout, for the live integration tests.
 *
 *   memlayout [OPTION]...
 *     --shared-anon MIB          MAP_SHARED|MAP_ANONYMOUS region of MIB MiB, every page written
 *     --private-anon MIB:TOUCHED MAP_PRIVATE|MAP_ANONYMOUS region of MIB MiB, the first TOUCHED
 *                                MiB written
 *     --file-private PATH        PATH mapped MAP_PRIVATE read-only, every page read
 *     --file-shared-read PATH    PATH mapped MAP_SHARED read-only, every page read
 *     --file-shared-write PATH   PATH mapped MAP_SHARED read-write, every page written
 *     --file-shared-sync PATH    the same, then msync(MS_SYNC): its pages are clean again
 *     --file-private-write PATH  PATH mapped MAP_PRIVATE read-write, every page written: each
 *                                written page becomes an anonymous copy (copy-on-write)
 *     --locked MIB               MAP_PRIVATE|MAP_ANONYMOUS region of MIB MiB, mlock()ed (which
 *                                faults it in), every page written
 *     --anon-huge MIB            transparent huge pages allowed again for this process, then a
 *                                MAP_PRIVATE|MAP_ANONYMOUS region of MIB MiB (a multiple of 2)
 *                                aligned to 2 MiB, madvise(MADV_HUGEPAGE), every page written;
 *                                give it a helper of its own (see below)
 *     --comm BYTES               prctl(PR_SET_NAME, BYTES): the kernel keeps the first 15 bytes
 *     --alternate-anon PAGES     MAP_PRIVATE|MAP_ANONYMOUS region of PAGES pages, every page
 *                                written, then every other page made PROT_NONE: PAGES mappings
 *                                that the kernel cannot merge
 *     --file-repeat PATH:COUNT   PATH mapped MAP_PRIVATE read-only COUNT times, each mapping
 *                                read in full (separate mappings of offset 0: never merged)
 *     --many-files DIR:COUNT     DIR/0 .. DIR/COUNT-1 each mapped MAP_PRIVATE read-only, read
 *     --fork COMM                a child named COMM that shares what is mapped so far (private
 *                                pages copy-on-write; the --shared-anon regions read in full,
 *                                since fork copies no page table entries of shared mappings and
 *                                they would stay unmapped in the child until touched) and goes
 *                                on with the options that follow, as the parent does; it dies
 *                                with the parent (PR_SET_PDEATHSIG). Once, at most.
 *     --clone-vm COUNT           once the layout is built, clone(CLONE_VM) COUNT children that
 *                                wait: processes that share the helper's mm (not threads: each
 *                                has its own pid); "clone PID\n" for each before "ready"; they
 *                                die with the helper
 *     --exit-leader              (no argument; last) once the layout is built, start a thread
 *                                named "memlayout-thr" that writes "ready" and waits, and end
 *                                the main thread (the thread-group leader) with the exit system
 *                                call: the process lives on in that thread with all its memory,
 *                                while /proc/PID shows the leader as a zombie
 *     --grow-on-input MIB        after "ready": for every byte read from standard input, map
 *                                MIB MiB more of MAP_PRIVATE|MAP_ANONYMOUS memory, write every
 *                                page, write "grown\n" and stop itself (SIGSTOP): a process whose
 *                                memory moves exactly when the test says, and stands still
 *                                (stopped) between
 *
 * Options may repeat and are carried out in order (--grow-on-input acts after "ready"). When the
 * layout is built the helper writes
 * (after --fork, once the child's is built too, "child PID\n" and then) "ready\n" to standard output and waits in pause() until it is killed; the test then stops it
 * (SIGSTOP) and compares what the exporter says with what the kernel says.
 *
 * For the figures to be exact the helper's memory must depend on nothing but the test: it is
 * linked statically (no libc pages shared with every process on the machine), transparent huge
 * pages are off for it (khugepaged could otherwise fill in untouched pages of a region while the
 * process is stopped; --anon-huge turns them back on, for the whole process, and writes every
 * page of its region so that there is nothing left to fill in), and it unmaps its vDSO (a page shared with every process, whose PSS share
 * changes whenever any process starts or exits). The helper makes no system call through the
 * vDSO afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MIB (1024u * 1024u)

static size_t page_size;

static void die(const char *what, const char *arg)
{
	fprintf(stderr, "memlayout: %s %s: %s\n", what, arg, strerror(errno));
	exit(1);
}

static size_t parse_mib(const char *s, char **end)
{
	unsigned long v;

	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || *end == s) {
		fprintf(stderr, "memlayout: bad size \"%s\"\n", s);
		exit(2);
	}
	return (size_t)v * MIB;
}

static void *map_anon(size_t size, int flags, const char *arg)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap", arg);
	return p;
}

/* Maps the whole file; *ret_size gets its size. */
static void *map_file(const char *path, int open_flags, int prot, int flags, size_t *ret_size)
{
	struct stat st;
	void *p;
	int fd = open(path, open_flags | O_CLOEXEC);

	if (fd < 0)
		die("open", path);
	if (fstat(fd, &st) < 0 || st.st_size == 0)
		die("fstat (or empty file)", path);
	p = mmap(NULL, (size_t)st.st_size, prot, flags, fd, 0);
	if (p == MAP_FAILED)
		die("mmap", path);
	close(fd); /* the mapping keeps the file */
	*ret_size = (size_t)st.st_size;
	return p;
}

/* MIB MiB of anonymous memory starting on a 2 MiB boundary, where a PMD can map a huge page:
 * map 2 MiB more than asked and give back the unaligned head and tail. */
static char *map_anon_aligned(size_t size, const char *arg)
{
	const size_t huge = 2 * MIB;
	char *p = map_anon(size + huge, MAP_PRIVATE, arg);
	size_t head = (huge - (uintptr_t)p % huge) % huge;

	if ((head && munmap(p, head) < 0) || munmap(p + head + size, huge - head) < 0)
		die("munmap", arg);
	return p + head;
}

static void write_pages(char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += page_size)
		p[i] = 1;
}

static void read_pages(const char *p, size_t len)
{
	const volatile char *v = p;
	size_t i;

	for (i = 0; i < len; i += page_size)
		(void)v[i];
}

/* The vDSO: the "[vdso]" line of /proc/self/maps. */
static void unmap_vdso(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		die("fopen", "/proc/self/maps");
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (!strstr(line, "[vdso]"))
			continue;
		if (sscanf(line, "%lx-%lx", &start, &end) != 2 ||
		    munmap((void *)(uintptr_t)start, end - start) < 0)
			die("munmap", "[vdso]");
	}
	fclose(f);
}

static size_t parse_count(const char *s, char **end)
{
	unsigned long v;

	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || *end == s) {
		fprintf(stderr, "memlayout: bad count \"%s\"\n", s);
		exit(2);
	}
	return (size_t)v;
}

/* PATH:COUNT -> the path (NUL-terminated in place) and the count. */
static char *split_count(char *arg, size_t *ret_count)
{
	char *colon = strrchr(arg, ':'), *end;

	if (!colon) {
		fprintf(stderr, "memlayout: want PATH:COUNT, not %s\n", arg);
		exit(2);
	}
	*colon = '\0';
	*ret_count = parse_count(colon + 1, &end);
	return arg;
}

static void ready(void)
{
	if (printf("ready\n") < 0 || fflush(stdout) != 0)
		die("write", "stdout");
}

/* A child's life: it dies with the helper, so a test that kills the helper leaves no child */
static int wait_forever(void *arg)
{
	pid_t parent = *(const pid_t *)arg;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
		_exit(1);
	for (;;)
		pause();
	return 0;
}

/* COUNT children that share this mm: each gets a stack of its own in it */
static void clone_vm(size_t count)
{
	static pid_t self;
	size_t i, stack = 64 * 1024;

	self = getpid();
	for (i = 0; i < count; i++) {
		char *p = map_anon(stack, MAP_PRIVATE, "--clone-vm");
		pid_t pid = clone(wait_forever, p + stack, CLONE_VM | SIGCHLD, &self);

		if (pid < 0)
			die("clone", "CLONE_VM");
		printf("clone %d\n", (int)pid);
	}
}

static void *survivor(void *arg)
{
	(void)arg;
	if (prctl(PR_SET_NAME, "memlayout-thr", 0, 0, 0) < 0)
		die("prctl", "PR_SET_NAME");
	ready();
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	bool exit_leader = false;
	int i, child_ready = -1, ready_fd = -1; /* --fork: the pipe's ends in parent and child */
	pid_t child = 0;
	struct {
		char *p;
		size_t len;
	} shared[16]; /* the --shared-anon regions, for a --fork child to touch */
	size_t nshared = 0;
	size_t vm_clones = 0;
	size_t grow = 0;

	page_size = (size_t)sysconf(_SC_PAGESIZE);
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
		die("prctl", "PR_SET_THP_DISABLE");
	for (i = 1; i < argc; i++) {
		char *opt = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;
		size_t size, touched, count, j;
		char *end;

		if (strcmp(opt, "--exit-leader") == 0) {
			exit_leader = true;
			continue;
		}
		if (!arg) {
			fprintf(stderr, "memlayout: %s needs an argument\n", opt);
			return 2;
		}
		i++;
		if (strcmp(opt, "--shared-anon") == 0) {
			char *p;

			size = parse_mib(arg, &end);
			p = map_anon(size, MAP_SHARED, arg);
			write_pages(p, size);
			if (nshared < sizeof(shared) / sizeof(shared[0]))
				shared[nshared].p = p, shared[nshared++].len = size;
		} else if (strcmp(opt, "--private-anon") == 0) {
			size = parse_mib(arg, &end);
			if (*end != ':') {
				fprintf(stderr, "memlayout: --private-anon wants MIB:TOUCHED\n");
				return 2;
			}
			touched = parse_mib(end + 1, &end);
			if (touched > size) {
				fprintf(stderr, "memlayout: touched more than mapped\n");
				return 2;
			}
			write_pages(map_anon(size, MAP_PRIVATE, arg), touched);
		} else if (strcmp(opt, "--file-private") == 0) {
			const char *p = map_file(arg, O_RDONLY, PROT_READ, MAP_PRIVATE, &size);
			read_pages(p, size);
		} else if (strcmp(opt, "--file-shared-read") == 0) {
			const char *p = map_file(arg, O_RDONLY, PROT_READ, MAP_SHARED, &size);
			read_pages(p, size);
		} else if (strcmp(opt, "--file-shared-write") == 0) {
			char *p = map_file(arg, O_RDWR, PROT_READ | PROT_WRITE, MAP_SHARED, &size);
			write_pages(p, size);
		} else if (strcmp(opt, "--file-shared-sync") == 0) {
			char *p = map_file(arg, O_RDWR, PROT_READ | PROT_WRITE, MAP_SHARED, &size);
			write_pages(p, size);
			if (msync(p, size, MS_SYNC) < 0)
				die("msync", arg);
		} else if (strcmp(opt, "--file-private-write") == 0) {
			char *p = map_file(arg, O_RDONLY, PROT_READ | PROT_WRITE, MAP_PRIVATE, &size);
			write_pages(p, size);
		} else if (strcmp(opt, "--locked") == 0) {
			char *p;

			size = parse_mib(arg, &end);
			p = map_anon(size, MAP_PRIVATE, arg);
			if (mlock(p, size) < 0)
				die("mlock", arg);
			write_pages(p, size);
		} else if (strcmp(opt, "--anon-huge") == 0) {
			char *p;

			size = parse_mib(arg, &end);
			if (size % (2 * MIB)) {
				fprintf(stderr, "memlayout: --anon-huge wants a multiple of 2 MiB\n");
				return 2;
			}
			if (prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0) < 0)
				die("prctl", "PR_SET_THP_DISABLE");
			p = map_anon_aligned(size, arg);
			if (madvise(p, size, MADV_HUGEPAGE) < 0)
				die("madvise", arg);
			write_pages(p, size);
		} else if (strcmp(opt, "--alternate-anon") == 0) {
			char *p;

			size = parse_count(arg, &end) * page_size;
			p = map_anon(size, MAP_PRIVATE, arg);
			write_pages(p, size);
			for (j = 1; j * page_size < size; j += 2)
				if (mprotect(p + j * page_size, page_size, PROT_NONE) < 0)
					die("mprotect", arg);
		} else if (strcmp(opt, "--file-repeat") == 0) {
			const char *path = split_count(arg, &count);

			for (j = 0; j < count; j++) {
				const char *p = map_file(path, O_RDONLY, PROT_READ, MAP_PRIVATE, &size);
				read_pages(p, size);
			}
		} else if (strcmp(opt, "--many-files") == 0) {
			const char *dir = split_count(arg, &count), *p;
			char path[4096];

			for (j = 0; j < count; j++) {
				snprintf(path, sizeof(path), "%s/%zu", dir, j);
				p = map_file(path, O_RDONLY, PROT_READ, MAP_PRIVATE, &size);
				read_pages(p, size);
			}
		} else if (strcmp(opt, "--fork") == 0) {
			pid_t parent = getpid();
			int fds[2];

			if (child || ready_fd >= 0) {
				fprintf(stderr, "memlayout: --fork at most once\n");
				return 2;
			}
			if (pipe(fds) < 0)
				die("pipe", arg);
			fflush(stdout);
			child = fork();
			if (child < 0)
				die("fork", arg);
			if (child == 0) {
				if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
					die("prctl", "PR_SET_PDEATHSIG");
				if (prctl(PR_SET_NAME, arg, 0, 0, 0) < 0)
					die("prctl", "PR_SET_NAME");
				for (j = 0; j < nshared; j++)
					read_pages(shared[j].p, shared[j].len);
				close(fds[0]);
				ready_fd = fds[1];
			} else {
				close(fds[1]);
				child_ready = fds[0];
			}
		} else if (strcmp(opt, "--clone-vm") == 0) {
			vm_clones = parse_count(arg, &end);
		} else if (strcmp(opt, "--grow-on-input") == 0) {
			grow = parse_mib(arg, &end);
		} else if (strcmp(opt, "--comm") == 0) {
			if (prctl(PR_SET_NAME, arg, 0, 0, 0) < 0)
				die("prctl", "PR_SET_NAME");
		} else {
			fprintf(stderr, "memlayout: unknown option %s\n", opt);
			return 2;
		}
	}
	unmap_vdso();
	if (ready_fd >= 0) { /* the child: tells the parent, says nothing on stdout */
		if (write(ready_fd, "r", 1) != 1)
			die("write", "pipe");
		close(ready_fd);
		for (;;)
			pause();
	}
	if (child > 0) {
		char c;

		if (read(child_ready, &c, 1) != 1)
			die("read", "the child's pipe");
		close(child_ready);
		if (printf("child %d\n", (int)child) < 0)
			die("write", "stdout");
	}
	clone_vm(vm_clones);
	if (exit_leader) {
		pthread_t t;

		errno = pthread_create(&t, NULL, survivor, NULL);
		if (errno)
			die("pthread_create", "");
		syscall(SYS_exit, 0); /* this thread only, unlike exit() */
	}
	ready();
	while (grow) {
		char c;
		ssize_t n = read(0, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		write_pages(map_anon(grow, MAP_PRIVATE, "--grow-on-input"), grow);
		if (printf("grown\n") < 0 || fflush(stdout) != 0)
			die("write", "stdout");
		raise(SIGSTOP);
	}
	for (;;)
		pause();
}
