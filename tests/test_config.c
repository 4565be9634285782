/* test_config.c — options from the command line and the configuration file: the value
 * parsers, defaults, every option in both command-line forms and as a file key, and error
 * messages that name the file, line, key, value and what was expected. Configuration files are
 * written into a temporary directory that the group teardown removes, also after a failure. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "pattern.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define SEC 1000000000ull

static char tmpdir[PATH_MAX];

static int group_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_config.XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char path[PATH_MAX + 256];

	(void)state;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
		if (unlink(path) < 0)
			rmdir(path);
	}
	closedir(d);
	return rmdir(tmpdir);
}

/* Writes len bytes to tmpdir/name; returns the path (static storage per name slot). */
static const char *write_file(const char *name, const void *data, size_t len)
{
	static char paths[8][PATH_MAX + 64];
	static unsigned next;
	char *path = paths[next++ % 8];
	FILE *f;

	snprintf(path, sizeof(paths[0]), "%s/%s", tmpdir, name);
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static const char *write_text(const char *name, const char *text)
{
	return write_file(name, text, strlen(text));
}

/* Runs config_load on ("procmem_exporter", args..., NULL). The argument strings are copies
 * freed right after the call, so anything config_load (or getopt) kept pointing into them is a
 * use after free that ASan reports. */
static int load_args(struct config *c, struct buf *err, const char *const *args)
{
	char *argv[64];
	int argc = 0, r, i;

	argv[argc++] = strdup("procmem_exporter");
	for (; *args; args++) {
		assert_true(argc < 63);
		argv[argc++] = strdup(*args);
	}
	argv[argc] = NULL;
	buf_reset(err);
	r = config_load(c, argc, argv, err);
	for (i = 0; i < argc; i++)
		free(argv[i]);
	return r;
}
#define LOAD(c, err, ...) load_args((c), (err), (const char *const[]){ __VA_ARGS__, NULL })
#define LOAD0(c, err) load_args((c), (err), (const char *const[]){ NULL })

/* Expects a failure whose message contains every one of the given fragments. */
static void check_error_has(const struct buf *err, const char *const *frags)
{
	for (; *frags; frags++)
		if (!strstr(err->buf, *frags))
			fail_msg("error message \"%s\" lacks \"%s\"", err->buf, *frags);
}
#define EXPECT_ERROR(r, err, ...)                                                         \
	do {                                                                              \
		assert_int_equal((r), -EINVAL);                                           \
		check_error_has((err), (const char *const[]){ __VA_ARGS__, NULL });      \
	} while (0)

/* ---- value parsers ------------------------------------------------------------------------ */

static void test_parse_size(void **state)
{
	static const struct {
		const char *s;
		uint64_t want;
	} ok[] = {
		{ "0", 0 },
		{ "1024", 1024 },
		{ "512M", 512 * MiB },
		{ "8G", 8 * GiB },
		{ "1.5K", 1536 },
		{ "1K", KiB },
		{ "1k", KiB }, /* the suffix's case does not matter: always powers of 1024 */
		{ "1KB", KiB },
		{ "1KiB", KiB },
		{ "1Ki", KiB },
		{ "2m", 2 * MiB },
		{ "3T", 3 * 1024 * GiB },
		{ "1P", 1024 * 1024 * GiB },
		{ "1E", 1024 * 1024 * 1024 * GiB },
		{ "0.5M", 512 * KiB },
		{ "0K", 0 },
		{ "7B", 7 },
		{ "15E", 15ull << 60 },
		{ "18446744073709551615", UINT64_MAX },
		{ "0.25G", 256 * MiB },
	};
	static const struct {
		const char *s;
		int err;
	} bad[] = {
		{ "", -EINVAL },
		{ "K", -EINVAL },
		{ "1.5", -EINVAL },  /* a fraction of a byte */
		{ "0.1K", -EINVAL }, /* 102.4 bytes */
		{ "1X", -EINVAL },
		{ "1 K", -EINVAL },
		{ " 1K", -EINVAL },
		{ "1KK", -EINVAL },
		{ "-1", -EINVAL },
		{ "1kb", -EINVAL },
		{ "16E", -ERANGE },		     /* 2^64 */
		{ "18446744073709551616", -ERANGE }, /* 2^64 */
		{ "99999999999999999999", -ERANGE },
		{ "17179869184G", -ERANGE }, /* 2^34 * 2^30 */
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 12345;
		if (config_parse_size(ok[i].s, &v) != 0 || v != ok[i].want)
			fail_msg("size \"%s\": got %llu, want %llu", ok[i].s, (unsigned long long)v,
				 (unsigned long long)ok[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = config_parse_size(bad[i].s, &v);
		if (r != bad[i].err)
			fail_msg("size \"%s\": got %d, want %d", bad[i].s, r, bad[i].err);
	}
}

static void test_parse_duration(void **state)
{
	static const struct {
		const char *s;
		uint64_t want;
	} ok[] = {
		{ "15", 15 * SEC },
		{ "15s", 15 * SEC },
		{ "1.5s", 1500000000u },
		{ "1.5", 1500000000u },
		{ "500ms", 500000000u },
		{ "2m", 120 * SEC },
		{ "1h", 3600 * SEC },
		{ "0", 0 },
		{ "250us", 250000 },
		{ "0.001s", 1000000 },
		{ "1.000000001s", 1000000001 },
		{ "0.5m", 30 * SEC },
	};
	static const char *const bad[] = {
		"", "s", "abc", "15x", "15 s", " 15", "-1", "1.5.5", "1sec", "15S", "1d", "0.0000000001s",
		"1.0000001ms", /* 1000000.1 ns */
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 12345;
		if (config_parse_duration(ok[i].s, &v) != 0 || v != ok[i].want)
			fail_msg("duration \"%s\": got %llu, want %llu", ok[i].s, (unsigned long long)v,
				 (unsigned long long)ok[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (config_parse_duration(bad[i], &v) >= 0)
			fail_msg("duration \"%s\" accepted", bad[i]);
	/* 2^64 ns is about 584 years */
	assert_int_equal(config_parse_duration("5000000000h", &v), -ERANGE);
}

static void test_split_listen_address(void **state)
{
	static const struct {
		const char *addr, *host, *port;
	} ok[] = {
		{ ":9470", "", "9470" },
		{ "127.0.0.1:9470", "127.0.0.1", "9470" },
		{ "[::1]:9470", "::1", "9470" },
		{ "[::]:80", "::", "80" },
		{ "localhost:0", "localhost", "0" },
		{ "host.example:65535", "host.example", "65535" },
	};
	static const char *const bad[] = {
		"::1:9470", /* IPv6 without brackets */
		"127.0.0.1:65536", "127.0.0.1:99999999999999999999999", "127.0.0.1", "127.0.0.1:", ":",
		"", "[::1]", "[::1]:", "[::1]9470", "[::1:9470", "host:port", "host:-1", "host:+80",
		"host: 80",
	};
	char *host, *port;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		host = port = NULL;
		if (config_split_listen_address(ok[i].addr, &host, &port) != 0)
			fail_msg("address \"%s\" refused", ok[i].addr);
		assert_string_equal(host, ok[i].host);
		assert_string_equal(port, ok[i].port);
		free(host);
		free(port);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		host = port = NULL;
		if (config_split_listen_address(bad[i], &host, &port) != -EINVAL)
			fail_msg("address \"%s\" accepted", bad[i]);
		assert_null(host); /* outputs untouched on failure */
		assert_null(port);
	}
}

/* ---- loading ------------------------------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct buf err = BUF_INIT;
	struct config c;

	(void)state;
	assert_int_equal(LOAD0(&c, &err), 0);
	assert_string_equal(c.listen_address, ":9470");
	assert_int_equal(c.interval_ns, 15 * SEC);
	assert_int_equal(c.smaps, SMAPS_FULL);
	assert_int_equal(c.smaps_max_rss, 8 * GiB);
	assert_int_equal(c.smaps_budget_ns, 5 * SEC); /* a third of the interval */
	assert_null(c.include);
	assert_null(c.exclude);
	assert_null(c.include_pattern);
	assert_null(c.exclude_pattern);
	assert_int_equal(c.top, 100);
	assert_int_equal(c.detail_top, 10);
	assert_int_equal(c.top_min_age_ns, 30 * SEC);
	assert_int_equal(c.top_margin_pct, 20);
	assert_int_equal(c.min_rss, 0);
	assert_int_equal(c.mapping_top, 20);
	assert_string_equal(c.procfs, "/proc");
	assert_null(c.tls_cert);
	assert_null(c.tls_key);
	assert_null(c.basic_auth_file);
	assert_false(c.health_open);
	assert_int_equal(c.gzip_level, 2);
	assert_null(c.config_file);
	assert_false(c.once || c.check_config || c.version || c.help);
	config_done(&c);
	config_done(&c); /* twice is harmless: config_done leaves it zeroed */
	config_done(NULL);
	buf_done(&err);
}

static int matches(struct pattern *p, const char *comm)
{
	assert_non_null(p);
	return pattern_match(p, comm, strlen(comm));
}

/* The values every option gets in the tests below, and the check of the result. */
static void check_all_options(const struct config *c, const char *cert, const char *key,
			      const char *auth)
{
	assert_string_equal(c->listen_address, "[::1]:9100");
	assert_int_equal(c->interval_ns, 30 * SEC);
	assert_int_equal(c->smaps, SMAPS_ROLLUP);
	assert_int_equal(c->smaps_max_rss, 2 * GiB);
	assert_int_equal(c->smaps_budget_ns, 2500000000u);
	assert_string_equal(c->include, "nginx|php-fpm.*");
	assert_string_equal(c->exclude, "bash");
	/* the patterns are anchored at both ends */
	assert_int_equal(matches(c->include_pattern, "nginx"), 1);
	assert_int_equal(matches(c->include_pattern, "php-fpm7.4"), 1);
	assert_int_equal(matches(c->include_pattern, "xnginx"), 0);
	assert_int_equal(matches(c->include_pattern, "nginxd"), 0);
	assert_int_equal(matches(c->exclude_pattern, "bash"), 1);
	assert_int_equal(matches(c->exclude_pattern, "bashful"), 0);
	assert_int_equal(c->top, 7);
	assert_int_equal(c->detail_top, 4);
	assert_int_equal(c->top_min_age_ns, 60 * SEC);
	assert_int_equal(c->top_margin_pct, 35);
	assert_int_equal(c->min_rss, 10 * MiB);
	assert_int_equal(c->mapping_top, 3);
	assert_string_equal(c->procfs, "/tmp/fakeproc");
	assert_string_equal(c->tls_cert, cert);
	assert_string_equal(c->tls_key, key);
	assert_string_equal(c->basic_auth_file, auth);
	assert_true(c->health_open);
	assert_int_equal(c->gzip_level, 9);
}

static void test_every_option_on_the_command_line(void **state)
{
	struct buf err = BUF_INIT;
	struct config c;
	const char *cert, *key, *auth;
	char certv[PATH_MAX + 64], keyv[PATH_MAX + 64], authv[PATH_MAX + 64];

	(void)state;
	cert = strdup(write_text("cert.pem", "cert\n"));
	key = strdup(write_text("key.pem", "key\n"));
	auth = strdup(write_text("auth", "user:$2y$10$abcdefghijklmnopqrstuu\n"));

	/* "--opt value" */
	assert_int_equal(LOAD(&c, &err, "--web.listen-address", "[::1]:9100", "--interval", "30s", "--smaps",
			      "rollup", "--smaps-max-rss", "2G", "--smaps-budget", "2500ms", "--include",
			      "nginx|php-fpm.*", "--exclude", "bash", "--top", "7", "--detail-top", "4",
			      "--top-min-age", "1m", "--top-margin", "35", "--min-rss", "10M",
			      "--mapping-top", "3", "--procfs", "/tmp/fakeproc", "--tls-cert", cert, "--tls-key", key,
			      "--basic-auth-file", auth, "--web.health-open", "true", "--gzip-level", "9"),
			 0);
	check_all_options(&c, cert, key, auth);
	assert_false(c.once || c.check_config || c.version || c.help);
	config_done(&c);

	/* "--opt=value" */
	snprintf(certv, sizeof(certv), "--tls-cert=%s", cert);
	snprintf(keyv, sizeof(keyv), "--tls-key=%s", key);
	snprintf(authv, sizeof(authv), "--basic-auth-file=%s", auth);
	assert_int_equal(LOAD(&c, &err, "--web.listen-address=[::1]:9100", "--interval=30s", "--smaps=rollup",
			      "--smaps-max-rss=2G", "--smaps-budget=2500ms", "--include=nginx|php-fpm.*",
			      "--exclude=bash", "--top=7", "--detail-top=4", "--top-min-age=1m", "--top-margin=35",
			      "--min-rss=10M", "--mapping-top=3",
			      "--procfs=/tmp/fakeproc", certv, keyv, authv, "--web.health-open=true", "--gzip-level=9"),
			 0);
	check_all_options(&c, cert, key, auth);
	config_done(&c);

	/* the flags */
	assert_int_equal(LOAD(&c, &err, "--once", "--check-config", "--version", "--help"), 0);
	assert_true(c.once && c.check_config && c.version && c.help);
	config_done(&c);
	assert_int_equal(LOAD(&c, &err, "-h"), 0);
	assert_true(c.help);
	assert_false(c.once);
	config_done(&c);
	/* one argv element, many options: once overflowed the per-element arrays (fuzz_config) */
	assert_int_equal(LOAD(&c, &err, "--once", "-hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh",
			      "-hh", "--interval=1s"),
			 0);
	assert_true(c.help && c.once);
	assert_int_equal(c.interval_ns, 1000000000u);
	config_done(&c);

	free((char *)cert);
	free((char *)key);
	free((char *)auth);
	buf_done(&err);
}

static void test_every_option_in_the_file_with_comments(void **state)
{
	struct buf err = BUF_INIT, text = BUF_INIT;
	struct config c;
	char *cert, *key, *auth;
	const char *path;

	(void)state;
	cert = strdup(write_text("cert.pem", "cert\n"));
	key = strdup(write_text("key.pem", "key\n"));
	auth = strdup(write_text("auth", "user:hash\n"));
	buf_addstr(&text, "# procmem_exporter configuration\n"
			  "; a comment in the other style\n"
			  "\n"
			  "web_listen_address = [::1]:9100\n"
			  "interval = 30s ; an inline comment\n"
			  "smaps=rollup\n"
			  "smaps_max_rss = 2G\n"
			  "smaps_budget = 2.5s\n"
			  "include = nginx|php-fpm.*\n"
			  "exclude = bash\n"
			  "top = 7\n"
			  "detail_top = 4\n"
			  "top_min_age = 60s\n"
			  "top_margin = 35\n"
			  "min_rss = 10M\n"
			  "mapping_top = 3\n"
			  "procfs = /tmp/fakeproc\n");
	buf_addf(&text, "tls_cert = %s\ntls_key = %s\nbasic_auth_file = %s\n", cert, key, auth);
	buf_addstr(&text, "web_health_open = true\ngzip_level = 9\n");
	path = write_text("all.conf", text.buf);
	assert_int_equal(LOAD(&c, &err, "--config", path), 0);
	check_all_options(&c, cert, key, auth);
	assert_string_equal(c.config_file, path);
	config_done(&c);

	/* a file without a final newline, with CRLF line ends */
	path = write_text("crlf.conf", "top = 3\r\nmapping_top = 4");
	assert_int_equal(LOAD(&c, &err, "--config", path), 0);
	assert_int_equal(c.top, 3);
	assert_int_equal(c.mapping_top, 4);
	config_done(&c);

	/* an empty file is the defaults */
	path = write_text("empty.conf", "");
	assert_int_equal(LOAD(&c, &err, "--config", path), 0);
	assert_int_equal(c.top, 100);
	config_done(&c);

	free(cert);
	free(key);
	free(auth);
	buf_done(&text);
	buf_done(&err);
}

static void test_command_line_overrides_the_file(void **state)
{
	struct buf err = BUF_INIT;
	struct config c;
	const char *path = write_text("base.conf", "top = 5\ninterval = 60s\nsmaps = off\n");

	(void)state;
	/* whichever order the flags come in */
	assert_int_equal(LOAD(&c, &err, "--top", "9", "--config", path, "--smaps", "full"), 0);
	assert_int_equal(c.top, 9);
	assert_int_equal(c.smaps, SMAPS_FULL);
	assert_int_equal(c.interval_ns, 60 * SEC); /* from the file */
	assert_int_equal(c.smaps_budget_ns, 20 * SEC); /* derived from the file's interval */
	config_done(&c);
	buf_done(&err);
}

static void test_file_unknown_key_names_file_and_line(void **state)
{
	struct buf err = BUF_INIT;
	struct config c;
	const char *path = write_text("unknown.conf", "# comment\ntop = 5\ncolour = blue\n");
	char where[PATH_MAX + 80];

	(void)state;
	snprintf(where, sizeof(where), "%s:3:", path);
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, where, "unknown key", "colour");

	/* command-line-only options are not keys */
	path = write_text("once.conf", "once = 1\n");
	snprintf(where, sizeof(where), "%s:1:", path);
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, where, "unknown key", "once");

	/* keys use '_', not the flag's '-' and '.' */
	path = write_text("dash.conf", "\n\nmapping-top = 4\n");
	snprintf(where, sizeof(where), "%s:3:", path);
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, where, "mapping-top");
	buf_done(&err);
}

static void test_file_bad_value_names_line_key_value_and_expectation(void **state)
{
	static const struct {
		const char *line, *frags[3];
	} cases[] = {
		{ "interval = soon", { "interval", "\"soon\"", "duration" } },
		{ "interval = 50ms", { "interval", "\"50ms\"", "100ms" } }, /* below the minimum */
		{ "smaps = most", { "smaps", "\"most\"", "off, rollup or full" } },
		{ "smaps_max_rss = 8Q", { "smaps_max_rss", "\"8Q\"", "size" } },
		{ "top = -3", { "top", "\"-3\"", "whole number" } },
		{ "gzip_level = 0", { "gzip_level", "\"0\"", "1 to 9" } },
		{ "gzip_level = 10", { "gzip_level", "\"10\"", "1 to 9" } },
		{ "web_health_open = yes", { "web_health_open", "\"yes\"", "true or false" } },
		{ "web_health_open = 1", { "web_health_open", "\"1\"", "true or false" } },
		{ "web_listen_address = ::1:80", { "web_listen_address", "\"::1:80\"", "HOST:PORT" } },
		{ "procfs = ", { "procfs", "non-empty", NULL } },
		{ "tls_cert = /nonexistent/cert.pem", { "tls_cert", "/nonexistent/cert.pem", "cannot read" } },
	};
	struct buf err = BUF_INIT, text = BUF_INIT;
	char where[PATH_MAX + 80];
	struct config c;
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path;

		buf_reset(&text);
		buf_addf(&text, "# line 1\nmapping_top = 1\n%s\n", cases[i].line);
		path = write_text("bad.conf", text.buf);
		snprintf(where, sizeof(where), "%s:3:", path);
		assert_int_equal(LOAD(&c, &err, "--config", path), -EINVAL);
		check_error_has(&err, (const char *const[]){ where, NULL });
		for (k = 0; k < 3 && cases[i].frags[k]; k++)
			if (!strstr(err.buf, cases[i].frags[k]))
				fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i].line, err.buf,
					 cases[i].frags[k]);
	}
	buf_done(&text);
	buf_done(&err);
}

