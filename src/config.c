/* config.c — options: one table, two sources (configuration file, then command line).
 *
 * Each row of the option table names an option (the long flag without its dashes), the parser
 * that reads its value and the field of struct config that the parser sets, in the style of
 * systemd's conf-parser: adding an option is a field, a row, and a parser if none fits. The
 * command line is scanned with getopt_long into (option, value) pairs first, so that --config is
 * known before anything is applied; then defaults, then the file, then the pairs, then the
 * checks that involve several options (TLS key and certificate together).
 *
 * The file is read here, a line at a time (config.h has its format). It was libinih's until
 * Debian's build of it defined the format in our place: lines cut at 198 bytes, indented lines
 * continuing the one before, no line number for the handler, and its settings as global
 * variables of the shared library. What it did for us beyond that was split at '=' and strip
 * blanks: this reader is no longer than the workarounds it replaces (a reader to count lines, a
 * pass over every line for what libinih would have mishandled), and one library less.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pattern.h"

struct opt;

/* Parses v into the option's field of c; on error, says in err what was expected. 0, -EINVAL
 * or -ENOMEM. */
typedef int (*opt_parser)(struct config *c, const struct opt *o, const char *v, struct buf *err);

enum {
	OPT_CLI_ONLY = 1 << 0, /* not a file key */
	OPT_RESTART = 1 << 1,  /* a reload cannot apply it (config_changes) */
	OPT_TEXT = 1 << 2,     /* the field is a char * (set by the table's macro) */
};

struct opt {
	const char *name;
	opt_parser parse;
	size_t off, size; /* the field the parser sets */
	unsigned flags;
	uint64_t min, max; /* for durations, sizes and numbers */
};

/* ---- value parsers ------------------------------------------------------------------------- */

/* Parses "123" or "123.456" into a whole part and up to 9 fraction digits (nanos scale). */
static int parse_decimal(const char **s, uint64_t *ret_whole, uint64_t *ret_frac9)
{
	const char *p = *s;
	uint64_t whole = 0, frac = 0, scale = 100000000;
	bool digits = false;

	for (; *p >= '0' && *p <= '9'; p++, digits = true) {
		if (__builtin_mul_overflow(whole, 10, &whole) ||
		    __builtin_add_overflow(whole, (uint64_t)(*p - '0'), &whole))
			return -ERANGE;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
			if (scale == 0) {
				if (*p != '0')
					return -EINVAL; /* finer than a nanosecond/byte fraction */
				continue;
			}
			frac += (uint64_t)(*p - '0') * scale;
			scale /= 10;
		}
	}
	if (!digits)
		return -EINVAL;
	*s = p;
	*ret_whole = whole;
	*ret_frac9 = frac;
	return 0;
}

/* whole.frac9 * mult, exactly; -EINVAL if it is not a whole number of units. */
static int scale_decimal(uint64_t whole, uint64_t frac9, uint64_t mult, uint64_t *ret)
{
	uint64_t a, b;
	unsigned __int128 f = (unsigned __int128)frac9 * mult;

	if (__builtin_mul_overflow(whole, mult, &a))
		return -ERANGE;
	if (f % 1000000000u)
		return -EINVAL;
	b = (uint64_t)(f / 1000000000u);
	if (__builtin_add_overflow(a, b, ret))
		return -ERANGE;
	return 0;
}

int config_parse_size(const char *s, uint64_t *ret)
{
	static const char units[] = "KMGTPE";
	uint64_t whole, frac, mult = 1;
	const char *u;
	int r;

	assert(s && ret);
	r = parse_decimal(&s, &whole, &frac);
	if (r < 0)
		return r;
	if (*s) {
		u = strchr(units, *s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s);
		if (u && *u) {
			for (long i = 0; i <= u - units; i++)
				mult *= 1024;
			s++;
			if (*s == 'i')
				s++;
		}
		if (*s == 'B')
			s++;
		if (*s)
			return -EINVAL;
	}
	return scale_decimal(whole, frac, mult, ret);
}

int config_parse_duration(const char *s, uint64_t *ret_ns)
{
	static const struct {
		const char *suffix;
		uint64_t ns;
	} units[] = {
		{ "", 1000000000u },   { "s", 1000000000u },	{ "ms", 1000000u },
		{ "us", 1000u },       { "m", 60000000000u },	{ "h", 3600000000000u },
	};
	uint64_t whole, frac;
	size_t i;
	int r;

	assert(s && ret_ns);
	r = parse_decimal(&s, &whole, &frac);
	if (r < 0)
		return r;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(s, units[i].suffix) == 0)
			return scale_decimal(whole, frac, units[i].ns, ret_ns);
	return -EINVAL;
}

static int parse_uint(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return -ERANGE;
	}
	*ret = v;
	return 0;
}

