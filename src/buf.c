/* buf.c — growable byte buffer; see buf.h for the invariants.
 *
 * Growth doubles, so appending n bytes one at a time costs O(n). Integer formatting is written
 * by hand: the renderer formats hundreds of thousands of numbers per cycle and snprintf's
 * locale and format-string machinery is most of its cost.
 */
#include "buf.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char buf_empty_[1] = "";

void buf_init(struct buf *b)
{
	assert(b);
	*b = (struct buf)BUF_INIT;
}

void buf_done(struct buf *b)
{
	if (!b)
		return;
	if (b->alloc)
		free(b->buf);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	assert(b);
	b->len = 0;
	b->failed = false;
	if (b->alloc)
		b->buf[0] = '\0';
}

int buf_grow(struct buf *b, size_t extra)
{
	size_t need, n;
	char *p;

	assert(b);
	if (b->failed)
		return -ENOMEM;
	if (extra > SIZE_MAX - b->len - 1)
		goto fail;
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < need) {
		if (n > SIZE_MAX / 2) {
			n = need;
			break;
		}
		n *= 2;
	}
	p = realloc(b->alloc ? b->buf : NULL, n);
	if (!p)
		goto fail;
	if (!b->alloc)
		p[0] = '\0';
	b->buf = p;
	b->alloc = n;
	return 0;
fail:
	b->failed = true;
	return -ENOMEM;
}

void buf_advance(struct buf *b, size_t n)
{
	assert(b);
	if (b->failed || !b->alloc)
		return;
	assert(n <= buf_avail(b));
	b->len += n;
	b->buf[b->len] = '\0';
}

void buf_truncate(struct buf *b, size_t len)
{
	assert(b && len <= b->len);
	b->len = len;
	if (b->alloc)
		b->buf[len] = '\0';
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	if (len == 0 || buf_grow(b, len) < 0)
		return;
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void buf_addstr(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, char c)
{
	if (buf_grow(b, 1) < 0)
		return;
	b->buf[b->len++] = c;
	b->buf[b->len] = '\0';
}

/* Writes the digits of v right-aligned ending at `end`; returns the first digit's address. */
static char *fmt_u64(char *end, uint64_t v)
{
	char *p = end;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

void buf_add_u64(struct buf *b, uint64_t v)
{
	char tmp[20];
	char *p = fmt_u64(tmp + sizeof(tmp), v);

	buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void buf_add_fixed(struct buf *b, uint64_t units, unsigned digits)
{
	uint64_t scale = 1, whole, frac;
	char tmp[20];
	unsigned i;

	assert(digits <= 19);
	for (i = 0; i < digits; i++)
		scale *= 10;
	whole = units / scale;
	frac = units % scale;
	buf_add_u64(b, whole);
	if (frac == 0)
		return;
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	/* the fraction's digits, zero-padded on the left to `digits` */
	for (i = digits; i > 0; i--) {
		tmp[i - 1] = (char)('0' + frac % 10);
		frac /= 10;
	}
	buf_addch(b, '.');
	buf_add(b, tmp, digits);
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (buf_grow(b, 64) < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf_tail(b), buf_avail(b) + 1, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n > buf_avail(b)) {
		if (buf_grow(b, (size_t)n) < 0)
			return;
		va_start(ap, fmt);
		vsnprintf(buf_tail(b), buf_avail(b) + 1, fmt, ap);
		va_end(ap);
	}
	buf_advance(b, (size_t)n);
}

char *buf_detach(struct buf *b, size_t *ret_len)
{
	char *p = NULL;

	assert(b);
	if (!b->failed && b->alloc) {
		p = b->buf;
		if (ret_len)
			*ret_len = b->len;
		b->alloc = 0;
	}
	buf_done(b);
	return p;
}

int buf_read_fd(struct buf *b, int fd, size_t max, size_t size_hint)
{
	size_t start = b->len;

	assert(b && fd >= 0);
	/* one byte more than the hint, so the read that sees the end needs no growth */
	if (size_hint && size_hint < max && buf_grow(b, size_hint + 1) < 0)
		return -ENOMEM;
	for (;;) {
		size_t got = b->len - start;
		ssize_t n;

		/* grow by at least 4 KiB, doubling, unless the hinted size was just read: then the
		 * spare byte above is enough to see the end without a realloc (a copy of the secret) */
		if ((buf_avail(b) == 0 || (buf_avail(b) < 4096 && got != size_hint)) &&
		    buf_grow(b, b->len < 4096 ? 4096 : b->len) < 0)
			return -ENOMEM;
		n = read(fd, buf_tail(b), buf_avail(b));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		buf_advance(b, (size_t)n);
		if (b->len - start > max)
			return -EFBIG;
	}
}

int buf_read_file(struct buf *b, const char *path, size_t max)
{
	struct stat st;
	int fd, r;

	assert(b && path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else
		r = buf_read_fd(b, fd, max, st.st_size > 0 ? (size_t)st.st_size : 0);
	close(fd);
	return r;
}