static void test_file_sections_are_refused(void **state)
{
	struct buf err = BUF_INIT;
	char where[PATH_MAX + 80];
	struct config c;
	const char *path;

	(void)state;
	path = write_text("section.conf", "# comment\n[main]\ntop = 4\n");
	snprintf(where, sizeof(where), "%s:2:", path);
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, where, "section");

	/* a section header with nothing under it is still not our format */
	path = write_text("section2.conf", "top = 4\n  [main]  \n");
	snprintf(where, sizeof(where), "%s:2:", path);
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, where, "section");
	buf_done(&err);
}

static void test_file_duplicate_key_is_refused(void **state)
{
	struct buf err = BUF_INIT;
	char where[PATH_MAX + 80];
	struct config c;
	const char *path;

	(void)state;
	path = write_text("dup.conf", "top = 4\ninterval = 20s\ntop = 5\n");
	snprintf(where, sizeof(where), "%s:3:", path);
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, where, "top", "twice");

	/* an indented line is no continuation of the value before: refused, and said why */
	path = write_text("cont.conf", "top = 4\n   5\n");
	snprintf(where, sizeof(where), "%s:2:", path);
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, where, "top");
	buf_done(&err);
}

/* A line is as long as it needs to be (the file holds at most 1 MiB), and the lines after a
 * long one keep their numbers. (With libinih, lines were cut at 198 bytes and refused.) */
