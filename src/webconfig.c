/* webconfig.c — the exporter-toolkit web configuration file, and the shorthand flags; see
 * webconfig.h.
 *
 * libyaml turns the text into events (mapping start, scalar, ...); a small descent over them
 * knows the three levels of the format and nothing else. Anything it does not expect (a key it
 * does not know, a list where a string belongs, an alias) ends the parse at once with the line
 * it was found on, so no part of a hostile file is walked twice or recursed into. libyaml bounds
 * its own nesting, and the file is at most 1 MiB.
 */
#include "webconfig.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define WEB_CONFIG_MAX_SIZE (1024 * 1024)

/* The headers exporter-toolkit lets a file set, with the values it allows (NULL: any). Kept in
 * step with its extraHTTPHeaders on purpose: one file must mean the same to every exporter. */
static const struct {
	const char *name;
	const char *const values[3];
} allowed_headers[WEB_HEADERS_MAX] = {
	{ "Content-Security-Policy", { NULL } },
	{ "Strict-Transport-Security", { NULL } },
	{ "X-Content-Type-Options", { "nosniff", NULL } },
	{ "X-Frame-Options", { "deny", "sameorigin", NULL } },
	{ "X-XSS-Protection", { NULL } },
};

static const struct {
	const char *name;
	enum tls_client_auth mode;
} client_auth_types[] = {
	{ "NoClientCert", TLS_CLIENT_NONE },
	{ "RequestClientCert", TLS_CLIENT_REQUEST },
	{ "RequireAnyClientCert", TLS_CLIENT_REQUIRE_ANY },
	{ "RequireClientCert", TLS_CLIENT_REQUIRE_ANY }, /* exporter-toolkit's older name */
	{ "VerifyClientCertIfGiven", TLS_CLIENT_VERIFY_IF_GIVEN },
	{ "RequireAndVerifyClientCert", TLS_CLIENT_REQUIRE_AND_VERIFY },
};

/* exporter-toolkit keys this server does not implement, and why: refused by name */
static const struct {
	const char *section, *key, *why;
} unsupported[] = {
	{ NULL, "rate_limit", "procmem_exporter serves scrapes from memory and bounds connections itself" },
	{ "tls_server_config", "cert", "give the certificate as cert_file" },
	{ "tls_server_config", "key", "give the key as key_file" },
	{ "tls_server_config", "client_ca", "give the client CAs as client_ca_file" },
	{ "tls_server_config", "cipher_suites",
	  "procmem_exporter offers AEAD ciphers with forward secrecy only (AES-GCM, ChaCha20-Poly1305)" },
	{ "tls_server_config", "curve_preferences", "GnuTLS's defaults apply" },
	{ "tls_server_config", "client_allowed_sans", "restrict clients through client_ca_file" },
};

/* ---- the event reader ------------------------------------------------------------------------ */

struct reader {
	yaml_parser_t parser;
	yaml_event_t ev; /* the current event, valid while have_ev */
	bool have_ev;
	const char *text;
	size_t len;
	const char *path;
	struct buf *err;
};

static unsigned ev_line(const struct reader *y)
{
	return (unsigned)y->ev.start_mark.line + 1;
}

/* s (n bytes, from the file: any bytes) quoted for a message: control characters, '"' and
 * '\\' escaped, cut at 64 bytes. */
static void add_quoted(struct buf *b, const char *s, size_t n)
{
	buf_addch(b, '"');
	for (size_t i = 0; i < n && i < 64; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			buf_addf(b, "\\x%02x", c);
		else
			buf_addch(b, (char)c);
	}
	buf_addstr(b, n > 64 ? "\"..." : "\"");
}

/* Starts a message about line `line`: "PATH:LINE: ". */
static struct buf *fail_at(struct reader *y, unsigned line)
{
	buf_addf(y->err, "%s:%u: ", y->path, line);
	return y->err;
}

/* The line holding byte `offset` of the text (libyaml's reader errors give an offset only). */
static unsigned line_of_offset(const struct reader *y, size_t offset)
{
	unsigned line = 1;

	for (size_t i = 0; i < offset && i < y->len; i++)
		line += y->text[i] == '\n';
	return line;
}

