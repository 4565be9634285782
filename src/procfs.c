/* procfs.c — pure parsers for /proc text; see procfs.h for the conventions.
 *
 * Each parser is a single forward scan: find the end of the line with memchr, dispatch on the
 * field name, convert digits by hand. status and smaps_rollup, both "Name:  value" lines, share
 * one scan (fields_parse) over a table per file: a new field is a row. No sscanf (its %d has undefined behaviour on overflow and
 * it cannot be told where a line ends), no strtok, no copies of names. The kernel's formats are
 * in fs/proc/array.c (stat, status, statm) and fs/proc/task_mmu.c (smaps, smaps_rollup).
 */
#include "procfs.h"
#include "testing.h" /* smaps_parse */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- small scanning helpers ------------------------------------------------------------- */

/* The helpers below run some 40 times per smaps mapping: a call costs as much as their work. */
#define HOT static inline __attribute__((always_inline))

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_blank(char c) { return c == ' ' || c == '\t'; }

/* A digit's value plus one, 0 for anything else: every smaps header holds some 30 hex digits,
 * and a table lookup is one load where the range tests were six branches. */
static const unsigned char hex_plus1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hex_value(char c)
{
	return (int)hex_plus1[(unsigned char)c] - 1;
}

/* Parses decimal digits at *p (at least one) into *ret, advancing *p. */
HOT int parse_u64(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p, *lim;
	uint64_t v = 0;

	if (s >= end || !is_digit(*s))
		return -EBADMSG;
	/* 19 digits always fit in 64 bits: check for overflow only past them */
	for (lim = end - s > 19 ? s + 19 : end; s < lim && is_digit(*s); s++)
		v = v * 10 + (unsigned)(*s - '0');
	for (; s < end && is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*p = s;
	*ret = v;
	return 0;
}

HOT int parse_hex(const char **p, const char *end, uint64_t *ret)
{
	const char *s = *p, *lim;
	uint64_t v = 0;
	int d;

	if (s >= end || hex_value(*s) < 0)
		return -EBADMSG;
	/* 16 digits always fit: check for overflow only past them */
	for (lim = end - s > 16 ? s + 16 : end; s < lim && (d = hex_value(*s)) >= 0; s++)
		v = (v << 4) | (uint64_t)d;
	for (; s < end && (d = hex_value(*s)) >= 0; s++) {
		if (v > (UINT64_MAX >> 4))
			return -ERANGE;
		v = (v << 4) | (uint64_t)d;
	}
	*p = s;
	*ret = v;
	return 0;
}

/* parse_hex() for a field inside a line whose end eol holds the '\n' that ended it, as every
 * line handed to smaps_header() does: the newline is not a hex digit, so it stops the scan and
 * the loop needs no bounds test. The run is usually 8 or 12 digits; past 16 (leading zeros, or
 * an overflow) it falls back to parse_hex(), which tells the two apart. */
HOT int parse_hex_in_line(const char **p, const char *eol, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	unsigned d;

	while ((d = hex_plus1[(unsigned char)*s]) != 0) {
		v = (v << 4) | (d - 1);
		s++;
	}
	if (s == *p)
		return -EBADMSG;
	if (s - *p > 16)
		return parse_hex(p, eol, ret);
	*p = s;
	*ret = v;
	return 0;
}

/* Skips a hex field whose value is not wanted, with parse_hex_in_line()'s conditions and
 * errors, converting nothing. */
HOT int skip_hex_in_line(const char **p, const char *eol)
{
	const char *s = *p;
	uint64_t v;

	while (hex_plus1[(unsigned char)*s])
		s++;
	if (s == *p)
		return -EBADMSG;
	if (s - *p > 16)
		return parse_hex(p, eol, &v);
	*p = s;
	return 0;
}

HOT void skip_blanks(const char **p, const char *end)
{
	const char *s = *p;

	/* The kernel pads names and numbers to columns ("Size:" is followed by 18 spaces before a
	 * one-digit value, a mapping's path by up to 25): these runs are most of the bytes a smaps
	 * parse looks at, so take them eight at a time. */
	while (end - s >= 8) {
		uint64_t w;

		memcpy(&w, s, sizeof(w));
		w ^= UINT64_C(0x2020202020202020); /* zero bytes where the spaces are */
		if (w) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			s += __builtin_ctzll(w) / 8;
#else
			s += __builtin_clzll(w) / 8;
#endif
			break;
		}
		s += 8;
	}
	while (s < end && is_blank(*s)) /* a tab, or the last few bytes */
		s++;
	*p = s;
}

