/* arena.h — a chunked bump allocator for memory that lives exactly as long as one cycle.
 *
 * Allocations are 8-byte aligned and stay where they are (chunks are never moved), so pointers
 * into the arena remain valid until arena_reset() or arena_done(). There is no per-allocation
 * free. arena_reset() keeps the first chunk for reuse so a steady-state cycle does not call
 * malloc; larger requests than a chunk get a chunk of their own.
 * Failure is sticky, like struct buf: arena_alloc() returns NULL and arena_failed() says so.
 */
#ifndef PROCMEM_ARENA_H
#define PROCMEM_ARENA_H

#include <stdbool.h>
#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head; /* the chunk being filled; older ones follow `next` */
	size_t chunk_size;
	size_t allocated; /* bytes in chunks, for the memory figures */
	bool failed;
};

/* chunk_size 0 picks a default (64 KiB). */
void arena_init(struct arena *a, size_t chunk_size);
void *arena_alloc(struct arena *a, size_t size);
/* A NUL-terminated copy of s[0..len); NULL, with the arena failed, when it cannot be had
 * (len SIZE_MAX included). */
char *arena_strndup(struct arena *a, const char *s, size_t len);
void arena_reset(struct arena *a);
void arena_done(struct arena *a); /* accepts NULL */
static inline bool arena_failed(const struct arena *a) { return a->failed; }

#endif
