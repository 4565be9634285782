/* page.c — the landing page and the /top table; see page.h.
 *
 * Both views are built from the same pieces: the cycle line, the machine's quadrants and the
 * top processes. The HTML draws each quadrant split as an inline SVG bar (widths are attributes,
 * not CSS, so the page needs no style attribute and the CSP can allow its one <style> element
 * by digest). The text table follows smem's layout: one space between columns, numbers
 * right-aligned, names left-aligned, sizes as smem -k prints them ("%.1f" and K, M, G, T), and
 * the unit last since it is the longest; the rows come largest first, unlike smem's default.
 * Widths count code points, as smem does: a wide (CJK) character still shifts its row by one.
 */
#include "page.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "utf8.h"

/* Colours: Okabe and Ito's palette, told apart with the common colour-vision deficiencies. */
static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1a1a1a;background:#fff}"
	"h1{font-size:1.35em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}"
	"p{margin:.3em 0}table{border-collapse:collapse}"
	"th,td{padding:.15em .6em;text-align:left;white-space:nowrap}"
	"thead th{border-bottom:1px solid #888}.procs tbody tr:nth-child(even),.quadrants tbody tr:nth-child(even){background:#f3f3f3}"
	".n{text-align:right;font-variant-numeric:tabular-nums}"
	"svg{display:block;background:#e4e4e4}svg.m{width:36em;height:1.3em;margin:.2em 0}"
	"svg.q{width:9em;height:.9em}"
	".pa{fill:#e69f00}.pf{fill:#56b4e9}.sa{fill:#009e73}.sf{fill:#cc79a7}"
	"i.k{display:inline-block;width:.8em;height:.8em;margin-right:.4em;vertical-align:-.05em}"
	"i.pa{background:#e69f00}i.pf{background:#56b4e9}i.sa{background:#009e73}i.sf{background:#cc79a7}"
	".dim{color:#666}.stale{color:#b00000;font-weight:bold}";

static const struct {
	const char *cls, *name, *column, *holds;
} quad_info[QUADRANT_COUNT] = {
	[QUADRANT_PRIVATE_ANON] = { "pa", "private anonymous", "PrivAnon", "heap and stacks: what a leak grows" },
	[QUADRANT_PRIVATE_FILE] = { "pf", "private file", "PrivFile", "program and library text and data" },
	[QUADRANT_SHARED_ANON] = { "sa", "shared anonymous", "ShAnon", "shared memory, tmpfs-backed IPC" },
	[QUADRANT_SHARED_FILE] = { "sf", "shared file", "ShFile", "files mapped and written through" },
};

const char *page_content_type(enum page_kind k)
{
	return k == PAGE_HTML ? "text/html; charset=utf-8" : "text/plain; charset=utf-8";
}

/* ---- text ------------------------------------------------------------------------------------ */

/* Characters that reorder the text around them: ALM, LRM, RLM, LRE..RLO, LRI..PDI; and the line
 * and paragraph separators, which break a row. All three-byte sequences but ALM. */
static bool unsafe_format_char(const unsigned char *p, size_t n)
{
	if (n == 2)
		return p[0] == 0xD8 && p[1] == 0x9C;
	if (n != 3 || p[0] != 0xE2)
		return false;
	if (p[1] == 0x80)
		return p[2] == 0x8E || p[2] == 0x8F || (p[2] >= 0xA8 && p[2] <= 0xAE);
	return p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9;
}

void page_text(struct buf *out, const char *s, size_t len, enum page_kind k)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;

	while (p < end) {
		const char *esc = NULL;
		size_t n = 1;
		bool ok = true;

		if (*p >= 0x80) {
			n = utf8_seq(p, end, &ok);
			/* C1 controls: U+0080..U+009F */
			if (ok && (unsafe_format_char(p, n) || (n == 2 && p[0] == 0xC2 && p[1] <= 0x9F)))
				ok = false;
		} else if (*p < 0x20 || *p == 0x7F) {
			ok = false;
		} else if (k == PAGE_HTML) {
			switch (*p) {
			case '&': esc = "&amp;"; break;
			case '<': esc = "&lt;"; break;
			case '>': esc = "&gt;"; break;
			case '"': esc = "&quot;"; break;
			case '\'': esc = "&#39;"; break;
			default: break;
			}
		}
		if (ok && !esc) {
			p += n;
			continue;
		}
		buf_add(out, run, (size_t)(p - run));
		buf_addstr(out, esc ? esc : UTF8_REPLACEMENT);
		p += n;
		run = p;
	}
	buf_add(out, run, (size_t)(p - run));
}