/* Parses a line's value "   1234 kB" (from p to the line end) into bytes. */
HOT int parse_kb_value(const char *p, const char *eol, uint64_t *ret)
{
	uint64_t kb;
	int r;

	skip_blanks(&p, eol);
	r = parse_u64(&p, eol, &kb);
	if (r < 0)
		return r;
	if (eol - p == 3 && memcmp(p, " kB", 3) == 0) /* what the kernel writes: no more scanning */
		goto done;
	skip_blanks(&p, eol);
	if (eol - p < 2 || p[0] != 'k' || p[1] != 'B')
		return -EBADMSG;
	p += 2;
	skip_blanks(&p, eol);
	if (p != eol)
		return -EBADMSG;
done:
	if (kb > UINT64_MAX / 1024)
		return -ERANGE;
	*ret = kb * 1024;
	return 0;
}

/* Whether the line [p, eol) starts with the field name `name` (which includes its ':').
 * On a match, *ret_value points just after the colon. */
static bool field_is(const char *p, const char *eol, const char *name, size_t name_len,
		     const char **ret_value)
{
	if ((size_t)(eol - p) < name_len || memcmp(p, name, name_len) != 0)
		return false;
	*ret_value = p + name_len;
	return true;
}
#define FIELD_IS(p, eol, lit, ret) field_is((p), (eol), lit, sizeof(lit) - 1, (ret))

/* The end of the line starting at p, or NULL if the line is not terminated. */
static const char *line_end(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

/* line_end() for smaps, whose lines are mostly 28 bytes: a call to libc's memchr costs more
 * than such a scan, so look at 32 bytes at a time inline (SSE2, in every x86-64), and leave the
 * buffer's last few bytes, and other machines, to memchr. */
HOT const char *short_line_end(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n');

	/* 32 bytes a round: most lines end in the first, where 16 would have taken two */
	while (end - p >= 32) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
		uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, nl)) |
			     (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, nl)) << 16;

		if (m)
			return p + __builtin_ctz(m);
		p += 32;
	}
#endif
	return memchr(p, '\n', (size_t)(end - p));
}

/* ---- /proc/PID/stat --------------------------------------------------------------------- */

/* Skips one space-separated field (which may be negative) and the space after it. */
static int skip_field(const char **p, const char *end)
{
	const char *s = *p;

	while (s < end && *s != ' ' && *s != '\n')
		s++;
	if (s == *p || s >= end || *s != ' ')
		return -EBADMSG;
	*p = s + 1;
	return 0;
}

/* A number followed by the space before the next field. */
static int parse_stat_u64(const char **p, const char *end, uint64_t *ret)
{
	int r = parse_u64(p, end, ret);
	if (r < 0)
		return r;
	if (*p >= end || **p != ' ')
		return -EBADMSG;
	(*p)++;
	return 0;
}

/* Fields 26-28 and 45-51 from p, which is at field 23; each followed by a space (field 52, the
 * exit code, comes after them). */
static int stat_mm_layout(const char *p, const char *end, uint64_t ret[10])
{
	int i, r, n = 0;

	for (i = 23; i <= 51; i++) {
		if ((i >= 26 && i <= 28) || i >= 45)
			r = parse_stat_u64(&p, end, &ret[n++]);
		else
			r = skip_field(&p, end);
		if (r < 0)
			return r;
	}
	return 0;
}

