/* fuzz_btime — proc_btime_parse on any bytes (/proc/stat).
 *
 * Property: on success there is a line "btime N" in the input whose number is the result.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	uint64_t t;
	char want[32];
	int n;

	if (proc_btime_parse(buf, size, &t) < 0)
		return 0;
	n = snprintf(want, sizeof(want), "%llu\n", (unsigned long long)t);
	for (size_t i = 0; i + 6 <= size; i++) {
		const char *p = buf + i, *end = buf + size;

		if ((i != 0 && p[-1] != '\n') || memcmp(p, "btime ", 6) != 0)
			continue;
		p += 6;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (p < end && *p == '0' && end - p > 1 && p[1] >= '0' && p[1] <= '9')
			p++; /* leading zeros */
		if ((size_t)(end - p) >= (size_t)n && memcmp(p, want, (size_t)n) == 0)
			return 0;
		abort(); /* the first btime line must be the one that was parsed */
	}
	abort();
}