int config_split_listen_address(const char *addr, char **ret_host, char **ret_port)
{
	const char *colon, *host = addr, *host_end;
	uint64_t port;
	char *h, *p;

	assert(addr && ret_host && ret_port);
	if (addr[0] == '[') {
		host_end = strchr(addr, ']');
		if (!host_end || host_end[1] != ':')
			return -EINVAL;
		host = addr + 1;
		colon = host_end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return -EINVAL;
		host_end = colon;
		if (memchr(addr, ':', (size_t)(colon - addr)))
			return -EINVAL; /* an IPv6 address needs brackets */
	}
	if (parse_uint(colon + 1, &port) < 0 || port > 65535)
		return -EINVAL;
	h = strndup(host, (size_t)(host_end - host));
	p = strdup(colon + 1);
	if (!h || !p) {
		free(h);
		free(p);
		return -ENOMEM;
	}
	*ret_host = h;
	*ret_port = p;
	return 0;
}

int config_resolve_listen_address(const char *addr, struct buf *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char *host, *port;
	int r;

	r = config_split_listen_address(addr, &host, &port);
	if (r == -ENOMEM) {
		buf_addstr(err, "out of memory");
		return r;
	}
	if (r < 0) {
		buf_addf(err, "\"%s\" is not an address (expected HOST:PORT, :PORT or [IPv6]:PORT)", addr);
		return r;
	}
	/* an empty host is every address: nothing to resolve */
	if (*host && (r = getaddrinfo(host, port, &hints, &res)) != 0) {
		buf_addf(err, "web.listen-address: cannot resolve \"%s\": %s", host,
			 r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		r = r == EAI_MEMORY ? -ENOMEM : -EINVAL;
	} else {
		r = 0;
	}
	if (res)
		freeaddrinfo(res);
	free(host);
	free(port);
	return r;
}

/* ---- option parsers: each sets its option's field ------------------------------------------ */

static void *field(struct config *c, const struct opt *o)
{
	return (char *)c + o->off;
}

static int set_string(char **dst, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static void duration_text(struct buf *b, uint64_t ns)
{
	if (ns % 1000000000u == 0)
		buf_addf(b, "%llus", (unsigned long long)(ns / 1000000000u));
	else
		buf_addf(b, "%llums", (unsigned long long)(ns / 1000000u));
}

/* a flag: given (the command line only) */
static int opt_flag(struct config *c, const struct opt *o, const char *v, struct buf *err)
{
	(void)v;
	(void)err;
	assert(o->size == sizeof(bool));
	*(bool *)field(c, o) = true;
	return 0;
}

static int opt_string(struct config *c, const struct opt *o, const char *v, struct buf *err)
{
	assert(o->flags & OPT_TEXT);
	if (!*v) {
		buf_addstr(err, "expected a non-empty value");
		return -EINVAL;
	}
	return set_string(field(c, o), v);
}

/* A file name may start with ${CREDENTIALS_DIRECTORY}/: the directory where systemd puts a
 * service's LoadCredential= copies (root's files made readable for a DynamicUser=), which the
 * service finds in that environment variable. Outside the service the variable can name the
 * directory of the originals, so that --check-config checks them before any start. */
#define CREDENTIALS_VAR "${CREDENTIALS_DIRECTORY}"

static int expand_path(const char *v, struct buf *ret, struct buf *err)
{
	const char *dir;

	if (strncmp(v, CREDENTIALS_VAR "/", strlen(CREDENTIALS_VAR "/")) != 0) {
		buf_addstr(ret, v);
		return buf_failed(ret) ? -ENOMEM : 0;
	}
	dir = getenv("CREDENTIALS_DIRECTORY");
	if (!dir || !*dir) {
		buf_addf(err, "\"%s\" names " CREDENTIALS_VAR ", which is not set: systemd sets it for a "
			      "service with LoadCredential=; to check this configuration outside the service, "
			      "set it to the directory of the files the credentials are loaded from", v);
		return -EINVAL;
	}
	buf_addstr(ret, dir);
	buf_addstr(ret, v + strlen(CREDENTIALS_VAR));
	return buf_failed(ret) ? -ENOMEM : 0;
}

/* a file that must be readable now */
static int opt_path(struct config *c, const struct opt *o, const char *v, struct buf *err)
{
	struct buf path = BUF_INIT;
	int r;

	assert(o->flags & OPT_TEXT);
	if (!*v) {
		buf_addstr(err, "expected a file name");
		return -EINVAL;
	}
	r = expand_path(v, &path, err);
	if (r >= 0 && access(path.buf, R_OK) < 0) {
		int e = errno;

		buf_addf(err, "cannot read \"%s\": %s", path.buf, strerror(e));
		if (e == ENOENT && strncmp(path.buf, "/run/credentials/", 17) == 0)
			buf_addstr(err, " (systemd makes a service's credentials only while it runs: name "
					"them as " CREDENTIALS_VAR "/NAME to check the configuration "
					"beforehand, see the README)");
		r = -EINVAL;
	}
	if (r >= 0)
		r = set_string(field(c, o), path.buf);
	buf_done(&path);
	return r;
}

/* HOST:PORT, :PORT or [IPv6]:PORT */
static int opt_address(struct config *c, const struct opt *o, const char *v, struct buf *err)
{
	char *h, *p;
	int r;

	assert(o->flags & OPT_TEXT);
	r = config_split_listen_address(v, &h, &p);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		buf_addf(err, "\"%s\" is not an address (expected HOST:PORT, :PORT or [IPv6]:PORT)", v);
		return -EINVAL;
	}
	free(h);
	free(p);
	return set_string(field(c, o), v);
}

/* uint64_t nanoseconds, from min to max */
static int opt_duration(struct config *c, const struct opt *o, const char *v, struct buf *err)
{
	uint64_t n;
	int r;

	assert(o->size == sizeof(uint64_t));
	r = config_parse_duration(v, &n);
	if (r < 0 || n < o->min || n > o->max) {
		buf_addf(err, "\"%s\" is not a duration from ", v);
		duration_text(err, o->min);
		buf_addstr(err, " to ");
		duration_text(err, o->max);
		buf_addstr(err, " (expected seconds, or a number with ms, s, m or h, like 15s)");
		return -EINVAL;
	}
	*(uint64_t *)field(c, o) = n;
	return 0;
}

/* uint64_t bytes */
static int opt_size(struct config *c, const struct opt *o, const char *v, struct buf *err)
{
	uint64_t n;

	assert(o->size == sizeof(uint64_t));
	if (config_parse_size(v, &n) < 0) {
		buf_addf(err, "\"%s\" is not a size (expected bytes, with an optional K, M, G or T suffix, like 512M)", v);
		return -EINVAL;
	}
	*(uint64_t *)field(c, o) = n;
	return 0;
}

static int parse_ranged(const struct opt *o, const char *v, uint64_t *ret, struct buf *err)
{
	if (parse_uint(v, ret) < 0 || *ret < o->min || *ret > o->max) {
		buf_addf(err, "\"%s\" is not a whole number from %llu to %llu", v, (unsigned long long)o->min,
			 (unsigned long long)o->max);
		return -EINVAL;
	}
	return 0;
}

/* unsigned, from min to max */
static int opt_unsigned(struct config *c, const struct opt *o, const char *v, struct buf *err)
{
	uint64_t n;
	int r;

	assert(o->size == sizeof(unsigned) && o->max <= UINT_MAX);
	r = parse_ranged(o, v, &n, err);
	if (r < 0)
		return r;
	*(unsigned *)field(c, o) = (unsigned)n;
	return 0;
}

/* int, from min to max */
static int opt_int(struct config *c, const struct opt *o, const char *v, struct buf *err)
{
	uint64_t n;
	int r;

	assert(o->size == sizeof(int) && o->max <= INT_MAX);
	r = parse_ranged(o, v, &n, err);
	if (r < 0)
		return r;
	*(int *)field(c, o) = (int)n;
	return 0;
}

/* true or false */
static int opt_bool(struct config *c, const struct opt *o, const char *v, struct buf *err)
{
	assert(o->size == sizeof(bool));
	if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
		buf_addf(err, "\"%s\" is not a boolean (expected true or false)", v);
		return -EINVAL;
	}
	*(bool *)field(c, o) = v[0] == 't';
	return 0;
}