/* The next event into y->ev. Aliases and tags are refused here, for every node. */
static int next(struct reader *y)
{
	const yaml_char_t *tag = NULL;

	if (y->have_ev) {
		yaml_event_delete(&y->ev);
		y->have_ev = false;
	}
	if (!yaml_parser_parse(&y->parser, &y->ev)) {
		const yaml_parser_t *p = &y->parser;

		if (p->error == YAML_MEMORY_ERROR)
			return -ENOMEM;
		if (p->error == YAML_READER_ERROR)
			buf_addf(fail_at(y, line_of_offset(y, p->problem_offset)), "not YAML text: %s",
				 p->problem ? p->problem : "unreadable");
		else {
			buf_addf(fail_at(y, (unsigned)p->problem_mark.line + 1), "not valid YAML: %s%s%s",
				 p->problem ? p->problem : "syntax error", p->context ? " " : "",
				 p->context ? p->context : "");
			/* an unclosed quote or bracket is found at the end: say where it opened */
			if (p->context && p->context_mark.line != p->problem_mark.line)
				buf_addf(y->err, " (which started on line %u)", (unsigned)p->context_mark.line + 1);
		}
		return -EINVAL;
	}
	y->have_ev = true;
	switch (y->ev.type) {
	case YAML_ALIAS_EVENT:
		buf_addstr(fail_at(y, ev_line(y)), "YAML aliases (*name) are not supported");
		return -EINVAL;
	case YAML_SCALAR_EVENT:
		tag = y->ev.data.scalar.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		tag = y->ev.data.mapping_start.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		tag = y->ev.data.sequence_start.tag;
		break;
	default:
		break;
	}
	if (tag) {
		buf_addstr(fail_at(y, ev_line(y)), "YAML tags (!tag) are not supported");
		return -EINVAL;
	}
	return 0;
}

static const char *kind_name(yaml_event_type_t t)
{
	switch (t) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_SCALAR_EVENT:
		return "a value";
	default:
		return "nothing";
	}
}

/* A plain null: nothing after the colon, "~" or "null". */
static bool is_null(const struct reader *y)
{
	const char *v = (const char *)y->ev.data.scalar.value;

	if (y->ev.type != YAML_SCALAR_EVENT || y->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* After a key: the value is to be a mapping (returns 1, its start consumed) or null (0). */
static int expect_mapping(struct reader *y, const char *key)
{
	int r = next(y);

	if (r < 0)
		return r;
	if (y->ev.type == YAML_MAPPING_START_EVENT)
		return 1;
	if (is_null(y))
		return 0;
	buf_addf(fail_at(y, ev_line(y)), "%s: expected a mapping, found %s", key, kind_name(y->ev.type));
	return -EINVAL;
}

/* The next key of the mapping being read: 1 with the key in y->ev, 0 at the mapping's end. */
static int next_key(struct reader *y)
{
	int r = next(y);

	if (r < 0)
		return r;
	if (y->ev.type == YAML_MAPPING_END_EVENT)
		return 0;
	if (y->ev.type != YAML_SCALAR_EVENT) {
		buf_addf(fail_at(y, ev_line(y)), "expected a key, found %s", kind_name(y->ev.type));
		return -EINVAL;
	}
	return 1;
}

/* After a key: its value, a string, copied into *ret (NULL for null or empty); refuses NUL
 * bytes. */
static int read_string(struct reader *y, const char *key, char **ret, unsigned *ret_line)
{
	int r = next(y);
	char *s;

	if (r < 0)
		return r;
	if (y->ev.type != YAML_SCALAR_EVENT) {
		buf_addf(fail_at(y, ev_line(y)), "%s: expected a string, found %s", key, kind_name(y->ev.type));
		return -EINVAL;
	}
	if (ret_line)
		*ret_line = ev_line(y);
	/* null and "" alike: not set, as in Go, where a missing string is the empty one */
	if (is_null(y) || y->ev.data.scalar.length == 0) {
		free(*ret);
		*ret = NULL;
		return 0;
	}
	if (memchr(y->ev.data.scalar.value, '\0', y->ev.data.scalar.length)) {
		buf_addf(fail_at(y, ev_line(y)), "%s: a NUL character in the value", key);
		return -EINVAL;
	}
	s = strndup((const char *)y->ev.data.scalar.value, y->ev.data.scalar.length);
	if (!s)
		return -ENOMEM;
	free(*ret);
	*ret = s;
	return 0;
}

/* After a key: a boolean as YAML 1.1 writes them (Go's yaml.v2 reads these), unquoted. */
static int read_bool(struct reader *y, const char *key, bool *ret)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N" };
	const char *v;
	int r = next(y);

	if (r < 0)
		return r;
	if (y->ev.type == YAML_SCALAR_EVENT && y->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		v = (const char *)y->ev.data.scalar.value;
		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (!strcmp(v, yes[i]) || !strcmp(v, no[i])) {
				*ret = !strcmp(v, yes[i]);
				return 0;
			}
		}
	}
	buf_addf(fail_at(y, ev_line(y)), "%s: expected true or false", key);
	return -EINVAL;
}

