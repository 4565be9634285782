/* test_accept.c — Accept and Accept-Encoding negotiation (RFC 9110 §12.4.2, §12.5.1, §12.5.3).
 * Each expected answer is worked out from the RFC's rules: q=0 is "not acceptable", the most
 * specific media range that matches a type gives its weight, the highest weight wins, and where
 * nothing is acceptable the exporter falls back to the text format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "accept.h"

struct format_case {
	const char *header;
	enum expo_format want;
};

static void check_formats(const struct format_case *c, size_t n)
{
	size_t i, bad = 0;

	for (i = 0; i < n; i++) {
		if (accept_format(c[i].header) == c[i].want)
			continue;
		print_error("Accept: %s: expected %s\n", c[i].header ? c[i].header : "(none)",
			    c[i].want == EXPO_OPENMETRICS ? "OpenMetrics" : "text");
		bad++;
	}
	if (bad)
		fail_msg("%zu of %zu headers negotiated wrongly", bad, n);
}
#define CHECK_FORMATS(cases) check_formats(cases, sizeof(cases) / sizeof(cases[0]))

static void test_prometheus_scrape_headers_get_openmetrics(void **state)
{
	static const struct format_case cases[] = {
		/* Prometheus 2.x */
		{ "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
		  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
		  EXPO_OPENMETRICS },
		/* Prometheus 3.x: text/plain;version=1.0.0 is not the 0.0.4 we serve */
		{ "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
		  "application/openmetrics-text;version=0.0.1;q=0.4,"
		  "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
		  EXPO_OPENMETRICS },
		/* Prometheus configured for the text format only */
		{ "text/plain;version=0.0.4;q=1,*/*;q=0.1", EXPO_TEXT },
	};

	(void)state;
	CHECK_FORMATS(cases);
}

static void test_plain_clients_get_text(void **state)
{
	static const struct format_case cases[] = {
		{ NULL, EXPO_TEXT },
		{ "", EXPO_TEXT },
		{ "   ", EXPO_TEXT },
		{ ",,", EXPO_TEXT },
		{ "*/*", EXPO_TEXT }, /* curl */
		{ "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", EXPO_TEXT }, /* a browser */
		{ "text/plain", EXPO_TEXT },
		{ "text/*", EXPO_TEXT },
		{ "application/json", EXPO_TEXT }, /* nothing acceptable: text anyway */
	};

	(void)state;
	CHECK_FORMATS(cases);
}

static void test_openmetrics_named_outright(void **state)
{
	static const struct format_case cases[] = {
		{ "application/openmetrics-text", EXPO_OPENMETRICS },
		{ "application/openmetrics-text; version=1.0.0; charset=utf-8", EXPO_OPENMETRICS },
		{ "application/openmetrics-text;version=\"1.0.0\"", EXPO_OPENMETRICS },
		{ "text/plain;q=0.1, application/openmetrics-text;q=0.2", EXPO_OPENMETRICS },
	};

	(void)state;
	CHECK_FORMATS(cases);
}

static void test_q_zero_refuses(void **state)
{
	static const struct format_case cases[] = {
		{ "application/openmetrics-text;q=0", EXPO_TEXT },
		{ "application/openmetrics-text;q=0.000", EXPO_TEXT },
		{ "application/openmetrics-text;q=0, text/plain", EXPO_TEXT },
		{ "application/openmetrics-text;q=0, */*", EXPO_TEXT },
		{ "text/plain;q=0, application/openmetrics-text;q=0.001", EXPO_OPENMETRICS },
		{ "text/plain;q=0, text/*;q=0, application/openmetrics-text;q=0.1", EXPO_OPENMETRICS },
		/* the specific refusal outweighs the wildcard that would accept it */
		{ "application/openmetrics-text;q=0, application/*", EXPO_TEXT },
		{ "application/openmetrics-text;version=1.0.0;q=0, application/openmetrics-text", EXPO_TEXT },
		/* text refused outright; OpenMetrics acceptable through the wildcard */
		{ "text/plain;q=0, */*;q=0.5", EXPO_OPENMETRICS },
		{ "text/*;q=0, */*", EXPO_OPENMETRICS },
		/* everything refused: the fallback */
		{ "*/*;q=0", EXPO_TEXT },
	};

	(void)state;
	CHECK_FORMATS(cases);
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); an invalid one makes its element
 * unusable. */
static void test_invalid_q_makes_the_element_unusable(void **state)
{
	static const struct format_case cases[] = {
		{ "application/openmetrics-text;q=2, text/plain;q=0.5", EXPO_TEXT },
		{ "application/openmetrics-text;q=abc", EXPO_TEXT },
		{ "application/openmetrics-text;q=0.1234, text/plain;q=0.1", EXPO_TEXT },
		{ "application/openmetrics-text;q=1.001, text/plain;q=0.1", EXPO_TEXT },
		{ "application/openmetrics-text;q=-1, text/plain;q=0.1", EXPO_TEXT },
		{ "application/openmetrics-text;q=, text/plain;q=0.1", EXPO_TEXT },
		{ "application/openmetrics-text;q=.5, text/plain;q=0.1", EXPO_TEXT },
		/* valid edge forms */
		{ "application/openmetrics-text;q=1.000, text/plain;q=0.999", EXPO_OPENMETRICS },
		{ "application/openmetrics-text;q=1., text/plain;q=0.999", EXPO_OPENMETRICS },
		{ "application/openmetrics-text;q=0.5, text/plain;q=0.", EXPO_OPENMETRICS },
		{ "application/openmetrics-text;q=0.501, text/plain;q=0.5", EXPO_OPENMETRICS },
	};

	(void)state;
	CHECK_FORMATS(cases);
}