static void text_str(struct buf *out, const struct str *s, enum page_kind k)
{
	page_text(out, s->s, s->len, k);
}

/* Code points in valid UTF-8: the bytes that do not continue a sequence. */
static size_t columns(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

/* smem -k: "%.1f" of the amount in the largest unit it reaches (K, M, G, T), "0" for nothing.
 * Rounded half up in integers: a figure near UINT64_MAX must not wrap. */
void page_size(struct buf *out, uint64_t bytes)
{
	static const char units[] = "\0KMGTPE";
	unsigned __int128 scale = 1;
	uint64_t tenths;
	int u = 0;

	if (bytes == 0) {
		buf_addch(out, '0');
		return;
	}
	while (u < 6 && bytes >= scale * 1024) {
		scale *= 1024;
		u++;
	}
	tenths = (uint64_t)(((unsigned __int128)bytes * 10 + scale / 2) / scale);
	if (tenths >= 10240 && u < 6) { /* 1023.96K shows as 1.0M, not 1024.0K */
		scale *= 1024;
		u++;
		tenths = (uint64_t)(((unsigned __int128)bytes * 10 + scale / 2) / scale);
	}
	buf_add_u64(out, tenths / 10);
	buf_addch(out, '.');
	buf_add_u64(out, tenths % 10);
	if (units[u])
		buf_addch(out, units[u]);
}

/* part/whole in whole percent, rounded; 0 when whole is 0 */
static uint64_t percent(uint64_t part, unsigned __int128 whole)
{
	if (whole == 0)
		return 0;
	return (uint64_t)(((unsigned __int128)part * 100 + whole / 2) / whole);
}

static void add_utc(struct buf *out, uint64_t ns, bool iso)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;
	char text[64];

	if (!gmtime_r(&t, &tm) ||
	    !strftime(text, sizeof(text), iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(text, sizeof(text), "%llu", (unsigned long long)t);
	buf_addstr(out, text);
}

/* ---- what a process has ---------------------------------------------------------------------- */

static bool have_pss(const struct proc_sample *p)
{
	return (p->flags & SAMPLE_ROLLUP) && (p->rollup.have & ROLLUP_PSS);
}

static const char *rank_word(const struct snapshot *s)
{
	return s->mode == SMAPS_OFF ? "RSS" : "PSS";
}

/* ---- HTML ------------------------------------------------------------------------------------ */

static void html_size(struct buf *out, uint64_t bytes)
{
	buf_addstr(out, "<data value=\"");
	buf_add_u64(out, bytes);
	buf_addstr(out, "\">");
	page_size(out, bytes);
	buf_addstr(out, "</data>");
}

static void html_size_cell(struct buf *out, bool have, uint64_t bytes)
{
	buf_addstr(out, "<td class=\"n\">");
	if (have)
		html_size(out, bytes);
	else
		buf_addstr(out, "<span class=\"dim\">&ndash;</span>");
	buf_addstr(out, "</td>");
}

/* A bar of the four quadrants' shares of v[]; `cls` sizes it. Positions are cumulative sums
 * scaled to 0..1000, so the segments meet and end exactly at the bar's end. */
static void html_bar(struct buf *out, const char *cls, const uint64_t v[QUADRANT_COUNT])
{
	unsigned __int128 total = 0, before = 0;
	int q;

	for (q = 0; q < QUADRANT_COUNT; q++)
		total += v[q];
	buf_addf(out, "<svg class=\"%s\" viewBox=\"0 0 1000 10\" preserveAspectRatio=\"none\" role=\"img\">"
		      "<title>", cls);
	for (q = 0; q < QUADRANT_COUNT; q++) {
		buf_addstr(out, q ? ", " : "");
		buf_addstr(out, quad_info[q].name);
		buf_addch(out, ' ');
		page_size(out, v[q]);
		buf_addf(out, " (%llu%%)", (unsigned long long)percent(v[q], total));
	}
	buf_addstr(out, "</title>");
	for (q = 0; q < QUADRANT_COUNT && total; q++) {
		uint64_t x = (uint64_t)(before * 1000 / total), end;

		before += v[q];
		end = (uint64_t)(before * 1000 / total);
		if (end > x)
			buf_addf(out, "<rect class=\"%s\" x=\"%llu\" width=\"%llu\" height=\"10\"/>", quad_info[q].cls,
				 (unsigned long long)x, (unsigned long long)(end - x));
	}
	buf_addstr(out, "</svg>");
}

/* "Over every process read: PSS ..., USS ..., swap ..." (what the mode read of them) */
static void totals_line(const struct snapshot *s, enum page_kind k, struct buf *out)
{
	void (*size)(struct buf *, uint64_t) = k == PAGE_HTML ? html_size : page_size;

	buf_addstr(out, "Over every process read:");
	if (s->have_pss_total) {
		buf_addstr(out, " PSS ");
		size(out, s->pss_total);
	}
	if (s->have_uss_total) {
		buf_addstr(out, ", USS ");
		size(out, s->uss_total);
	}
	buf_addstr(out, s->have_pss_total ? ", swap " : " swap ");
	size(out, s->swap_total);
}

static void html_machine(const struct snapshot *s, struct buf *out)
{
	uint64_t rss[QUADRANT_COUNT], pss[QUADRANT_COUNT];
	unsigned __int128 rss_sum = 0, pss_sum = 0;
	int q;

	buf_addstr(out, "<h2>The machine</h2>\n");
	if (!s->have_quad_total) {
		buf_addf(out, "<p>The four quadrants need <code>--smaps full</code>; this exporter runs "
			      "<code>--smaps %s</code>.</p>\n", smaps_mode_name(s->mode));
	} else {
		for (q = 0; q < QUADRANT_COUNT; q++) {
			rss[q] = s->quad_total[q].rss;
			pss[q] = s->quad_total[q].pss;
			rss_sum += rss[q];
			pss_sum += pss[q];
		}
		buf_addstr(out, "<table class=\"machine\">\n<tr><th>Resident</th><td>");
		html_bar(out, "m", rss);
		buf_addstr(out, "</td></tr>\n<tr><th>PSS</th><td>");
		html_bar(out, "m", pss);
		buf_addstr(out, "</td></tr>\n</table>\n<table class=\"quadrants\">\n<thead><tr><th>Quadrant</th>"
				"<th class=\"n\">Resident</th><th class=\"n\">%</th><th class=\"n\">PSS</th>"
				"<th class=\"n\">%</th><th>What it holds</th></tr></thead>\n<tbody>\n");
		for (q = 0; q < QUADRANT_COUNT; q++) {
			buf_addf(out, "<tr><td><i class=\"k %s\"></i>%s</td><td class=\"n\">", quad_info[q].cls,
				 quad_info[q].name);
			html_size(out, rss[q]);
			buf_addf(out, "</td><td class=\"n\">%llu</td><td class=\"n\">",
				 (unsigned long long)percent(rss[q], rss_sum));
			html_size(out, pss[q]);
			buf_addf(out, "</td><td class=\"n\">%llu</td><td class=\"dim\">%s</td></tr>\n",
				 (unsigned long long)percent(pss[q], pss_sum), quad_info[q].holds);
		}
		buf_addstr(out, "</tbody>\n</table>\n");
	}
	buf_addstr(out, "<p>");
	totals_line(s, PAGE_HTML, out);
	buf_addstr(out, ".</p>\n");
}

static void html_processes(const struct snapshot *s, struct buf *out)
{
	const struct proc_sample *top[PAGE_TOP];
	size_t n = snapshot_rank_top(s, PAGE_TOP, top), i;
	bool quads = s->mode == SMAPS_FULL, missing = false;

	buf_addf(out, "<h2>The %zu processes with most %s</h2>\n", n, rank_word(s));
	buf_addstr(out, "<table class=\"procs\">\n<thead><tr><th class=\"n\">PID</th><th>Command</th>"
			"<th>User</th><th>Unit</th><th class=\"n\">PSS</th><th class=\"n\">USS</th>"
			"<th class=\"n\">RSS</th><th class=\"n\">Swap</th>");
	if (quads)
		buf_addstr(out, "<th>Quadrants (PSS)</th>");
	buf_addstr(out, "</tr></thead>\n<tbody>\n");
	for (i = 0; i < n; i++) {
		const struct proc_sample *p = top[i];
		uint64_t uss;
		bool have_uss = proc_sample_uss(p, &uss);

		buf_addstr(out, "<tr><td class=\"n\">");
		buf_add_u64(out, p->pid);
		buf_addstr(out, "</td><td>");
		text_str(out, &p->comm, PAGE_HTML);
		buf_addstr(out, "</td><td>");
		text_str(out, &p->user, PAGE_HTML);
		buf_addstr(out, "</td><td>");
		text_str(out, &p->unit, PAGE_HTML);
		buf_addstr(out, "</td>");
		html_size_cell(out, have_pss(p), p->rollup.pss);
		html_size_cell(out, have_uss, uss);
		html_size_cell(out, p->status.have & PROC_STATUS_VMRSS, p->status.vm_rss);
		html_size_cell(out, p->status.have & PROC_STATUS_VMSWAP, p->status.vm_swap);
		missing = missing || (s->mode != SMAPS_OFF && !have_pss(p));
		if (quads) {
			buf_addstr(out, "<td>");
			if (p->flags & SAMPLE_QUADRANTS) {
				uint64_t v[QUADRANT_COUNT];
				for (int q = 0; q < QUADRANT_COUNT; q++)
					v[q] = p->quad[q].pss;
				html_bar(out, "q", v);
			}
			buf_addstr(out, "</td>");
		}
		buf_addstr(out, "</tr>\n");
	}
	buf_addstr(out, "</tbody>\n</table>\n");
	if (missing)
		buf_addstr(out, "<p class=\"dim\">&ndash;: this process's smaps was not read (permission, or "
				"over --smaps-max-rss and not read yet); it ranks by its RSS.</p>\n");
}

/* `sep` between the two facts: "; " in a paragraph, a line break in a terminal's 80 columns */
static void cycle_facts(const struct snapshot *s, const char *sep, struct buf *out)
{
	const uint64_t *e = s->errors_total;

	buf_addf(out, "cycle %llu took %llu ms and read %zu processes (%llu kernel threads apart), smaps %s%s"
		      "not read in full since start: %llu vanished, %llu permission, %llu parse, %llu skipped",
		 (unsigned long long)s->cycles_total, (unsigned long long)((s->duration_ns + 500000u) / 1000000u),
		 s->nprocs, (unsigned long long)s->kernel_threads, smaps_mode_name(s->mode), sep,
		 (unsigned long long)e[COLLECT_ERR_VANISHED], (unsigned long long)e[COLLECT_ERR_PERMISSION],
		 (unsigned long long)e[COLLECT_ERR_PARSE],
		 (unsigned long long)(e[COLLECT_ERR_SKIPPED_LARGE] + e[COLLECT_ERR_SKIPPED_BUDGET]));
}

/* The endpoints the server names (http.c's route table), linked. Their paths and words are the
 * source's, not the kernel's: written as they are. */
static void html_endpoints(const struct page_info *info, struct buf *out)
{
	if (info->nendpoints == 0)
		return;
	buf_addstr(out, "<h2>Endpoints</h2>\n<ul>\n");
	for (size_t i = 0; i < info->nendpoints; i++)
		buf_addf(out, "<li><a href=\"%s\">%s</a> &mdash; %s</li>\n", info->endpoints[i].path,
			 info->endpoints[i].path, info->endpoints[i].what);
	buf_addstr(out, "</ul>\n");
}

static void render_html(const struct snapshot *s, const struct page_info *info, struct buf *out,
			size_t *ret_age_at)
{
	const char *host = info->host && *info->host ? info->host : NULL;

	buf_addstr(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
			"<meta name=\"robots\" content=\"noindex\">\n<title>");
	if (host) {
		page_text(out, host, strlen(host), PAGE_HTML);
		buf_addstr(out, " &mdash; ");
	}
	buf_addstr(out, "procmem_exporter</title>\n<style>");
	buf_addstr(out, style);
	buf_addstr(out, "</style>\n</head>\n<body>\n<h1>procmem_exporter ");
	page_text(out, info->version, strlen(info->version), PAGE_HTML);
	if (host) {
		buf_addstr(out, " on ");
		page_text(out, host, strlen(host), PAGE_HTML);
	}
	buf_addstr(out, "</h1>\n<p>Process memory as the kernel counts it. The last collection cycle ended "
			"<time datetime=\"");
	add_utc(out, s->timestamp_ns, true);
	buf_addstr(out, "\">");
	add_utc(out, s->timestamp_ns, false);
	buf_addstr(out, "</time>, <span class=\"age\">");
	*ret_age_at = out->len;
	buf_addstr(out, "</span>: ");
	cycle_facts(s, "; ", out);
	buf_addstr(out, ".</p>\n");
	html_machine(s, out);
	html_processes(s, out);
	html_endpoints(info, out);
	buf_addstr(out, "</body>\n</html>\n");
}

/* ---- text ------------------------------------------------------------------------------------ */

enum { COL_PID, COL_USER, COL_COMM, COL_SWAP, COL_USS, COL_PSS, COL_RSS, COL_QUAD, COL_UNIT = COL_QUAD + QUADRANT_COUNT, NCOLS };

struct cell {
	size_t off, len, width;
};

/* Lays out rows x NCOLS cells (text in `cells`) as smem does: one space apart, right-aligned
 * but for user, command and unit; a column left out (skip) takes no space. */
static void text_table(struct buf *out, const struct buf *cells, const struct cell (*c)[NCOLS], size_t rows,
		       const bool *skip)
{
	size_t width[NCOLS] = { 0 }, r;
	int k;

	for (r = 0; r < rows; r++)
		for (k = 0; k < NCOLS; k++)
			if (c[r][k].width > width[k])
				width[k] = c[r][k].width;
	for (r = 0; r < rows; r++) {
		bool first = true;

		for (k = 0; k < NCOLS; k++) {
			bool left = k == COL_USER || k == COL_COMM || k == COL_UNIT;
			size_t pad = width[k] - c[r][k].width;

			if (skip[k] || (k == COL_UNIT && c[r][k].len == 0))
				continue; /* no trailing space for a process outside any unit */
			if (!first)
				buf_addch(out, ' ');
			first = false;
			for (; !left && pad; pad--)
				buf_addch(out, ' ');
			buf_add(out, cells->buf + c[r][k].off, c[r][k].len);
			for (; left && pad && k != COL_UNIT; pad--)
				buf_addch(out, ' ');
		}
		buf_addch(out, '\n');
	}
}

static void cell_end(struct buf *cells, struct cell *c)
{
	c->len = cells->len - c->off;
	c->width = columns(cells->buf + c->off, c->len);
}

/* Appends process p's cell in column k: its text, or a size ('-' where it was not read). */
static void text_cell(struct buf *cells, const struct proc_sample *p, int k)
{
	bool have = true;
	uint64_t v = 0;

	switch (k) {
	case COL_PID: buf_add_u64(cells, p->pid); return;
	case COL_USER: text_str(cells, &p->user, PAGE_TEXT); return;
	case COL_COMM: text_str(cells, &p->comm, PAGE_TEXT); return;
	case COL_UNIT: text_str(cells, &p->unit, PAGE_TEXT); return;
	case COL_SWAP: have = p->status.have & PROC_STATUS_VMSWAP, v = p->status.vm_swap; break;
	case COL_USS: have = proc_sample_uss(p, &v); break;
	case COL_PSS: have = have_pss(p), v = p->rollup.pss; break;
	case COL_RSS: have = p->status.have & PROC_STATUS_VMRSS, v = p->status.vm_rss; break;
	default: have = p->flags & SAMPLE_QUADRANTS, v = p->quad[k - COL_QUAD].pss; break;
	}
	if (have)
		page_size(cells, v);
	else
		buf_addch(cells, '-');
}

static void text_processes(const struct snapshot *s, struct buf *out)
{
	static const char *const head[NCOLS] = { "PID", "User", "Command", "Swap", "USS", "PSS", "RSS",
						 "PrivAnon", "PrivFile", "ShAnon", "ShFile", "Unit" };
	const struct proc_sample *top[PAGE_TOP];
	size_t n = snapshot_rank_top(s, PAGE_TOP, top), r;
	struct cell c[PAGE_TOP + 1][NCOLS];
	struct buf cells = BUF_INIT;
	bool skip[NCOLS] = { false }, missing = false;
	int k;

	for (k = COL_QUAD; k < COL_QUAD + QUADRANT_COUNT; k++)
		skip[k] = s->mode != SMAPS_FULL;
	if (s->mode == SMAPS_OFF)
		skip[COL_USS] = skip[COL_PSS] = true;
	for (k = 0; k < NCOLS; k++) {
		c[0][k].off = cells.len;
		buf_addstr(&cells, head[k]);
		cell_end(&cells, &c[0][k]);
	}
	for (r = 0; r < n; r++) {
		for (k = 0; k < NCOLS; k++) {
			c[r + 1][k].off = cells.len;
			text_cell(&cells, top[r], k);
			cell_end(&cells, &c[r + 1][k]);
		}
		missing = missing || (s->mode != SMAPS_OFF && !have_pss(top[r]));
	}
	buf_addf(out, "The %zu processes with most %s%s:\n", n, rank_word(s),
		 s->mode == SMAPS_FULL ? " (the quadrants' columns are their PSS)" : "");
	if (buf_failed(&cells))
		buf_set_failed(out);
	else
		text_table(out, &cells, (const struct cell(*)[NCOLS])c, n + 1, skip);
	if (missing)
		buf_addstr(out, "-: this process's smaps was not read (permission, or over --smaps-max-rss and "
				"not read yet); it ranks by its RSS.\n");
	buf_done(&cells);
}

static void text_machine(const struct snapshot *s, struct buf *out)
{
	unsigned __int128 rss_sum = 0, pss_sum = 0;
	int q;

	totals_line(s, PAGE_TEXT, out);
	buf_addstr(out, "\n");
	if (!s->have_quad_total) {
		buf_addf(out, "(the four quadrants need --smaps full; this exporter runs --smaps %s)\n\n",
			 smaps_mode_name(s->mode));
		return;
	}
	for (q = 0; q < QUADRANT_COUNT; q++) {
		rss_sum += s->quad_total[q].rss;
		pss_sum += s->quad_total[q].pss;
	}
	/* a small fixed layout: the labels are ours, the figures at most 7 columns ("1023.9K") */
	buf_addstr(out, "Quadrant          Resident    %      PSS    %\n");
	for (q = 0; q < QUADRANT_COUNT; q++) {
		struct buf a = BUF_INIT, b = BUF_INIT;

		page_size(&a, s->quad_total[q].rss);
		page_size(&b, s->quad_total[q].pss);
		buf_addf(out, "%-17s %8s %4llu %8s %4llu\n", quad_info[q].name, a.buf,
			 (unsigned long long)percent(s->quad_total[q].rss, rss_sum), b.buf,
			 (unsigned long long)percent(s->quad_total[q].pss, pss_sum));
		if (buf_failed(&a) || buf_failed(&b))
			buf_set_failed(out);
		buf_done(&a);
		buf_done(&b);
	}
	buf_addstr(out, "\n");
}

static void render_text(const struct snapshot *s, const struct page_info *info, struct buf *out,
			size_t *ret_age_at)
{
	const char *host = info->host && *info->host ? info->host : NULL;

	buf_addstr(out, "procmem_exporter ");
	page_text(out, info->version, strlen(info->version), PAGE_TEXT);
	if (host) {
		buf_addstr(out, " on ");
		page_text(out, host, strlen(host), PAGE_TEXT);
	}
	buf_addstr(out, ": the last cycle ended ");
	add_utc(out, s->timestamp_ns, false);
	buf_addstr(out, ", ");
	*ret_age_at = out->len;
	buf_addstr(out, "\n");
	cycle_facts(s, ";\n", out);
	buf_addstr(out, ".\n");
	text_machine(s, out);
	text_processes(s, out);
}

void page_render(const struct snapshot *s, const struct page_info *info, enum page_kind k,
		 struct buf *out, size_t *ret_age_at)
{
	assert(s && info && info->version && out && ret_age_at);
	if (k == PAGE_HTML)
		render_html(s, info, out, ret_age_at);
	else
		render_text(s, info, out, ret_age_at);
}

void page_render_age(uint64_t age_ns, bool stale, enum page_kind k, struct buf *out)
{
	uint64_t sec = age_ns / 1000000000u;

	if (stale)
		buf_addstr(out, k == PAGE_HTML ? "<strong class=\"stale\">" : "STALE: ");
	if (sec < 120)
		buf_addf(out, "%llu s ago", (unsigned long long)sec);
	else if (sec < 2 * 3600)
		buf_addf(out, "%llu min ago", (unsigned long long)(sec / 60));
	else
		buf_addf(out, "%llu h ago", (unsigned long long)(sec / 3600));
	if (stale)
		buf_addstr(out, k == PAGE_HTML ? " (stale: collection has stopped)</strong>"
					       : " (collection has stopped)");
}

int page_csp(struct buf *out)
{
	unsigned char digest[32];
	gnutls_datum_t in = { digest, sizeof(digest) }, b64 = { NULL, 0 };

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, style, sizeof(style) - 1, digest) < 0 ||
	    gnutls_base64_encode2(&in, &b64) < 0)
		return -EIO;
	/* default-src 'none': no script, image, font, frame or connection of any kind; the links
	 * are navigation, which the policy does not govern */
	buf_addstr(out, "default-src 'none'; style-src 'sha256-");
	buf_add(out, b64.data, b64.size);
	buf_addstr(out, "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
	gnutls_free(b64.data);
	return 0;
}
