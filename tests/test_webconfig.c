/* test_webconfig.c — the exporter-toolkit web configuration parser: what it takes (every
 * client_auth_type, versions, headers, users, empty files, relative paths resolved against the
 * file's directory as exporter-toolkit does), and what it refuses, each with the line it names:
 * unknown and unsupported keys, repeats, bad values, settings that do not go together, and
 * hostile YAML (aliases, tags, NUL and CR/LF in values, a second document, invalid UTF-8).
 *
 * Expected values are written by hand from exporter-toolkit's documentation and code
 * (web/tls_config.go, web/handler.go), not taken from the parser's output. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "webconfig.h"

#define H04 "$2b$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"
#define PATH "/etc/procmem/web.yml"

static struct buf err = BUF_INIT;

static int parse_len(const char *text, size_t len, struct web_config *c)
{
	buf_reset(&err);
	memset(c, 0x5a, sizeof(*c)); /* written only on success */
	return web_config_parse(text, len, PATH, c, &err);
}

static int parse(const char *text, struct web_config *c)
{
	return parse_len(text, strlen(text), c);
}

static const char *header(const struct web_config *c, const char *name)
{
	for (size_t i = 0; i < c->nheaders; i++)
		if (!strcmp(c->headers[i].name, name))
			return c->headers[i].value;
	return NULL;
}

static void test_empty_files_mean_plain_http_without_auth(void **state)
{
	static const char *const empties[] = { "", "# nothing yet\n\n", "---\n", "~\n", "---\n...\n",
					       "tls_server_config:\nhttp_server_config:\nbasic_auth_users:\n",
					       "basic_auth_users: {}\nhttp_server_config:\n  headers: {}\n" };
	struct web_config c;

	(void)state;
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		assert_int_equal(parse(empties[i], &c), 0);
		assert_null(c.cert_file);
		assert_null(c.tls.cert);
		assert_null(c.auth);
		assert_int_equal(c.nheaders, 0);
		assert_int_equal(c.client_auth, TLS_CLIENT_NONE);
		assert_int_equal(c.min_version, TLS_VERSION_1_2);
		assert_int_equal(c.max_version, TLS_VERSION_1_3);
		web_config_done(&c);
	}
}

static void test_full_file_paths_resolved_against_its_directory(void **state)
{
	struct web_config c;

	(void)state;
	assert_int_equal(parse("# the shared file\n"
			       "tls_server_config:\n"
			       "  cert_file: tls/server.crt\n"
			       "  key_file: /etc/ssl/private/server.key\n"
			       "  client_auth_type: \"RequireAndVerifyClientCert\"\n"
			       "  client_ca_file: ../ca.pem\n"
			       "  min_version: TLS13\n"
			       "  max_version: TLS13\n"
			       "  prefer_server_cipher_suites: false\n"
			       "http_server_config:\n"
			       "  http2: true\n"
			       "  headers:\n"
			       "    X-Frame-Options: sameorigin\n"
			       "    X-Content-Type-Options: nosniff\n"
			       "    Strict-Transport-Security: max-age=31536000\n"
			       "    X-XSS-Protection: ''\n"
			       "    Content-Security-Policy:\n"
			       "basic_auth_users:\n"
			       "  prom: " H04 "\n"
			       "  'ops team': '" H04 "'\n",
			       &c),
			 0);
	assert_string_equal(c.cert_file, "/etc/procmem/tls/server.crt");
	assert_string_equal(c.key_file, "/etc/ssl/private/server.key");
	assert_string_equal(c.client_ca_file, "/etc/procmem/../ca.pem");
	assert_int_equal(c.cert_line, 3);
	assert_int_equal(c.key_line, 4);
	assert_int_equal(c.ca_line, 6);
	assert_null(c.tls.cert); /* named, not read */
	assert_int_equal(c.client_auth, TLS_CLIENT_REQUIRE_AND_VERIFY);
	assert_int_equal(c.min_version, TLS_VERSION_1_3);
	assert_int_equal(c.max_version, TLS_VERSION_1_3);
	/* blank headers are not sent */
	assert_int_equal(c.nheaders, 3);
	assert_string_equal(header(&c, "X-Frame-Options"), "sameorigin");
	assert_string_equal(header(&c, "X-Content-Type-Options"), "nosniff");
	assert_string_equal(header(&c, "Strict-Transport-Security"), "max-age=31536000");
	assert_non_null(c.auth);
	assert_int_equal(auth_user_count(c.auth), 2);
	web_config_done(&c);

	/* a file named without a directory: paths stay relative to the working directory, as Go's
	 * filepath.Join(filepath.Dir("web.yml"), ...) leaves them */
	buf_reset(&err);
	assert_int_equal(web_config_parse("tls_server_config: {cert_file: a.crt, key_file: a.key}\n", 54, "web.yml",
					  &c, &err),
			 0);
	assert_string_equal(c.cert_file, "a.crt");
	assert_string_equal(c.key_file, "a.key");
	web_config_done(&c);
}

