/* users.c — cached uid to name resolution; see users.h. */
#include "users.h"
#include "testing.h" /* users_cache_misses, users_cache_size */

#include <errno.h>
#include <stdbool.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* uthash must not exit() when memory runs out: a failed add leaves the item out of the table
 * and sets the calling function's local `oom`. */
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (oom = true)
#include <uthash.h>

struct user_entry {
	UT_hash_handle hh;
	uint32_t uid;
	bool used; /* asked for since the last sweep */
	size_t len;
	char name[];
};

struct users_cache {
	struct user_entry *table;
	users_resolve_fn fn;
	void *userdata;
	uint64_t misses;
};

int users_resolve_nss(uint32_t uid, char *ret_name, size_t size, void *userdata)
{
	struct passwd pw, *res = NULL;
	char stack[1024], *heap = NULL, *b = stack;
	size_t blen = sizeof(stack);
	int r;

	(void)userdata;
	for (;;) {
		r = getpwuid_r((uid_t)uid, &pw, b, blen, &res);
		if (r != ERANGE || blen >= 1024 * 1024)
			break;
		blen *= 2;
		free(heap);
		b = heap = malloc(blen);
		if (!b)
			return -ENOMEM;
	}
	if (r == 0 && res && res->pw_name && res->pw_name[0]) {
		size_t n = strlen(res->pw_name);
		if (n >= size)
			r = -ENAMETOOLONG;
		else
			memcpy(ret_name, res->pw_name, n + 1);
	} else {
		r = r ? -r : -ENOENT;
	}
	free(heap);
	return r;
}

struct users_cache *users_cache_new(users_resolve_fn fn, void *userdata)
{
	struct users_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fn = fn ? fn : users_resolve_nss;
	c->userdata = userdata;
	return c;
}

void users_cache_clear(struct users_cache *c)
{
	struct user_entry *e, *tmp;

	HASH_ITER(hh, c->table, e, tmp) {
		HASH_DEL(c->table, e);
		free(e);
	}
}

void users_cache_sweep(struct users_cache *c)
{
	struct user_entry *e, *tmp;

	HASH_ITER(hh, c->table, e, tmp) {
		if (e->used) {
			e->used = false;
			continue;
		}
		HASH_DEL(c->table, e);
		free(e);
	}
}

void users_cache_free(struct users_cache *c)
{
	if (!c)
		return;
	users_cache_clear(c);
	free(c);
}

uint64_t users_cache_misses(const struct users_cache *c)
{
	return c->misses;
}

size_t users_cache_size(const struct users_cache *c)
{
	return HASH_COUNT(c->table);
}

const char *users_cache_name(struct users_cache *c, uint32_t uid, size_t *ret_len)
{
	struct user_entry *e;
	char name[256];
	bool oom = false;
	size_t n;

	HASH_FIND(hh, c->table, &uid, sizeof(uid), e);
	if (!e) {
		c->misses++;
		if (c->fn(uid, name, sizeof(name), c->userdata) < 0)
			snprintf(name, sizeof(name), "%u", uid);
		n = strlen(name);
		e = malloc(sizeof(*e) + n + 1);
		if (!e)
			return NULL;
		e->uid = uid;
		e->len = n;
		memcpy(e->name, name, n + 1);
		HASH_ADD(hh, c->table, uid, sizeof(e->uid), e);
		if (oom) {
			free(e);
			return NULL;
		}
	}
	e->used = true;
	if (ret_len)
		*ret_len = e->len;
	return e->name;
}
