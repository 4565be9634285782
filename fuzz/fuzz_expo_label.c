/* fuzz_expo_label — label value and HELP escaping, checked against an independent model.
 *
 * Properties of expo_label_value(out, s, len), whatever the bytes of s:
 *  - the output is valid UTF-8 (checked here by decoding, with Unicode's Table 3-7 written as
 *    code point ranges rather than byte ranges, unlike src/expo.c);
 *  - it holds no raw newline, no NUL, and every '"' and '\' is part of an escape (\\, \", \n);
 *  - unescaping it gives the input with every NUL and every maximal subpart of an ill-formed
 *    sequence replaced by U+FFFD (Unicode §3.9), computed here from the first principle that a
 *    maximal subpart is the longest prefix of a well-formed sequence (at least one byte);
 *  - appending works after existing content (the prefix is left as it was).
 * And of expo_help_text: no raw newline, backslashes escaped, quotes escaped in OpenMetrics.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "expo.h"

/* Decodes the well-formed sequence of n bytes at p; -1 if it is not one. */
static long decode(const unsigned char *p, size_t n)
{
	long cp;

	if (n == 1)
		return p[0] < 0x80 ? p[0] : -1;
	if (n == 2 && (p[0] & 0xE0) == 0xC0)
		cp = p[0] & 0x1F;
	else if (n == 3 && (p[0] & 0xF0) == 0xE0)
		cp = p[0] & 0x0F;
	else if (n == 4 && (p[0] & 0xF8) == 0xF0)
		cp = p[0] & 0x07;
	else
		return -1;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return -1;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	/* shortest form only, no surrogates, nothing past U+10FFFF */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
		return -1;
	if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return -1;
	return cp;
}

/* Whether the k bytes at p can begin a well-formed sequence: some completion decodes. */
static bool wf_prefix(const unsigned char *p, size_t k)
{
	unsigned char t[4];

	for (size_t n = k; n <= 4; n++) {
		/* try the lowest and highest continuation bytes for the missing ones, and for a
		 * missing second byte every value (the ranges that matter depend on it) */
		memcpy(t, p, k);
		if (n == k) {
			if (decode(t, n) >= 0)
				return true;
			continue;
		}
		for (unsigned b1 = 0x80; b1 <= 0xBF; b1++) {
			if (k == 1)
				t[1] = (unsigned char)b1;
			else if (b1 > 0x80)
				break;
			for (size_t i = k > 1 ? k : 2; i < n; i++)
				t[i] = 0x80;
			if (decode(t, n) >= 0)
				return true;
		}
	}
	return false;
}

/* wf_prefix for one byte, remembered per byte value: the 192 trial decodes a lead byte takes
 * made this harness run at about 1,000 inputs a second on long inputs. */
static bool wf_lead(unsigned char b)
{
	static signed char known[256]; /* 0: not yet asked; 1: no; 2: yes */

	if (known[b] == 0)
		known[b] = wf_prefix(&b, 1) ? 2 : 1;
	return known[b] == 2;
}

/* The expected unescaped output: the input with NULs and maximal subparts replaced. */
static size_t model(const unsigned char *s, size_t len, unsigned char *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		size_t k, best = 0;

		for (k = 1; k <= 4 && i + k <= len; k++)
			if (k == 1 ? wf_lead(s[i]) : wf_prefix(s + i, k))
				best = k;
		if (best > 0 && decode(s + i, best) >= 0 && s[i] != 0) {
			memcpy(out + o, s + i, best);
			o += best;
			i += best;
			continue;
		}
		memcpy(out + o, "\xEF\xBF\xBD", 3);
		o += 3;
		i += best ? best : 1;
	}
	return o;
}

/* Checks out[0..n) is valid UTF-8 without NUL. */
static void check_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t k = p[i] < 0x80 ? 1 : p[i] >= 0xF0 ? 4 : p[i] >= 0xE0 ? 3 : 2;

		if (p[i] == 0 || i + k > n || decode(p + i, k) < 0)
			abort();
		i += k;
	}
}

static void check_label(const uint8_t *data, size_t size)
{
	static const char prefix[] = "x=\"";
	struct buf out = BUF_INIT;
	unsigned char *want, *got;
	size_t nwant, ngot = 0;
	const unsigned char *p, *end;

	buf_addstr(&out, prefix);
	expo_label_value(&out, (const char *)data, size);
	if (buf_failed(&out) || memcmp(out.buf, prefix, sizeof(prefix) - 1) != 0)
		abort();
	p = (const unsigned char *)out.buf + sizeof(prefix) - 1;
	end = (const unsigned char *)out.buf + out.len;
	check_utf8(p, (size_t)(end - p));

	want = malloc(3 * size + 1);
	got = malloc(out.len + 1);
	if (!want || !got)
		abort();
	for (; p < end; p++) {
		if (*p == '\n' || *p == '"')
			abort(); /* raw newline or unescaped quote */
		if (*p == '\\') {
			if (++p >= end)
				abort();
			if (*p == '\\' || *p == '"')
				got[ngot++] = *p;
			else if (*p == 'n')
				got[ngot++] = '\n';
			else
				abort();
			continue;
		}
		got[ngot++] = *p;
	}
	nwant = model(data, size, want);
	if (ngot != nwant || memcmp(got, want, ngot) != 0)
		abort();
	free(want);
	free(got);
	buf_done(&out);
}

static void check_help(const uint8_t *data, size_t size)
{
	char *s = strndup((const char *)data, size);

	if (!s)
		return;
	for (int f = 0; f < EXPO_FORMAT_COUNT; f++) {
		struct buf out = BUF_INIT;

		expo_help_text(&out, s, (enum expo_format)f);
		for (size_t i = 0; i < out.len; i++) {
			char c = out.buf[i];
			if (c == '\n')
				abort();
			if (c == '"' && f == EXPO_OPENMETRICS)
				abort();
			if (c == '\\') {
				char e = i + 1 < out.len ? out.buf[++i] : 0;
				if (e != '\\' && e != 'n' && !(e == '"' && f == EXPO_OPENMETRICS))
					abort();
			}
		}
		buf_done(&out);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_label(data, size);
	check_help(data, size);
	return 0;
}
