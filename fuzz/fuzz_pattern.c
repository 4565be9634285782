/* fuzz_pattern — pattern_compile() on a fuzzed pattern, then pattern_match() of it on fuzzed
 * comms.
 *
 * Input: the pattern, a NUL byte, then the comms, separated by NUL bytes (a comm holds none, as
 * the kernel's do not), each cut at 64 bytes (a kernel comm has 15; longer ones test the bounds).
 * Without a NUL byte, the whole input is the pattern and is matched against itself.
 *
 * Properties: compiling either succeeds or fails with -EINVAL and a message holding the offset
 * (or -ENOMEM); a match is 1, 0 or -E2BIG (a bound reached), the same on a second try, and every
 * -E2BIG is counted by pattern_gave_up(); libFuzzer's -timeout bounds the time of both, and
 * LeakSanitizer that pattern_free() frees everything.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pattern.h"

#define COMM_MAX 64

static void match_all(struct pattern *p, const char *comms, size_t size)
{
	uint64_t gave_up = 0;

	while (size > 0) {
		size_t len = strnlen(comms, size), n = len < COMM_MAX ? len : COMM_MAX;
		int r = pattern_match(p, comms, n);

		if (r != 1 && r != 0 && r != -E2BIG)
			abort();
		if (pattern_match(p, comms, n) != r)
			abort();
		gave_up += r == -E2BIG ? 2 : 0;
		if (pattern_gave_up(p) != gave_up)
			abort();
		comms += len < size ? len + 1 : len;
		size -= len < size ? len + 1 : len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	size_t plen = nul ? (size_t)(nul - (const char *)data) : size;
	char *source = strndup((const char *)data, plen);
	struct buf err = BUF_INIT;
	struct pattern *p = NULL;
	int r;

	if (!source)
		return 0;
	r = pattern_compile(source, &p, &err);
	if (r == 0) {
		if (p == NULL || err.len != 0)
			abort();
		if (nul)
			match_all(p, nul + 1, size - plen - 1);
		else
			match_all(p, source, plen);
		pattern_free(p);
	} else if (r == -EINVAL) {
		if (p != NULL || !strstr(err.buf, " at offset "))
			abort();
	} else if (r != -ENOMEM) {
		abort();
	}
	buf_done(&err);
	free(source);
	return 0;
}
