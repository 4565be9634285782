/* page.h — the views of a snapshot made for people: the HTML landing page (/) and the plain-text
 * table (/top) that `curl` prints over SSH.
 *
 * Pure: a snapshot in, text appended to a buffer out, like expo.h. Both show the cycle (when it
 * ended, how long it took, what was read), the machine's four quadrants (resident and PSS) and
 * the PAGE_TOP processes with most PSS (RSS where PSS was not read, as --top ranks them) over
 * every process read, whatever --include, --exclude and --top select for the series.
 *
 * A page is rendered once per publication (publish.h) and served from memory; only the cycle's
 * age changes from request to request. So page_render() leaves a gap at *ret_age_at, and a
 * request sends the rendering up to there, page_render_age()'s few bytes, and the rest.
 *
 * Every string from the kernel or from NSS (comm, user, unit) may hold any byte but NUL: it is
 * written as valid UTF-8 with each ill-formed sequence, control character (C0, DEL, C1) and
 * bidirectional formatting character replaced by U+FFFD (so no byte can start a markup, a
 * terminal escape sequence or reorder the line around it), and escaped for HTML in the page.
 * The HTML has no script, fetches nothing, and keeps its CSS in one <style> element whose
 * digest page_csp() puts in the Content-Security-Policy, so a browser refuses anything else.
 */
#ifndef PROCMEM_PAGE_H
#define PROCMEM_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "snapshot.h"

#define PAGE_TOP 20 /* processes listed */

enum page_kind {
	PAGE_HTML, /* the landing page, / */
	PAGE_TEXT, /* the table for terminals, /top */
	PAGE_KIND_COUNT
};
const char *page_content_type(enum page_kind k);

/* An endpoint the landing page lists: its path, and what it serves in a few words of HTML.
 * Both are written into the page as they are: they come from the source (http.c's route
 * table), never from a client or the kernel. */
struct page_endpoint {
	const char *path;
	const char *what;
};

struct page_info {
	const char *version; /* the exporter's */
	const char *host;    /* the machine's name, or NULL */
	const struct page_endpoint *endpoints; /* the HTML page's list of links; none: no list */
	size_t nendpoints;
};

/* Appends the page for snapshot s. *ret_age_at is the offset in out where the age goes. The
 * caller checks buf_failed(out). */
void page_render(const struct snapshot *s, const struct page_info *info, enum page_kind k,
		 struct buf *out, size_t *ret_age_at);
/* Appends the age of the cycle ("12 s ago"), marked stale when `stale`. */
void page_render_age(uint64_t age_ns, bool stale, enum page_kind k, struct buf *out);

/* Appends the Content-Security-Policy for the HTML page: nothing may load, no script may run,
 * only the page's own <style> applies. Returns 0, or -EIO when the digest cannot be made (the
 * caller then sends no page rather than an unprotected one). */
int page_csp(struct buf *out);

/* Appends s[0..len) as text for the page: valid UTF-8, replaced characters as U+FFFD (see
 * above), and, for PAGE_HTML, escaped for element content and quoted attribute values. */
void page_text(struct buf *out, const char *s, size_t len, enum page_kind k);

/* Appends a size as smem -k prints it: "0", else "%.1f" of it in the largest unit it reaches and
 * the unit (K, M, G, T, P, E: powers of 1024), rounded half up: 1536 is "1.5K". */
void page_size(struct buf *out, uint64_t bytes);

#endif
