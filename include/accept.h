/* accept.h — HTTP content negotiation for /metrics (RFC 9110 §12.5).
 *
 * Pure functions over header values. Media ranges and codings are weighed by their q-values
 * (q=0 means "not acceptable"); the most preferred wins. Where nothing matches, or the header
 * is absent, the answer is the Prometheus text format, uncompressed.
 */
#ifndef PROCMEM_ACCEPT_H
#define PROCMEM_ACCEPT_H

#include <stdbool.h>

#include "expo.h"

/* The format an Accept header asks for. Each format weighs the q of the most specific media
 * range that matches it (RFC 9110 §12.5.1): for OpenMetrics "application/openmetrics-text"
 * with version=1.0.0, then without a version, then the application/ wildcard, then the full
 * wildcard; for text "text/plain" with version=0.0.4, without, the text/ wildcard, the full
 * wildcard. A range naming another version does not match. OpenMetrics 1.0 when it weighs more
 * than text; ties go to OpenMetrics only when it is named outright. Nothing acceptable, or
 * NULL: text. */
enum expo_format accept_format(const char *accept);

/* Whether an Accept-Encoding header accepts gzip ("gzip", "x-gzip" or "*" with q > 0, and gzip
 * not refused outright). NULL: no. */
bool accept_gzip(const char *accept_encoding);

#endif