int proc_stat_parse(const char *buf, size_t len, struct proc_stat *ret)
{
	const char *end = buf + len, *open, *close, *p;
	struct proc_stat st = {0};
	uint64_t v;
	int r, i;

	assert(buf || len == 0);
	assert(ret);
	open = len ? memchr(buf, '(', len) : NULL;
	if (!open)
		return -EBADMSG;
	close = memrchr(open + 1, ')', (size_t)(end - open - 1));
	if (!close)
		return -EBADMSG;
	st.comm = open + 1;
	st.comm_len = (size_t)(close - open - 1);

	p = close + 1;
	/* ") S ppid pgrp session tty_nr tpgid flags ..." */
	if (end - p < 3 || p[0] != ' ' || p[2] != ' ')
		return -EBADMSG;
	st.state = p[1];
	p += 3;
	r = parse_stat_u64(&p, end, &v); /* 4: ppid */
	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	st.ppid = (uint32_t)v;
	for (i = 5; i < 9; i++) /* pgrp session tty_nr tpgid */
		if ((r = skip_field(&p, end)) < 0)
			return r;
	r = parse_stat_u64(&p, end, &st.flags); /* 9 */
	if (r < 0)
		return r;
	for (i = 10; i < 22; i++) /* minflt ... itrealvalue */
		if ((r = skip_field(&p, end)) < 0)
			return r;
	/* the kernel prints 52 fields: a starttime not followed by a space may be cut short */
	r = parse_stat_u64(&p, end, &st.starttime); /* 22 */
	if (r < 0)
		return r;
	if (stat_mm_layout(p, end, st.mm_layout) < 0)
		memset(st.mm_layout, 0, sizeof(st.mm_layout)); /* an older kernel's shorter line */
	*ret = st;
	return 0;
}

/* ---- "Name:  value" files: status and smaps_rollup ------------------------------------------ */

/* How a field's value is read and stored. */
enum field_kind {
	FIELD_KB,   /* "   1234 kB": bytes, a uint64_t */
	FIELD_U32,  /* the line's first number (Uid: the real uid of four), a uint32_t */
	FIELD_BOOL, /* a number, true when not 0 (Kthread:), a bool */
};

/* One field of a file: a new field is one row of its file's table. */
struct field {
	char name[16];	 /* at the start of the line, with its ':' */
	uint8_t name_len; /* 4 to 16 (field_name_is() compares words) */
	uint8_t kind;	 /* enum field_kind */
	uint16_t offset; /* of the value in the parsed struct */
	uint32_t bit;	 /* set in the struct's `have` */
};
/* 0, or a compile error when cond is false (an array of size -1). */
#define BUILD_CHECK(cond) (0 * sizeof(char[(cond) ? 1 : -1]))
#define FIELD_SIZE(kind) ((kind) == FIELD_KB ? sizeof(uint64_t) : (kind) == FIELD_U32 ? sizeof(uint32_t) : sizeof(bool))
/* A row; a name field_name_is() cannot compare, or a member of another size than the kind
 * stores, does not compile. */
#define FIELD(lit, kind, type, member, bit)                                                       \
	{ lit, (uint8_t)(sizeof(lit) - 1 + BUILD_CHECK(sizeof(lit) >= 5 && sizeof(lit) <= 17) +      \
			 BUILD_CHECK(sizeof(((type *)0)->member) == FIELD_SIZE(kind))),                   \
	  kind, offsetof(type, member), bit }
/* A file's fields by the first letter of their names, 'A' to 'Z' (field names start uppercase);
 * each list ends with an empty row. The parser dispatches on a line's first byte, as a switch
 * would, and compares the line only with the names that start as it does (a row under another
 * letter than its name's would never match: the tests of each field would fail). */
typedef const struct field *const field_table[26];
#define FIELDS_FOR(letter, ...) [(letter) - 'A'] = (const struct field[]){ __VA_ARGS__, { .name_len = 0 } }

/* The first decimal number of the value, after blanks. */
static int field_number(const char *p, const char *eol, uint64_t *ret)
{
	skip_blanks(&p, eol);
	return parse_u64(&p, eol, ret);
}

