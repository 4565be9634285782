/* utf8.c — see utf8.h. */
#include "utf8.h"

#include <string.h>

size_t utf8_seq(const unsigned char *p, const unsigned char *end, bool *ok)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t need, i;

	*ok = false;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0; /* no overlongs */
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F; /* nothing past U+10FFFF */
	} else {
		return 1;
	}
	for (i = 1; i <= need; i++) {
		if (p + i >= end)
			return i;
		if (i == 1 ? (p[i] < lo || p[i] > hi) : (p[i] < 0x80 || p[i] > 0xBF))
			return i;
	}
	*ok = true;
	return need + 1;
}

bool utf8_label_clean(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		bool ok = true;

		if (*p >= 0x80)
			p += utf8_seq(p, end, &ok);
		else if (*p++ == '\0')
			ok = false;
		if (!ok)
			return false;
	}
	return true;
}

size_t utf8_label_repair(const char *s, size_t len, char *dst)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	char *d = dst;

	while (p < end) {
		bool ok = true;
		size_t n = 1;

		if (*p >= 0x80)
			n = utf8_seq(p, end, &ok);
		else if (*p == '\0')
			ok = false;
		if (ok) {
			memcpy(d, p, n);
			d += n;
		} else {
			memcpy(d, UTF8_REPLACEMENT, 3);
			d += 3;
		}
		p += n;
	}
	return (size_t)(d - dst);
}
