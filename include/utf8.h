/* utf8.h — UTF-8 validation shared by the renderers that must emit valid UTF-8 (the exposition's
 * label values, the HTML page and the text table) whatever bytes the kernel handed over.
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

#endif