/* uint32_t millionths: a fraction from 0 to 1 ("0.01") */
static int opt_share(struct config *c, const struct opt *o, const char *v, struct buf *err)
{
	uint64_t whole, frac9;
	const char *p = v;
	int r;

	assert(o->size == sizeof(uint32_t));
	r = parse_decimal(&p, &whole, &frac9);
	if (r < 0 || *p || whole > 1 || (whole == 1 && frac9) || frac9 % 1000) {
		buf_addf(err, "\"%s\" is not a share of a core (expected a fraction from 0 to 1 "
			      "in millionths at most, like 0.01)", v);
		return -EINVAL;
	}
	*(uint32_t *)field(c, o) = (uint32_t)(whole * 1000000u + frac9 / 1000);
	return 0;
}

/* enum smaps_mode: off, rollup or full */
static int opt_smaps(struct config *c, const struct opt *o, const char *v, struct buf *err)
{
	static const enum smaps_mode modes[] = { SMAPS_OFF, SMAPS_ROLLUP, SMAPS_FULL };

	assert(o->size == sizeof(enum smaps_mode));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(v, smaps_mode_name(modes[i])) == 0) {
			*(enum smaps_mode *)field(c, o) = modes[i];
			return 0;
		}
	}
	buf_addf(err, "\"%s\" is not a smaps mode (expected off, rollup or full)", v);
	return -EINVAL;
}

