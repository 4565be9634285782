/* test_page.c — the landing page and the /top table (page.h).
 *
 * Hostile strings: comm, user, unit and the host name carry markup, quotes, terminal escape
 * sequences (C0 and C1 CSI), bidirectional overrides, NUL-free invalid UTF-8 and characters cut
 * in half; the HTML must hold no markup but the renderer's own (every '<' opens a tag from a
 * fixed list) and the text no control character but its newlines, and both must be valid UTF-8
 * (checked by a decoder written here). Expected figures are worked out by hand from the
 * snapshot the test builds; the order of the rows from the ranks it set.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gnutls/crypto.h>

#include "page.h"
#include "snapshot.h"

#define FFFD "\xEF\xBF\xBD"
#define KIB 1024u
#define MIB (1024u * 1024u)

/* ---- helpers ----------------------------------------------------------------------------- */

/* Whether s[0..len) is valid UTF-8, decoded here from the definition (shortest form, no
 * surrogates, nothing past U+10FFFF); *ret_cps gets the code points. */
static bool valid_utf8(const char *str, size_t len, uint32_t **ret_cps, size_t *ret_n)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t *cps = calloc(len + 1, sizeof(*cps));
	size_t i = 0, n = 0;

	assert_non_null(cps);
	while (i < len) {
		uint32_t cp, min;
		size_t k, need;

		if (s[i] < 0x80) {
			cps[n++] = s[i++];
			continue;
		}
		if ((s[i] & 0xE0) == 0xC0)
			need = 1, cp = s[i] & 0x1F, min = 0x80;
		else if ((s[i] & 0xF0) == 0xE0)
			need = 2, cp = s[i] & 0x0F, min = 0x800;
		else if ((s[i] & 0xF8) == 0xF0)
			need = 3, cp = s[i] & 0x07, min = 0x10000;
		else
			goto bad;
		for (k = 1; k <= need; k++) {
			if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		cps[n++] = cp;
		i += need + 1;
	}
	if (ret_cps)
		*ret_cps = cps;
	else
		free(cps);
	if (ret_n)
		*ret_n = n;
	return true;
bad:
	free(cps);
	return false;
}