static void test_file_long_lines_are_read_whole(void **state)
{
	static const size_t lengths[] = { 198, 199, 200, 255, 4096, 100000 };
	struct buf err = BUF_INIT, text = BUF_INIT;
	char where[PATH_MAX + 80];
	struct config c;
	const char *path;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		/* line 3: a key whose value is padded with blanks to n bytes, then "7"; line 5 bad */
		buf_reset(&text);
		buf_addstr(&text, "# one\n\ntop =");
		while (text.len - strlen("# one\n\n") < lengths[i] - 1)
			buf_addch(&text, ' ');
		buf_addstr(&text, "7\nmapping_top = 2\n");
		path = write_text("long.conf", text.buf);
		assert_int_equal(LOAD(&c, &err, "--config", path), 0);
		assert_int_equal(c.top, 7);
		assert_int_equal(c.mapping_top, 2);
		config_done(&c);
		buf_addstr(&text, "colour = blue\n");
		path = write_text("long.conf", text.buf);
		snprintf(where, sizeof(where), "%s:5:", path);
		EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, where, "colour");
	}

	/* a long comment line, and a list of 600 names as one --include line */
	buf_reset(&text);
	buf_addstr(&text, "#");
	for (i = 0; i < 300; i++)
		buf_addch(&text, 'x');
	buf_addstr(&text, "\ninclude = ");
	for (i = 0; i < 600; i++)
		buf_addf(&text, "%sname%zu", i ? "|" : "", i);
	buf_addstr(&text, "\n");
	path = write_text("longinclude.conf", text.buf);
	assert_int_equal(LOAD(&c, &err, "--config", path), 0);
	assert_int_equal(pattern_match(c.include_pattern, "name599", 7), 1);
	config_done(&c);
	buf_done(&text);
	buf_done(&err);
}