/* --include or --exclude: the string as given, and compiled where it is given, so that a bad
 * one in the file is reported with its file and line */
static int opt_pattern(struct config *c, const struct opt *o, const char *v, struct buf *err)
{
	struct pattern **dst = o->off == offsetof(struct config, include) ? &c->include_pattern : &c->exclude_pattern;
	struct pattern *p;
	struct buf why = BUF_INIT;
	int r;

	assert(o->flags & OPT_TEXT);
	r = pattern_compile(v, &p, &why);
	if (r == -EINVAL)
		buf_addf(err, "\"%s\" is not a regular expression (PCRE2 syntax, see --help): %s", v, why.buf);
	buf_done(&why);
	if (r < 0)
		return r;
	r = set_string(field(c, o), v);
	if (r < 0) {
		pattern_free(p);
		return r;
	}
	pattern_free(*dst);
	*dst = p;
	return 0;
}

/* ---- the table ------------------------------------------------------------------------------- */

#define OPT(name, parser, fld, flags, min, max)                                                      \
	{ name, parser, offsetof(struct config, fld), sizeof(((struct config *)0)->fld),             \
	  (flags) | _Generic(((struct config *)0)->fld, char *: OPT_TEXT, default: 0), min, max }
#define DAY_NS 86400000000000u

static const struct opt opts[] = {
	OPT("config", opt_path, config_file, OPT_CLI_ONLY, 0, 0),
	OPT("web.listen-address", opt_address, listen_address, OPT_RESTART, 0, 0),
	OPT("interval", opt_duration, interval_ns, 0, 100000000u, DAY_NS),
	OPT("smaps", opt_smaps, smaps, 0, 0, 0),
	OPT("smaps-max-rss", opt_size, smaps_max_rss, 0, 0, UINT64_MAX),
	OPT("smaps-budget", opt_duration, smaps_budget_ns, 0, 0, DAY_NS),
	OPT("smaps-min-age", opt_duration, smaps_min_age_ns, 0, 0, DAY_NS),
	OPT("smaps-max-age", opt_duration, smaps_max_age_ns, 0, 1000000000u, 7 * DAY_NS),
	OPT("smaps-large-share", opt_share, smaps_large_share_ppm, 0, 0, 1000000),
	OPT("include", opt_pattern, include, 0, 0, 0),
	OPT("exclude", opt_pattern, exclude, 0, 0, 0),
	OPT("top", opt_unsigned, top, 0, 0, 1000000),
	OPT("detail-top", opt_unsigned, detail_top, 0, 0, 1000000),
	OPT("top-min-age", opt_duration, top_min_age_ns, 0, 0, DAY_NS),
	OPT("top-margin", opt_unsigned, top_margin_pct, 0, 0, 1000),
	OPT("min-rss", opt_size, min_rss, 0, 0, UINT64_MAX),
	OPT("mapping-top", opt_unsigned, mapping_top, 0, 0, 100000),
	OPT("cgroup-top", opt_unsigned, cgroup_top, 0, 0, 1000000),
	OPT("procfs", opt_string, procfs, OPT_RESTART, 0, 0),
	OPT("web.config.file", opt_path, web_config_file, OPT_RESTART, 0, 0),
	OPT("tls-cert", opt_path, tls_cert, OPT_RESTART, 0, 0),
	OPT("tls-key", opt_path, tls_key, OPT_RESTART, 0, 0),
	OPT("basic-auth-file", opt_path, basic_auth_file, OPT_RESTART, 0, 0),
	OPT("web.health-open", opt_bool, health_open, OPT_RESTART, 0, 0),
	OPT("gzip-level", opt_int, gzip_level, OPT_RESTART, 1, 9),
	OPT("once", opt_flag, once, OPT_CLI_ONLY, 0, 0),
	OPT("check-config", opt_flag, check_config, OPT_CLI_ONLY, 0, 0),
	OPT("version", opt_flag, version, OPT_CLI_ONLY, 0, 0),
	OPT("help", opt_flag, help, OPT_CLI_ONLY, 0, 0), /* last: -h is opts[OPT_HELP_INDEX] */
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))
#define OPT_HELP_INDEX ((int)NOPTS - 1)
#define OPT_VAL_BASE 256 /* getopt_long's val for opts[i]: clear of short options and of 0 */

/* Applies v to o, with "PREFIX: " before what err says on failure. */
static int apply(struct config *c, const struct opt *o, const char *prefix, const char *v, struct buf *err)
{
	size_t mark = err->len;
	int r;

	buf_addf(err, "%s: ", prefix);
	r = o->parse(c, o, v, err);
	if (r >= 0)
		buf_truncate(err, mark);
	else if (r == -ENOMEM)
		buf_addstr(err, "out of memory");
	return r;
}

/* ---- the configuration file (its format: config.h) ------------------------------------------- */