/* The key in y->ev equals s. */
static bool key_is(const struct reader *y, const char *s)
{
	return y->ev.data.scalar.length == strlen(s) && !memcmp(y->ev.data.scalar.value, s, strlen(s));
}

/* The key in y->ev is one exporter-toolkit has and this server refuses: says so, -EINVAL. */
static int check_unsupported(struct reader *y, const char *section)
{
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		if ((!section) != (!unsupported[i].section) || (section && strcmp(section, unsupported[i].section)))
			continue;
		if (key_is(y, unsupported[i].key)) {
			buf_addf(fail_at(y, ev_line(y)), "%s%s%s: not supported by procmem_exporter (%s)",
				 section ? section : "", section ? "." : "", unsupported[i].key, unsupported[i].why);
			return -EINVAL;
		}
	}
	return 0;
}

static int unknown_key(struct reader *y, const char *section, const char *expected)
{
	struct buf *b;
	int r = check_unsupported(y, section);

	if (r < 0)
		return r;
	b = fail_at(y, ev_line(y));
	buf_addf(b, "%s%sunknown key ", section ? section : "", section ? ": " : "");
	add_quoted(b, (const char *)y->ev.data.scalar.value, y->ev.data.scalar.length);
	buf_addf(b, " (expected %s)", expected);
	return -EINVAL;
}

/* Remembers that the key in y->ev was seen at its line; refuses a second one. */
static int once(struct reader *y, unsigned *seen_line, const char *key)
{
	if (*seen_line) {
		buf_addf(fail_at(y, ev_line(y)), "%s: set twice (first on line %u)", key, *seen_line);
		return -EINVAL;
	}
	*seen_line = ev_line(y);
	return 0;
}

/* ---- the sections ---------------------------------------------------------------------------- */

/* What the descent collects besides struct web_config: the tls_server_config strings as
 * written, and lines for messages about settings that go together. */
struct parsed {
	char *client_auth_type, *min_version, *max_version;
	unsigned tls_line, client_auth_line, min_line, max_line;
};

static int parse_version(struct reader *y, const char *key, const char *v, unsigned line, enum tls_version *ret)
{
	struct buf *b;

	if (!strcmp(v, "TLS12")) {
		*ret = TLS_VERSION_1_2;
		return 0;
	}
	if (!strcmp(v, "TLS13")) {
		*ret = TLS_VERSION_1_3;
		return 0;
	}
	b = fail_at(y, line);
	if (!strcmp(v, "TLS10") || !strcmp(v, "TLS11")) {
		buf_addf(b, "tls_server_config.%s: %s is not offered by procmem_exporter (TLS 1.0 and 1.1 are "
			    "deprecated, RFC 8996); use TLS12 or TLS13", key, v);
		return -EINVAL;
	}
	buf_addf(b, "tls_server_config.%s: unknown TLS version ", key);
	add_quoted(b, v, strlen(v));
	buf_addstr(b, " (expected TLS12 or TLS13)");
	return -EINVAL;
}