/* Reads the value [v, eol) of field f into the struct at out. */
HOT int field_store(const struct field *f, const char *v, const char *eol, char *out)
{
	uint64_t n;
	uint32_t u;
	bool b;
	int r;

	if (f->kind == FIELD_KB) {
		r = parse_kb_value(v, eol, &n);
		if (r >= 0)
			memcpy(out + f->offset, &n, sizeof(n));
		return r;
	}
	r = field_number(v, eol, &n);
	if (r < 0)
		return r;
	if (f->kind == FIELD_BOOL) {
		b = n != 0;
		memcpy(out + f->offset, &b, sizeof(b));
		return 0;
	}
	if (n > UINT32_MAX)
		return -ERANGE;
	u = (uint32_t)n;
	memcpy(out + f->offset, &u, sizeof(u));
	return 0;
}

HOT uint32_t load32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

HOT uint64_t load64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Whether the line [p, eol) starts with f's name: two word compares, the first and the last
 * 4 or 8 bytes of the name (overlapping when it is shorter than 8 or 16), as a memcmp of a
 * constant length compiles to. */
HOT bool field_name_is(const struct field *f, const char *p, const char *eol)
{
	size_t n = f->name_len;

	if ((size_t)(eol - p) < n)
		return false;
	if (n >= 8)
		return load64(p) == load64(f->name) && load64(p + n - 8) == load64(f->name + n - 8);
	return load32(p) == load32(f->name) && load32(p + n - 4) == load32(f->name + n - 4);
}

/* The fields of table t in buf, into the struct at out and the bits of *have. */
static int fields_parse(const char *buf, size_t len, const field_table t, void *out, uint32_t *have)
{
	const char *p = buf, *end = buf + len, *eol;
	const struct field *f;
	int r;

	for (; p < end && (eol = line_end(p, end)); p = eol + 1) {
		unsigned letter = (unsigned)(unsigned char)*p - 'A';

		if (letter >= 26 || !t[letter])
			continue;
		for (f = t[letter]; f->name_len; f++) {
			if (!field_name_is(f, p, eol))
				continue;
			r = field_store(f, p + f->name_len, eol, out);
			if (r < 0)
				return r;
			*have |= f->bit;
			break;
		}
	}
	return 0;
}

/* ---- /proc/PID/status -------------------------------------------------------------------- */

#define STATUS(lit, kind, member, bit) FIELD(lit, kind, struct proc_status, member, bit)
static field_table status_fields = {
	FIELDS_FOR('U', STATUS("Uid:", FIELD_U32, ruid, PROC_STATUS_UID)),
	FIELDS_FOR('K', STATUS("Kthread:", FIELD_BOOL, kthread, PROC_STATUS_KTHREAD)),
	FIELDS_FOR('V', STATUS("VmSize:", FIELD_KB, vm_size, PROC_STATUS_VMSIZE),
		   STATUS("VmRSS:", FIELD_KB, vm_rss, PROC_STATUS_VMRSS),
		   STATUS("VmData:", FIELD_KB, vm_data, PROC_STATUS_VMDATA),
		   STATUS("VmExe:", FIELD_KB, vm_exe, PROC_STATUS_VMEXE),
		   STATUS("VmSwap:", FIELD_KB, vm_swap, PROC_STATUS_VMSWAP)),
	FIELDS_FOR('R', STATUS("RssAnon:", FIELD_KB, rss_anon, PROC_STATUS_RSSANON),
		   STATUS("RssFile:", FIELD_KB, rss_file, PROC_STATUS_RSSFILE),
		   STATUS("RssShmem:", FIELD_KB, rss_shmem, PROC_STATUS_RSSSHMEM)),
};

int proc_status_parse(const char *buf, size_t len, struct proc_status *ret)
{
	struct proc_status st = {0};
	int r;

	assert(buf || len == 0);
	assert(ret);
	r = fields_parse(buf, len, status_fields, &st, &st.have);
	if (r < 0)
		return r;
	*ret = st;
	return 0;
}

/* ---- /proc/PID/statm ------------------------------------------------------------------------ */