#define FILE_MAX_SIZE (1024 * 1024)

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* The key of an option in the file: --web.listen-address is web_listen_address. */
static bool key_matches(const char *key, const char *name)
{
	for (; *key && *name; key++, name++) {
		char n = *name == '-' || *name == '.' ? '_' : *name;
		if (*key != n)
			return false;
	}
	return *key == *name;
}

/* Where a ';' after a blank starts a comment in s, or its end. */
static char *comment_start(char *s)
{
	bool after_blank = false;

	for (; *s; s++) {
		if (*s == ';' && after_blank)
			break;
		after_blank = is_blank(*s);
	}
	return s;
}

static char *strip(char *s)
{
	char *end = s + strlen(s);

	while (is_blank(*s))
		s++;
	while (end > s && is_blank(end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* Cuts one line (NUL-terminated, without its newline) into *ret_key and *ret_value in place;
 * both NULL for a blank or comment line. prev_key, the last key read, is named when an indented
 * line looks like a continuation of its value. 0, or -EINVAL and err says why. */
static int file_split_line(char *line, const char *prev_key, char **ret_key, char **ret_value,
			   struct buf *err)
{
	char *s = strip(line), *sep;

	*ret_key = *ret_value = NULL;
	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		buf_addstr(err, "[sections] are not used; write key = value lines");
		return -EINVAL;
	}
	sep = s + strcspn(s, "=:");
	if (!*sep || comment_start(s) < sep) {
		buf_addstr(err, "expected key = value");
		if (s > line && prev_key)
			buf_addf(err, " (a value is one line: an indented line does not continue the value of %s)",
				 prev_key);
		return -EINVAL;
	}
	*sep = '\0';
	*comment_start(sep + 1) = '\0';
	*ret_key = strip(s);
	*ret_value = strip(sep + 1);
	return 0;
}

/* Applies key = value, unless the key is unknown, command-line only or seen before. */
static int file_apply(struct config *c, bool seen[], const char *key, const char *value, struct buf *err)
{
	const char *hash;
	size_t i;
	int r;

	for (i = 0; i < NOPTS; i++)
		if (key_matches(key, opts[i].name))
			break;
	if (i == NOPTS || (opts[i].flags & OPT_CLI_ONLY)) {
		buf_addf(err, "unknown key \"%s\"", key);
		return -EINVAL;
	}
	if (seen[i]) {
		buf_addf(err, "%s: set twice", key);
		return -EINVAL;
	}
	seen[i] = true;
	r = apply(c, &opts[i], key, value, err);
	/* only ";" starts a comment after a value: "top = 5 # five" hands over "5 # five" */
	hash = strchr(value, '#');
	if (r == -EINVAL && hash && hash > value && is_blank(hash[-1]))
		buf_addstr(err, "; a comment after a value starts with \";\" (with a blank before "
				"it), not \"#\": \"#\" starts a comment only at the start of a line");
	return r;
}

/* The configuration file, whole, with buf_read_file(); a message in err for each failure. */
static int read_small_file(const char *path, struct buf *b, struct buf *err)
{
	int r = buf_read_file(b, path, FILE_MAX_SIZE);

	if (r == -EFBIG)
		buf_addf(err, "%s: larger than 1 MiB; not a configuration file", path);
	else if (r < 0 && r != -ENOMEM)
		buf_addf(err, "%s: %s", path, strerror(-r));
	return r == -ENOMEM ? r : r < 0 ? -EINVAL : 0;
}

/* Reads the file at path into c, line by line; the first problem ends it, reported as
 * "PATH:LINE: what". */
static int load_file(struct config *c, const char *path, struct buf *err)
{
	static const char bom[] = "\xef\xbb\xbf";
	struct buf text = BUF_INIT, msg = BUF_INIT;
	bool seen[NOPTS] = { false };
	const char *prev_key = NULL;
	char *p, *end, *key, *value;
	unsigned line;
	int r;

	r = read_small_file(path, &text, err);
	p = text.buf;
	end = text.buf + text.len;
	if (r == 0 && text.len >= 3 && memcmp(p, bom, 3) == 0)
		p += 3;
	for (line = 1; r == 0 && p < end; line++) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol ? eol : end) - p);

		p[n] = '\0'; /* the newline, or the NUL after the text (buf.h) */
		if (strlen(p) != n) {
			buf_addstr(&msg, "a NUL byte; not a text file");
			r = -EINVAL;
		} else if ((r = file_split_line(p, prev_key, &key, &value, &msg)) == 0 && key) {
			r = file_apply(c, seen, key, value, &msg);
			prev_key = key;
		}
		if (r < 0)
			buf_addf(err, "%s:%u: %s", path, line, msg.buf);
		p = eol ? eol + 1 : end;
	}
	buf_done(&text);
	buf_done(&msg);
	return r;
}

/* ---- loading ------------------------------------------------------------------------------- */

