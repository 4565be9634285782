/* pattern.h — the regular expressions of --include and --exclude: PCRE2, matched against a
 * whole comm.
 *
 * A pattern matches a comm when it matches all of it: it is compiled anchored at both ends
 * (PCRE2_ANCHORED | PCRE2_ENDANCHORED), as Prometheus anchors its own regex matchers. A comm is
 * bytes, not text: whatever a process wrote with prctl(PR_SET_NAME) or exec'd, cut at 15 bytes,
 * maybe in the middle of a UTF-8 sequence. So a pattern works on bytes (no UTF mode, and the
 * pattern cannot turn it on with (*UTF) or (*UCP)): '.' is any one byte, a newline included;
 * '$' is the very end. No comm can make a match fail with an error.
 *
 * Bounds, so that neither a pattern nor a comm can take the daemon's time or memory:
 *  - compiling: at most PATTERN_MAX_LENGTH bytes of pattern, PATTERN_MAX_NESTING levels of
 *    parentheses, and PCRE2's own bound on the compiled size (64K code units in Debian's build),
 *    which is what refuses "((a{1000}){1000}){30}" at once ("regular expression is too large");
 *  - matching: PATTERN_MATCH_LIMIT steps of PCRE2's matcher, PATTERN_DEPTH_LIMIT nested
 *    backtracking points and PATTERN_HEAP_LIMIT_KIB of backtracking memory per match. A match
 *    that reaches one of them gives up: pattern_match() says so (-E2BIG), and the pattern
 *    counts it (pattern_gave_up()). The caller treats it as "does not match".
 * The interpreter only: PCRE2's JIT needs memory that is writable and executable, which the
 * service unit's MemoryDenyWriteExecute=yes forbids, and a comm is too short for it to pay.
 *
 * Memory: a struct pattern owns its compiled code and the match data that every match reuses
 * (no allocation per match once the backtracking memory has grown to what the pattern needs).
 * That reuse makes matching a write: one thread at a time per pattern. Nothing here logs.
 */
#ifndef PROCMEM_PATTERN_H
#define PROCMEM_PATTERN_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct pattern;

#define PATTERN_MAX_LENGTH 8192u      /* bytes of pattern */
#define PATTERN_MAX_NESTING 64u       /* levels of parentheses */
/* About 10 ns a step here: a match gives up after about a millisecond. A list of 800 names
 * takes 801 steps on the last of them; "(a|a|a|a)*[bc]" on 15 a's would take over 10^8. */
#define PATTERN_MATCH_LIMIT 100000u
#define PATTERN_DEPTH_LIMIT 1000u
#define PATTERN_HEAP_LIMIT_KIB 1024u

/* Compiles source. 0 and *ret, which the caller frees with pattern_free(); -EINVAL and err says
 * why, in PCRE2's words with the offset where it found the problem ("missing closing parenthesis
 * at offset 8"); -ENOMEM. */
int pattern_compile(const char *source, struct pattern **ret, struct buf *err);

/* Whether the len bytes at s (NUL bytes allowed) match p as a whole: 1 or 0; -E2BIG when the
 * match reached one of the limits above and gave up; -ENOMEM. (-EINVAL for PCRE2's other
 * errors, which the fixed options leave no input to reach.) */
int pattern_match(struct pattern *p, const char *s, size_t len);

/* How many matches gave up since p was compiled. */
uint64_t pattern_gave_up(const struct pattern *p);

void pattern_free(struct pattern *p); /* accepts NULL */

#endif
