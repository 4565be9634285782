/* accept.c — Accept and Accept-Encoding parsing; see accept.h.
 *
 * A header is a comma-separated list of elements, each a token (type/subtype or a coding)
 * followed by ";name=value" parameters, with optional whitespace around the separators. The
 * scan below walks it once without copying; tokens compare case-insensitively.
 */
#include "accept.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct span {
	const char *p;
	size_t n;
};

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

static struct span trim(const char *p, const char *end)
{
	while (p < end && is_ows(*p))
		p++;
	while (end > p && is_ows(end[-1]))
		end--;
	return (struct span){ p, (size_t)(end - p) };
}

static bool span_is(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

/* RFC 9110 qvalue: "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ], in thousandths;
 * -EINVAL if invalid. */
static int parse_q(struct span s)
{
	int v, i, scale = 100;

	if (s.n == 0 || (s.p[0] != '0' && s.p[0] != '1'))
		return -EINVAL;
	v = (s.p[0] - '0') * 1000;
	if (s.n == 1)
		return v;
	if (s.p[1] != '.' || s.n > 5)
		return -EINVAL;
	for (i = 2; i < (int)s.n; i++, scale /= 10) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return -EINVAL;
		v += (s.p[i] - '0') * scale;
	}
	return v > 1000 ? -EINVAL : v;
}

/* One element of the list: its token, q (thousandths) and its version parameter if any. */
struct element {
	struct span token, version;
	int q;
};

/* Parses the element in [p, end). */
static struct element parse_element(const char *p, const char *end)
{
	struct element e = { .q = 1000 };
	const char *semi = memchr(p, ';', (size_t)(end - p));

	e.token = trim(p, semi ? semi : end);
	while (semi) {
		const char *start = semi + 1, *eq;
		struct span name, value;

		semi = memchr(start, ';', (size_t)(end - start));
		eq = memchr(start, '=', (size_t)((semi ? semi : end) - start));
		if (!eq)
			continue;
		name = trim(start, eq);
		value = trim(eq + 1, semi ? semi : end);
		if (value.n >= 2 && value.p[0] == '"' && value.p[value.n - 1] == '"') {
			value.p++;
			value.n -= 2;
		}
		if (span_is(name, "q"))
			e.q = parse_q(value);
		else if (span_is(name, "version"))
			e.version = value;
	}
	if (e.q < 0)
		e.q = 0; /* an invalid weight makes the element unusable, not the header */
	return e;
}

/* Calls fn for each element of a comma-separated header. */
static void each_element(const char *h, void (*fn)(const struct element *e, void *ud), void *ud)
{
	const char *p = h, *end = h + strlen(h);

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		struct element e = parse_element(p, stop);

		if (e.token.n)
			fn(&e, ud);
		p = stop + (comma ? 1 : 0);
	}
}

/* RFC 9110 §12.5.1: when several media ranges match a type, the most specific one gives its
 * weight (text/plain;version=0.0.4, then text/plain, then the text/ wildcard, then the full
 * wildcard), so a specific q=0 refuses a type that a wildcard would accept. Equally specific
 * ranges: the highest weight. */
enum { SPEC_NONE = -1, SPEC_ANY, SPEC_TYPE_WILDCARD, SPEC_TYPE, SPEC_TYPE_VERSION };

struct match {
	int spec, q;
};

static void match_update(struct match *m, int spec, int q)
{
	if (spec > m->spec || (spec == m->spec && q > m->q)) {
		m->spec = spec;
		m->q = q;
	}
}

struct format_pick {
	struct match om, text;
};

static void weigh_format(const struct element *e, void *ud)
{
	struct format_pick *pick = ud;

	if (span_is(e->token, "application/openmetrics-text")) {
		if (e->version.n == 0)
			match_update(&pick->om, SPEC_TYPE, e->q);
		else if (span_is(e->version, "1.0.0"))
			match_update(&pick->om, SPEC_TYPE_VERSION, e->q);
	} else if (span_is(e->token, "text/plain")) {
		if (e->version.n == 0)
			match_update(&pick->text, SPEC_TYPE, e->q);
		else if (span_is(e->version, "0.0.4"))
			match_update(&pick->text, SPEC_TYPE_VERSION, e->q);
	} else if (span_is(e->token, "application/*")) {
		match_update(&pick->om, SPEC_TYPE_WILDCARD, e->q);
	} else if (span_is(e->token, "text/*")) {
		match_update(&pick->text, SPEC_TYPE_WILDCARD, e->q);
	} else if (span_is(e->token, "*/*")) {
		match_update(&pick->om, SPEC_ANY, e->q);
		match_update(&pick->text, SPEC_ANY, e->q);
	}
}

enum expo_format accept_format(const char *accept)
{
	struct format_pick pick = { { SPEC_NONE, 0 }, { SPEC_NONE, 0 } };
	bool om_named;

	if (!accept)
		return EXPO_TEXT;
	each_element(accept, weigh_format, &pick);
	/* a wildcard alone says nothing about what the client parses: a tie is OpenMetrics only
	 * when the header names it */
	om_named = pick.om.spec >= SPEC_TYPE;
	if (pick.om.q > pick.text.q || (pick.om.q > 0 && pick.om.q == pick.text.q && om_named))
		return EXPO_OPENMETRICS;
	return EXPO_TEXT;
}

struct gzip_pick {
	int gzip_q, star_q; /* -1: not mentioned */
};

static void weigh_coding(const struct element *e, void *ud)
{
	struct gzip_pick *pick = ud;

	if (span_is(e->token, "gzip") || span_is(e->token, "x-gzip")) {
		if (e->q > pick->gzip_q)
			pick->gzip_q = e->q;
	} else if (span_is(e->token, "*")) {
		if (e->q > pick->star_q)
			pick->star_q = e->q;
	}
}

bool accept_gzip(const char *accept_encoding)
{
	struct gzip_pick pick = { -1, -1 };

	if (!accept_encoding)
		return false;
	each_element(accept_encoding, weigh_coding, &pick);
	if (pick.gzip_q >= 0)
		return pick.gzip_q > 0;
	return pick.star_q > 0;
}