/* The one bound on the file is its size. */
static void test_file_over_a_mebibyte_is_refused(void **state)
{
	struct buf err = BUF_INIT, text = BUF_INIT;
	struct config c;
	const char *path;

	(void)state;
	buf_addstr(&text, "top = 3\n#");
	while (text.len < 1024 * 1024)
		buf_addch(&text, 'x');
	path = write_text("big.conf", text.buf);
	assert_int_equal(LOAD(&c, &err, "--config", path), 0);
	assert_int_equal(c.top, 3);
	config_done(&c);
	buf_addstr(&text, "\n");
	path = write_text("big.conf", text.buf);
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, path, "larger than 1 MiB");
	buf_done(&text);
	buf_done(&err);
}

/* Indentation means nothing: an indented key = value line is a line like any other (libinih
 * took it for the continuation of the value before, and refused it as a repeat), and an indented
 * line that is no key = value is refused with a word on continuations. */
static void test_file_indented_lines_are_not_continuations(void **state)
{
	struct buf err = BUF_INIT;
	char where[PATH_MAX + 80];
	struct config c;
	const char *path;

	(void)state;
	path = write_text("indent.conf", "top = 4\n   interval = 20s\n\t# an indented comment\n  ; another\n");
	assert_int_equal(LOAD(&c, &err, "--config", path), 0);
	assert_int_equal(c.top, 4);
	assert_int_equal(c.interval_ns, 20 * SEC);
	config_done(&c);
	path = write_text("indent2.conf", "# c\ntop = 4\n\n\t  5\n");
	snprintf(where, sizeof(where), "%s:4:", path);
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, where, "expected key = value",
		     "does not continue the value of top");
	/* not indented: no word on continuations */
	path = write_text("indent3.conf", "top = 4\n5\n");
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, ":2: expected key = value");
	assert_null(strstr(err.buf, "continue"));
	buf_done(&err);
}

