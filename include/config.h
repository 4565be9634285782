/* config.h — options from the command line and the configuration file.
 *
 * Every option is a command-line flag and (except the few that only make sense on a command
 * line) a key of the configuration file: the flag's name without the leading dashes, with '-'
 * and '.' turned into '_' (--web.listen-address is web_listen_address). The file is read first,
 * then the command line overrides it.
 *
 * The file's format is ours (config.c reads it; no library): `key = value` lines (`key: value`
 * too). Blanks (space, tab, CR, VT, FF) around keys and values are ignored, so CRLF line ends and
 * indentation do no harm; an indented line never continues the line before. Blank lines and
 * lines whose first non-blank is '#' or ';' are comments; after a value, a ';' with a blank
 * before it starts a comment ('#' there is part of the value). No [sections], each key at most
 * once, no NUL bytes; a UTF-8 byte order mark at the start is skipped. Lines may be any length;
 * the file holds at most 1 MiB. The first problem stops the reading, reported as FILE:LINE.
 *
 * config_load() fills a struct config from argv, or explains the first problem in `err` (file,
 * line, key, value and what was expected) and returns -EINVAL. Nothing here logs or exits.
 */
#ifndef PROCMEM_CONFIG_H
#define PROCMEM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "collect.h"

struct pattern;

#define CONFIG_DEFAULT_LISTEN ":9470"

struct config {
	char *listen_address;	  /* "HOST:PORT", ":PORT", "[V6]:PORT" */
	uint64_t interval_ns;
	enum smaps_mode smaps;
	uint64_t smaps_max_rss;	  /* bytes; 0: no bound */
	uint64_t smaps_budget_ns; /* 0: no budget */
	uint64_t smaps_min_age_ns, smaps_max_age_ns;
	uint32_t smaps_large_share_ppm;
	char *include, *exclude;  /* as given; NULL: not set */
	struct pattern *include_pattern, *exclude_pattern; /* compiled; NULL: not set */
	unsigned top;
	unsigned detail_top;	  /* of the --top processes, how many get every family */
	uint64_t top_min_age_ns;  /* --top chooses among processes at least this old */
	unsigned top_margin_pct;  /* hysteresis of the --top and --detail-top cuts */
	uint64_t min_rss;
	unsigned mapping_top;
	unsigned cgroup_top;
	char *procfs;
	char *web_config_file;	  /* exporter-toolkit's web configuration (webconfig.h) */
	char *tls_cert, *tls_key, *basic_auth_file; /* its shorthands, refused together with it */
	bool health_open;	  /* health endpoints open to clients without credentials */
	int gzip_level;

	/* command line only */
	char *config_file;
	bool once, check_config, version, help;
};

/* 0, or -EINVAL (-ENOMEM) and err says why. */
int config_load(struct config *ret, int argc, char *const argv[], struct buf *err);
void config_done(struct config *c); /* accepts NULL */
/* The options whose values differ between old and next, by name, ", "-separated: those a reload
 * applies into ret_changed, those that wait for a restart into ret_restart. */
void config_changes(const struct config *old, const struct config *next, struct buf *ret_changed,
		    struct buf *ret_restart);
/* The --help text. */
void config_usage(FILE *f, const char *argv0);

/* Parsers shared with tests: 0 or -EINVAL (-ERANGE when it does not fit). */
int config_parse_size(const char *s, uint64_t *ret);	      /* "512M", "8G", "1024" */
int config_parse_duration(const char *s, uint64_t *ret_ns);    /* "15", "1.5s", "500ms", "2m" */
/* Splits "HOST:PORT" (HOST may be empty or a [bracketed] IPv6 address) into freshly
 * allocated strings; *ret_host is "" for all addresses. 0, -EINVAL or -ENOMEM. */
int config_split_listen_address(const char *addr, char **ret_host, char **ret_port);
/* Whether the host of a listen address resolves (what --check-config checks beyond the syntax,
 * which a start would otherwise find out, with exit status 1). 0, or -EINVAL (or -ENOMEM) and err
 * says why. */
int config_resolve_listen_address(const char *addr, struct buf *err);

#endif