static int parse_tls(struct reader *y, struct web_config *c, struct parsed *p)
{
	/* the string settings: where each goes, and where its line is kept */
	const struct {
		const char *key;
		char **value;
		unsigned *line;
	} strings[] = {
		{ "cert_file", &c->cert_file, &c->cert_line },
		{ "key_file", &c->key_file, &c->key_line },
		{ "client_ca_file", &c->client_ca_file, &c->ca_line },
		{ "client_auth_type", &p->client_auth_type, &p->client_auth_line },
		{ "min_version", &p->min_version, &p->min_line },
		{ "max_version", &p->max_version, &p->max_line },
	};
	unsigned seen[sizeof(strings) / sizeof(strings[0]) + 1] = { 0 };
	char name[64];
	bool ignored;
	int r = expect_mapping(y, "tls_server_config");

	if (r <= 0)
		return r;
	while ((r = next_key(y)) > 0) {
		size_t i;

		for (i = 0; i < sizeof(strings) / sizeof(strings[0]) && !key_is(y, strings[i].key); i++)
			;
		if (i < sizeof(strings) / sizeof(strings[0])) {
			snprintf(name, sizeof(name), "tls_server_config.%s", strings[i].key);
			r = once(y, &seen[i], name);
			if (r == 0)
				r = read_string(y, name, strings[i].value, strings[i].line);
		} else if (key_is(y, "prefer_server_cipher_suites")) {
			/* the server's preference is what GnuTLS applies here, and Go ignores the key */
			r = once(y, &seen[i], "tls_server_config.prefer_server_cipher_suites");
			if (r == 0)
				r = read_bool(y, "tls_server_config.prefer_server_cipher_suites", &ignored);
		} else {
			r = unknown_key(y, "tls_server_config",
					"cert_file, key_file, client_auth_type, client_ca_file, min_version or max_version");
		}
		if (r < 0)
			return r;
	}
	return r;
}

static int parse_headers(struct reader *y, struct web_config *c)
{
	unsigned seen[WEB_HEADERS_MAX] = { 0 };
	int r = expect_mapping(y, "http_server_config.headers");

	if (r <= 0)
		return r;
	while ((r = next_key(y)) > 0) {
		size_t i;
		char *v = NULL;
		unsigned line = ev_line(y);

		for (i = 0; i < WEB_HEADERS_MAX && !key_is(y, allowed_headers[i].name); i++)
			;
		if (i == WEB_HEADERS_MAX) {
			struct buf *b = fail_at(y, line);
			buf_addstr(b, "http_server_config.headers: header ");
			add_quoted(b, (const char *)y->ev.data.scalar.value, y->ev.data.scalar.length);
			buf_addstr(b, " can not be configured (expected Content-Security-Policy, "
				      "Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options or "
				      "X-XSS-Protection)");
			return -EINVAL;
		}
		r = once(y, &seen[i], allowed_headers[i].name);
		if (r == 0)
			r = read_string(y, allowed_headers[i].name, &v, NULL);
		if (r < 0)
			return r;
		if (!v)
			continue; /* blank: not sent, as exporter-toolkit's documentation says */
		for (const char *q = v; *q; q++) {
			/* a CR or LF would end the header and start another one of the file's choosing */
			if ((unsigned char)*q < 0x20 ? *q != '\t' : *q == 0x7f) {
				buf_addf(fail_at(y, ev_line(y)), "%s: a control character in the value",
					 allowed_headers[i].name);
				free(v);
				return -EINVAL;
			}
		}
		if (allowed_headers[i].values[0]) {
			size_t k;
			for (k = 0; allowed_headers[i].values[k] && strcmp(v, allowed_headers[i].values[k]); k++)
				;
			if (!allowed_headers[i].values[k]) {
				struct buf *b = fail_at(y, ev_line(y));
				buf_addf(b, "%s: invalid value ", allowed_headers[i].name);
				add_quoted(b, v, strlen(v));
				buf_addf(b, " (expected %s%s%s)", allowed_headers[i].values[0],
					 allowed_headers[i].values[1] ? " or " : "",
					 allowed_headers[i].values[1] ? allowed_headers[i].values[1] : "");
				free(v);
				return -EINVAL;
			}
		}
		c->headers[c->nheaders++] = (struct web_header){ allowed_headers[i].name, v };
	}
	return r;
}

