/* utf8.h — UTF-8 validation shared by the renderers that must emit valid UTF-8 (the exposition's
 * label values, the HTML page and the text table) whatever bytes the kernel handed over.
 *
 * A renderer replaces every ill-formed sequence (the maximal subpart) and every NUL in a label
 * value by U+FFFD, so distinct byte strings can render as one value ("a\xff", "a\xfe" and
 * "a\xef\xbf\xbd" all render "a\u{FFFD}"): whatever groups series by a label (per-user and
 * per-unit sums) must group by the rendered value, or one series comes out twice.
 */
#ifndef PROCMEM_UTF8_H
#define PROCMEM_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The length of the UTF-8 sequence at p (p < end, *p >= 0x80): well-formed (*ok) or the maximal
 * subpart of an ill-formed one, which a renderer replaces by one U+FFFD (Unicode 15, table 3-7
 * and §3.9 "U+FFFD substitution of maximal subparts"). */
size_t utf8_seq(const unsigned char *p, const unsigned char *end, bool *ok);

#define UTF8_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/* Whether s[0..len) renders as itself in a label value: well-formed UTF-8, no NUL. */
bool utf8_label_clean(const char *s, size_t len);

/* The rendered form of s[0..len) into dst (which holds at least 3 * len bytes: each replaced
 * byte becomes at most three); returns its length. */
size_t utf8_label_repair(const char *s, size_t len, char *dst);

#endif