/* What libinih took and the file still takes: CRLF line ends, a UTF-8 byte order mark, blanks
 * around keys and values, "key: value", a value cut at " ;" but not at ";" alone. */
static void test_file_format_details(void **state)
{
	struct buf err = BUF_INIT;
	struct config c;
	const char *path;

	(void)state;
	path = write_text("crlf.conf", "\xef\xbb\xbftop = 4\r\n\r\n  interval\t=\t20s  \r\nmapping_top: 3\r\n"
					"include = a;b ; the pattern is a;b\r\nexclude =;x\n");
	assert_int_equal(LOAD(&c, &err, "--config", path), 0);
	assert_int_equal(c.top, 4);
	assert_int_equal(c.interval_ns, 20 * SEC);
	assert_int_equal(c.mapping_top, 3);
	assert_string_equal(c.include, "a;b");
	assert_string_equal(c.exclude, ";x");
	config_done(&c);
	/* a byte order mark counts only at the start of the file */
	path = write_text("bom.conf", "top = 4\n\xef\xbb\xbfmapping_top = 3\n");
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, ":2: unknown key");
	/* an empty key, and a comment before the '=' */
	path = write_text("nokey.conf", " = 4\n");
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, ":1: unknown key \"\"");
	path = write_text("semikey.conf", "top ; = 4\n");
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, ":1: expected key = value");
	buf_done(&err);
}

