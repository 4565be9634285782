/* deepfiles DIR COUNT PATHLEN [touch] — a process that maps COUNT distinct files whose paths are
 * about PATHLEN bytes long: what a hostile user does to inflate a smaps reader's memory.
 *
 * Under DIR it makes a chain of directories of 200-byte names until the path is within 40
 * bytes of PATHLEN, then COUNT empty files of one page (ftruncate: no data, no disk blocks) in
 * the last one, and maps each MAP_PRIVATE read-only: COUNT mappings the kernel cannot merge
 * (different files), each with its own device and inode and a path of about PATHLEN bytes in
 * smaps. With "touch" it reads every page, so every file has a resident page (and a PSS share)
 * of its own, and the last file is 256 pages long: the one file of the process with most PSS,
 * whose path a reader that keeps only some paths must find again; without it the process stays
 * small (the kernel maps nothing until a page is touched).
 *
 * Everything is made relative to directory descriptors (openat, mkdirat), so paths longer than
 * the system calls' limits are not a problem. Prints "ready" when done and waits until killed;
 * the caller removes DIR.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "deepfiles: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	unsigned long count, pathlen, i;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len;
	char comp[201], name[64];
	int dir, touch;
	volatile char sink = 0;

	if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "touch") != 0)) {
		fprintf(stderr, "usage: deepfiles DIR COUNT PATHLEN [touch]\n");
		return 2;
	}
	count = strtoul(argv[2], NULL, 10);
	pathlen = strtoul(argv[3], NULL, 10);
	touch = argc == 5;
	dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		die(argv[1]);
	memset(comp, 'd', sizeof(comp) - 1);
	comp[sizeof(comp) - 1] = '\0';
	for (len = strlen(argv[1]); len + 1 + strlen(comp) + 40 <= pathlen; len += 1 + strlen(comp)) {
		int next;

		if (mkdirat(dir, comp, 0700) < 0 && errno != EEXIST)
			die("mkdirat");
		next = openat(dir, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (next < 0)
			die("openat dir");
		close(dir);
		dir = next;
	}
	for (i = 0; i < count; i++) {
		size_t pages = touch && i == count - 1 ? 256 : 1, j;
		char *p;
		int fd;

		/* a long name too, so the path comes within a few bytes of pathlen */
		snprintf(name, sizeof(name), "file-%08lu-%.16s", i, comp);
		fd = openat(dir, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			die("openat file");
		if (ftruncate(fd, (off_t)(pages * page)) < 0)
			die("ftruncate");
		p = mmap(NULL, pages * page, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			die("mmap");
		close(fd);
		for (j = 0; touch && j < pages; j++)
			sink = (char)(sink + p[j * page]);
	}
	close(dir);
	if (printf("ready\n") < 0 || fflush(stdout) != 0)
		die("stdout");
	for (;;)
		pause();
}