static int parse_http(struct reader *y, struct web_config *c)
{
	unsigned seen[2] = { 0 };
	bool ignored;
	int r = expect_mapping(y, "http_server_config");

	if (r <= 0)
		return r;
	while ((r = next_key(y)) > 0) {
		if (key_is(y, "headers")) {
			r = once(y, &seen[0], "http_server_config.headers");
			if (r == 0)
				r = parse_headers(y, c);
		} else if (key_is(y, "http2")) {
			/* HTTP/2 is an offer a client may take or not: libmicrohttpd offers HTTP/1.1
			 * only, which every client speaks, whatever the file says */
			r = once(y, &seen[1], "http_server_config.http2");
			if (r == 0)
				r = read_bool(y, "http_server_config.http2", &ignored);
		} else {
			r = unknown_key(y, "http_server_config", "headers or http2");
		}
		if (r < 0)
			return r;
	}
	return r;
}

static int parse_users(struct reader *y, struct web_config *c)
{
	int r = expect_mapping(y, "basic_auth_users");

	if (r <= 0)
		return r; /* null: no users, no auth, as in exporter-toolkit */
	c->auth = auth_new();
	if (!c->auth)
		return -ENOMEM;
	while ((r = next_key(y)) > 0) {
		unsigned line = ev_line(y);
		char *name = strndup((const char *)y->ev.data.scalar.value, y->ev.data.scalar.length);
		size_t name_len = y->ev.data.scalar.length;
		char *hash = NULL;
		struct buf why = BUF_INIT;

		if (!name)
			return -ENOMEM;
		r = read_string(y, "basic_auth_users", &hash, NULL);
		if (r == 0)
			r = auth_add_user(c->auth, name, name_len, hash ? hash : "", hash ? strlen(hash) : 0, line, &why);
		if (r == -EINVAL && why.len)
			buf_addf(fail_at(y, line), "basic_auth_users: %s", why.buf);
		free(name);
		if (hash) {
			explicit_bzero(hash, strlen(hash));
			free(hash);
		}
		buf_done(&why);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	if (auth_user_count(c->auth) == 0) {
		auth_free(c->auth); /* "basic_auth_users: {}": no auth either */
		c->auth = NULL;
		return 0;
	}
	{
		struct buf why = BUF_INIT;
		r = auth_seal(c->auth, &why);
		if (r < 0)
			buf_addf(y->err, "%s: %s", y->path, why.buf);
		buf_done(&why);
	}
	return r;
}

/* The top-level mapping, from just after its start. */
static int parse_top(struct reader *y, struct web_config *c, struct parsed *p)
{
	unsigned seen[3] = { 0 };
	int r;

	while ((r = next_key(y)) > 0) {
		if (key_is(y, "tls_server_config")) {
			r = once(y, &seen[0], "tls_server_config");
			p->tls_line = ev_line(y);
			if (r == 0)
				r = parse_tls(y, c, p);
		} else if (key_is(y, "http_server_config")) {
			r = once(y, &seen[1], "http_server_config");
			if (r == 0)
				r = parse_http(y, c);
		} else if (key_is(y, "basic_auth_users")) {
			r = once(y, &seen[2], "basic_auth_users");
			if (r == 0)
				r = parse_users(y, c);
		} else {
			r = unknown_key(y, NULL, "tls_server_config, http_server_config or basic_auth_users");
		}
		if (r < 0)
			return r;
	}
	return r;
}

/* The whole stream: nothing, or one document holding a mapping or nothing. */
static int parse_stream(struct reader *y, struct web_config *c, struct parsed *p)
{
	int r = next(y);

	if (r < 0)
		return r;
	assert(y->ev.type == YAML_STREAM_START_EVENT);
	r = next(y);
	if (r < 0 || y->ev.type == YAML_STREAM_END_EVENT)
		return r; /* an empty file (or comments only): plain HTTP, no auth */
	assert(y->ev.type == YAML_DOCUMENT_START_EVENT);
	r = next(y);
	if (r < 0)
		return r;
	if (y->ev.type == YAML_MAPPING_START_EVENT)
		r = parse_top(y, c, p);
	else if (!is_null(y)) {
		buf_addf(fail_at(y, ev_line(y)), "expected a mapping of tls_server_config, http_server_config "
						 "and basic_auth_users, found %s", kind_name(y->ev.type));
		return -EINVAL;
	}
	if (r < 0 || (r = next(y)) < 0)
		return r;
	assert(y->ev.type == YAML_DOCUMENT_END_EVENT);
	r = next(y);
	if (r < 0)
		return r;
	if (y->ev.type != YAML_STREAM_END_EVENT) {
		buf_addstr(fail_at(y, ev_line(y)), "a second YAML document; the file holds one");
		return -EINVAL;
	}
	return 0;
}

/* ---- what goes together ---------------------------------------------------------------------- */

/* A path as exporter-toolkit resolves it: relative to the directory of the file naming it. */
static int resolve(const char *config_path, char **path)
{
	const char *slash = strrchr(config_path, '/');
	struct buf b = BUF_INIT;

	if (!*path || (*path)[0] == '/' || !slash)
		return 0;
	buf_add(&b, config_path, (size_t)(slash - config_path) + 1);
	buf_addstr(&b, *path);
	if (buf_failed(&b))
		return -ENOMEM;
	free(*path);
	*path = buf_detach(&b, NULL);
	return 0;
}

static int check(struct reader *y, struct web_config *c, struct parsed *p)
{
	bool tls = c->cert_file || c->key_file || c->client_ca_file || p->client_auth_type;
	unsigned line = p->tls_line;
	int r;

	if (p->client_auth_type) {
		size_t i;
		for (i = 0; i < sizeof(client_auth_types) / sizeof(client_auth_types[0]); i++)
			if (!strcmp(p->client_auth_type, client_auth_types[i].name))
				break;
		if (i == sizeof(client_auth_types) / sizeof(client_auth_types[0])) {
			struct buf *b = fail_at(y, p->client_auth_line);
			buf_addstr(b, "tls_server_config.client_auth_type: unknown value ");
			add_quoted(b, p->client_auth_type, strlen(p->client_auth_type));
			buf_addstr(b, " (expected NoClientCert, RequestClientCert, RequireAnyClientCert, "
				      "VerifyClientCertIfGiven or RequireAndVerifyClientCert)");
			return -EINVAL;
		}
		c->client_auth = client_auth_types[i].mode;
	}
	if (p->min_version && (r = parse_version(y, "min_version", p->min_version, p->min_line, &c->min_version)) < 0)
		return r;
	if (p->max_version && (r = parse_version(y, "max_version", p->max_version, p->max_line, &c->max_version)) < 0)
		return r;
	if (c->min_version > c->max_version) {
		buf_addstr(fail_at(y, p->min_line ? p->min_line : p->max_line),
			   "tls_server_config: min_version is above max_version: no connection could be made");
		return -EINVAL;
	}
	if (!tls)
		return 0;
	if (!c->cert_file) {
		buf_addstr(fail_at(y, line), "tls_server_config: missing cert_file");
		return -EINVAL;
	}
	if (!c->key_file) {
		buf_addstr(fail_at(y, line), "tls_server_config: missing key_file");
		return -EINVAL;
	}
	if (c->client_ca_file && c->client_auth == TLS_CLIENT_NONE) {
		buf_addstr(fail_at(y, c->ca_line), "tls_server_config: client_ca_file needs a client_auth_type "
						   "that asks for certificates (RequireAndVerifyClientCert, say)");
		return -EINVAL;
	}
	if (!c->client_ca_file && tls_client_auth_verifies(c->client_auth)) {
		buf_addf(fail_at(y, p->client_auth_line), "tls_server_config: %s needs client_ca_file, the CAs "
							   "client certificates must chain to",
			 p->client_auth_type);
		return -EINVAL;
	}
	if ((r = resolve(y->path, &c->cert_file)) < 0 || (r = resolve(y->path, &c->key_file)) < 0 ||
	    (r = resolve(y->path, &c->client_ca_file)) < 0)
		return r;
	return 0;
}

static void defaults(struct web_config *c)
{
	*c = (struct web_config){ .min_version = TLS_VERSION_1_2, .max_version = TLS_VERSION_1_3,
				  .client_auth = TLS_CLIENT_NONE };
}

int web_config_parse(const char *text, size_t len, const char *path, struct web_config *ret, struct buf *err)
{
	struct reader y = { .text = text, .len = len, .path = path, .err = err };
	struct parsed p = { 0 };
	struct web_config c;
	int r;

	assert((text || len == 0) && path && ret && err);
	defaults(&c);
	if (!yaml_parser_initialize(&y.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)(text ? text : ""), len);
	r = parse_stream(&y, &c, &p);
	if (r == 0)
		r = check(&y, &c, &p);
	if (y.have_ev)
		yaml_event_delete(&y.ev);
	yaml_parser_delete(&y.parser);
	free(p.client_auth_type);
	free(p.min_version);
	free(p.max_version);
	if (r < 0) {
		if (r == -ENOMEM && err->len == 0)
			buf_addf(err, "%s: out of memory", path);
		web_config_done(&c);
		return r;
	}
	*ret = c;
	return 0;
}

int web_config_load(const char *path, struct web_config *ret, struct buf *err)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct web_config c;
	const char *bad = NULL;
	int r;

	assert(path && ret && err);
	r = buf_read_file(&text, path, WEB_CONFIG_MAX_SIZE);
	if (r < 0) {
		if (r == -EFBIG)
			buf_addf(err, "%s: larger than 1 MiB; not a web configuration file", path);
		else
			buf_addf(err, "%s: %s", path, strerror(-r));
		r = -EINVAL;
		goto out;
	}
	r = web_config_parse(text.buf, text.len, path, &c, err);
	if (r < 0)
		goto out;
	if (c.cert_file) {
		r = tls_pem_load(c.cert_file, c.key_file, c.client_ca_file, &c.tls, &bad, &why);
		if (r < 0) {
			buf_addf(err, "%s:%u: %s", path,
				 bad == c.client_ca_file ? c.ca_line : bad == c.key_file ? c.key_line : c.cert_line, why.buf);
			/* the configuration file expands ${CREDENTIALS_DIRECTORY}/, this one (shared with
			 * the Go exporters, which expand nothing) does not: say what works instead */
			if (bad && strstr(bad, "${"))
				buf_addstr(err, " (nothing is expanded in a web configuration file: name a file "
						"beside it by its bare name, relative paths being relative to the "
						"file's directory)");
			web_config_done(&c);
			r = -EINVAL;
			goto out;
		}
	}
	*ret = c;
out:
	/* the users' hashes were in it */
	explicit_bzero(text.buf, text.len);
	buf_done(&text);
	buf_done(&why);
	return r;
}

