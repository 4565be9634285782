/* mapping_kinds — holds one mapping of every kind the smaps classifier tells apart, with known
 * sizes and resident page counts, until its stdin reaches EOF.
 *
 * Used to capture tests/fixtures/captured/mapping_kinds.* (see the README there) and usable by
 * integration tests. Each mapping has its own page count, so it can be found in smaps by size:
 *
 *   pages touched  mapping                               smaps path                    quadrant
 *   3     2 (w)    MAP_SHARED file "with space"          DIR/with space                shared/file
 *   4     1r + 1w  MAP_PRIVATE file "new\nline" (+)      DIR/new\012line               private/file
 *   2     1 (w)    MAP_SHARED file, unlinked             DIR/gone (deleted)            shared/file
 *   5     3 (w)    MAP_SHARED|MAP_ANONYMOUS              /dev/zero (deleted)           shared/anon
 *   6     2 (w)    MAP_PRIVATE of /dev/zero              /dev/zero                     private/anon
 *   7     4 (w)    SysV shm, IPC_PRIVATE                 /SYSV00000000 (deleted)       shared/anon
 *   8     5 (w)    MAP_SHARED memfd "pm-memfd"           /memfd:pm-memfd (deleted)     shared/file
 *   9     6 (w)    MAP_PRIVATE|MAP_ANONYMOUS, named      [anon:pm-name] (*)            private/anon
 *  10     7 (w)    MAP_SHARED|MAP_ANONYMOUS, named       [anon_shmem:pm-shm] (*)       shared/anon
 * (*) with CONFIG_ANON_VMA_NAME; without it the names are not set and the first shows as an
 * unnamed anonymous mapping, the second as "/dev/zero (deleted)".
 * (+) the read fault may map the file's other cached pages as well (fault-around), so its
 * resident size is between 2 and 4 pages.
 * Anonymous mappings get a PROT_NONE page on each side so the kernel cannot merge them with
 * their neighbours.
 *
 * Prints "ready DIR\n" when everything is mapped and touched; on EOF on stdin removes DIR and
 * the SysV segment (already marked for removal) and exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <unistd.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

static long page;

static void die(const char *what)
{
	fprintf(stderr, "mapping_kinds: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void touch(char *p, int pages)
{
	for (int i = 0; i < pages; i++)
		p[i * page] = 1;
}

/* An anonymous mapping between two PROT_NONE guard pages. */
static char *guarded(int pages, int flags)
{
	char *g = mmap(NULL, (size_t)(pages + 2) * (size_t)page, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (g == MAP_FAILED)
		die("mmap guard");
	p = mmap(g + page, (size_t)pages * (size_t)page, PROT_READ | PROT_WRITE,
		 flags | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED)
		die("mmap anonymous");
	return p;
}

static int make_file(const char *dir, const char *name, int pages, char *path, size_t size)
{
	int fd;

	snprintf(path, size, "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		die(path);
	if (ftruncate(fd, (off_t)pages * page) < 0)
		die("ftruncate");
	return fd;
}

int main(void)
{
	char tmpl[] = "/tmp/pm-kinds-XXXXXX", space[256], nl[256], gone[256], c;
	char *dir, *p;
	int fd, id;

	page = sysconf(_SC_PAGESIZE);
	dir = mkdtemp(tmpl);
	if (!dir)
		die("mkdtemp");

	fd = make_file(dir, "with space", 3, space, sizeof(space));
	p = mmap(NULL, 3 * (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap with space");
	touch(p, 2);
	close(fd);

	fd = make_file(dir, "new\nline", 4, nl, sizeof(nl));
	p = mmap(NULL, 4 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		die("mmap new\\nline");
	c = *(volatile char *)p; /* a page-cache page */
	(void)c;
	p[page] = 1; /* a private copy */
	close(fd);

	fd = make_file(dir, "gone", 2, gone, sizeof(gone));
	p = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap gone");
	touch(p, 1);
	close(fd);
	if (unlink(gone) < 0)
		die("unlink gone");

	touch(guarded(5, MAP_SHARED), 3);

	fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("/dev/zero");
	p = mmap(NULL, 6 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		die("mmap /dev/zero");
	touch(p, 2);
	close(fd);

	id = shmget(IPC_PRIVATE, 7 * (size_t)page, IPC_CREAT | 0600);
	if (id < 0)
		die("shmget");
	p = shmat(id, NULL, 0);
	if (p == (void *)-1)
		die("shmat");
	shmctl(id, IPC_RMID, NULL); /* goes away with the last detach, even if we are killed */
	touch(p, 4);

	fd = memfd_create("pm-memfd", MFD_CLOEXEC);
	if (fd < 0)
		die("memfd_create");
	if (ftruncate(fd, 8 * page) < 0)
		die("ftruncate memfd");
	p = mmap(NULL, 8 * (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap memfd");
	touch(p, 5);
	close(fd);

	p = guarded(9, MAP_PRIVATE);
	(void)prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, p, 9 * page, "pm-name");
	touch(p, 6);
	p = guarded(10, MAP_SHARED);
	(void)prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, p, 10 * page, "pm-shm");
	touch(p, 7);

	printf("ready %s\n", dir);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	unlink(space);
	unlink(nl);
	rmdir(dir);
	return 0;
}