static void test_whitespace_and_case_do_not_matter(void **state)
{
	static const struct format_case cases[] = {
		{ "  Application/OpenMetrics-Text ; Version=1.0.0 ; Q=0.9 ,\ttext/plain ;q=0.5", EXPO_OPENMETRICS },
		{ "APPLICATION/OPENMETRICS-TEXT", EXPO_OPENMETRICS },
		{ "text/plain ; q=0.9 , application/openmetrics-text ; q=0.8", EXPO_TEXT },
		{ "\tapplication/openmetrics-text\t", EXPO_OPENMETRICS },
	};

	(void)state;
	CHECK_FORMATS(cases);
}

static void test_other_openmetrics_versions_do_not_match(void **state)
{
	static const struct format_case cases[] = {
		{ "application/openmetrics-text;version=0.0.1", EXPO_TEXT },
		{ "application/openmetrics-text;version=0.0.1, text/plain;q=0.1", EXPO_TEXT },
		{ "application/openmetrics-text;version=2.0.0", EXPO_TEXT },
		{ "text/plain;version=1.0.0, application/openmetrics-text;q=0.5", EXPO_OPENMETRICS },
	};

	(void)state;
	CHECK_FORMATS(cases);
}

static void test_text_preferred_by_q_wins(void **state)
{
	static const struct format_case cases[] = {
		{ "application/openmetrics-text;q=0.5, text/plain", EXPO_TEXT },
		{ "application/openmetrics-text;q=0.5, text/plain;version=0.0.4;q=0.6", EXPO_TEXT },
		{ "application/openmetrics-text;q=0.5, */*", EXPO_TEXT },
		{ "application/openmetrics-text;q=0.5, text/*;q=0.7", EXPO_TEXT },
	};

	(void)state;
	CHECK_FORMATS(cases);
}

/* Equal weights: OpenMetrics only when the header names it (a wildcard alone says nothing
 * about what the client can parse). */
static void test_ties_go_to_openmetrics_only_when_named(void **state)
{
	static const struct format_case cases[] = {
		{ "application/openmetrics-text;q=0.5, text/plain;q=0.5", EXPO_OPENMETRICS },
		{ "text/plain, application/openmetrics-text", EXPO_OPENMETRICS },
		{ "application/openmetrics-text, */*", EXPO_OPENMETRICS },
		{ "application/*, text/plain", EXPO_TEXT },
		{ "application/*;q=0.5, */*;q=0.5", EXPO_TEXT },
		{ "application/*;q=0.9, text/plain;q=0.5", EXPO_OPENMETRICS },
	};

	(void)state;
	CHECK_FORMATS(cases);
}

struct gzip_case {
	const char *header;
	bool want;
};

static void test_accept_gzip(void **state)
{
	static const struct gzip_case cases[] = {
		{ NULL, false },
		{ "", false },
		{ "gzip", true },
		{ "x-gzip", true },
		{ "GZip", true },
		{ "gzip;q=0", false },
		{ "gzip; q=0.000", false },
		{ "gzip ; q=0.001 ", true },
		{ "*", true },
		{ "*;q=0", false },
		{ "identity", false },
		{ "deflate, gzip;q=0.5", true },
		{ "deflate, br", false },
		{ "br, *;q=0.1", true },
		{ "gzip;q=0, *", false },	/* named refusal beats the wildcard */
		{ "*;q=0, gzip", true },	/* named acceptance beats the wildcard */
		{ "gzip, deflate, br, zstd", true }, /* browsers */
		{ "gzip;q=abc", false },
		{ "gzip;level=9", true },
	};
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (accept_gzip(cases[i].header) == cases[i].want)
			continue;
		print_error("Accept-Encoding: %s: expected %s\n", cases[i].header ? cases[i].header : "(none)",
			    cases[i].want ? "gzip" : "identity");
		bad++;
	}
	if (bad)
		fail_msg("%zu headers negotiated wrongly", bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prometheus_scrape_headers_get_openmetrics),
		cmocka_unit_test(test_plain_clients_get_text),
		cmocka_unit_test(test_openmetrics_named_outright),
		cmocka_unit_test(test_q_zero_refuses),
		cmocka_unit_test(test_invalid_q_makes_the_element_unusable),
		cmocka_unit_test(test_whitespace_and_case_do_not_matter),
		cmocka_unit_test(test_other_openmetrics_versions_do_not_match),
		cmocka_unit_test(test_text_preferred_by_q_wins),
		cmocka_unit_test(test_ties_go_to_openmetrics_only_when_named),
		cmocka_unit_test(test_accept_gzip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