static void test_file_nul_byte_is_refused(void **state)
{
	static const char text[] = "top = 4\nmapping_top = 1\0junk\n";
	struct buf err = BUF_INIT;
	char where[PATH_MAX + 80];
	struct config c;
	const char *path = write_file("nul.conf", text, sizeof(text) - 1);

	(void)state;
	snprintf(where, sizeof(where), "%s:2:", path);
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, where, "NUL");
	buf_done(&err);
}

/* The first problem is reported, with its own line: a syntax error before a bad key. */
static void test_file_first_problem_is_reported_with_its_line(void **state)
{
	struct buf err = BUF_INIT;
	char where[PATH_MAX + 80];
	struct config c;
	const char *path;

	(void)state;
	path = write_text("syntax.conf", "top = 5\ngarbage line\ncolour = blue\n");
	snprintf(where, sizeof(where), "%s:2:", path);
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, where, "key = value");
	assert_null(strstr(err.buf, "colour"));

	path = write_text("syntax2.conf", "colour = blue\ngarbage line\n");
	snprintf(where, sizeof(where), "%s:1:", path);
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, where, "colour");
	buf_done(&err);
}

static void test_unreadable_config(void **state)
{
	struct buf err = BUF_INIT;
	struct config c;
	char dir[PATH_MAX + 16];

	(void)state;
	EXPECT_ERROR(LOAD(&c, &err, "--config", "/nonexistent/procmem.conf"), &err, "--config",
		     "/nonexistent/procmem.conf");
	/* a directory passes access(R_OK) but is not a file */
	snprintf(dir, sizeof(dir), "%s/adir", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	EXPECT_ERROR(LOAD(&c, &err, "--config", dir), &err, dir, "directory");
	buf_done(&err);
}

static void test_command_line_errors(void **state)
{
	struct buf err = BUF_INIT;
	struct config c;

	(void)state;
	EXPECT_ERROR(LOAD(&c, &err, "--bogus"), &err, "unknown option", "--bogus");
	EXPECT_ERROR(LOAD(&c, &err, "-x"), &err, "-x");
	EXPECT_ERROR(LOAD(&c, &err, "-hx"), &err, "-x");
	EXPECT_ERROR(LOAD(&c, &err, "--interval"), &err, "--interval", "value");
	EXPECT_ERROR(LOAD(&c, &err, "--top", "1", "--include"), &err, "--include", "value");
	EXPECT_ERROR(LOAD(&c, &err, "extra"), &err, "unexpected argument", "extra");
	EXPECT_ERROR(LOAD(&c, &err, "--top", "3", "extra"), &err, "unexpected argument", "extra");
	EXPECT_ERROR(LOAD(&c, &err, "--once=yes"), &err, "--once", "no value");
	EXPECT_ERROR(LOAD(&c, &err, "--interval", "soon"), &err, "--interval", "\"soon\"", "duration");
	EXPECT_ERROR(LOAD(&c, &err, "--interval", "0"), &err, "--interval", "\"0\"");
	EXPECT_ERROR(LOAD(&c, &err, "--interval", "86401s"), &err, "--interval", "86400s");
	EXPECT_ERROR(LOAD(&c, &err, "--top", "1000001"), &err, "--top", "1000001");
	EXPECT_ERROR(LOAD(&c, &err, "--detail-top", "-1"), &err, "--detail-top", "\"-1\"");
	EXPECT_ERROR(LOAD(&c, &err, "--top-margin", "1001"), &err, "--top-margin", "1001");
	EXPECT_ERROR(LOAD(&c, &err, "--top-min-age", "2d"), &err, "--top-min-age", "\"2d\"");
	EXPECT_ERROR(LOAD(&c, &err, "--gzip-level", "0"), &err, "--gzip-level", "1 to 9");
	EXPECT_ERROR(LOAD(&c, &err, "--smaps", "none"), &err, "--smaps", "off, rollup or full");
	EXPECT_ERROR(LOAD(&c, &err, "--procfs="), &err, "--procfs", "non-empty");
	EXPECT_ERROR(LOAD(&c, &err, "--web.listen-address", "9470"), &err, "--web.listen-address", "\"9470\"");
	EXPECT_ERROR(LOAD(&c, &err, "--min-rss", "1.5"), &err, "--min-rss", "\"1.5\"", "size");
	buf_done(&err);
}

static void test_bad_regex_is_explained(void **state)
{
	struct buf err = BUF_INIT;
	char where[PATH_MAX + 80];
	struct config c;
	const char *path;

	(void)state;
	EXPECT_ERROR(LOAD(&c, &err, "--include", "(unclosed"), &err, "--include", "\"(unclosed\"",
		     "regular expression");
	EXPECT_ERROR(LOAD(&c, &err, "--exclude", "a{2,1}"), &err, "--exclude", "\"a{2,1}\"",
		     "regular expression");
	/* from the file as well, where the message names the file and line */
	path = write_text("re.conf", "top = 1\ninclude = [z-a]\n");
	snprintf(where, sizeof(where), "%s:2:", path);
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, where, "include", "\"[z-a]\"",
		     "regular expression");
	/* a good one in the file, overridden by a good one on the command line */
	path = write_text("re2.conf", "include = a.*\nexclude = x\n");
	assert_int_equal(LOAD(&c, &err, "--config", path, "--include", "b.*"), 0);
	assert_string_equal(c.include, "b.*");
	assert_int_equal(matches(c.include_pattern, "bee"), 1);
	assert_int_equal(matches(c.include_pattern, "ant"), 0);
	assert_int_equal(matches(c.exclude_pattern, "x"), 1);
	config_done(&c);
	/* and a bad one on the command line after a good one in the file: nothing leaks */
	EXPECT_ERROR(LOAD(&c, &err, "--config", path, "--exclude", "("), &err, "--exclude", "\"(\"");
	buf_done(&err);
}