/* A character no page may carry from the data: controls but newline, and the bidi ones. */
static bool forbidden_cp(uint32_t cp)
{
	return (cp < 0x20 && cp != '\n') || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E ||
	       cp == 0x200F || (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

static char *rendered(const struct snapshot *s, const struct page_info *info, enum page_kind k,
		      size_t *ret_age_at)
{
	struct buf b = BUF_INIT;
	size_t at = 0;
	char *text;

	page_render(s, info, k, &b, &at);
	assert_false(buf_failed(&b));
	assert_true(at <= b.len);
	if (ret_age_at)
		*ret_age_at = at;
	text = strdup(b.buf);
	assert_non_null(text);
	assert_int_equal(strlen(text), b.len); /* no NUL in the output */
	buf_done(&b);
	return text;
}

static struct proc_sample *add(struct snapshot *s, uint32_t pid, const char *comm, size_t comm_len,
			       const char *user, const char *unit)
{
	struct proc_sample *p = snapshot_add_proc(s);

	assert_non_null(p);
	p->pid = pid;
	assert_int_equal(snapshot_str(s, comm, comm_len, &p->comm), 0);
	assert_int_equal(snapshot_str(s, user, strlen(user), &p->user), 0);
	assert_int_equal(snapshot_str(s, unit, strlen(unit), &p->unit), 0);
	assert_int_equal(snapshot_str(s, "", 0, &p->exe), 0);
	p->status.have = PROC_STATUS_VMRSS | PROC_STATUS_VMSWAP;
	return p;
}

static void set_figures(struct proc_sample *p, enum smaps_mode mode, uint64_t rss, uint64_t pss,
			uint64_t uss, uint64_t swap, const uint64_t quad_pss[QUADRANT_COUNT])
{
	p->status.vm_rss = rss;
	p->status.vm_swap = swap;
	if (mode == SMAPS_OFF)
		return;
	p->flags |= SAMPLE_ROLLUP;
	p->rollup.have = ROLLUP_PSS | ROLLUP_PRIVATE_CLEAN | ROLLUP_PRIVATE_DIRTY | ROLLUP_RSS;
	p->rollup.pss = pss;
	p->rollup.private_clean = uss / 4;
	p->rollup.private_dirty = uss - uss / 4;
	if (mode == SMAPS_FULL && quad_pss) {
		p->flags |= SAMPLE_QUADRANTS;
		for (int q = 0; q < QUADRANT_COUNT; q++)
			p->quad[q] = (struct quadrant_sums){ .rss = quad_pss[q] * 2, .pss = quad_pss[q] };
	}
}

/* what http.c's route table gives the page, in its form */
static const struct page_endpoint endpoints[] = {
	{ "/metrics", "the exposition, for Prometheus" },
	{ "/top", "this table as plain text, for <code>curl -s HOST:PORT/top</code>" },
	{ "/-/healthy", "200 while collection cycles keep completing" },
	{ "/-/ready", "200 once the first cycle has completed" },
};
static const struct page_info info = { "1.2.3", "testhost", endpoints, 4 };

/* The hostile names, and what the page must show for them. */
static const char evil_comm[] = "<script>x</sc\xE2\x82";		 /* markup, a cut character */
static const char evil_user[] = "\"><img src=x onerror=alert(1)>";	 /* breaks out of a quote */
static const char evil_unit[] = "a&b'\x1B[31m\xC2\x9B" "2J\xE2\x80\xAEgro.lve\xFF\x7F.service";

/* ---- sizes --------------------------------------------------------------------------------- */

static void check_size(uint64_t bytes, const char *want)
{
	struct buf b = BUF_INIT;

	page_size(&b, bytes);
	assert_string_equal(b.buf, want);
	buf_done(&b);
}

static void test_sizes_print_like_smem_k(void **state)
{
	(void)state;
	check_size(0, "0");
	check_size(1023, "1023.0");
	check_size(1024, "1.0K");
	check_size(1536, "1.5K");
	check_size(1048064, "1023.5K");	  /* 1023.5 KiB exactly */
	check_size(1048575, "1.0M");	  /* 1023.999 KiB rounds to 1024.0K: shown as the next unit */
	check_size(10u * MIB + 52429u, "10.1M"); /* 10.05 MiB and a little: half up */
	check_size(3ull << 30, "3.0G");
	check_size(UINT64_MAX, "16.0E"); /* no overflow on the largest figure */
}

/* ---- escaping ------------------------------------------------------------------------------ */

static void check_text(const char *in, size_t len, enum page_kind k, const char *want)
{
	struct buf b = BUF_INIT;

	page_text(&b, in, len, k);
	assert_false(buf_failed(&b));
	assert_string_equal(b.buf, want);
	buf_done(&b);
}

static void test_text_escapes_markup_and_replaces_what_a_terminal_would_obey(void **state)
{
	(void)state;
	check_text("<a href='x'>&\"", 14, PAGE_HTML, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;");
	check_text("<a href='x'>&\"", 14, PAGE_TEXT, "<a href='x'>&\"");
	/* ESC, BEL, newline, tab, DEL; C1 CSI (U+009B) and NEL (U+0085) */
	check_text("a\x1B[2Jb\x07\n\t\x7F", 10, PAGE_TEXT, "a" FFFD "[2Jb" FFFD FFFD FFFD FFFD);
	check_text("\xC2\x9B" "1m\xC2\x85", 6, PAGE_HTML, FFFD "1m" FFFD);
	/* U+00A0 is the first character past C1: kept */
	check_text("\xC2\xA0", 2, PAGE_TEXT, "\xC2\xA0");
	/* bidi: RLO U+202E, LRI U+2066, PDI U+2069, RLM U+200F, ALM U+061C; separators U+2028/9 */
	check_text("\xE2\x80\xAE" "abc\xE2\x81\xA6\xE2\x81\xA9\xE2\x80\x8F\xD8\x9C\xE2\x80\xA8\xE2\x80\xA9", 23,
		   PAGE_TEXT, FFFD "abc" FFFD FFFD FFFD FFFD FFFD FFFD);
	/* their neighbours are ordinary: U+202F, U+2065 (unassigned, but not a control) */
	check_text("\xE2\x80\xAF\xE2\x81\xA5", 6, PAGE_TEXT, "\xE2\x80\xAF\xE2\x81\xA5");
	/* ill-formed: a lone continuation byte, a cut sequence at the end, an overlong '<' (C0 BC),
	 * a surrogate (ED A0 80): one U+FFFD per maximal subpart */
	check_text("\x80x\xC0\xBCy\xED\xA0\x80z\xE2\x82", 11, PAGE_HTML,
		   FFFD "x" FFFD FFFD "y" FFFD FFFD FFFD "z" FFFD);
	/* well-formed text passes: é, 漢, 😀 */
	check_text("\xC3\xA9\xE6\xBC\xA2\xF0\x9F\x98\x80", 9, PAGE_HTML, "\xC3\xA9\xE6\xBC\xA2\xF0\x9F\x98\x80");
	/* a NUL in the middle (not from comm, which cannot hold one, but the function takes a length) */
	check_text("a\0b", 3, PAGE_TEXT, "a" FFFD "b");
}

/* ---- the snapshot ---------------------------------------------------------------------------- */

/* 29 processes: pid 100+i (i < 25) has PSS (i+1) MiB, and
 *   pid 150: no smaps read (permission), RSS 30 MiB: ranks by RSS, first;
 *   pid 160 and 161: the same PSS as pid 115 (16 MiB): ties go by pid;
 *   pid 170: the hostile names, PSS 22 MiB like pid 121, quadrants 1:1:1:1.
 * So the top 20 are 150, 124, 123, 122, 121, 170, 120, ..., 115, 160, 161, 114, ..., 109. */
static struct snapshot *build(enum smaps_mode mode)
{
	struct snapshot *s = snapshot_new(mode);
	struct select_opts sel = { .top = 3 };
	struct proc_sample *p;
	uint64_t quad[QUADRANT_COUNT] = { 4 * MIB, 2 * MIB, 1 * MIB, 1 * MIB };
	uint64_t even[QUADRANT_COUNT] = { 5632 * KIB, 5632 * KIB, 5632 * KIB, 5632 * KIB };
	char name[16];

	assert_non_null(s);
	for (uint32_t i = 0; i < 25; i++) {
		snprintf(name, sizeof(name), "proc%u", i);
		p = add(s, 100 + i, name, strlen(name), "alice", i % 2 ? "app.service" : "");
		set_figures(p, mode, (i + 1) * 3 * MIB, (i + 1) * MIB, (i + 1) * MIB / 2, i == 3 ? 64 * KIB : 0, quad);
	}
	p = add(s, 150, "locked", 6, "root", "sshd.service");
	set_figures(p, SMAPS_OFF, 30 * MIB, 0, 0, 0, NULL);
	p = add(s, 160, "tie_a", 5, "bob", "");
	set_figures(p, mode, 40 * MIB, 16 * MIB, 1 * MIB, 0, quad);
	p = add(s, 161, "tie_b", 5, "bob", "");
	set_figures(p, mode, 40 * MIB, 16 * MIB, 1 * MIB, 0, quad);
	p = add(s, 170, evil_comm, sizeof(evil_comm) - 1, evil_user, evil_unit);
	set_figures(p, mode, 23 * MIB, 22 * MIB, 20 * MIB, 0, even);
	s->timestamp_ns = 1700000000ull * 1000000000u; /* 2023-11-14 22:13:20 UTC */
	s->duration_ns = 180400000u;
	s->cycles_total = 7;
	s->kernel_threads = 40;
	s->errors_total[COLLECT_ERR_PERMISSION] = 3;
	assert_int_equal(snapshot_finish(s, &sel), 0);
	return s;
}

/* The pids in the order the ranking must give, worked out from build()'s figures. */
static const uint32_t want_order[PAGE_TOP] = { 150, 124, 123, 122, 121, 170, 120, 119, 118, 117,
					       116, 115, 160, 161, 114, 113, 112, 111, 110, 109 };

static void test_rank_top_orders_by_pss_then_rss_then_pid(void **state)
{
	struct snapshot *s = build(SMAPS_FULL);
	const struct proc_sample *top[PAGE_TOP + 5];
	size_t n, i;

	(void)state;
	n = snapshot_rank_top(s, PAGE_TOP, top);
	assert_int_equal(n, PAGE_TOP);
	for (i = 0; i < n; i++)
		assert_int_equal(top[i]->pid, want_order[i]);
	/* more asked than there are: all of them, still in order */
	n = snapshot_rank_top(s, PAGE_TOP + 5, top);
	assert_int_equal(n, PAGE_TOP + 5);
	for (i = 0; i < PAGE_TOP; i++)
		assert_int_equal(top[i]->pid, want_order[i]);
	assert_int_equal(top[PAGE_TOP + 4]->pid, 104);
	assert_int_equal(snapshot_rank_top(s, 0, top), 0);
	snapshot_free(s);
}

/* ---- HTML -------------------------------------------------------------------------------- */

static const char *const allowed_tags[] = {
	"!DOCTYPE html", "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "time", "span",
	"table", "thead", "tbody", "tr", "th", "td", "data", "svg", "rect", "i", "ul", "li", "a", "code",
	"strong", NULL,
};

/* Every '<' opens or closes a tag of ours. */
static void check_only_our_markup(const char *html)
{
	for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
		const char *name = p + 1 + (p[1] == '/');
		bool found = false;

		for (size_t i = 0; allowed_tags[i] && !found; i++) {
			size_t n = strlen(allowed_tags[i]);
			found = strncmp(name, allowed_tags[i], n) == 0 &&
				(name[n] == ' ' || name[n] == '>' || name[n] == '/');
		}
		if (!found)
			fail_msg("unexpected markup at \"%.40s\"", p);
	}
}

static void test_html_hostile_names_stay_text(void **state)
{
	struct snapshot *s = build(SMAPS_FULL);
	struct page_info evil = { .version = "1.0<b>", .host = "host\"<i>\x1B]0;pwned\x07" };
	uint32_t *cps;
	size_t ncp, i;
	char *html = rendered(s, &evil, PAGE_HTML, NULL);

	(void)state;
	assert_true(valid_utf8(html, strlen(html), &cps, &ncp));
	for (i = 0; i < ncp; i++)
		if (forbidden_cp(cps[i]))
			fail_msg("code point U+%04X in the page", (unsigned)cps[i]);
	free(cps);
	check_only_our_markup(html);
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<img"));
	assert_non_null(strstr(html, "<td>&lt;script&gt;x&lt;/sc" FFFD "</td>"));
	assert_non_null(strstr(html, "<td>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</td>"));
	assert_non_null(strstr(html, "<td>a&amp;b&#39;" FFFD "[31m" FFFD "2J" FFFD "gro.lve" FFFD FFFD
				     ".service</td>"));
	assert_non_null(strstr(html, "<title>host&quot;&lt;i&gt;" FFFD "]0;pwned" FFFD " &mdash; procmem_exporter</title>"));
	assert_non_null(strstr(html, "<h1>procmem_exporter 1.0&lt;b&gt; on host"));
	free(html);
	snapshot_free(s);
}

/* The pids of the process table's rows, in order. */
static size_t html_row_pids(const char *html, uint32_t *pids, size_t max)
{
	const char *p = strstr(html, "<table class=\"procs\">");
	size_t n = 0;

	assert_non_null(p);
	while ((p = strstr(p, "<tr><td class=\"n\">")) && n < max) {
		p += strlen("<tr><td class=\"n\">");
		pids[n++] = (uint32_t)strtoul(p, NULL, 10);
	}
	return n;
}

static void test_html_table_lists_the_top_twenty_with_their_figures(void **state)
{
	struct snapshot *s = build(SMAPS_FULL);
	char *html = rendered(s, &info, PAGE_HTML, NULL);
	uint32_t pids[64];
	size_t n = html_row_pids(html, pids, 64);

	(void)state;
	assert_int_equal(n, PAGE_TOP);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pids[i], want_order[i]);
	/* pid 124: PSS 25 MiB, USS 12.5 MiB, RSS 75 MiB, swap 0, quadrants 4:2:1:1 of 8 MiB */
	assert_non_null(strstr(html, "<tr><td class=\"n\">124</td><td>proc24</td><td>alice</td><td></td>"
				     "<td class=\"n\"><data value=\"26214400\">25.0M</data></td>"
				     "<td class=\"n\"><data value=\"13107200\">12.5M</data></td>"
				     "<td class=\"n\"><data value=\"78643200\">75.0M</data></td>"
				     "<td class=\"n\"><data value=\"0\">0</data></td><td><svg class=\"q\""));
	assert_non_null(strstr(html, "<rect class=\"pa\" x=\"0\" width=\"500\" height=\"10\"/>"
				     "<rect class=\"pf\" x=\"500\" width=\"250\" height=\"10\"/>"
				     "<rect class=\"sa\" x=\"750\" width=\"125\" height=\"10\"/>"
				     "<rect class=\"sf\" x=\"875\" width=\"125\" height=\"10\"/></svg>"));
	/* pid 150: no smaps: dashes, no bar, and the footnote says why */
	assert_non_null(strstr(html, "<tr><td class=\"n\">150</td><td>locked</td><td>root</td><td>sshd.service</td>"
				     "<td class=\"n\"><span class=\"dim\">&ndash;</span></td>"
				     "<td class=\"n\"><span class=\"dim\">&ndash;</span></td>"
				     "<td class=\"n\"><data value=\"31457280\">30.0M</data></td>"
				     "<td class=\"n\"><data value=\"0\">0</data></td><td></td></tr>"));
	assert_non_null(strstr(html, "this process's smaps was not read"));
	/* the cycle */
	assert_non_null(strstr(html, "<time datetime=\"2023-11-14T22:13:20Z\">2023-11-14 22:13:20 UTC</time>"));
	assert_non_null(strstr(html, "cycle 7 took 180 ms and read 29 processes (40 kernel threads apart), smaps full"));
	assert_non_null(strstr(html, "3 permission"));
	/* the links it always had, and the new one */
	for (const char *const *l = (const char *const[]){ "/metrics", "/top", "/-/healthy", "/-/ready", NULL }; *l; l++) {
		char a[64];
		snprintf(a, sizeof(a), "<a href=\"%s\">", *l);
		assert_non_null(strstr(html, a));
	}
	free(html);
	snapshot_free(s);
}

static void test_html_machine_quadrants(void **state)
{
	struct snapshot *s = build(SMAPS_FULL);
	char *html;

	(void)state;
	/* set by hand rather than summed by snapshot_finish: what the page shows is the snapshot's */
	s->quad_total[QUADRANT_PRIVATE_ANON] = (struct quadrant_sums){ .rss = 600 * MIB, .pss = 500 * MIB };
	s->quad_total[QUADRANT_PRIVATE_FILE] = (struct quadrant_sums){ .rss = 300 * MIB, .pss = 100 * MIB };
	s->quad_total[QUADRANT_SHARED_ANON] = (struct quadrant_sums){ .rss = 100 * MIB, .pss = 100 * MIB };
	s->quad_total[QUADRANT_SHARED_FILE] = (struct quadrant_sums){ .rss = 0, .pss = 0 };
	html = rendered(s, &info, PAGE_HTML, NULL);
	assert_non_null(strstr(html, "<th>Resident</th><td><svg class=\"m\""));
	assert_non_null(strstr(html, "<rect class=\"pa\" x=\"0\" width=\"600\" height=\"10\"/>"
				     "<rect class=\"pf\" x=\"600\" width=\"300\" height=\"10\"/>"
				     "<rect class=\"sa\" x=\"900\" width=\"100\" height=\"10\"/></svg>"));
	/* PSS 500:100:100 of 700 */
	assert_non_null(strstr(html, "<rect class=\"pa\" x=\"0\" width=\"714\" height=\"10\"/>"
				     "<rect class=\"pf\" x=\"714\" width=\"143\" height=\"10\"/>"
				     "<rect class=\"sa\" x=\"857\" width=\"143\" height=\"10\"/></svg>"));
	assert_non_null(strstr(html, "private anonymous</td><td class=\"n\"><data value=\"629145600\">600.0M</data>"
				     "</td><td class=\"n\">60</td><td class=\"n\"><data value=\"524288000\">500.0M"
				     "</data></td><td class=\"n\">71</td>"));
	free(html);
	snapshot_free(s);
}

static void test_modes_show_what_they_have(void **state)
{
	struct snapshot *s = build(SMAPS_OFF);
	char *html = rendered(s, &info, PAGE_HTML, NULL), *text = rendered(s, &info, PAGE_TEXT, NULL);

	(void)state;
	assert_non_null(strstr(html, "The 20 processes with most RSS"));
	assert_non_null(strstr(html, "need <code>--smaps full</code>; this exporter runs <code>--smaps off</code>"));
	assert_null(strstr(html, "<svg"));
	assert_null(strstr(html, "Quadrants (PSS)"));
	assert_null(strstr(html, "smaps was not read")); /* nothing is missing that the mode reads */
	/* top 20 by RSS: 124 (75 MiB) down to 108 (27 MiB), pid 150 among them; not pid 170 */
	assert_non_null(strstr(text, "\nPID User  Command Swap   RSS Unit\n124 alice proc24     0 75.0M\n"));
	assert_non_null(strstr(text, "\n150 root  locked     0 30.0M sshd.service\n"));
	free(html);
	free(text);
	snapshot_free(s);

	s = build(SMAPS_ROLLUP);
	html = rendered(s, &info, PAGE_HTML, NULL);
	text = rendered(s, &info, PAGE_TEXT, NULL);
	assert_non_null(strstr(html, "The 20 processes with most PSS"));
	assert_null(strstr(html, "<svg"));
	assert_non_null(strstr(text, " Command        Swap   USS   PSS   RSS Unit\n"));
	assert_null(strstr(text, "PrivAnon"));
	free(html);
	free(text);
	snapshot_free(s);
}

/* ---- text ------------------------------------------------------------------------------------ */

static size_t cp_len(const char *s, size_t len)
{
	size_t n = 0;
	assert_true(valid_utf8(s, len, NULL, &n));
	return n;
}

/* p moved n code points on, not past end */
static const char *skip_cps(const char *p, const char *end, size_t n)
{
	for (; p < end && n > 0; n--) {
		p++;
		while (p < end && ((unsigned char)*p & 0xC0) == 0x80)
			p++;
	}
	return p;
}

static void test_text_table_aligns_columns_in_code_points(void **state)
{
	struct snapshot *s = build(SMAPS_FULL);
	char *text = rendered(s, &info, PAGE_TEXT, NULL);
	const char *head = strstr(text, "\nPID "), *line;
	size_t rss_end, unit_at, rows = 0;
	uint32_t *cps;
	size_t ncp;

	(void)state;
	assert_true(valid_utf8(text, strlen(text), &cps, &ncp));
	for (size_t i = 0; i < ncp; i++)
		if (forbidden_cp(cps[i]))
			fail_msg("code point U+%04X in the text", (unsigned)cps[i]);
	free(cps);
	assert_non_null(head);
	head++;
	/* widths from the widest cell: the hostile user (30), the hostile comm (14 code points) */
	assert_true(strncmp(head, "PID User                           Command        Swap   USS   PSS   RSS PrivAnon "
				  "PrivFile ShAnon ShFile Unit\n", 110) == 0);
	rss_end = cp_len(head, (size_t)(strstr(head, " RSS ") - head)) + 4;
	unit_at = cp_len(head, (size_t)(strstr(head, "Unit") - head));
	/* every row: RSS ends where its heading does; the unit starts where "Unit" does */
	for (line = strchr(head, '\n') + 1; *line && strncmp(line, "-:", 2) != 0; line = strchr(line, '\n') + 1) {
		const char *eol = strchr(line, '\n');

		assert_non_null(eol);
		rows++;
		/* the figure before " " at RSS's end: cut the line at RSS's end in code points */
		const char *q = skip_cps(line, eol, rss_end);
		assert_true(q == eol || *q == ' ');
		assert_true(q[-1] != ' '); /* a figure ends exactly there */
		/* the unit starts at unit_at (or is absent) */
		if (cp_len(line, (size_t)(eol - line)) > unit_at) {
			q = skip_cps(line, eol, unit_at);
			assert_true(q[-1] == ' ' && q[0] != ' ');
		}
		assert_true(eol[-1] != ' '); /* no trailing blanks */
	}
	assert_int_equal(rows, PAGE_TOP);
	/* the hostile row: on one line, its names replaced where needed */
	assert_non_null(strstr(text, "\n170 \"><img src=x onerror=alert(1)> <script>x</sc" FFFD "    0 20.0M 22.0M 23.0M"
				     "     5.5M     5.5M   5.5M   5.5M a&b'" FFFD "[31m" FFFD "2J" FFFD "gro.lve"
				     FFFD FFFD ".service\n"));
	assert_non_null(strstr(text, "\n150 root                           locked            0     -     - 30.0M"
				     "        -        -      -      - sshd.service\n"));
	free(text);
	snapshot_free(s);
}

static void test_age_goes_in_the_gap(void **state)
{
	struct snapshot *s = build(SMAPS_FULL);
	size_t at;
	char *text = rendered(s, &info, PAGE_TEXT, &at), *html;
	struct buf b = BUF_INIT;

	(void)state;
	buf_add(&b, text, at);
	page_render_age(5400000000u, false, PAGE_TEXT, &b);
	buf_addstr(&b, text + at);
	assert_true(strncmp(b.buf, "procmem_exporter 1.2.3 on testhost: the last cycle ended 2023-11-14 22:13:20 UTC, "
				   "5 s ago\ncycle 7 took 180 ms", 107) == 0);
	free(text);

	html = rendered(s, &info, PAGE_HTML, &at);
	assert_true(strncmp(html + at - 18, "<span class=\"age\">", 18) == 0);
	assert_true(strncmp(html + at, "</span>", 7) == 0);
	free(html);

	buf_reset(&b);
	page_render_age(150ull * 1000000000u, false, PAGE_TEXT, &b);
	assert_string_equal(b.buf, "2 min ago");
	buf_reset(&b);
	page_render_age(3 * 3600ull * 1000000000u, true, PAGE_TEXT, &b);
	assert_string_equal(b.buf, "STALE: 3 h ago (collection has stopped)");
	buf_reset(&b);
	page_render_age(600ull * 1000000000u, true, PAGE_HTML, &b);
	assert_string_equal(b.buf, "<strong class=\"stale\">10 min ago (stale: collection has stopped)</strong>");
	buf_done(&b);
	snapshot_free(s);
}

/* ---- the Content-Security-Policy ---------------------------------------------------------- */

static void base64(const unsigned char *in, size_t len, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = a[v >> 18], *out++ = a[v >> 12 & 63], *out++ = a[v >> 6 & 63], *out++ = a[v & 63];
	}
	if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = a[v >> 18], *out++ = a[v >> 12 & 63], *out++ = a[v >> 6 & 63], *out++ = '=';
	} else if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		*out++ = a[v >> 18], *out++ = a[v >> 12 & 63], *out++ = '=', *out++ = '=';
	}
	*out = '\0';
}

