/* auth.h — HTTP basic auth against a file of user:bcrypt-hash lines.
 *
 * The file: one `user:hash` per line; blank lines and lines starting with '#' are ignored;
 * trailing whitespace (a CR included) is dropped. A user name is non-empty, has no ':' and no
 * control character, and appears once. A hash is bcrypt ($2a$, $2b$ or $2y$, cost 04-31, 53
 * characters of salt and hash) as `htpasswd -B` or `mkpasswd -m bcrypt` write it; anything else
 * (a clear-text password, MD5-crypt, SHA-crypt, yescrypt) is refused.
 *
 * Checking a request costs one bcrypt computation (tens to hundreds of milliseconds, on purpose)
 * unless the same user and password were verified before: each user keeps the HMAC-SHA256, under
 * a key drawn at random when the file is loaded, of the last password that verified, so a scraper
 * with good credentials pays bcrypt once per daemon lifetime. Neither passwords nor unkeyed
 * digests of them are stored. A wrong password, and an unknown user, always cost one bcrypt (the
 * unknown user against a dummy hash of the file's highest cost), so the time of a failure does
 * not tell which part was wrong; comparisons are in constant time.
 *
 * struct auth is immutable after loading but for the per-user verification cache, which a mutex
 * guards: auth_check() and auth_check_cached() may run on several threads at once.
 *
 * struct auth_verifier runs auth_check() on a worker thread with a bounded queue (workq.h), so
 * that the HTTP server's thread never waits for bcrypt: it hands the check over, suspends the
 * connection and resumes it from the completion callback.
 */
#ifndef PROCMEM_AUTH_H
#define PROCMEM_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct auth;

/* Parses the text of a users file (not NUL-terminated: len bytes). On error returns -EINVAL,
 * sets *ret_line to the 1-based line and writes the reason (never a hash) into err. Draws the
 * random key of the verification cache and the dummy hash's salt from the kernel. */
int auth_parse(const char *text, size_t len, struct auth **ret, unsigned *ret_line, struct buf *err);
/* Reads and parses the file at path; err gets "PATH:LINE: reason" or "PATH: reason". Returns 0;
 * -EINVAL for what the file says, -ENOMEM, or the negative errno of reading it (-ENOENT,
 * -EACCES, -EFBIG past 1 MiB, ...). */
int auth_load(const char *path, struct auth **ret, struct buf *err);
void auth_free(struct auth *a); /* accepts NULL */

/* Building a set of users one by one, as the web configuration file's basic_auth_users map
 * does (auth_parse() is these three over the lines of a file): auth_new(), auth_add_user() per
 * user, then auth_seal() before the first check. auth_add_user() applies the users file's rules
 * (a name that is non-empty, has no ':', no control character, no surrounding whitespace, and
 * appears once; a bcrypt hash), writes the reason into err and returns -EINVAL when one fails;
 * `line` is only for the message about a repeated name. auth_seal() draws the cache's key and the
 * dummy hash's salt from the kernel. NULL / -ENOMEM when out of memory. */
struct auth *auth_new(void);
int auth_add_user(struct auth *a, const char *name, size_t name_len, const char *hash, size_t hash_len,
		  unsigned line, struct buf *err);
int auth_seal(struct auth *a, struct buf *err);

size_t auth_user_count(const struct auth *a);
/* The users whose hash costs less than min_cost, appended to out as `"name" (cost N, line L)`
 * separated by ", "; returns how many. */
#define AUTH_MIN_COST 10 /* bcrypt's own default, what the README asks for */
size_t auth_weak_users(const struct auth *a, unsigned min_cost, struct buf *out);
/* Whether two files name the same users with the same hashes (in any order). */
bool auth_same(const struct auth *a, const struct auth *b);

/* Decodes the value of an Authorization header, "Basic <base64 of user:password>" (scheme
 * case-insensitive, RFC 7617), into a freshly allocated NUL-terminated "user:password" in *ret
 * (free it with auth_free_credentials()), *ret_len its length and *ret_colon the index of the
 * first ':'. -EINVAL when it is not well-formed basic credentials (bad base64, no ':', a NUL
 * byte). */
int auth_decode_basic(const char *header, char **ret, size_t *ret_len, size_t *ret_colon);
/* Zeroes and frees what auth_decode_basic() returned. Accepts NULL. */
void auth_free_credentials(char *creds, size_t len);

/* 1 if user:password was verified before (no bcrypt), else 0. */
int auth_check_cached(struct auth *a, const char *user, size_t user_len, const char *pass, size_t pass_len);
/* 1 if the credentials are right, else 0; costs one bcrypt computation unless cached. */
int auth_check(struct auth *a, const char *user, size_t user_len, const char *pass, size_t pass_len);

/* ---- checks off the caller's thread ---- */

struct auth_verifier;
/* Called with the result (1 right, 0 wrong): on the worker thread; for a check still queued when
 * the verifier is freed, with 0 on the thread that frees it. */
typedef void (*auth_done_fn)(void *userdata, int ok);

/* Starts the worker; at most queue_max checks wait at once. */
int auth_verifier_new(struct auth *a, unsigned queue_max, struct auth_verifier **ret);
/* Queues a check of the credentials (copied). 0: done() will be called exactly once.
 * -EAGAIN: the queue is full; -ESHUTDOWN: being stopped; -ENOMEM. done() is not called when
 * this fails. */
int auth_verifier_submit(struct auth_verifier *v, const char *user, size_t user_len,
			 const char *pass, size_t pass_len, auth_done_fn done, void *userdata);
/* Stops the worker: the check in progress completes, the queued ones get done(userdata, 0);
 * then frees. Accepts NULL. */
void auth_verifier_free(struct auth_verifier *v);

#endif