/* PCRE2 refuses what would take too long or too much memory to compile, at once and with its
 * own words and the offset: nested counts multiply ("((a{1000}){1000}){30}" took glibc's
 * regcomp() over 30 s and 4 GB), and a ')' of the pattern's own cannot widen it to an
 * unanchored match. */
static void test_patterns_too_big_or_unbalanced_are_refused(void **state)
{
	static const struct {
		const char *pattern, *why;
	} bad[] = {
		{ "((a{1000}){1000}){30}", "regular expression is too large at offset" },
		{ "foo)|(.*", "unmatched closing parenthesis at offset 3" },
		{ "a)", "unmatched closing parenthesis at offset 1" },
		{ "[[.a.]]", "POSIX collating elements are not supported at offset" },
	};
	struct buf err = BUF_INIT;
	struct config c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_ERROR(LOAD(&c, &err, "--include", bad[i].pattern), &err, "--include", bad[i].pattern,
			     "not a regular expression", bad[i].why);
	assert_int_equal(LOAD(&c, &err, "--include", "\\)|[)]"), 0);
	assert_int_equal(matches(c.include_pattern, ")"), 1);
	config_done(&c);
	buf_done(&err);
}

static void test_tls_cert_and_key_go_together(void **state)
{
	struct buf err = BUF_INIT;
	struct config c;
	char *cert = strdup(write_text("cert.pem", "c\n")), *key = strdup(write_text("key.pem", "k\n"));
	const char *path;

	(void)state;
	EXPECT_ERROR(LOAD(&c, &err, "--tls-cert", cert), &err, "--tls-cert", "--tls-key");
	EXPECT_ERROR(LOAD(&c, &err, "--tls-key", key), &err, "--tls-cert", "--tls-key");
	path = write_text("tls.conf", "tls_cert = /dev/null\n");
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, "--tls-key");
	assert_int_equal(LOAD(&c, &err, "--tls-cert", cert, "--tls-key", key), 0);
	config_done(&c);
	free(cert);
	free(key);
	buf_done(&err);
}

/* config_load runs again on SIGHUP in the same process: getopt's global state must not carry
 * over from one call to the next, whatever the previous call ended with. */
static void test_repeated_loads_are_independent(void **state)
{
	struct buf err = BUF_INIT;
	struct config c;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		/* a failure in the middle of a cluster of short options... */
		assert_int_equal(LOAD(&c, &err, "-xh"), -EINVAL);
		/* ...leaves nothing behind for the next call */
		assert_int_equal(LOAD(&c, &err, "--top", "3"), 0);
		assert_int_equal(c.top, 3);
		assert_false(c.help);
		config_done(&c);

		assert_int_equal(LOAD(&c, &err, "--top", "4", "stray"), -EINVAL);
		assert_int_equal(LOAD(&c, &err, "--mapping-top", "5"), 0);
		assert_int_equal(c.top, 100);
		assert_int_equal(c.mapping_top, 5);
		config_done(&c);

		assert_int_equal(LOAD(&c, &err, "--interval"), -EINVAL);
		assert_int_equal(LOAD0(&c, &err), 0);
		assert_int_equal(c.interval_ns, 15 * SEC);
		config_done(&c);
	}
	buf_done(&err);
}

static void test_inline_hash_comment_is_explained(void **state)
{
	struct buf err = BUF_INIT;
	struct config c;
	const char *path;

	(void)state;
	/* "5 # five" is the value: the message must say what to write */
	path = write_text("hash.conf", "top = 5 # five\n");
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, ":1: top: \"5 # five\"", "whole number",
		     "a comment after a value starts with \";\"", "not \"#\"");
	path = write_text("hash2.conf", "mapping_top = 1\ninterval = 20s\t# slower\n");
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, ":2: interval:", "starts with \";\"");
	/* a '#' inside a value is no comment and gets no such advice */
	path = write_text("hash3.conf", "include = a#b(\n");
	assert_int_equal(LOAD(&c, &err, "--config", path), -EINVAL);
	assert_null(strstr(err.buf, "comment"));
	/* what the advice says works */
	path = write_text("semi.conf", "top = 5 ; five\n# a comment line\n");
	assert_int_equal(LOAD(&c, &err, "--config", path), 0);
	assert_int_equal(c.top, 5);
	config_done(&c);
	buf_done(&err);
}