static void test_every_client_auth_type(void **state)
{
	static const struct {
		const char *name;
		enum tls_client_auth mode;
		bool ca;
	} types[] = {
		{ "NoClientCert", TLS_CLIENT_NONE, false },
		{ "RequestClientCert", TLS_CLIENT_REQUEST, false },
		{ "RequireAnyClientCert", TLS_CLIENT_REQUIRE_ANY, false },
		{ "RequireClientCert", TLS_CLIENT_REQUIRE_ANY, false },
		{ "VerifyClientCertIfGiven", TLS_CLIENT_VERIFY_IF_GIVEN, true },
		{ "RequireAndVerifyClientCert", TLS_CLIENT_REQUIRE_AND_VERIFY, true },
		{ "RequestClientCert", TLS_CLIENT_REQUEST, true },
		{ "RequireAnyClientCert", TLS_CLIENT_REQUIRE_ANY, true },
	};
	struct web_config c;
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(text, sizeof(text), "tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: %s\n%s",
			 types[i].name, types[i].ca ? "  client_ca_file: ca.pem\n" : "");
		assert_int_equal(parse(text, &c), 0);
		assert_int_equal(c.client_auth, types[i].mode);
		assert_true(tls_client_auth_verifies(c.client_auth) == (types[i].mode == TLS_CLIENT_VERIFY_IF_GIVEN ||
									types[i].mode == TLS_CLIENT_REQUIRE_AND_VERIFY));
		web_config_done(&c);
	}
}

/* text must be refused with "PATH:line: " and every piece of `says` in the message */
static void refused(const char *text, size_t len, unsigned line, const char *says, const char *says_too)
{
	struct web_config c;
	char prefix[64];

	assert_int_equal(parse_len(text, len, &c), -EINVAL);
	snprintf(prefix, sizeof(prefix), "%s:%u: ", PATH, line);
	if (strncmp(err.buf, prefix, strlen(prefix)) || !strstr(err.buf, says) || (says_too && !strstr(err.buf, says_too)))
		fail_msg("for %s\n  got:  %s\n  want: %s... %s %s", text, err.buf, prefix, says, says_too ? says_too : "");
}

#define REFUSED(text, line, says, says_too) refused(text, sizeof(text) - 1, line, says, says_too)

static void test_refuses_keys_it_does_not_know_or_implement(void **state)
{
	(void)state;
	REFUSED("tls_server_config:\n  cert_file: c\n  key_file: k\nbasic_auth_user:\n  a: b\n", 4,
		"unknown key \"basic_auth_user\"", "expected tls_server_config, http_server_config or basic_auth_users");
	REFUSED("tls_server_config:\n  cert_file: c\n  keyfile: k\n", 3, "tls_server_config: unknown key \"keyfile\"",
		NULL);
	REFUSED("http_server_config:\n  header:\n    X-Frame-Options: deny\n", 2, "http_server_config: unknown key \"header\"",
		NULL);
	/* what exporter-toolkit has and this server does not: refused by name, with the reason */
	REFUSED("rate_limit:\n  interval: 1s\n  burst: 20\n", 1, "rate_limit: not supported by procmem_exporter", NULL);
	REFUSED("tls_server_config:\n  cert_file: c\n  key_file: k\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n", 4,
		"tls_server_config.cipher_suites: not supported by procmem_exporter", "AEAD");
	REFUSED("tls_server_config:\n  curve_preferences: [X25519]\n", 2, "curve_preferences: not supported", NULL);
	REFUSED("tls_server_config:\n  client_allowed_sans: [a.example]\n", 2, "client_allowed_sans: not supported", NULL);
	REFUSED("tls_server_config:\n  cert: |\n    -----BEGIN CERTIFICATE-----\n", 2, "tls_server_config.cert: not supported",
		"cert_file");
	/* a hostile key is quoted with its control characters escaped */
	REFUSED("\"a\\e\\x07\\\"b\": 1\n", 1, "unknown key \"a\\x1b\\x07\\x22b\"", NULL);
}