static void defaults(struct config *c)
{
	*c = (struct config){
		.interval_ns = 15000000000u,
		.smaps = SMAPS_FULL,
		.smaps_max_rss = 8ull << 30,
		.smaps_budget_ns = UINT64_MAX, /* unset: derived from the interval */
		.smaps_min_age_ns = 60000000000u,
		.smaps_max_age_ns = 1800000000000u,
		.smaps_large_share_ppm = 10000,
		.top = 100,
		.detail_top = 10,
		.top_min_age_ns = 30000000000u,
		.top_margin_pct = 20,
		.mapping_top = 20,
		.cgroup_top = 20,
		.gzip_level = 2,
	};
}

static int finish(struct config *c, struct buf *err)
{
	if (!c->listen_address && set_string(&c->listen_address, CONFIG_DEFAULT_LISTEN) < 0)
		return -ENOMEM;
	if (!c->procfs && set_string(&c->procfs, "/proc") < 0)
		return -ENOMEM;
	if (c->smaps_budget_ns == UINT64_MAX)
		c->smaps_budget_ns = c->interval_ns / 3;
	if (!c->tls_cert != !c->tls_key) {
		buf_addstr(err, "--tls-cert and --tls-key go together: give both or neither");
		return -EINVAL;
	}
	/* two sources for the same settings would leave the reader to guess which one wins */
	if (c->web_config_file && (c->tls_cert || c->basic_auth_file)) {
		bool tls = c->tls_cert != NULL;

		buf_addf(err, "--web.config.file and --%s do not go together: put %s in %s",
			 tls ? "tls-cert" : "basic-auth-file",
			 tls ? "cert_file and key_file under tls_server_config" : "the users under basic_auth_users",
			 c->web_config_file);
		return -EINVAL;
	}
	return 0;
}

/* one option of the command line, and its value ("" for a flag) */
struct cli_pair {
	const struct opt *o;
	const char *v;
};

/* What getopt_long's '?' means: optopt is the unknown short option; a long option's val when it
 * was given a value it does not take; 0 for an unknown (or ambiguous) long option, which getopt
 * has stepped over. */
static int cli_refused(char *const argv[], struct buf *err)
{
	if (optopt >= OPT_VAL_BASE && optopt < OPT_VAL_BASE + (int)NOPTS)
		buf_addf(err, "--%s takes no value (see --help)", opts[optopt - OPT_VAL_BASE].name);
	else if (optopt > 0)
		buf_addf(err, "unknown option -%c (see --help)", optopt);
	else
		buf_addf(err, "unknown option %s (see --help)", argv[optind - 1]);
	return -EINVAL;
}

/* The command line into ret[], at most one pair per element of argv; *ret_n pairs. */
static int cli_scan(int argc, char *const argv[], struct cli_pair *ret, size_t *ret_n, struct buf *err)
{
	struct option longopts[NOPTS + 1];
	bool help_seen = false;
	size_t n = 0;
	int ch;

	for (size_t i = 0; i < NOPTS; i++)
		longopts[i] = (struct option){ opts[i].name, opts[i].parse == opt_flag ? no_argument : required_argument,
					       NULL, OPT_VAL_BASE + (int)i };
	longopts[NOPTS] = (struct option){ 0 };
	/* optind = 0, not 1, makes glibc (and musl) start afresh: with 1 it resumes inside the
	 * short-option cluster where the previous call stopped, through a pointer into that call's
	 * argv (config_load runs again on SIGHUP, and tests call it many times). "+": stop at the
	 * first non-option; ":": report a missing value as ':'. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		if (ch == ':') {
			buf_addf(err, "%s needs a value (see --help)", argv[optind - 1]);
			return -EINVAL;
		}
		if (ch == '?')
			return cli_refused(argv, err);
		/* a cluster ("-hhh") is one element that getopt returns once per letter, and -h is
		 * the only short option, so keeping one -h keeps the pairs within argc */
		if (ch == 'h' && help_seen)
			continue;
		help_seen = help_seen || ch == 'h';
		ret[n++] = (struct cli_pair){ &opts[ch == 'h' ? OPT_HELP_INDEX : ch - OPT_VAL_BASE], optarg ? optarg : "" };
	}
	if (optind < argc) {
		buf_addf(err, "unexpected argument \"%s\" (see --help)", argv[optind]);
		return -EINVAL;
	}
	*ret_n = n;
	return 0;
}

