/* base64.h — strict base64 decoding (RFC 4648, section 4: the standard alphabet, padded).
 *
 * Strict because its one user (auth.h, the Authorization header) must read a value one way
 * only: no whitespace, no base64url digits, no missing or stray '=', no data after it.
 * Pure: a buffer in, bytes out.
 */
#ifndef PROCMEM_BASE64_H
#define PROCMEM_BASE64_H

#include <stddef.h>
#include <sys/types.h>

/* The most bytes len characters decode to: room enough for base64_decode()'s out. */
#define BASE64_DECODED_MAX(len) ((len) / 4 * 3)

/* Decodes exactly len characters of s (no NUL needed) into out, which has room for
 * BASE64_DECODED_MAX(len) bytes. Returns the decoded length, or -EINVAL: len 0 or not a
 * multiple of 4, a character outside the alphabet, '=' anywhere but the last two places. */
ssize_t base64_decode(const char *s, size_t len, unsigned char *out);

#endif
