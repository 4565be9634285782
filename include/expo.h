/* expo.h — rendering a snapshot in the Prometheus exposition formats.
 *
 * Pure: a snapshot (or the few per-scrape figures of the tail) in, text appended to a buffer
 * out. Two formats: the Prometheus text format 0.0.4 and OpenMetrics 1.0. An exposition is the
 * body, rendered once per snapshot and format and cached, followed by the tail, rendered per
 * scrape (the HTTP request counters and the daemon's CPU time, which change between cycles;
 * OpenMetrics' "# EOF" ends the tail). Body and tail share no metric family.
 *
 * Rules kept here, which exporters get wrong: one HELP and TYPE per family, before its samples;
 * families never interleaved; label values escaped (\\, \", \n) and always valid UTF-8 (invalid
 * bytes become U+FFFD, per maximal subpart); HELP escaped per format; OpenMetrics counters typed
 * under the name without _total; integers without a decimal point; fractional values written
 * exactly in decimal; no timestamps.
 */
#ifndef PROCMEM_EXPO_H
#define PROCMEM_EXPO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "snapshot.h"

enum expo_format {
	EXPO_TEXT,	  /* text/plain; version=0.0.4 */
	EXPO_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
	EXPO_FORMAT_COUNT
};
const char *expo_content_type(enum expo_format f);

/* Figures that change between cycles, rendered at each scrape. */
struct expo_tail {
	const unsigned *codes;	  /* HTTP status codes, ascending */
	const uint64_t *requests; /* requests answered with codes[i] */
	size_t ncodes;
	uint64_t cpu_us; /* the daemon's user + system CPU time */
};

/* Appends the body for snapshot s. The caller checks buf_failed(out). */
void expo_render(const struct snapshot *s, enum expo_format f, struct buf *out);
/* Appends the tail (and "# EOF" in OpenMetrics). With no codes (ncodes 0: --once, no server)
 * the request counter family is left out. */
void expo_render_tail(const struct expo_tail *t, enum expo_format f, struct buf *out);

/* Appends s[0..len) as a label value's contents (without the quotes): escaped, and with every
 * ill-formed UTF-8 sequence and NUL replaced by U+FFFD. */
void expo_label_value(struct buf *out, const char *s, size_t len);
/* Appends s[0..len) as a label value that no other s can give: as expo_label_value() does when
 * s is well-formed UTF-8 without NUL (and does not start with "non-utf8:"); else "non-utf8:"
 * followed by s with each backslash doubled and each byte of an ill-formed sequence written as
 * \xHH (lowercase hex). For labels from cgroup paths, whose names may hold any byte but '/'
 * and NUL: two paths that differ only in invalid bytes must not become one series. */
void expo_label_bytes(struct buf *out, const char *s, size_t len);
/* Appends a HELP text escaped for the format. */
void expo_help_text(struct buf *out, const char *s, enum expo_format f);

#endif
