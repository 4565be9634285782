/* ptrace_target [nodump] — a process for the exporter to read: writes 1 MiB of private
 * anonymous memory (so its USS is at least that), optionally makes itself non-dumpable (then
 * /proc/PID is owned by root and only CAP_SYS_PTRACE over it lets another user read its smaps),
 * says "ready" on stdout and sleeps until killed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t size = 1 << 20;
	char *p = malloc(size);

	if (!p)
		return 1;
	memset(p, 0x5a, size);
	if (argc > 1 && strcmp(argv[1], "nodump") == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		perror("prctl");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