static void test_refuses_repeats_bad_values_and_settings_that_do_not_go_together(void **state)
{
	(void)state;
	REFUSED("tls_server_config:\n  cert_file: c\n  key_file: k\n  cert_file: d\n", 4,
		"tls_server_config.cert_file: set twice (first on line 2)", NULL);
	REFUSED("basic_auth_users:\n  a: " H04 "\nbasic_auth_users:\n  b: " H04 "\n", 3, "basic_auth_users: set twice", NULL);
	REFUSED("tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS1.2\n", 4,
		"min_version: unknown TLS version \"TLS1.2\"", "TLS12 or TLS13");
	REFUSED("tls_server_config:\n  cert_file: c\n  key_file: k\n  max_version: TLS11\n", 4,
		"TLS11 is not offered by procmem_exporter", NULL);
	REFUSED("tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS10\n", 4, "TLS10 is not offered", NULL);
	REFUSED("tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS13\n  max_version: TLS12\n", 4,
		"min_version is above max_version", NULL);
	REFUSED("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: RequireAndVerify\n", 4,
		"client_auth_type: unknown value \"RequireAndVerify\"", NULL);
	/* as exporter-toolkit: any of these turns TLS on, which then needs a certificate and key */
	REFUSED("tls_server_config:\n  client_auth_type: NoClientCert\n", 1, "missing cert_file", NULL);
	REFUSED("\n\ntls_server_config:\n  cert_file: c\n", 3, "missing key_file", NULL);
	REFUSED("tls_server_config:\n  key_file: k\n  min_version: TLS13\n", 1, "missing cert_file", NULL);
	REFUSED("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_ca_file: ca\n", 4,
		"client_ca_file needs a client_auth_type", NULL);
	REFUSED("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: NoClientCert\n  client_ca_file: ca\n",
		5, "client_ca_file needs a client_auth_type", NULL);
	/* stricter than Go, which would take any certificate from the system's public CAs */
	REFUSED("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: VerifyClientCertIfGiven\n", 4,
		"VerifyClientCertIfGiven needs client_ca_file", NULL);
	REFUSED("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: RequireAndVerifyClientCert\n", 4,
		"RequireAndVerifyClientCert needs client_ca_file", NULL);
	REFUSED("http_server_config:\n  http2: maybe\n", 2, "http2: expected true or false", NULL);
	REFUSED("http_server_config:\n  http2: \"true\"\n", 2, "http2: expected true or false", NULL);
	REFUSED("tls_server_config:\n  cert_file: [a, b]\n", 2, "cert_file: expected a string, found a list", NULL);
	REFUSED("tls_server_config: TLS13\n", 1, "tls_server_config: expected a mapping, found a value", NULL);
	REFUSED("- tls_server_config\n", 1, "expected a mapping of tls_server_config", NULL);
	REFUSED("tls_server_config:\n  ? [a]\n  : b\n", 2, "expected a key, found a list", NULL);
}

static void test_refuses_headers_exporter_toolkit_refuses(void **state)
{
	(void)state;
	REFUSED("http_server_config:\n  headers:\n    Set-Cookie: a=b\n", 3, "header \"Set-Cookie\" can not be configured", NULL);
	/* names are matched exactly, as Go's map lookup does */
	REFUSED("http_server_config:\n  headers:\n    x-frame-options: deny\n", 3, "\"x-frame-options\" can not be configured",
		NULL);
	REFUSED("http_server_config:\n  headers:\n    X-Frame-Options: allow-from x\n", 3,
		"X-Frame-Options: invalid value \"allow-from x\"", "deny or sameorigin");
	REFUSED("http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n", 3, "expected nosniff)", NULL);
	REFUSED("http_server_config:\n  headers:\n    X-Frame-Options: deny\n    X-Frame-Options: deny\n", 4,
		"X-Frame-Options: set twice", NULL);
	/* header injection: a CR LF would end the header and start one of the file's choosing */
	REFUSED("http_server_config:\n  headers:\n    Content-Security-Policy: \"a\\r\\nSet-Cookie: x=y\"\n", 3,
		"Content-Security-Policy: a control character", NULL);
	REFUSED("http_server_config:\n  headers:\n    X-XSS-Protection: \"1\\x7f\"\n", 3, "a control character", NULL);
}

