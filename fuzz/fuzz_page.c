/* fuzz_page — the pages for people (page.h), whatever the bytes of comm, user and unit.
 *
 * The input is split at its first two 0xFF 0xFE pairs into comm, user and unit (the rest of the
 * bytes, NULs included, as they come: snapshot strings hold any byte). Properties:
 *  - page_text() for HTML and text gives valid UTF-8 (decoded here) with no C0 or C1 control,
 *    DEL or bidirectional formatting character; in HTML no '<', '>', '"' or '\'', and every
 *    '&' starts one of the five entities it writes;
 *  - a snapshot of one process with those names renders as HTML whose every '<' opens or closes
 *    one of the page's own tags, and as text whose lines are as many as with plain names (a name
 *    cannot add a line), both valid UTF-8.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "page.h"
#include "snapshot.h"

/* The code points of valid UTF-8, or -1 at the first ill-formed sequence. */
static long next_cp(const unsigned char *p, size_t left, size_t *n)
{
	long cp, min;
	size_t k;

	if (p[0] < 0x80) {
		*n = 1;
		return p[0];
	}
	if ((p[0] & 0xE0) == 0xC0)
		*n = 2, cp = p[0] & 0x1F, min = 0x80;
	else if ((p[0] & 0xF0) == 0xE0)
		*n = 3, cp = p[0] & 0x0F, min = 0x800;
	else if ((p[0] & 0xF8) == 0xF0)
		*n = 4, cp = p[0] & 0x07, min = 0x10000;
	else
		return -1;
	if (*n > left)
		return -1;
	for (k = 1; k < *n; k++) {
		if ((p[k] & 0xC0) != 0x80)
			return -1;
		cp = cp << 6 | (p[k] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	return cp;
}

static bool forbidden(long cp, bool newline_ok)
{
	if (cp == '\n')
		return !newline_ok;
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
	       (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

static void check_utf8(const char *s, size_t len, bool newline_ok)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		long cp = next_cp(p + i, len - i, &n);
		if (cp < 0 || forbidden(cp, newline_ok))
			abort();
		i += n;
	}
}

static void check_html_text(const char *s, size_t len)
{
	static const char *const ents[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };

	check_utf8(s, len, false);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '<' || s[i] == '>' || s[i] == '"' || s[i] == '\'')
			abort();
		if (s[i] == '&') {
			bool ok = false;
			for (size_t e = 0; e < 5 && !ok; e++)
				ok = strncmp(s + i, ents[e], strlen(ents[e])) == 0;
			if (!ok)
				abort();
		}
	}
}

static const char *const tags[] = { "!DOCTYPE html", "html", "head", "meta", "title", "style", "body", "h1",
				     "h2", "p", "time", "span", "table", "thead", "tbody", "tr", "th", "td",
				     "data", "svg", "rect", "i", "ul", "li", "a", "code", "strong" };

static void check_markup(const char *html)
{
	for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
		const char *name = p + 1 + (p[1] == '/');
		bool found = false;

		for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]) && !found; i++) {
			size_t n = strlen(tags[i]);
			found = strncmp(name, tags[i], n) == 0 && (name[n] == ' ' || name[n] == '>' || name[n] == '/');
		}
		if (!found)
			abort();
	}
}

static size_t lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static size_t render_lines(const char *comm, size_t cl, const char *user, size_t ul, const char *unit, size_t nl,
			   bool html)
{
	struct snapshot *s = snapshot_new(SMAPS_FULL);
	struct select_opts sel = { 0 };
	struct page_info info = { .version = "fuzz", .host = "host" };
	struct proc_sample *p;
	struct buf out = BUF_INIT;
	size_t at, n;

	if (!s || !(p = snapshot_add_proc(s)))
		abort();
	p->pid = 4242;
	if (snapshot_str(s, comm, cl, &p->comm) < 0 || snapshot_str(s, user, ul, &p->user) < 0 ||
	    snapshot_str(s, unit, nl, &p->unit) < 0 || snapshot_str(s, "", 0, &p->exe) < 0)
		abort();
	p->status.have = PROC_STATUS_VMRSS | PROC_STATUS_VMSWAP;
	p->status.vm_rss = 4096;
	if (snapshot_finish(s, &sel) < 0)
		abort();
	page_render(s, &info, html ? PAGE_HTML : PAGE_TEXT, &out, &at);
	if (buf_failed(&out) || at > out.len || strlen(out.buf) != out.len)
		abort();
	check_utf8(out.buf, out.len, true);
	if (html)
		check_markup(out.buf);
	n = lines(out.buf);
	buf_done(&out);
	snapshot_free(s);
	return n;
}

static const char *split(const char *p, const char *end, size_t *len)
{
	const char *q;

	for (q = p; q + 1 < end; q++)
		if ((unsigned char)q[0] == 0xFF && (unsigned char)q[1] == 0xFE)
			break;
	if (q + 1 >= end)
		q = end;
	*len = (size_t)(q - p);
	return q < end ? q + 2 : end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *user, *unit;
	size_t cl, ul, nl;
	struct buf b = BUF_INIT;

	page_text(&b, p, size, PAGE_HTML);
	check_html_text(b.buf, b.len);
	buf_reset(&b);
	page_text(&b, p, size, PAGE_TEXT);
	check_utf8(b.buf, b.len, false);
	buf_done(&b);

	user = split(p, end, &cl);
	unit = split(user, end, &ul);
	split(unit, end, &nl);
	for (int html = 0; html < 2; html++)
		if (render_lines(p, cl, user, ul, unit, nl, html) != render_lines("c", 1, "u", 1, "x.service", 9, html))
			abort();
	return 0;
}