static void test_csp_allows_exactly_the_pages_style(void **state)
{
	struct snapshot *s = build(SMAPS_FULL);
	char *html = rendered(s, &info, PAGE_HTML, NULL);
	const char *st = strstr(html, "<style>"), *end = strstr(html, "</style>");
	unsigned char digest[32];
	char b64[64], want[128];
	struct buf csp = BUF_INIT;

	(void)state;
	assert_non_null(st);
	assert_non_null(end);
	st += strlen("<style>");
	assert_null(strstr(end + 1, "<style")); /* one style element */
	assert_null(strstr(html, " style="));	/* and no style attribute, which the CSP would block */
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, st, (size_t)(end - st), digest), 0);
	base64(digest, sizeof(digest), b64);
	snprintf(want, sizeof(want), "style-src 'sha256-%s'", b64);
	assert_int_equal(page_csp(&csp), 0);
	assert_non_null(strstr(csp.buf, want));
	assert_true(strncmp(csp.buf, "default-src 'none'; ", 20) == 0);
	assert_null(strstr(csp.buf, "unsafe"));
	buf_done(&csp);
	free(html);
	snapshot_free(s);
}

/* The endpoints come from the caller (http.c's route table): listed in its order, linked, their
 * words written as given (they are HTML from the source); no list when there are none. */