static void test_refuses_users_the_users_file_refuses(void **state)
{
	(void)state;
	REFUSED("basic_auth_users:\n  prom: " H04 "\n  ops: hunter2\n", 3, "the hash of user \"ops\" is not bcrypt", NULL);
	REFUSED("basic_auth_users:\n  \"a:b\": " H04 "\n", 2, "a ':' in the user name", NULL);
	REFUSED("basic_auth_users:\n  \"\": " H04 "\n", 2, "empty user name", NULL);
	REFUSED("basic_auth_users:\n  prom:\n", 2, "not bcrypt", NULL);
	REFUSED("basic_auth_users:\n  prom: " H04 "\n  \"prom\": " H04 "\n", 3, "user \"prom\" appears twice (first on line 2)",
		NULL);
	REFUSED("basic_auth_users:\n  - prom\n", 2, "basic_auth_users: expected a mapping, found a list", NULL);
	REFUSED("basic_auth_users:\n  prom: [" H04 "]\n", 2, "expected a string, found a list", NULL);
	/* the hash is never echoed */
	{
		struct web_config c;
		assert_int_equal(parse("basic_auth_users:\n  prom: $2b$04$secretsecret\n", &c), -EINVAL);
		assert_null(strstr(err.buf, "secretsecret"));
	}
}

static void test_refuses_hostile_yaml(void **state)
{
	(void)state;
	/* aliases: the way to a billion laughs */
	REFUSED("a: &a [x, x]\nb: *a\n", 1, "unknown key \"a\"", NULL);
	REFUSED("http_server_config: &h\n  http2: true\nbasic_auth_users: *h\n", 3, "YAML aliases", NULL);
	REFUSED("tls_server_config:\n  cert_file: !!binary YWJj\n", 2, "YAML tags", NULL);
	REFUSED("tls_server_config: !!map\n  cert_file: c\n", 1, "YAML tags", NULL);
	REFUSED("tls_server_config:\n  cert_file: c\n  key_file: k\n---\nbasic_auth_users: {}\n", 4, "a second YAML document",
		NULL);
	/* a NUL in a path would cut it short where C reads it */
	REFUSED("tls_server_config:\n  cert_file: \"/etc/cert\\0.pem\"\n  key_file: k\n", 2, "cert_file: a NUL character", NULL);
	REFUSED("tls_server_config:\n  cert_file: \"c\n  key_file: k\n", 4, "not valid YAML", NULL);
	REFUSED("tls_server_config:\n\tcert_file: c\n", 2, "not valid YAML", NULL);
	REFUSED("tls_server_config:\n  cert_file: c\n key_file: k\n", 3, "not valid YAML", NULL);
	REFUSED("tls_server_config:\n  cert_file: c\xff\xfe\n", 2, "not YAML text", NULL);
	REFUSED("tls_server_config:\n  cert_file: c\0d\n", 2, "not YAML text", NULL);
	/* deep nesting stops at the first value that is not what the format has there */
	{
		char text[4096];
		size_t n = 0;
		n += (size_t)snprintf(text + n, sizeof(text) - n, "basic_auth_users: ");
		for (int i = 0; i < 1000; i++)
			text[n++] = '[';
		text[n] = '\0';
		refused(text, n, 1, "basic_auth_users: expected a mapping, found a list", NULL);
	}
}

static void test_same_compares_what_is_served(void **state)
{
	struct web_config a, b;

	(void)state;
	assert_int_equal(parse("http_server_config:\n  headers:\n    X-Frame-Options: deny\n    X-XSS-Protection: '0'\n", &a), 0);
	assert_int_equal(parse("http_server_config:\n  headers: {X-XSS-Protection: '0', X-Frame-Options: deny}\n", &b), 0);
	assert_true(web_config_same(&a, &b));
	web_config_done(&b);
	assert_int_equal(parse("http_server_config:\n  headers: {X-XSS-Protection: '1', X-Frame-Options: deny}\n", &b), 0);
	assert_false(web_config_same(&a, &b));
	web_config_done(&b);
	assert_int_equal(parse("basic_auth_users: {prom: '" H04 "'}\nhttp_server_config:\n  headers: {X-XSS-Protection: '0', "
			       "X-Frame-Options: deny}\n",
			       &b),
			 0);
	assert_false(web_config_same(&a, &b));
	web_config_done(&a);
	web_config_done(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_files_mean_plain_http_without_auth),
		cmocka_unit_test(test_full_file_paths_resolved_against_its_directory),
		cmocka_unit_test(test_every_client_auth_type),
		cmocka_unit_test(test_refuses_keys_it_does_not_know_or_implement),
		cmocka_unit_test(test_refuses_repeats_bad_values_and_settings_that_do_not_go_together),
		cmocka_unit_test(test_refuses_headers_exporter_toolkit_refuses),
		cmocka_unit_test(test_refuses_users_the_users_file_refuses),
		cmocka_unit_test(test_refuses_hostile_yaml),
		cmocka_unit_test(test_same_compares_what_is_served),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	buf_done(&err);
	return r;
}