int proc_statm_parse(const char *buf, size_t len, struct proc_statm *ret)
{
	const char *p = buf, *end = buf + len, *eol;
	uint64_t v[7];
	int r, i;

	assert(buf || len == 0);
	assert(ret);
	eol = len ? line_end(p, end) : NULL;
	if (!eol)
		return -EBADMSG;
	for (i = 0; i < 7; i++) {
		r = parse_u64(&p, eol, &v[i]);
		if (r < 0)
			return r;
		if (i < 6) {
			if (p >= eol || *p != ' ')
				return -EBADMSG;
			p++;
		}
	}
	if (p != eol)
		return -EBADMSG;
	*ret = (struct proc_statm){ v[0], v[1], v[2], v[3], v[4], v[5], v[6] };
	return 0;
}

/* ---- /proc/stat ----------------------------------------------------------------------------- */

int proc_btime_parse(const char *buf, size_t len, uint64_t *ret)
{
	const char *p = buf, *end = buf + len, *eol, *v;
	uint64_t t;
	int r;

	assert(buf || len == 0);
	assert(ret);
	for (; p < end && (eol = line_end(p, end)); p = eol + 1) {
		if (!FIELD_IS(p, eol, "btime ", &v))
			continue;
		skip_blanks(&v, eol);
		r = parse_u64(&v, eol, &t);
		if (r < 0)
			return r;
		if (v != eol)
			return -EBADMSG;
		*ret = t;
		return 0;
	}
	return -ENOENT;
}

/* ---- /proc/PID/smaps_rollup ----------------------------------------------------------------- */

/* A mapping header ("start-end perms offset dev inode path") starts with a lowercase hex digit;
 * a field line starts with an uppercase name. */
static bool is_mapping_header(const char *p, const char *eol)
{
	return p < eol && (is_digit(*p) || (*p >= 'a' && *p <= 'f'));
}

#define ROLLUP(lit, member, bit) FIELD(lit, FIELD_KB, struct smaps_rollup, member, bit)
static field_table rollup_fields = {
	FIELDS_FOR('R', ROLLUP("Rss:", rss, ROLLUP_RSS)),
	FIELDS_FOR('P', ROLLUP("Pss:", pss, ROLLUP_PSS),
		   ROLLUP("Pss_Anon:", pss_anon, ROLLUP_PSS_ANON),
		   ROLLUP("Pss_File:", pss_file, ROLLUP_PSS_FILE),
		   ROLLUP("Pss_Shmem:", pss_shmem, ROLLUP_PSS_SHMEM),
		   ROLLUP("Private_Clean:", private_clean, ROLLUP_PRIVATE_CLEAN),
		   ROLLUP("Private_Dirty:", private_dirty, ROLLUP_PRIVATE_DIRTY),
		   ROLLUP("Pss_Dirty:", pss_dirty, ROLLUP_PSS_DIRTY)),
	FIELDS_FOR('S', ROLLUP("Swap:", swap, ROLLUP_SWAP),
		   ROLLUP("SwapPss:", swap_pss, ROLLUP_SWAP_PSS),
		   ROLLUP("Shared_Dirty:", shared_dirty, ROLLUP_SHARED_DIRTY)),
	FIELDS_FOR('A', ROLLUP("AnonHugePages:", anon_huge_pages, ROLLUP_ANON_HUGE_PAGES)),
	FIELDS_FOR('L', ROLLUP("Locked:", locked, ROLLUP_LOCKED)),
};

int smaps_rollup_parse(const char *buf, size_t len, struct smaps_rollup *ret)
{
	struct smaps_rollup ru = {0};
	int r;

	assert(buf || len == 0);
	assert(ret);
	r = fields_parse(buf, len, rollup_fields, &ru, &ru.have);
	if (r < 0)
		return r;
	*ret = ru;
	return 0;
}

/* ---- /proc/PID/smaps ------------------------------------------------------------------------ */

const char *quadrant_sharing(enum quadrant q)
{
	return q == QUADRANT_SHARED_ANON || q == QUADRANT_SHARED_FILE ? "shared" : "private";
}