static void test_credentials_directory_in_file_names(void **state)
{
	struct buf err = BUF_INIT;
	struct config c;
	char want[PATH_MAX + 32];
	const char *path, *old = getenv("CREDENTIALS_DIRECTORY");
	char *saved = old ? strdup(old) : NULL;

	(void)state;
	write_text("users", "prom:$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n");
	path = write_text("creds.conf", "basic_auth_file = ${CREDENTIALS_DIRECTORY}/users\n");
	/* set, as systemd sets it for the service (or an operator for a check): resolved */
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", tmpdir, 1), 0);
	assert_int_equal(LOAD(&c, &err, "--config", path), 0);
	snprintf(want, sizeof(want), "%s/users", tmpdir);
	assert_string_equal(c.basic_auth_file, want);
	config_done(&c);
	/* the name must be there */
	path = write_text("creds2.conf", "basic_auth_file = ${CREDENTIALS_DIRECTORY}/nothere\n");
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, ":1: basic_auth_file:", "cannot read", "/nothere");
	/* not set: said, with what to do */
	assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
	path = write_text("creds.conf", "basic_auth_file = ${CREDENTIALS_DIRECTORY}/users\n");
	EXPECT_ERROR(LOAD(&c, &err, "--config", path), &err, ":1: basic_auth_file:", "${CREDENTIALS_DIRECTORY}",
		     "not set", "LoadCredential=");
	/* only a whole leading ${CREDENTIALS_DIRECTORY}/ is expanded */
	EXPECT_ERROR(LOAD(&c, &err, "--basic-auth-file", "/x${CREDENTIALS_DIRECTORY}/users"), &err,
		     "cannot read \"/x${CREDENTIALS_DIRECTORY}/users\"");
	/* a literal /run/credentials path of a service that is not running: the message says why */
	EXPECT_ERROR(LOAD(&c, &err, "--tls-cert", "/run/credentials/procmem-exporter.service/tls.cert"), &err,
		     "cannot read", "only while it runs", "${CREDENTIALS_DIRECTORY}/NAME");
	if (saved)
		setenv("CREDENTIALS_DIRECTORY", saved, 1);
	free(saved);
	buf_done(&err);
}

static void test_resolve_listen_address(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(config_resolve_listen_address(":9470", &err), 0);
	assert_int_equal(config_resolve_listen_address("127.0.0.1:0", &err), 0);
	assert_int_equal(config_resolve_listen_address("[::1]:9470", &err), 0);
	assert_int_equal(config_resolve_listen_address("localhost:9470", &err), 0);
	assert_int_equal(err.len, 0);
	/* RFC 6761: .invalid never resolves */
	assert_int_equal(config_resolve_listen_address("nowhere.invalid:9470", &err), -EINVAL);
	assert_non_null(strstr(err.buf, "cannot resolve \"nowhere.invalid\""));
	buf_reset(&err);
	assert_int_equal(config_resolve_listen_address("nocolon", &err), -EINVAL);
	assert_non_null(strstr(err.buf, "not an address"));
	buf_done(&err);
}

static void test_changes_are_named_and_sorted_by_when_they_apply(void **state)
{
	struct buf err = BUF_INIT, now = BUF_INIT, later = BUF_INIT;
	struct config a, b;

	(void)state;
	assert_int_equal(LOAD(&a, &err, "--interval", "15s", "--top", "100", "--include", "x.*"), 0);
	assert_int_equal(LOAD(&b, &err, "--interval", "15s", "--top", "100", "--include", "x.*"), 0);
	config_changes(&a, &b, &now, &later);
	assert_string_equal(now.buf, "");
	assert_string_equal(later.buf, "");
	config_done(&b);

	assert_int_equal(LOAD(&b, &err, "--interval", "5s", "--top", "20", "--include", "y.*", "--smaps", "rollup",
			      "--web.listen-address", "127.0.0.1:1", "--gzip-level", "6", "--web.health-open", "true"),
			 0);
	config_changes(&a, &b, &now, &later);
	/* in the table's order; the budget follows the interval (a third of it) */
	assert_string_equal(now.buf, "interval, smaps, smaps-budget, include, top");
	assert_string_equal(later.buf, "web.listen-address, web.health-open, gzip-level");
	config_done(&a);
	config_done(&b);
	buf_done(&now);
	buf_done(&later);
	buf_done(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_split_listen_address),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_option_on_the_command_line),
		cmocka_unit_test(test_every_option_in_the_file_with_comments),
		cmocka_unit_test(test_command_line_overrides_the_file),
		cmocka_unit_test(test_file_unknown_key_names_file_and_line),
		cmocka_unit_test(test_file_bad_value_names_line_key_value_and_expectation),
		cmocka_unit_test(test_file_sections_are_refused),
		cmocka_unit_test(test_file_duplicate_key_is_refused),
		cmocka_unit_test(test_file_long_lines_are_read_whole),
		cmocka_unit_test(test_file_over_a_mebibyte_is_refused),
		cmocka_unit_test(test_file_indented_lines_are_not_continuations),
		cmocka_unit_test(test_file_format_details),
		cmocka_unit_test(test_file_nul_byte_is_refused),
		cmocka_unit_test(test_file_first_problem_is_reported_with_its_line),
		cmocka_unit_test(test_unreadable_config),
		cmocka_unit_test(test_command_line_errors),
		cmocka_unit_test(test_bad_regex_is_explained),
		cmocka_unit_test(test_patterns_too_big_or_unbalanced_are_refused),
		cmocka_unit_test(test_tls_cert_and_key_go_together),
		cmocka_unit_test(test_repeated_loads_are_independent),
		cmocka_unit_test(test_inline_hash_comment_is_explained),
		cmocka_unit_test(test_credentials_directory_in_file_names),
		cmocka_unit_test(test_resolve_listen_address),
		cmocka_unit_test(test_changes_are_named_and_sorted_by_when_they_apply),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