static void test_html_lists_the_endpoints_it_is_given_in_order(void **state)
{
	struct snapshot *s = snapshot_new(SMAPS_FULL);
	struct select_opts sel = { 0 };
	struct page_info none = { .version = "1", .host = "h" };
	const char *at;
	char *html;

	(void)state;
	assert_int_equal(snapshot_finish(s, &sel), 0);
	html = rendered(s, &info, PAGE_HTML, NULL);
	at = strstr(html, "<h2>Endpoints</h2>\n<ul>\n");
	assert_non_null(at);
	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		char li[256];

		snprintf(li, sizeof(li), "<li><a href=\"%s\">%s</a> &mdash; %s</li>\n", endpoints[i].path,
			 endpoints[i].path, endpoints[i].what);
		assert_non_null(strstr(at, li));
		assert_true(strstr(at, li) > at);
		at = strstr(at, li);
	}
	assert_non_null(strstr(at, "</ul>\n</body>\n</html>\n"));
	free(html);
	html = rendered(s, &none, PAGE_HTML, NULL);
	assert_null(strstr(html, "Endpoints"));
	assert_null(strstr(html, "<ul>"));
	assert_non_null(strstr(html, "</table>"));
	free(html);
	snapshot_free(s);
}

static void test_empty_snapshot(void **state)
{
	struct snapshot *s = snapshot_new(SMAPS_FULL);
	struct select_opts sel = { 0 };
	struct page_info nohost = { .version = "1", .host = NULL };
	char *html, *text;

	(void)state;
	assert_int_equal(snapshot_finish(s, &sel), 0);
	html = rendered(s, &nohost, PAGE_HTML, NULL);
	text = rendered(s, &nohost, PAGE_TEXT, NULL);
	assert_non_null(strstr(html, "<title>procmem_exporter</title>"));
	assert_non_null(strstr(html, "The 0 processes with most PSS"));
	assert_non_null(strstr(text, "procmem_exporter 1: the last cycle ended"));
	/* an empty machine draws empty bars, with no rect and no division by zero */
	assert_null(strstr(html, "<rect"));
	free(html);
	free(text);
	snapshot_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_print_like_smem_k),
		cmocka_unit_test(test_text_escapes_markup_and_replaces_what_a_terminal_would_obey),
		cmocka_unit_test(test_rank_top_orders_by_pss_then_rss_then_pid),
		cmocka_unit_test(test_html_hostile_names_stay_text),
		cmocka_unit_test(test_html_table_lists_the_top_twenty_with_their_figures),
		cmocka_unit_test(test_html_machine_quadrants),
		cmocka_unit_test(test_modes_show_what_they_have),
		cmocka_unit_test(test_text_table_aligns_columns_in_code_points),
		cmocka_unit_test(test_age_goes_in_the_gap),
		cmocka_unit_test(test_csp_allows_exactly_the_pages_style),
		cmocka_unit_test(test_html_lists_the_endpoints_it_is_given_in_order),
		cmocka_unit_test(test_empty_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