/* Applies the pairs for --config (config_file true), or all the others. */
static int cli_apply(struct config *c, const struct cli_pair *pairs, size_t n, bool config_file, struct buf *err)
{
	char prefix[64];
	int r;

	for (size_t i = 0; i < n; i++) {
		if ((pairs[i].o->off == offsetof(struct config, config_file)) != config_file)
			continue;
		snprintf(prefix, sizeof(prefix), "--%s", pairs[i].o->name);
		r = apply(c, pairs[i].o, prefix, pairs[i].v, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int config_load(struct config *ret, int argc, char *const argv[], struct buf *err)
{
	struct cli_pair *pairs;
	struct config c;
	size_t n = 0;
	int r;

	assert(ret && argv && argc >= 0 && err);
	defaults(&c);
	pairs = calloc((size_t)argc + 1, sizeof(*pairs));
	r = pairs ? cli_scan(argc, argv, pairs, &n, err) : -ENOMEM;
	/* the file named by --config, then the rest of the command line over it */
	if (r >= 0)
		r = cli_apply(&c, pairs, n, true, err);
	if (r >= 0 && c.config_file)
		r = load_file(&c, c.config_file, err);
	if (r >= 0)
		r = cli_apply(&c, pairs, n, false, err);
	if (r >= 0)
		r = finish(&c, err);
	free(pairs);
	if (r < 0) {
		config_done(&c);
		if (err->len == 0)
			buf_addstr(err, r == -ENOMEM ? "out of memory" : "invalid configuration");
		return r;
	}
	*ret = c;
	return 0;
}

void config_done(struct config *c)
{
	if (!c)
		return;
	free(c->listen_address);
	free(c->include);
	free(c->exclude);
	pattern_free(c->include_pattern);
	pattern_free(c->exclude_pattern);
	free(c->procfs);
	free(c->web_config_file);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->basic_auth_file);
	free(c->config_file);
	memset(c, 0, sizeof(*c));
}

/* ---- reloads ------------------------------------------------------------------------------- */

static bool same_value(const struct config *a, const struct config *b, const struct opt *o)
{
	const char *x = (const char *)a + o->off, *y = (const char *)b + o->off;

	if (o->flags & OPT_TEXT) {
		const char *p = *(char *const *)x, *q = *(char *const *)y;
		return (!p && !q) || (p && q && strcmp(p, q) == 0);
	}
	return memcmp(x, y, o->size) == 0;
}

/* What the running daemon cannot change without a restart (OPT_RESTART): its socket and server
 * (the address, the web configuration or its shorthands: TLS, users, headers; the health
 * endpoints' access), the collector's /proc and the publisher's gzip level. */
void config_changes(const struct config *old, const struct config *next, struct buf *ret_changed,
		    struct buf *ret_restart)
{
	for (size_t i = 0; i < NOPTS; i++) {
		struct buf *to = opts[i].flags & OPT_RESTART ? ret_restart : ret_changed;

		if ((opts[i].flags & OPT_CLI_ONLY) || same_value(old, next, &opts[i]))
			continue;
		if (to->len)
			buf_addstr(to, ", ");
		buf_addstr(to, opts[i].name);
	}
}

void config_usage(FILE *f, const char *argv0)
{
	fprintf(f,
"Usage: %s [OPTION]...\n"
"\n"
"Export the memory of every process, as the kernel counts it, to Prometheus.\n"
"\n"
"procmem_exporter reads /proc every --interval and serves per-process RSS, PSS, USS, shared,\n"
"data, code and swap, the four quadrants (private/shared x anonymous/file-backed) of each\n"
"process and of the whole machine, per-user and per-systemd-unit sums, and the mapped files\n"
"with most PSS, at http://HOST:PORT/metrics. A scrape serves the last cycle's rendering from\n"
"memory and never reads /proc itself.\n"
"\n"
"Options (each also a configuration file key: the name without dashes, '-' and '.' as '_'):\n"
"  --config FILE              read options from FILE first; flags given here override it\n"
"  --web.listen-address ADDR  where to serve: HOST:PORT, :PORT (every address) or\n"
"                             [IPv6]:PORT; port 0 picks a free one (default %s).\n"
"                             Ignored when systemd passes a socket (socket activation)\n"
"  --interval DURATION        time between collection cycles (default 15s)\n"
"  --smaps off|rollup|full    how much of each process's smaps to read (default full):\n"
"                               off     /proc/PID/status only: RSS, shared, data, code, swap\n"
"                               rollup  + smaps_rollup: PSS, USS, swap PSS, PSS by kind,\n"
"                                       dirty, transparent huge pages, locked\n"
"                               full    + smaps: quadrants per process and machine-wide,\n"
"                                       and the top mapped files\n"
"  --smaps-max-rss SIZE       processes with a larger RSS are read on a slower cadence (see\n"
"                             --smaps-large-share): a read walks their page tables under\n"
"                             their mmap lock, some 10 ms per GiB (default 8G; 0: no bound)\n"
"  --smaps-large-share FRACTION\n"
"                             the share of one core that the reads of processes over\n"
"                             --smaps-max-rss may take together; between reads their last\n"
"                             figures are kept (default 0.01; 0: never read them: status\n"
"                             figures only)\n"
"  --smaps-budget DURATION    time per cycle for full smaps reads; past it the remaining due\n"
"                             processes keep their last quadrants (rollup figures are read\n"
"                             whatever the budget) (default a third of --interval; 0: none)\n"
"  --smaps-min-age DURATION   in full mode, re-read a process's full smaps when its memory\n"
"                             moved (over max(64K, 1/64) of a status or rollup figure), but\n"
"                             not more often than this (default 1m)\n"
"  --smaps-max-age DURATION   and always once its last full read is this old (less up to a\n"
"                             quarter, spread over processes) (default 30m)\n"
"  --include REGEX            per-process series only for comms matching REGEX: PCRE2\n"
"                             syntax (no longer POSIX: \\d is a digit, a backslash in\n"
"                             [...] escapes; see the README), over the comm's bytes,\n"
"                             anchored at both ends. A match that would take over\n"
"                             100,000 steps gives up and counts as no match\n"
"  --exclude REGEX            no per-process series for comms matching REGEX\n"
"  --min-rss SIZE             no per-process series for processes with a smaller RSS\n"
"  --top N                    per-process series only for the N processes with most PSS\n"
"                             (RSS where PSS is not read) after the filters above (default\n"
"                             100; 0: all). Totals and aggregates always cover every process\n"
"                             read. They get the summary: PSS, USS, resident, shared, swap,\n"
"                             start time and procmem_process_info\n"
"  --detail-top N             of those, the N with most PSS get every per-process family:\n"
"                             quadrants, PSS by kind, virtual, data, code, swap PSS, dirty,\n"
"                             AnonHugePages, locked (default 10; 0: all of them)\n"
"  --top-min-age DURATION     --top chooses among processes at least this old, so that\n"
"                             short-lived ones start no series (default 30s; 0: any age;\n"
"                             not applied with --top 0)\n"
"  --top-margin PERCENT       a process chosen last cycle keeps its place (in --top and in\n"
"                             --detail-top) until another has PERCENT more PSS, so that\n"
"                             processes of like size do not swap places every cycle\n"
"                             (default 20; 0: the exact top N every cycle)\n"
"  --mapping-top N            export the N mapped files with most PSS (default 20; 0: none;\n"
"                             needs --smaps full)\n"
"  --cgroup-top N             series of their own for the N cgroups, the N containers and\n"
"                             the N pods with most PSS (RSS where PSS is not read); the rest\n"
"                             of each are summed under cgroup=\"other\" (default 20; 0: all)\n"
"  --procfs DIR               read processes from DIR instead of /proc: the host's /proc\n"
"                             mounted into a container, or a fixture tree for tests\n"
"  --web.config.file FILE     TLS, client certificates, basic auth and response headers\n"
"                             from FILE, in the YAML format of every Prometheus exporter\n"
"                             (exporter-toolkit); relative paths in it are relative to\n"
"                             FILE's directory\n"
"  --tls-cert FILE            shorthand: serve HTTPS with this PEM certificate (with\n"
"                             --tls-key)\n"
"  --tls-key FILE             shorthand: the certificate's PEM private key\n"
"  --basic-auth-file FILE     shorthand: require HTTP basic auth on every endpoint: FILE\n"
"                             holds user:bcrypt-hash lines (htpasswd -B writes them).\n"
"                             The shorthands do not go with --web.config.file\n"
"  --web.health-open BOOL     with basic auth, answer /-/healthy and /-/ready without\n"
"                             credentials too (default false)\n"
"  --gzip-level N             compression level for gzip responses, 1-9 (default 2)\n"
"  --once                     run one cycle, write the exposition to standard output, exit\n"
"  --check-config             check the options, the configuration file, the web\n"
"                             configuration and the TLS and users files, resolve the\n"
"                             listen address, say \"configuration OK\" and exit (2 when\n"
"                             something is wrong)\n"
"  --version                  print the version and exit\n"
"  -h, --help                 print this help and exit\n"
"\n"
"Sizes take K, M, G, T suffixes (powers of 1024: 512M, 8G). Durations are seconds or take ms,\n"
"s, m, h suffixes (500ms, 15s, 2m).\n"
"\n"
"Endpoints: /metrics (GET, HEAD; gzip on Accept-Encoding: gzip; OpenMetrics 1.0 on\n"
"Accept: application/openmetrics-text), / (the last cycle for a person), /top (the same\n"
"as plain text, for curl), /-/healthy, /-/ready.\n"
"\n"
"Signals: SIGHUP re-reads the configuration file (a bad one is reported and the running\n"
"configuration kept); SIGTERM and SIGINT stop the daemon.\n"
"\n"
"Exit status: 0 on success, 1 on a runtime failure (cannot listen, cannot read /proc),\n"
"2 on a bad command line or configuration.\n"
"\n"
"Under systemd: Type=notify (READY=1 after the first cycle), STATUS= with the last cycle's\n"
"figures, WATCHDOG=1 from the collector, socket activation through the .socket unit.\n",
		argv0, CONFIG_DEFAULT_LISTEN);
}
