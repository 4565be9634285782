/* buf.h — a growable byte buffer with a sticky error flag.
 *
 * Invariants (hold after every call, whatever happened before):
 *  - `buf` is never NULL: an empty buffer points at a static "" until it first grows;
 *  - `buf[len] == '\0'`: the contents are always a C string as well as a byte range
 *    (they may hold NUL bytes of their own; `len` is authoritative);
 *  - `len < alloc` once anything was allocated;
 *  - `failed` is sticky: once an allocation fails, every later append is a no-op and the
 *    contents are unspecified (but the invariants above hold). Writers append without checking;
 *    the owner checks `buf_failed()` once at the end, the way a renderer checks once per page.
 *
 * Only the functions here touch the fields. `buf_reset()` keeps the memory for reuse; it is how
 * the hot paths avoid allocating: one buffer per purpose, grown to the largest size seen.
 * A struct buf owns its memory; `buf_done()` frees it and leaves an empty buffer.
 */
#ifndef PROCMEM_BUF_H
#define PROCMEM_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *buf;
	size_t len;
	size_t alloc;
	bool failed;
};

#define BUF_INIT { .buf = (char *)buf_empty_, .len = 0, .alloc = 0, .failed = false }
extern const char buf_empty_[1];

void buf_init(struct buf *b);
/* Frees the memory; `b` is an empty, usable buffer afterwards. Accepts NULL. */
void buf_done(struct buf *b);
/* Empties the buffer and clears the error flag, keeping the memory. */
void buf_reset(struct buf *b);

/* Makes room for `extra` more bytes (plus the terminating NUL). Returns 0 or -ENOMEM (and sets
 * the sticky flag). Callers that write into buf_tail() themselves use this, then buf_advance(). */
int buf_grow(struct buf *b, size_t extra);
/* Pointer to the first free byte; buf_avail() bytes may be written there. */
static inline char *buf_tail(struct buf *b) { return b->buf + b->len; }
static inline size_t buf_avail(const struct buf *b) { return b->alloc ? b->alloc - b->len - 1 : 0; }
/* Commits `n` bytes written at buf_tail(); n <= buf_avail(). */
void buf_advance(struct buf *b, size_t n);
/* Cuts the contents to `len` bytes (len <= b->len). */
void buf_truncate(struct buf *b, size_t len);

void buf_add(struct buf *b, const void *data, size_t len);
void buf_addstr(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
/* Decimal, no padding. */
void buf_add_u64(struct buf *b, uint64_t v);
/* A fixed-point decimal: `units / 10^digits`, written without trailing zeros in the fraction
 * and without a fraction when it is whole ("1.5", "2", "0.000123"). Exact, unlike %g. */
void buf_add_fixed(struct buf *b, uint64_t units, unsigned digits);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline bool buf_failed(const struct buf *b) { return b->failed; }
/* Marks the buffer failed: for writers whose own scratch allocation failed, so the owner's one
 * check at the end still catches it. */
static inline void buf_set_failed(struct buf *b) { b->failed = true; }

/* Appends the whole of the file at `path` (a small configuration file: a key, a certificate, a
 * users file). The buffer is sized from fstat() first, so a file that does not grow while read
 * is never copied by a realloc: no stray copy of a secret is left in freed memory (a caller that
 * holds secrets still wipes the buffer itself). Returns 0, -errno from open/fstat/read, -EFBIG
 * when the file holds more than `max` bytes (the buffer then holds a prefix), or -ENOMEM. */
int buf_read_file(struct buf *b, const char *path, size_t max);
/* Appends what `fd` reads until its end; the loop under buf_read_file(), and how the collector
 * reads a whole /proc file (whose size stat() does not know: size_hint 0). `size_hint`, when not
 * 0, is the size the caller expects, allocated up front. Same returns as buf_read_file(). */
int buf_read_fd(struct buf *b, int fd, size_t max, size_t size_hint);

/* Hands the memory to the caller (who frees it with free()); `b` is empty afterwards.
 * Returns NULL if the buffer failed or never allocated. */
char *buf_detach(struct buf *b, size_t *ret_len);

#endif
