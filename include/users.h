/* users.h — uid to user name, through NSS (getpwuid_r), cached.
 *
 * Name lookups can be slow (LDAP, sssd) and a cycle asks for the same few uids thousands of
 * times, so every answer is cached, unknown uids too (as their decimal number). The cache is
 * cleared on reload, when the administrator may have changed the user database, and swept after
 * every cycle of the uids that cycle did not ask for: a user with subordinate uids (65,536 each
 * by default on Debian) can run processes under ever new ones, and a cache that kept every uid
 * ever seen would grow without bound.
 * The returned strings belong to the cache and stay valid until users_cache_sweep(),
 * users_cache_clear() or users_cache_free(): callers copy what they keep.
 */
#ifndef PROCMEM_USERS_H
#define PROCMEM_USERS_H

#include <stddef.h>
#include <stdint.h>

struct users_cache;

/* Resolves a uid to a name. The default resolver is getpwuid_r; tests pass their own. */
typedef int (*users_resolve_fn)(uint32_t uid, char *ret_name, size_t size, void *userdata);

struct users_cache *users_cache_new(users_resolve_fn fn, void *userdata);
void users_cache_free(struct users_cache *c); /* accepts NULL */
void users_cache_clear(struct users_cache *c);
/* Forgets the uids not asked for since the last sweep. */
void users_cache_sweep(struct users_cache *c);
/* The user's name, or its decimal number when it has none. NULL only on allocation failure. */
const char *users_cache_name(struct users_cache *c, uint32_t uid, size_t *ret_len);

/* getpwuid_r: 0, -ENOENT when the uid has no name, or another negative errno. */
int users_resolve_nss(uint32_t uid, char *ret_name, size_t size, void *userdata);

#endif
