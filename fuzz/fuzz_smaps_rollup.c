/* fuzz_smaps_rollup — smaps_rollup_parse on any bytes.
 *
 * Properties: what is reported present is a whole number of KiB and absent fields are zero;
 * the rollup parser and the smaps parser agree on a rollup-shaped input (a header line and the
 * same lines): the smaps parser's sums over its single mapping are the rollup's Rss, Pss, Swap,
 * Pss_Dirty, and Shared_Dirty + Private_Dirty (saturated) as its dirty.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "testing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char header[] = "00400000-ffffffffff601000 ---p 00000000 00:00 0 [rollup]\n";
	static const struct {
		uint32_t bit;
		size_t off;
	} f[] = {
		{ ROLLUP_RSS, offsetof(struct smaps_rollup, rss) },
		{ ROLLUP_PSS, offsetof(struct smaps_rollup, pss) },
		{ ROLLUP_PSS_ANON, offsetof(struct smaps_rollup, pss_anon) },
		{ ROLLUP_PSS_FILE, offsetof(struct smaps_rollup, pss_file) },
		{ ROLLUP_PSS_SHMEM, offsetof(struct smaps_rollup, pss_shmem) },
		{ ROLLUP_PRIVATE_CLEAN, offsetof(struct smaps_rollup, private_clean) },
		{ ROLLUP_PRIVATE_DIRTY, offsetof(struct smaps_rollup, private_dirty) },
		{ ROLLUP_SWAP, offsetof(struct smaps_rollup, swap) },
		{ ROLLUP_SWAP_PSS, offsetof(struct smaps_rollup, swap_pss) },
		{ ROLLUP_SHARED_DIRTY, offsetof(struct smaps_rollup, shared_dirty) },
		{ ROLLUP_PSS_DIRTY, offsetof(struct smaps_rollup, pss_dirty) },
		{ ROLLUP_ANON_HUGE_PAGES, offsetof(struct smaps_rollup, anon_huge_pages) },
		{ ROLLUP_LOCKED, offsetof(struct smaps_rollup, locked) },
	};
	const char *buf = (const char *)data;
	struct smaps_rollup ru;
	struct quadrant_sums q[QUADRANT_COUNT];
	uint64_t dirty;
	char *doc;
	int r;

	if (smaps_rollup_parse(buf, size, &ru) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		uint64_t v;

		memcpy(&v, (const char *)&ru + f[i].off, sizeof(v));
		if ((ru.have & f[i].bit) ? v % 1024 != 0 : v != 0)
			abort();
	}

	/* the same lines under one mapping header, through the smaps parser: only when no line of
	 * the input looks like a mapping header itself (a lowercase hex digit first) */
	for (size_t i = 0; i < size; i++) {
		char c = buf[i];
		if ((i == 0 || buf[i - 1] == '\n') && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	doc = malloc(sizeof(header) - 1 + size);
	if (!doc)
		return 0;
	memcpy(doc, header, sizeof(header) - 1);
	memcpy(doc + sizeof(header) - 1, buf, size);
	r = smaps_parse(doc, sizeof(header) - 1 + size, NULL, NULL, q, NULL);
	free(doc);
	/* the smaps parser reads Size as well, which the rollup parser ignores; errors there can
	 * only come from lines the rollup parser skips */
	if (r < 0)
		return 0;
	dirty = ru.shared_dirty > UINT64_MAX - ru.private_dirty ? UINT64_MAX
								 : ru.shared_dirty + ru.private_dirty;
	if (q[QUADRANT_PRIVATE_ANON].rss != ru.rss || q[QUADRANT_PRIVATE_ANON].pss != ru.pss ||
	    q[QUADRANT_PRIVATE_ANON].swap != ru.swap || q[QUADRANT_PRIVATE_ANON].dirty != dirty ||
	    q[QUADRANT_PRIVATE_ANON].pss_dirty != ru.pss_dirty)
		abort();
	return 0;
}
