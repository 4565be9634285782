/* memgrow NAME STEP_KIB PERIOD_MS MAX_MIB — a process whose memory grows steadily: a leak
 * suspect for the dashboard tests.
 *
 * Sets its comm to NAME, then every PERIOD_MS maps STEP_KIB of private anonymous memory and
 * writes every page of it, so that its RSS, PSS and USS grow by STEP_KIB a period, until MAX_MIB;
 * then it sleeps until killed. Prints "ready" on stdout once the first step is resident. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static unsigned long arg(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0) {
		fprintf(stderr, "memgrow: bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

static void grow(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("memgrow: mmap");
		exit(1);
	}
	/* written, not just touched: a read would map the shared zero page, which is not ours */
	memset(p, 0x5a, bytes);
}

int main(int argc, char **argv)
{
	unsigned long step_kib, period_ms, max_mib, grown_kib = 0;
	struct timespec period;

	if (argc != 5) {
		fprintf(stderr, "usage: memgrow NAME STEP_KIB PERIOD_MS MAX_MIB\n");
		return 2;
	}
	step_kib = arg(argv[2], "STEP_KIB");
	period_ms = arg(argv[3], "PERIOD_MS");
	max_mib = arg(argv[4], "MAX_MIB");
	if (prctl(PR_SET_NAME, argv[1], 0, 0, 0) < 0) {
		perror("memgrow: prctl");
		return 1;
	}
	period.tv_sec = (time_t)(period_ms / 1000);
	period.tv_nsec = (long)(period_ms % 1000) * 1000000L;

	grow(step_kib * 1024);
	grown_kib += step_kib;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		nanosleep(&period, NULL);
		if (grown_kib + step_kib <= max_mib * 1024) {
			grow(step_kib * 1024);
			grown_kib += step_kib;
		}
	}
}