const char *quadrant_backing(enum quadrant q)
{
	return q == QUADRANT_PRIVATE_ANON || q == QUADRANT_SHARED_ANON ? "anonymous" : "file";
}

static bool bytes_eq(const char *p, size_t len, const char *lit, size_t lit_len)
{
	return len == lit_len && memcmp(p, lit, len) == 0;
}
#define BYTES_EQ(p, len, lit) bytes_eq((p), (len), lit, sizeof(lit) - 1)

static bool bytes_prefix(const char *p, size_t len, const char *lit, size_t lit_len)
{
	return len >= lit_len && memcmp(p, lit, lit_len) == 0;
}
#define BYTES_PREFIX(p, len, lit) bytes_prefix((p), (len), lit, sizeof(lit) - 1)

/* "/SYSV" + 8 hex digits + " (deleted)": a SysV shared memory segment (ipc/shm.c names its
 * shmem file "SYSV%08x"). */
static bool is_sysv_shm(const char *path, size_t len)
{
	size_t i;

	if (len != 5 + 8 + 10 || !BYTES_PREFIX(path, len, "/SYSV"))
		return false;
	for (i = 5; i < 13; i++)
		if (hex_value(path[i]) < 0)
			return false;
	return memcmp(path + 13, " (deleted)", 10) == 0;
}

enum quadrant smaps_classify_mapping(bool shared, uint64_t inode, const char *path, size_t path_len)
{
	/* hugetlbfs names the file behind MAP_ANONYMOUS|MAP_HUGETLB "anon_hugepage" */
	bool anon = inode == 0 || BYTES_EQ(path, path_len, "/dev/zero (deleted)") ||
		    BYTES_EQ(path, path_len, "/dev/zero") || is_sysv_shm(path, path_len) ||
		    BYTES_PREFIX(path, path_len, "[anon_shmem:") ||
		    BYTES_EQ(path, path_len, "/anon_hugepage (deleted)");

	if (shared)
		return anon ? QUADRANT_SHARED_ANON : QUADRANT_SHARED_FILE;
	return anon ? QUADRANT_PRIVATE_ANON : QUADRANT_PRIVATE_FILE;
}

void smaps_parser_init(struct smaps_parser *p, smaps_mapping_fn fn, void *userdata)
{
	assert(p);
	*p = (struct smaps_parser){ .fn = fn, .userdata = userdata };
}

void smaps_parser_done(struct smaps_parser *p)
{
	if (!p)
		return;
	free(p->path);
	p->path = NULL;
	p->path_alloc = 0;
	free(p->line);
	p->line = NULL;
}

