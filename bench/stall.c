/* stall.c — how long a busy process waits for its own mmap lock while someone reads its smaps.
 *
 *   stall -m MAPPINGS
 *
 * Makes MAPPINGS mappings that the kernel cannot merge (one region, every other page made
 * PROT_NONE), prints "ready PID", then for every line "SECONDS\n" read on standard input runs
 * the loop below for that long and prints one line of JSON: the number of iterations and the
 * 50th, 99th and 99.9th percentiles and the maximum of their duration, in microseconds. At end
 * of file it exits.
 *
 * The loop: mmap one anonymous page, write it, munmap it. mmap and munmap take the mmap lock
 * for writing; a reader of /proc/PID/smaps or smaps_rollup holds it for reading while the
 * kernel walks the mappings (full smaps drops it between read() calls, smaps_rollup when it is
 * contended on kernels that have mmap_lock_is_contended), so the slow iterations are the ones
 * that waited. Durations are counted in a histogram of 100 ns buckets up to 100 ms (the rare
 * longer ones in the last bucket, and in the maximum).
 *
 * The bench driver pins this process to one CPU and the reader to the other (taskset).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define BUCKET_NS 100u
#define NBUCKETS 1000000u /* 100 ms */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double percentile(const uint32_t *h, uint64_t n, double q)
{
	uint64_t want = (uint64_t)((double)n * q), seen = 0;
	uint32_t i;

	for (i = 0; i < NBUCKETS; i++) {
		seen += h[i];
		if (seen > want)
			return (double)(i + 1) * BUCKET_NS / 1000.0; /* the bucket's upper edge */
	}
	return (double)NBUCKETS * BUCKET_NS / 1000.0;
}

int main(int argc, char **argv)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), i;
	unsigned long m = 0;
	uint32_t *hist;
	char *base, line[64];

	if (argc == 3 && strcmp(argv[1], "-m") == 0)
		m = strtoul(argv[2], NULL, 10);
	if (m == 0) {
		fprintf(stderr, "usage: stall -m MAPPINGS\n");
		return 2;
	}
	hist = calloc(NBUCKETS, sizeof(*hist));
	base = mmap(NULL, 2 * m * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!hist || base == MAP_FAILED) {
		perror("stall: setup");
		return 1;
	}
	for (i = 0; i < 2 * m; i++)
		base[i * page] = 1;
	for (i = 1; i < 2 * m; i += 2)
		if (mprotect(base + i * page, page, PROT_NONE) < 0) {
			perror("stall: mprotect");
			return 1;
		}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		uint64_t end = now_ns() + (uint64_t)(atof(line) * 1e9), n = 0, max = 0, t0, d;

		memset(hist, 0, NBUCKETS * sizeof(*hist));
		for (t0 = now_ns(); t0 < end; t0 += d) {
			char *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED) {
				perror("stall: mmap");
				return 1;
			}
			p[0] = 1;
			munmap(p, page);
			d = now_ns() - t0;
			hist[d / BUCKET_NS < NBUCKETS ? d / BUCKET_NS : NBUCKETS - 1]++;
			max = d > max ? d : max;
			n++;
		}
		printf("{\"iterations\": %llu, \"p50_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, "
		       "\"max_us\": %.1f}\n",
		       (unsigned long long)n, percentile(hist, n, 0.5), percentile(hist, n, 0.99),
		       percentile(hist, n, 0.999), (double)max / 1000.0);
		fflush(stdout);
	}
	return 0;
}
