/* arena.c — chunked bump allocator; see arena.h. */
#include "arena.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
	struct arena_chunk *next;
	size_t size; /* usable bytes in data[] */
	size_t used;
	_Alignas(max_align_t) unsigned char data[];
};

void arena_init(struct arena *a, size_t chunk_size)
{
	assert(a);
	*a = (struct arena){ .chunk_size = chunk_size ? chunk_size : 64 * 1024 };
}

static struct arena_chunk *chunk_new(size_t size)
{
	struct arena_chunk *c;

	if (size > SIZE_MAX - sizeof(*c))
		return NULL;
	c = malloc(sizeof(*c) + size);
	if (!c)
		return NULL;
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c;
	size_t off;

	assert(a);
	if (a->failed)
		return NULL;
	if (size == 0)
		size = 1;
	c = a->head;
	if (c) {
		off = (c->used + 7) & ~(size_t)7;
		if (off <= c->size && size <= c->size - off) {
			c->used = off + size;
			return c->data + off;
		}
	}
	c = chunk_new(size > a->chunk_size ? size : a->chunk_size);
	if (!c) {
		a->failed = true;
		return NULL;
	}
	a->allocated += c->size;
	c->used = size;
	if (a->head && size > a->chunk_size) {
		/* an oversized chunk goes behind the current one, which still has room */
		c->next = a->head->next;
		a->head->next = c;
	} else {
		c->next = a->head;
		a->head = c;
	}
	return c->data;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p;

	/* len + 1 would wrap: as any allocation that cannot be had, it fails the arena */
	if (len == SIZE_MAX) {
		a->failed = true;
		return NULL;
	}
	p = arena_alloc(a, len + 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c, *keep = NULL, *next;

	assert(a);
	/* keep one chunk of the normal size, free the rest */
	for (c = a->head; c; c = next) {
		next = c->next;
		if (!keep && c->size == a->chunk_size) {
			keep = c;
			continue;
		}
		free(c);
	}
	a->head = keep;
	a->allocated = 0;
	if (keep) {
		keep->next = NULL;
		keep->used = 0;
		a->allocated = keep->size;
	}
	a->failed = false;
}

void arena_done(struct arena *a)
{
	struct arena_chunk *c, *next;

	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	arena_init(a, a->chunk_size);
}