int web_config_from_flags(const char *cert, const char *key, const char *users_file, struct web_config *ret,
			  struct buf *err)
{
	struct web_config c;
	int r;

	assert(!cert == !key && ret && err);
	defaults(&c);
	if (cert && (!(c.cert_file = strdup(cert)) || !(c.key_file = strdup(key)))) {
		r = -ENOMEM;
		goto fail;
	}
	if (cert && (r = tls_pem_load(cert, key, NULL, &c.tls, NULL, err)) < 0)
		goto fail;
	if (users_file && (r = auth_load(users_file, &c.auth, err)) < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	if (r == -ENOMEM && err->len == 0)
		buf_addstr(err, "out of memory");
	web_config_done(&c);
	return r;
}

void web_config_done(struct web_config *c)
{
	if (!c)
		return;
	free(c->cert_file);
	free(c->key_file);
	free(c->client_ca_file);
	tls_pem_done(&c->tls);
	auth_free(c->auth);
	for (size_t i = 0; i < c->nheaders; i++)
		free(c->headers[i].value);
	memset(c, 0, sizeof(*c));
}

bool web_config_same(const struct web_config *a, const struct web_config *b)
{
	if (!tls_pem_same(&a->tls, &b->tls) || a->min_version != b->min_version || a->max_version != b->max_version ||
	    a->client_auth != b->client_auth || !auth_same(a->auth, b->auth) || a->nheaders != b->nheaders)
		return false;
	for (size_t i = 0; i < a->nheaders; i++) {
		size_t k;
		for (k = 0; k < b->nheaders && strcmp(a->headers[i].name, b->headers[k].name); k++)
			;
		if (k == b->nheaders || strcmp(a->headers[i].value, b->headers[k].value))
			return false;
	}
	return true;
}
