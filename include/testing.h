/* testing.h — what the library keeps for its tests and fuzzers only.
 *
 * These functions are called by no module: they let tests/ and fuzz/ look inside a module
 * (a cache's counters) or drive it in one call where the daemon streams. They are not part of
 * any module's public face (include/NAME.h); the daemon's code includes this header only in
 * the files that define them, which need their prototypes.
 */
#ifndef PROCMEM_TESTING_H
#define PROCMEM_TESTING_H

#include <stddef.h>
#include <stdint.h>

#include "procfs.h" /* smaps_mapping_fn, struct quadrant_sums */

struct mapfiles;
struct users_cache;

/* procfs.c: the smaps parser over a whole buffer (feed + finish). Fills `ret` with the quadrant
 * sums and `*ret_mappings` (may be NULL) with the number of mappings. */
int smaps_parse(const char *buf, size_t len, smaps_mapping_fn fn, void *userdata,
		struct quadrant_sums ret[QUADRANT_COUNT], uint64_t *ret_mappings);

/* mapfiles.c: the files some set maps, and the bytes of paths kept. */
size_t mapfiles_count(const struct mapfiles *t);
size_t mapfiles_path_bytes(const struct mapfiles *t);

/* users.c: lookups that went to the resolver since creation, and the uids held now. */
uint64_t users_cache_misses(const struct users_cache *c);
size_t users_cache_size(const struct users_cache *c);

#endif
