/* pattern.c — --include and --exclude on PCRE2; see pattern.h for the syntax and the bounds.
 *
 * pattern_compile() sets the compile-time bounds in a compile context used once, compiles, and
 * keeps a match context with the match-time bounds and one match data block for every match.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "pattern.h"

#include <assert.h>
#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>

#include "buf.h"

/* whole-comm match (pattern.h); bytes, with '.' a newline too and '$' only the very end, as
 * POSIX had them; no switching to UTF or Unicode properties from inside the pattern */
#define PATTERN_OPTIONS                                                                          \
	(PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_UTF | \
	 PCRE2_NEVER_UCP)

struct pattern {
	pcre2_code *code;
	pcre2_match_context *mctx;
	pcre2_match_data *md; /* reused: it keeps the backtracking memory from match to match */
	uint64_t gave_up;
};

void pattern_free(struct pattern *p)
{
	if (!p)
		return;
	pcre2_match_data_free(p->md);
	pcre2_match_context_free(p->mctx);
	pcre2_code_free(p->code);
	free(p);
}

static pcre2_code *compile_bounded(const char *source, int *ret_error, PCRE2_SIZE *ret_offset)
{
	pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
	pcre2_code *code;

	if (!cctx) {
		*ret_error = PCRE2_ERROR_NOMEMORY;
		*ret_offset = 0;
		return NULL;
	}
	pcre2_set_max_pattern_length(cctx, PATTERN_MAX_LENGTH);
	pcre2_set_parens_nest_limit(cctx, PATTERN_MAX_NESTING);
	code = pcre2_compile((PCRE2_SPTR)source, PCRE2_ZERO_TERMINATED, PATTERN_OPTIONS, ret_error, ret_offset,
			     cctx);
	pcre2_compile_context_free(cctx);
	return code;
}

int pattern_compile(const char *source, struct pattern **ret, struct buf *err)
{
	struct pattern *p;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE offset;
	int error;

	assert(source && ret && err);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->code = compile_bounded(source, &error, &offset);
	if (!p->code) {
		pattern_free(p);
		if (error == PCRE2_ERROR_NOMEMORY)
			return -ENOMEM;
		if (pcre2_get_error_message(error, msg, sizeof(msg)) < 0)
			buf_addf(err, "PCRE2 error %d", error);
		else
			buf_addstr(err, (const char *)msg);
		buf_addf(err, " at offset %zu", (size_t)offset);
		return -EINVAL;
	}
	p->mctx = pcre2_match_context_create(NULL);
	p->md = pcre2_match_data_create(1, NULL); /* no captures wanted: one pair, the least there is */
	if (!p->mctx || !p->md) {
		pattern_free(p);
		return -ENOMEM;
	}
	pcre2_set_match_limit(p->mctx, PATTERN_MATCH_LIMIT);
	pcre2_set_depth_limit(p->mctx, PATTERN_DEPTH_LIMIT);
	pcre2_set_heap_limit(p->mctx, PATTERN_HEAP_LIMIT_KIB);
	*ret = p;
	return 0;
}

int pattern_match(struct pattern *p, const char *s, size_t len)
{
	int r;

	assert(p && (s || len == 0));
	r = pcre2_match(p->code, (PCRE2_SPTR)(s ? s : ""), len, 0, 0, p->md, p->mctx);
	if (r >= 0)
		return 1;
	switch (r) {
	case PCRE2_ERROR_NOMATCH:
		return 0;
	case PCRE2_ERROR_MATCHLIMIT:
	case PCRE2_ERROR_DEPTHLIMIT:
	case PCRE2_ERROR_HEAPLIMIT:
		p->gave_up++;
		return -E2BIG;
	case PCRE2_ERROR_NOMEMORY:
		return -ENOMEM;
	default:
		/* not reached: without UTF there is no invalid subject, and the options are fixed */
		return -EINVAL;
	}
}

uint64_t pattern_gave_up(const struct pattern *p)
{
	assert(p);
	return p->gave_up;
}