static uint64_t sat_sum(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void quadrant_sums_add(struct quadrant_sums *dst, const struct quadrant_sums *src)
{
	assert(dst && src);
	dst->size = sat_sum(dst->size, src->size);
	dst->rss = sat_sum(dst->rss, src->rss);
	dst->pss = sat_sum(dst->pss, src->pss);
	dst->swap = sat_sum(dst->swap, src->swap);
	dst->dirty = sat_sum(dst->dirty, src->dirty);
	dst->pss_dirty = sat_sum(dst->pss_dirty, src->pss_dirty);
}

/* Closes the current mapping: adds it to the totals and reports it. */
static int smaps_end_mapping(struct smaps_parser *p)
{
	if (!p->in_mapping)
		return 0;
	p->in_mapping = false;
	/* summed here, not as the lines come, so that a repeated line is taken once (the last) */
	p->cur.sums.dirty = sat_sum(p->cur_shared_dirty, p->cur_private_dirty);
	quadrant_sums_add(&p->q[p->cur.quadrant], &p->cur.sums);
	p->mappings++;
	return p->fn ? p->fn(&p->cur, p->userdata) : 0;
}

/* Copies the name the kernel printed into p->path: "\\012" back to a newline (the only escape
 * seq_path() writes in smaps), at most SMAPS_PATH_MAX bytes of it, then SMAPS_PATH_CUT if
 * anything was left out (`cut`: the line itself was cut short). */
static int smaps_keep_path(struct smaps_parser *p, const char *path, size_t len, bool cut)
{
	size_t need = (len < SMAPS_PATH_MAX ? len : SMAPS_PATH_MAX) + sizeof(SMAPS_PATH_CUT);
	size_t i = 0, n = 0;

	if (need > p->path_alloc) {
		char *np = realloc(p->path, need);

		if (!np)
			return -ENOMEM;
		p->path = np;
		p->path_alloc = need;
	}
	while (i < len && n < SMAPS_PATH_MAX) {
		if (path[i] == '\\' && len - i >= 4 && memcmp(path + i + 1, "012", 3) == 0) {
			p->path[n++] = '\n';
			i += 4;
		} else {
			p->path[n++] = path[i++];
		}
	}
	cut = cut || i < len;
	if (cut) {
		memcpy(p->path + n, SMAPS_PATH_CUT, sizeof(SMAPS_PATH_CUT) - 1);
		n += sizeof(SMAPS_PATH_CUT) - 1;
	}
	p->path[n] = '\0';
	p->cur.path = p->path;
	p->cur.path_len = n;
	p->cur.path_cut = cut;
	return 0;
}

/* "start-end perms offset dev inode   path"; `cut`: the line went on past eol. */
static int smaps_header(struct smaps_parser *p, const char *s, const char *eol, bool cut)
{
	uint64_t start, endaddr, major, minor, inode;
	const char *perms;
	bool shared;
	int r;

	assert(*eol == '\n'); /* the *_in_line scanners stop on it */
	if ((r = parse_hex_in_line(&s, eol, &start)) < 0)
		return r;
	if (s >= eol || *s++ != '-')
		return -EBADMSG;
	if ((r = parse_hex_in_line(&s, eol, &endaddr)) < 0)
		return r;
	if (endaddr < start || eol - s < 6 || *s != ' ')
		return -EBADMSG;
	perms = s + 1;
	if (perms[4] != ' ' || (perms[3] != 's' && perms[3] != 'p'))
		return -EBADMSG;
	shared = perms[3] == 's';
	s = perms + 5;
	if ((r = skip_hex_in_line(&s, eol)) < 0) /* the offset: checked, not needed */
		return r;
	/* dev is "major:minor" in hex (the kernel's "%02x:%02x" of MAJOR() and MINOR()) */
	if (s >= eol || *s++ != ' ')
		return -EBADMSG;
	if ((r = parse_hex_in_line(&s, eol, &major)) < 0)
		return r;
	if (s >= eol || *s++ != ':')
		return -EBADMSG;
	if ((r = parse_hex_in_line(&s, eol, &minor)) < 0)
		return r;
	if (major > UINT32_MAX || minor > UINT32_MAX)
		return -ERANGE;
	if (s >= eol || *s++ != ' ')
		return -EBADMSG;
	if ((r = parse_u64(&s, eol, &inode)) < 0)
		return r;
	if (s < eol && *s != ' ')
		return -EBADMSG;
	skip_blanks(&s, eol);
	if (cut && s == eol)
		return -EBADMSG; /* only a long name makes a header long */

	p->in_mapping = true;
	p->cur = (struct smaps_mapping){
		.quadrant = smaps_classify_mapping(shared, inode, s, (size_t)(eol - s)),
		.dev = major << 32 | minor,
		.inode = inode,
	};
	p->cur_shared_dirty = p->cur_private_dirty = 0;
	if (p->cur.quadrant == QUADRANT_PRIVATE_FILE || p->cur.quadrant == QUADRANT_SHARED_FILE)
		return smaps_keep_path(p, s, (size_t)(eol - s), cut);
	p->cur.path = "";
	return 0;
}

/* One line [s, eol), *eol == '\n'; `cut`: the head of a longer line. */
static int smaps_line(struct smaps_parser *p, const char *s, const char *eol, bool cut)
{
	const char *v;
	uint64_t *dst = NULL;
	int r;

	switch (*s) { /* field names start uppercase, mapping headers with a lowercase hex digit */
	case 'S':
		if (FIELD_IS(s, eol, "Size:", &v))
			dst = &p->cur.sums.size;
		else if (FIELD_IS(s, eol, "Swap:", &v))
			dst = &p->cur.sums.swap;
		else if (FIELD_IS(s, eol, "Shared_Dirty:", &v))
			dst = &p->cur_shared_dirty;
		break;
	case 'R':
		if (FIELD_IS(s, eol, "Rss:", &v))
			dst = &p->cur.sums.rss;
		break;
	case 'P':
		if (FIELD_IS(s, eol, "Pss:", &v))
			dst = &p->cur.sums.pss;
		else if (FIELD_IS(s, eol, "Pss_Dirty:", &v))
			dst = &p->cur.sums.pss_dirty;
		else if (FIELD_IS(s, eol, "Private_Dirty:", &v))
			dst = &p->cur_private_dirty;
		break;
	default:
		if (is_mapping_header(s, eol)) {
			if ((r = smaps_end_mapping(p)) < 0)
				return r;
			return smaps_header(p, s, eol, cut);
		}
		break;
	}
	if (!dst)
		return 0;
	if (!p->in_mapping || cut) /* a field before any mapping header, or kilobytes of one */
		return -EBADMSG;
	return parse_kb_value(v, eol, dst);
}

/* A line longer than SMAPS_LINE_MAX starts at s (at least that many bytes are there): parses
 * its head, from a copy ended by a newline as smaps_line() wants it. */
static int smaps_long_line(struct smaps_parser *p, const char *s)
{
	if (!p->line) {
		p->line = malloc(SMAPS_LINE_MAX + 1);
		if (!p->line)
			return -ENOMEM;
	}
	memcpy(p->line, s, SMAPS_LINE_MAX);
	p->line[SMAPS_LINE_MAX] = '\n';
	return smaps_line(p, p->line, p->line + SMAPS_LINE_MAX, true);
}

int smaps_parser_feed(struct smaps_parser *p, const char *buf, size_t len, size_t *ret_consumed)
{
	const char *s = buf, *end = buf + len, *eol;
	int r;

	assert(p && ret_consumed);
	assert(buf || len == 0);
	if (p->in_long_line) {
		/* the rest of a long line whose head was parsed: skip it */
		eol = memchr(s, '\n', len);
		if (!eol) {
			*ret_consumed = len;
			return 0;
		}
		s = eol + 1;
		p->in_long_line = false;
	}
	for (; s < end && (eol = short_line_end(s, end)); s = eol + 1) {
		if ((size_t)(eol - s) > SMAPS_LINE_MAX)
			r = smaps_long_line(p, s);
		else
			r = eol > s ? smaps_line(p, s, eol, false) : 0;
		if (r < 0)
			return r;
	}
	if ((size_t)(end - s) > SMAPS_LINE_MAX) {
		/* no newline yet, but already too long: take its head now, skip the rest as it comes,
		 * so that the caller never has to hold more than SMAPS_LINE_MAX bytes of one line */
		r = smaps_long_line(p, s);
		if (r < 0)
			return r;
		p->in_long_line = true;
		s = end;
	}
	*ret_consumed = (size_t)(s - buf);
	return 0;
}

int smaps_parser_finish(struct smaps_parser *p)
{
	assert(p);
	return smaps_end_mapping(p);
}

int smaps_parse(const char *buf, size_t len, smaps_mapping_fn fn, void *userdata,
		struct quadrant_sums ret[QUADRANT_COUNT], uint64_t *ret_mappings)
{
	struct smaps_parser p;
	size_t used;
	int r;

	smaps_parser_init(&p, fn, userdata);
	r = smaps_parser_feed(&p, buf, len, &used);
	if (r >= 0)
		r = smaps_parser_finish(&p);
	if (r >= 0) {
		memcpy(ret, p.q, sizeof(p.q));
		if (ret_mappings)
			*ret_mappings = p.mappings;
	}
	smaps_parser_done(&p);
	return r;
}
