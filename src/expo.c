/* expo.c — the exposition renderer; see expo.h for the rules it keeps.
 *
 * The per-process families dominate the output (7 lines per exported process, 37 for each of the
 * detail tier's), so each exported process's label prefix `pid="…",comm="…"` is escaped once into
 * a scratch buffer and copied into every family, and numbers are formatted by hand
 * (buf_add_u64). Families are tables: a name, a HELP text that says where the kernel gets the
 * number, a getter, and whether only the detail tier gets it.
 */
#include "expo.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "version.h"

const char *expo_content_type(enum expo_format f)
{
	return f == EXPO_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
				     : "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- escaping ------------------------------------------------------------------------------ */

void expo_label_value(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;

	while (p < end) {
		const char *esc = NULL;
		size_t n = 1;
		bool ok = true;

		if (*p >= 0x80)
			n = utf8_seq(p, end, &ok);
		else if (*p == '\\')
			esc = "\\\\";
		else if (*p == '"')
			esc = "\\\"";
		else if (*p == '\n')
			esc = "\\n";
		else if (*p == '\0')
			ok = false;
		if (ok && !esc) {
			p += n;
			continue;
		}
		buf_add(out, run, (size_t)(p - run));
		buf_addstr(out, esc ? esc : UTF8_REPLACEMENT);
		p += n;
		run = p;
	}
	buf_add(out, run, (size_t)(p - run));
}

#define NON_UTF8 "non-utf8:"

/* Whether s[0..len) is a label value as it stands: well-formed UTF-8 without NUL, and not
 * starting like the escaped form below. */
static bool label_as_is(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	bool ok = true;

	if (len >= sizeof(NON_UTF8) - 1 && memcmp(s, NON_UTF8, sizeof(NON_UTF8) - 1) == 0)
		return false;
	while (p < end && ok) {
		if (*p >= 0x80)
			p += utf8_seq(p, end, &ok);
		else
			ok = *p++ != '\0';
	}
	return ok;
}

void expo_label_bytes(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	static const char hex[] = "0123456789abcdef";

	if (label_as_is(s, len)) {
		expo_label_value(out, s, len);
		return;
	}
	/* the value is NON_UTF8, then the bytes with '\' doubled and each byte of an ill-formed
	 * sequence (or NUL) as \xHH; below, each of those backslashes is escaped once more for the
	 * exposition */
	buf_addstr(out, NON_UTF8);
	while (p < end) {
		size_t n = 1, i;
		bool ok = true;

		if (*p >= 0x80)
			n = utf8_seq(p, end, &ok);
		else if (*p == '\0')
			ok = false;
		if (!ok) {
			for (i = 0; i < n; i++) {
				buf_addstr(out, "\\\\x");
				buf_addch(out, hex[p[i] >> 4]);
				buf_addch(out, hex[p[i] & 15]);
			}
		} else if (*p == '\\') {
			buf_addstr(out, "\\\\\\\\");
		} else {
			expo_label_value(out, (const char *)p, n);
		}
		p += n;
	}
}

void expo_help_text(struct buf *out, const char *s, enum expo_format f)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_addstr(out, "\\\\");
		else if (*s == '\n')
			buf_addstr(out, "\\n");
		else if (*s == '"' && f == EXPO_OPENMETRICS)
			buf_addstr(out, "\\\"");
		else
			buf_addch(out, *s);
	}
}

/* ---- families ------------------------------------------------------------------------------ */

enum ftype { GAUGE, COUNTER, INFO };

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* HELP, TYPE (and in OpenMetrics UNIT) of a family. `name` is the sample name of a gauge or
 * an info metric (ending in _info), the family name of a counter (without _total). */
static void family(struct buf *out, enum expo_format f, const char *name, enum ftype t,
		   const char *help)
{
	size_t n = strlen(name);
	const char *type = t == COUNTER ? "counter" : t == INFO && f == EXPO_OPENMETRICS ? "info" : "gauge";

	if (t == INFO && f == EXPO_OPENMETRICS) {
		assert(has_suffix(name, "_info"));
		n -= 5;
	}
	buf_addstr(out, "# HELP ");
	buf_add(out, name, n);
	if (t == COUNTER && f == EXPO_TEXT)
		buf_addstr(out, "_total");
	buf_addch(out, ' ');
	expo_help_text(out, help, f);
	buf_addstr(out, "\n# TYPE ");
	buf_add(out, name, n);
	if (t == COUNTER && f == EXPO_TEXT)
		buf_addstr(out, "_total");
	buf_addch(out, ' ');
	buf_addstr(out, type);
	buf_addch(out, '\n');
	if (f == EXPO_OPENMETRICS) {
		const char *unit = has_suffix(name, "_bytes") ? "bytes" : has_suffix(name, "_seconds") ? "seconds" : NULL;
		if (unit) {
			buf_addstr(out, "# UNIT ");
			buf_add(out, name, n);
			buf_addch(out, ' ');
			buf_addstr(out, unit);
			buf_addch(out, '\n');
		}
	}
}

/* A sample without labels. */
static void sample_u64(struct buf *out, const char *name, enum ftype t, uint64_t v)
{
	buf_addstr(out, name);
	if (t == COUNTER)
		buf_addstr(out, "_total");
	buf_addch(out, ' ');
	buf_add_u64(out, v);
	buf_addch(out, '\n');
}

static void sample_fixed(struct buf *out, const char *name, uint64_t units, unsigned digits)
{
	buf_addstr(out, name);
	buf_addch(out, ' ');
	buf_add_fixed(out, units, digits);
	buf_addch(out, '\n');
}

/* name{label="value"} v, for the one-label families. */
static void sample_label(struct buf *out, const char *name, enum ftype t, const char *label,
			 const char *value, size_t value_len, uint64_t v)
{
	buf_addstr(out, name);
	if (t == COUNTER)
		buf_addstr(out, "_total");
	buf_addch(out, '{');
	buf_addstr(out, label);
	buf_addstr(out, "=\"");
	expo_label_value(out, value, value_len);
	buf_addstr(out, "\"} ");
	buf_add_u64(out, v);
	buf_addch(out, '\n');
}

/* ---- per process ---------------------------------------------------------------------------- */

struct render {
	const struct snapshot *s;
	enum expo_format f;
	struct buf *out;
	struct buf labels;  /* pid="…",comm="…" of every exported process, back to back */
	size_t *label_off;  /* per sample: start in `labels` (end: the next one's start) */
};

static bool status_has(const struct proc_sample *p, uint32_t bits)
{
	return (p->status.have & bits) == bits;
}

static bool rollup_has(const struct proc_sample *p, uint32_t bits)
{
	return (p->flags & SAMPLE_ROLLUP) && (p->rollup.have & bits) == bits;
}

static bool get_virtual(const struct proc_sample *p, uint64_t *v)
{
	*v = p->status.vm_size;
	return status_has(p, PROC_STATUS_VMSIZE);
}
static bool get_resident(const struct proc_sample *p, uint64_t *v)
{
	*v = p->status.vm_rss;
	return status_has(p, PROC_STATUS_VMRSS);
}
static bool get_shared(const struct proc_sample *p, uint64_t *v)
{
	*v = p->status.rss_file + p->status.rss_shmem;
	return status_has(p, PROC_STATUS_RSSFILE | PROC_STATUS_RSSSHMEM) && *v >= p->status.rss_file;
}
static bool get_data(const struct proc_sample *p, uint64_t *v)
{
	*v = p->status.vm_data;
	return status_has(p, PROC_STATUS_VMDATA);
}
static bool get_code(const struct proc_sample *p, uint64_t *v)
{
	*v = p->status.vm_exe;
	return status_has(p, PROC_STATUS_VMEXE);
}
static bool get_swap(const struct proc_sample *p, uint64_t *v)
{
	*v = p->status.vm_swap;
	return status_has(p, PROC_STATUS_VMSWAP);
}
static bool get_pss(const struct proc_sample *p, uint64_t *v)
{
	*v = p->rollup.pss;
	return rollup_has(p, ROLLUP_PSS);
}
static bool get_swap_pss(const struct proc_sample *p, uint64_t *v)
{
	*v = p->rollup.swap_pss;
	return rollup_has(p, ROLLUP_SWAP_PSS);
}
static bool get_dirty(const struct proc_sample *p, uint64_t *v)
{
	*v = p->rollup.shared_dirty + p->rollup.private_dirty;
	return rollup_has(p, ROLLUP_SHARED_DIRTY | ROLLUP_PRIVATE_DIRTY) && *v >= p->rollup.shared_dirty;
}
static bool get_anon_huge_pages(const struct proc_sample *p, uint64_t *v)
{
	*v = p->rollup.anon_huge_pages;
	return rollup_has(p, ROLLUP_ANON_HUGE_PAGES);
}
static bool get_locked_pss(const struct proc_sample *p, uint64_t *v)
{
	*v = p->rollup.locked;
	return rollup_has(p, ROLLUP_LOCKED);
}

/* detail: only for the processes of the detail tier (SAMPLE_DETAIL, select.h); the others are
 * the summary an overview needs */
static const struct proc_family {
	const char *name;
	const char *help;
	bool (*get)(const struct proc_sample *p, uint64_t *v);
	bool detail;
} proc_families[] = {
	{ "procmem_process_virtual_bytes",
	  "Virtual memory size: VmSize in /proc/PID/status (top VIRT). Address space reserved, resident or not.",
	  get_virtual, true },
	{ "procmem_process_resident_bytes",
	  "Resident set size: VmRSS in /proc/PID/status, the sum of RssAnon, RssFile and RssShmem (top RES). Counts shared pages in full in every process that maps them.",
	  get_resident, false },
	{ "procmem_process_shared_bytes",
	  "Resident memory that can be shared: RssFile + RssShmem in /proc/PID/status (top SHR). File-backed pages, plus shared anonymous pages (tmpfs-backed).",
	  get_shared, false },
	{ "procmem_process_data_bytes",
	  "Private writable address space other than stacks, resident or not: VmData in /proc/PID/status (heap, private anonymous mappings, written-to private file mappings such as libraries' data). top's DATA adds VmStk.",
	  get_data, true },
	{ "procmem_process_code_bytes",
	  "Size of the executable's text: VmExe in /proc/PID/status (top CODE).",
	  get_code, true },
	{ "procmem_process_swap_bytes",
	  "Anonymous memory swapped out: VmSwap in /proc/PID/status (top SWAP).",
	  get_swap, false },
	{ "procmem_process_pss_bytes",
	  "Proportional set size: Pss in /proc/PID/smaps_rollup. Each resident page counted divided by the number of processes mapping it; sums to the memory really used.",
	  get_pss, false },
	{ "procmem_process_uss_bytes",
	  "Unique set size: Private_Clean + Private_Dirty in /proc/PID/smaps_rollup. Resident pages mapped by this process only; about what its exit would free.",
	  proc_sample_uss, false },
	{ "procmem_process_swap_pss_bytes",
	  "Proportional swap: SwapPss in /proc/PID/smaps_rollup. Swapped pages divided by the number of processes sharing them.",
	  get_swap_pss, true },
	{ "procmem_process_dirty_bytes",
	  "Dirty resident memory: Shared_Dirty + Private_Dirty in /proc/PID/smaps_rollup (pmap -x Dirty). Pages that must be written to their file or to swap before they can be freed; shared pages count in full, as in RSS.",
	  get_dirty, true },
	{ "procmem_process_anon_huge_pages_bytes",
	  "Anonymous memory in transparent huge pages: AnonHugePages in /proc/PID/smaps_rollup (huge pages mapped whole, by a PMD).",
	  get_anon_huge_pages, true },
	{ "procmem_process_locked_pss_bytes",
	  "Proportional set size of mlocked mappings: Locked in /proc/PID/smaps_rollup, the Pss of the VM_LOCKED mappings (mlock, mlockall, MAP_LOCKED), not their size (VmLck). Locked pages are never reclaimed.",
	  get_locked_pss, true },
};

static const struct {
	const char *kind;
	uint32_t bit;
	size_t off;
} pss_kinds[] = {
	{ "anon", ROLLUP_PSS_ANON, offsetof(struct smaps_rollup, pss_anon) },
	{ "file", ROLLUP_PSS_FILE, offsetof(struct smaps_rollup, pss_file) },
	{ "shmem", ROLLUP_PSS_SHMEM, offsetof(struct smaps_rollup, pss_shmem) },
};

static const struct quadrant_family {
	const char *proc_name, *proc_help, *total_name, *total_help;
	size_t off;
} quadrant_families[] = {
	{ "procmem_process_quadrant_virtual_bytes",
	  "Mapped size by quadrant: Size summed over the mappings of /proc/PID/smaps. sharing is shared for MAP_SHARED mappings (s in the permissions), backing is anonymous when no file backs the mapping.",
	  "procmem_quadrant_virtual_bytes",
	  "Mapped size by quadrant, summed over every process read: Size in /proc/PID/smaps.",
	  offsetof(struct quadrant_sums, size) },
	{ "procmem_process_quadrant_resident_bytes",
	  "Resident memory by quadrant: Rss summed over the mappings of /proc/PID/smaps. Sums to Rss in smaps_rollup.",
	  "procmem_quadrant_resident_bytes",
	  "Resident memory by quadrant, summed over every process read: Rss in /proc/PID/smaps. Counts shared pages once per process.",
	  offsetof(struct quadrant_sums, rss) },
	{ "procmem_process_quadrant_pss_bytes",
	  "Proportional set size by quadrant: Pss summed over the mappings of /proc/PID/smaps.",
	  "procmem_quadrant_pss_bytes",
	  "Proportional set size by quadrant, summed over every process read: Pss in /proc/PID/smaps. The machine's memory in use by processes, split by kind.",
	  offsetof(struct quadrant_sums, pss) },
	{ "procmem_process_quadrant_swap_bytes",
	  "Swapped-out memory by quadrant: Swap summed over the mappings of /proc/PID/smaps.",
	  "procmem_quadrant_swap_bytes",
	  "Swapped-out memory by quadrant, summed over every process read: Swap in /proc/PID/smaps.",
	  offsetof(struct quadrant_sums, swap) },
	{ "procmem_process_quadrant_dirty_bytes",
	  "Dirty memory by quadrant: Shared_Dirty + Private_Dirty summed over the mappings of /proc/PID/smaps (pmap -x Dirty). Dirty pages of shared/file mappings can be written back to their file; those of the other quadrants (anonymous memory, the copied pages of written private file mappings) only swapped out.",
	  "procmem_quadrant_dirty_bytes",
	  "Dirty memory by quadrant, summed over every process read: Shared_Dirty + Private_Dirty in /proc/PID/smaps. Counts shared pages once per process; procmem_quadrant_pss_dirty_bytes counts each page once.",
	  offsetof(struct quadrant_sums, dirty) },
};

/* A machine total with no per-process family: Pss_Dirty is for summing over processes; per
 * process, dirty and pss say enough. Known only where the kernel prints it. */
static const struct quadrant_family quadrant_pss_dirty = {
	NULL, NULL, "procmem_quadrant_pss_dirty_bytes",
	"Proportional dirty memory by quadrant, summed over every process read: Pss_Dirty in /proc/PID/smaps (kernels 6.0 and later; absent before). Each dirty page counts once: the memory that must be written back (shared/file) or swapped (the other quadrants) before it can be freed.",
	offsetof(struct quadrant_sums, pss_dirty),
};

static uint64_t field_at(const void *base, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

static bool exported(const struct proc_sample *p)
{
	return p->flags & SAMPLE_EXPORTED;
}

static bool detailed(const struct proc_sample *p)
{
	return p->flags & SAMPLE_DETAIL;
}

/* name{pid="…",comm="…"  — the caller adds further labels, then "} value\n" */
static void proc_sample_open(struct render *r, size_t i, const char *name)
{
	buf_addstr(r->out, name);
	buf_addch(r->out, '{');
	buf_add(r->out, r->labels.buf + r->label_off[i], r->label_off[i + 1] - r->label_off[i]);
}

static void sample_close(struct buf *out, uint64_t v)
{
	buf_addstr(out, "} ");
	buf_add_u64(out, v);
	buf_addch(out, '\n');
}

/* Each exported process's escaped label prefix, once, into r->labels at r->label_off[i].
 * -ENOMEM. */
static int build_labels(struct render *r)
{
	const struct snapshot *s = r->s;
	size_t i;

	r->label_off = malloc((s->nprocs + 1) * sizeof(*r->label_off));
	if (!r->label_off)
		return -ENOMEM;
	for (i = 0; i < s->nprocs; i++) {
		const struct proc_sample *p = &s->procs[i];

		r->label_off[i] = r->labels.len;
		if (!exported(p))
			continue;
		buf_addstr(&r->labels, "pid=\"");
		buf_add_u64(&r->labels, p->pid);
		buf_addstr(&r->labels, "\",comm=\"");
		expo_label_value(&r->labels, p->comm.s, p->comm.len);
		buf_addch(&r->labels, '"');
	}
	r->label_off[s->nprocs] = r->labels.len;
	return buf_failed(&r->labels) ? -ENOMEM : 0;
}

static void render_proc_family(struct render *r, const struct proc_family *fam)
{
	const struct snapshot *s = r->s;
	bool header = false;
	uint64_t v;
	size_t i;

	for (i = 0; i < s->nprocs; i++) {
		if (!exported(&s->procs[i]) || (fam->detail && !detailed(&s->procs[i])) ||
		    !fam->get(&s->procs[i], &v))
			continue;
		if (!header) {
			family(r->out, r->f, fam->name, GAUGE, fam->help);
			header = true;
		}
		proc_sample_open(r, i, fam->name);
		sample_close(r->out, v);
	}
}

static void render_pss_kind(struct render *r)
{
	static const char name[] = "procmem_process_pss_kind_bytes";
	const struct snapshot *s = r->s;
	bool header = false;
	size_t i, k;

	for (i = 0; i < s->nprocs; i++) {
		const struct proc_sample *p = &s->procs[i];

		if (!detailed(p))
			continue;
		for (k = 0; k < sizeof(pss_kinds) / sizeof(pss_kinds[0]); k++) {
			if (!rollup_has(p, pss_kinds[k].bit))
				continue;
			if (!header) {
				family(r->out, r->f, name, GAUGE,
				       "Proportional set size by kind of page: Pss_Anon, Pss_File and Pss_Shmem in /proc/PID/smaps_rollup (kernels 5.x and later; absent before). A private file mapping's written pages count as anon.");
				header = true;
			}
			proc_sample_open(r, i, name);
			buf_addstr(r->out, ",kind=\"");
			buf_addstr(r->out, pss_kinds[k].kind);
			buf_addch(r->out, '"');
			sample_close(r->out, field_at(&p->rollup, pss_kinds[k].off));
		}
	}
}

static void quadrant_labels(struct buf *out, enum quadrant q)
{
	buf_addstr(out, "sharing=\"");
	buf_addstr(out, quadrant_sharing(q));
	buf_addstr(out, "\",backing=\"");
	buf_addstr(out, quadrant_backing(q));
	buf_addch(out, '"');
}

static void render_proc_quadrants(struct render *r, const struct quadrant_family *fam)
{
	const struct snapshot *s = r->s;
	bool header = false;
	size_t i;
	int q;

	for (i = 0; i < s->nprocs; i++) {
		const struct proc_sample *p = &s->procs[i];

		if (!detailed(p) || !(p->flags & SAMPLE_QUADRANTS))
			continue;
		if (!header) {
			family(r->out, r->f, fam->proc_name, GAUGE, fam->proc_help);
			header = true;
		}
		for (q = 0; q < QUADRANT_COUNT; q++) {
			proc_sample_open(r, i, fam->proc_name);
			buf_addch(r->out, ',');
			quadrant_labels(r->out, (enum quadrant)q);
			sample_close(r->out, field_at(&p->quad[q], fam->off));
		}
	}
}

/* start time = boot time + start ticks / hz, in microseconds; false if it does not fit */
static bool start_time_us(const struct snapshot *s, const struct proc_sample *p, uint64_t *ret)
{
	uint64_t a, b;

	if (s->hz == 0 || __builtin_mul_overflow(s->btime, 1000000u, &a) ||
	    __builtin_mul_overflow(p->start_ticks, 1000000u, &b))
		return false;
	b /= s->hz;
	return !__builtin_add_overflow(a, b, ret);
}

static void render_start_time(struct render *r)
{
	static const char name[] = "procmem_process_start_time_seconds";
	const struct snapshot *s = r->s;
	bool header = false;
	uint64_t us;
	size_t i;

	for (i = 0; i < s->nprocs; i++) {
		if (!exported(&s->procs[i]) || !start_time_us(s, &s->procs[i], &us))
			continue;
		if (!header) {
			family(r->out, r->f, name, GAUGE,
			       "Start time of the process in seconds since the epoch: starttime in /proc/PID/stat plus btime in /proc/stat. Tells a reused pid apart.");
			header = true;
		}
		proc_sample_open(r, i, name);
		buf_addstr(r->out, "} ");
		buf_add_fixed(r->out, us, 6);
		buf_addch(r->out, '\n');
	}
}

static void render_info(struct render *r)
{
	static const char name[] = "procmem_process_info";
	const struct snapshot *s = r->s;
	bool header = false;
	size_t i;

	for (i = 0; i < s->nprocs; i++) {
		const struct proc_sample *p = &s->procs[i];

		if (!exported(p))
			continue;
		if (!header) {
			family(r->out, r->f, name, INFO,
			       "Process metadata, value 1; the join point for the other procmem_process_ series. user: real uid's name; unit: systemd unit from /proc/PID/cgroup (empty outside one); container_id, runtime, pod_uid: the container and Kubernetes pod its cgroup names (empty outside one); exe: /proc/PID/exe; ppid: parent pid.");
			header = true;
		}
		proc_sample_open(r, i, name);
		buf_addstr(r->out, ",user=\"");
		expo_label_value(r->out, p->user.s, p->user.len);
		buf_addstr(r->out, "\",unit=\"");
		expo_label_value(r->out, p->unit.s, p->unit.len);
		buf_addstr(r->out, "\",container_id=\"");
		expo_label_bytes(r->out, p->cg.container_id.s, p->cg.container_id.len);
		buf_addstr(r->out, "\",runtime=\"");
		buf_addstr(r->out, cgroup_runtime_name(p->cg.runtime));
		buf_addstr(r->out, "\",pod_uid=\"");
		expo_label_value(r->out, p->cg.pod_uid.s, p->cg.pod_uid.len);
		buf_addstr(r->out, "\",exe=\"");
		expo_label_value(r->out, p->exe.s, p->exe.len);
		buf_addstr(r->out, "\",ppid=\"");
		buf_add_u64(r->out, p->ppid);
		buf_addch(r->out, '"');
		sample_close(r->out, 1);
	}
}

/* ---- machine ------------------------------------------------------------------------------- */

static void render_quadrant_total(struct render *r, const struct quadrant_family *fam)
{
	int q;

	family(r->out, r->f, fam->total_name, GAUGE, fam->total_help);
	for (q = 0; q < QUADRANT_COUNT; q++) {
		buf_addstr(r->out, fam->total_name);
		buf_addch(r->out, '{');
		quadrant_labels(r->out, (enum quadrant)q);
		sample_close(r->out, field_at(&r->s->quad_total[q], fam->off));
	}
}

static void render_machine(struct render *r)
{
	const struct snapshot *s = r->s;
	struct buf *out = r->out;
	size_t k;

	if (s->have_quad_total) {
		for (k = 0; k < sizeof(quadrant_families) / sizeof(quadrant_families[0]); k++)
			render_quadrant_total(r, &quadrant_families[k]);
		if (s->have_quad_pss_dirty)
			render_quadrant_total(r, &quadrant_pss_dirty);
	}
	if (s->have_pss_total) {
		family(out, r->f, "procmem_pss_bytes", GAUGE,
		       "Proportional set size summed over every process whose smaps_rollup was read: the memory processes really use.");
		sample_u64(out, "procmem_pss_bytes", GAUGE, s->pss_total);
	}
	if (s->have_uss_total) {
		family(out, r->f, "procmem_uss_bytes", GAUGE,
		       "Unique set size (Private_Clean + Private_Dirty) summed over every process whose smaps_rollup was read.");
		sample_u64(out, "procmem_uss_bytes", GAUGE, s->uss_total);
	}
	family(out, r->f, "procmem_swap_bytes", GAUGE,
	       "Swapped-out memory summed over every process read: VmSwap in /proc/PID/status.");
	sample_u64(out, "procmem_swap_bytes", GAUGE, s->swap_total);
}

/* ---- aggregates ---------------------------------------------------------------------------- */

enum agg_kind { AGG_USER, AGG_UNIT, AGG_CGROUP, AGG_CONTAINER, AGG_POD, AGG_KIND_COUNT };

struct agg_family {
	const char *suffix, *help[AGG_KIND_COUNT]; /* help NULL: the kind has no such family */
	size_t off;	/* of the uint64_t figure in struct agg_row */
	size_t have;	/* of the bool that says it is known, or SIZE_MAX: always */
};

#define CGROUP_HELP_TAIL " Processes directly in the cgroup, labelled as cAdvisor's id; past --cgroup-top, summed under cgroup=\"other\"."
#define CONTAINER_HELP_TAIL " Processes in the container's cgroup or below it; past --cgroup-top, summed under cgroup=\"other\"."
#define POD_HELP_TAIL " Processes in the Kubernetes pod's cgroup or below it (containers, pause, monitors); past --cgroup-top, summed under cgroup=\"other\"."

static const struct agg_family agg_families[] = {
	{ "resident_bytes",
	  { "Resident set size (VmRSS) summed over the user's processes.",
	    "Resident set size (VmRSS) summed over the systemd unit's processes.",
	    "Resident set size (VmRSS) summed over the cgroup's processes." CGROUP_HELP_TAIL,
	    "Resident set size (VmRSS) summed over the container's processes." CONTAINER_HELP_TAIL,
	    "Resident set size (VmRSS) summed over the pod's processes." POD_HELP_TAIL },
	  offsetof(struct agg_row, resident), SIZE_MAX },
	{ "pss_bytes",
	  { "Proportional set size (Pss in smaps_rollup) summed over the user's processes whose smaps_rollup was read.",
	    "Proportional set size (Pss in smaps_rollup) summed over the systemd unit's processes whose smaps_rollup was read.",
	    "Proportional set size (Pss in smaps_rollup) summed over the cgroup's processes whose smaps_rollup was read: shared pages count by share, unlike in the cgroup's memory.current." CGROUP_HELP_TAIL,
	    "Proportional set size (Pss in smaps_rollup) summed over the container's processes whose smaps_rollup was read: shared pages count by share." CONTAINER_HELP_TAIL,
	    "Proportional set size (Pss in smaps_rollup) summed over the pod's processes whose smaps_rollup was read: shared pages count by share." POD_HELP_TAIL },
	  offsetof(struct agg_row, pss), offsetof(struct agg_row, have_pss) },
	{ "uss_bytes",
	  { "Unique set size (Private_Clean + Private_Dirty in smaps_rollup) summed over the user's processes whose smaps_rollup was read.",
	    "Unique set size (Private_Clean + Private_Dirty in smaps_rollup) summed over the systemd unit's processes whose smaps_rollup was read.",
	    "Unique set size (Private_Clean + Private_Dirty in smaps_rollup) summed over the cgroup's processes whose smaps_rollup was read." CGROUP_HELP_TAIL,
	    "Unique set size (Private_Clean + Private_Dirty in smaps_rollup) summed over the container's processes whose smaps_rollup was read (pages they share among themselves are not in it)." CONTAINER_HELP_TAIL,
	    "Unique set size (Private_Clean + Private_Dirty in smaps_rollup) summed over the pod's processes whose smaps_rollup was read (pages they share among themselves are not in it)." POD_HELP_TAIL },
	  offsetof(struct agg_row, uss), offsetof(struct agg_row, have_uss) },
	{ "swap_bytes",
	  { "Swapped-out memory (VmSwap) summed over the user's processes.",
	    "Swapped-out memory (VmSwap) summed over the systemd unit's processes.",
	    "Swapped-out memory (VmSwap) summed over the cgroup's processes." CGROUP_HELP_TAIL,
	    "Swapped-out memory (VmSwap) summed over the container's processes." CONTAINER_HELP_TAIL,
	    "Swapped-out memory (VmSwap) summed over the pod's processes." POD_HELP_TAIL },
	  offsetof(struct agg_row, swap), SIZE_MAX },
	{ "processes",
	  { "Number of processes read that run as the user (real uid).",
	    "Number of processes read that belong to the systemd unit (\"\" for processes outside any unit).",
	    "Number of processes read in the cgroup (\"\": those whose /proc/PID/cgroup could not be trusted)." CGROUP_HELP_TAIL,
	    NULL, NULL },
	  offsetof(struct agg_row, processes), SIZE_MAX },
};

/* The labels of a cgroup, container or pod row: what its first process says (nothing for the
 * "other" row), and always the cgroup, which keeps rows apart whatever the rest says. */
static void cgroup_labels(struct buf *out, enum agg_kind kind, const struct agg_row *row)
{
	const struct sample_cgroup *cg = row->sample ? &row->sample->cg : NULL;

	if (kind == AGG_CONTAINER) {
		buf_addstr(out, "container_id=\"");
		if (cg)
			expo_label_bytes(out, cg->container_id.s, cg->container_id.len);
		buf_addstr(out, "\",runtime=\"");
		if (cg)
			buf_addstr(out, cgroup_runtime_name(cg->runtime));
		buf_addstr(out, "\",");
	}
	if (kind == AGG_CONTAINER || kind == AGG_POD) {
		buf_addstr(out, "pod_uid=\"");
		if (cg)
			expo_label_value(out, cg->pod_uid.s, cg->pod_uid.len);
		buf_addstr(out, "\",");
	}
	buf_addstr(out, "cgroup=\"");
	expo_label_bytes(out, row->key.s, row->key.len);
	buf_addch(out, '"');
}

static void agg_labels(struct buf *out, enum agg_kind kind, const struct agg_row *row)
{
	if (kind == AGG_USER || kind == AGG_UNIT) {
		buf_addstr(out, kind == AGG_USER ? "user=\"" : "unit=\"");
		expo_label_value(out, row->key.s, row->key.len);
		buf_addch(out, '"');
	} else {
		cgroup_labels(out, kind, row);
	}
}

static void render_aggregate(struct render *r, enum agg_kind kind, const struct agg_row *rows, size_t n)
{
	static const char *const what[AGG_KIND_COUNT] = { "user", "unit", "cgroup", "container", "pod" };
	struct buf *out = r->out;
	char name[64];
	size_t k, i;

	for (k = 0; k < sizeof(agg_families) / sizeof(agg_families[0]); k++) {
		const struct agg_family *fam = &agg_families[k];
		bool header = false;

		if (!fam->help[kind])
			continue;
		snprintf(name, sizeof(name), "procmem_%s_%s", what[kind], fam->suffix);
		for (i = 0; i < n; i++) {
			bool have = true;

			if (fam->have != SIZE_MAX)
				memcpy(&have, (const char *)&rows[i] + fam->have, sizeof(have));
			if (!have)
				continue;
			if (!header) {
				family(out, r->f, name, GAUGE, fam->help[kind]);
				header = true;
			}
			buf_addstr(out, name);
			buf_addch(out, '{');
			agg_labels(out, kind, &rows[i]);
			sample_close(out, field_at(&rows[i], fam->off));
		}
	}
}

/* The container's quadrants: "this pod shares 300 MB of file pages with its neighbours". */
static void render_container_quadrants(struct render *r)
{
	static const char name[] = "procmem_container_quadrant_pss_bytes";
	const struct snapshot *s = r->s;
	bool header = false;
	size_t i;
	int q;

	for (i = 0; i < s->ncontainers; i++) {
		const struct agg_row *row = &s->containers[i];

		if (!row->have_quad)
			continue;
		if (!header) {
			family(r->out, r->f, name, GAUGE,
			       "Proportional set size by quadrant summed over the container's processes whose smaps was read (Pss of their mappings in /proc/PID/smaps): shared/file is its share of the files it maps with others, private/anonymous its own heap." CONTAINER_HELP_TAIL);
			header = true;
		}
		for (q = 0; q < QUADRANT_COUNT; q++) {
			buf_addstr(r->out, name);
			buf_addch(r->out, '{');
			cgroup_labels(r->out, AGG_CONTAINER, row);
			buf_addch(r->out, ',');
			quadrant_labels(r->out, (enum quadrant)q);
			sample_close(r->out, row->quad[q].pss);
		}
	}
}

static void render_cgroup_counts(struct render *r)
{
	const struct snapshot *s = r->s;

	family(r->out, r->f, "procmem_cgroups", GAUGE,
	       "Cgroups holding processes read in the last cycle (past --cgroup-top, summed under cgroup=\"other\").");
	sample_u64(r->out, "procmem_cgroups", GAUGE, s->cgroups_seen);
	family(r->out, r->f, "procmem_containers", GAUGE,
	       "Containers (Docker, containerd, CRI-O, Podman, LXC, systemd-machined) recognised from the cgroups of the processes read in the last cycle.");
	sample_u64(r->out, "procmem_containers", GAUGE, s->containers_seen);
	family(r->out, r->f, "procmem_pods", GAUGE,
	       "Kubernetes pods recognised from the cgroups of the processes read in the last cycle.");
	sample_u64(r->out, "procmem_pods", GAUGE, s->pods_seen);
}

/* name{device="MAJOR:MINOR",inode="N",path="…"} v: the file's identity makes the series unique
 * whatever its path's bytes (two files can print the same path, or paths that render alike). */
static void sample_mapping(struct buf *out, const char *name, const struct mapping_row *m, uint64_t v)
{
	buf_addstr(out, name);
	buf_addstr(out, "{device=\"");
	buf_add_u64(out, m->dev >> 32);
	buf_addch(out, ':');
	buf_add_u64(out, m->dev & 0xffffffffu);
	buf_addstr(out, "\",inode=\"");
	buf_add_u64(out, m->inode);
	buf_addstr(out, "\",path=\"");
	expo_label_value(out, m->path.s, m->path.len);
	buf_addstr(out, "\"} ");
	buf_add_u64(out, v);
	buf_addch(out, '\n');
}

static void render_mappings(struct render *r)
{
	const struct snapshot *s = r->s;
	size_t i;

	if (!s->have_mappings || s->nmappings == 0)
		return;
	family(r->out, r->f, "procmem_mapping_pss_bytes", GAUGE,
	       "Proportional set size of a mapped file summed over every process, for the files with most (--mapping-top): Pss of the file's mappings in /proc/PID/smaps. A file is its device and inode; path is one name it was seen with.");
	for (i = 0; i < s->nmappings; i++)
		sample_mapping(r->out, "procmem_mapping_pss_bytes", &s->mappings[i], s->mappings[i].pss);
	family(r->out, r->f, "procmem_mapping_resident_bytes", GAUGE,
	       "Resident memory of a mapped file summed over every process mapping it (a shared page counts once per process), for the same files as procmem_mapping_pss_bytes.");
	for (i = 0; i < s->nmappings; i++)
		sample_mapping(r->out, "procmem_mapping_resident_bytes", &s->mappings[i], s->mappings[i].rss);
}

/* ---- the exporter itself ------------------------------------------------------------------- */

/* The collector's own figures: its last cycle, and its errors so far. */
static void render_self_collect(struct render *r)
{
	const struct snapshot *s = r->s;
	struct buf *out = r->out;
	int e;

	family(out, r->f, "procmem_collect_duration_seconds", GAUGE,
	       "Wall time of the last collection cycle.");
	sample_fixed(out, "procmem_collect_duration_seconds", s->duration_ns, 9);
	family(out, r->f, "procmem_collect_cycles", COUNTER, "Collection cycles completed.");
	sample_u64(out, "procmem_collect_cycles", COUNTER, s->cycles_total);
	family(out, r->f, "procmem_last_collect_timestamp_seconds", GAUGE,
	       "When the last collection cycle ended, in seconds since the epoch.");
	sample_fixed(out, "procmem_last_collect_timestamp_seconds", s->timestamp_ns, 9);
	family(out, r->f, "procmem_processes", GAUGE,
	       "Processes read in the last cycle (kernel threads and zombies not included).");
	sample_u64(out, "procmem_processes", GAUGE, s->nprocs);
	family(out, r->f, "procmem_processes_exported", GAUGE,
	       "Processes of the last cycle that got per-process series (after --include, --exclude, --min-rss, --top-min-age and --top).");
	sample_u64(out, "procmem_processes_exported", GAUGE, s->processes_exported);
	family(out, r->f, "procmem_kernel_threads", GAUGE,
	       "Kernel threads seen in the last cycle (Kthread: 1 in status): they have no memory of their own and get no series.");
	sample_u64(out, "procmem_kernel_threads", GAUGE, s->kernel_threads);
	if (s->mode == SMAPS_FULL) {
		family(out, r->f, "procmem_smaps_full_reads", GAUGE,
		       "Processes whose full /proc/PID/smaps was read in the last cycle (new, memory moved, or figures too old).");
		sample_u64(out, "procmem_smaps_full_reads", GAUGE, s->smaps_full_reads);
		family(out, r->f, "procmem_smaps_carried_processes", GAUGE,
		       "Processes whose quadrants and mapped files in the last cycle are carried from an earlier full smaps read.");
		sample_u64(out, "procmem_smaps_carried_processes", GAUGE, s->smaps_carried);
		family(out, r->f, "procmem_smaps_carried_max_age_seconds", GAUGE,
		       "Age of the oldest carried quadrants in the last cycle (0 when none are carried).");
		sample_fixed(out, "procmem_smaps_carried_max_age_seconds", s->smaps_carried_max_age_ns, 9);
	}
	family(out, r->f, "procmem_collect_errors", COUNTER,
	       "Processes not read in full, by reason: vanished (exited mid-read), permission (EACCES; status figures kept), parse (unexpected text), skipped_large (RSS over --smaps-max-rss and not read yet: status figures only), skipped_budget (a full smaps read was due but --smaps-budget was spent: last quadrants kept).");
	for (e = 0; e < COLLECT_ERR_COUNT; e++) {
		const char *reason = collect_error_reason((enum collect_error)e);
		sample_label(out, "procmem_collect_errors", COUNTER, "reason", reason, strlen(reason),
			     s->errors_total[e]);
	}
}

/* The exporter's own process, in the families every Prometheus client library exports, and
 * its build. */
static void render_self_process(struct render *r)
{
	const struct snapshot *s = r->s;
	struct buf *out = r->out;

	if (s->self.have_memory) {
		family(out, r->f, "process_resident_memory_bytes", GAUGE,
		       "Resident memory size of the exporter in bytes.");
		sample_u64(out, "process_resident_memory_bytes", GAUGE, s->self.resident);
		family(out, r->f, "process_virtual_memory_bytes", GAUGE,
		       "Virtual memory size of the exporter in bytes.");
		sample_u64(out, "process_virtual_memory_bytes", GAUGE, s->self.virtual_size);
	}
	if (s->self.have_fds) {
		family(out, r->f, "process_open_fds", GAUGE, "Number of open file descriptors.");
		sample_u64(out, "process_open_fds", GAUGE, s->self.open_fds);
		family(out, r->f, "process_max_fds", GAUGE, "Maximum number of open file descriptors.");
		sample_u64(out, "process_max_fds", GAUGE, s->self.max_fds);
	}
	if (s->self.start_time_cs) {
		family(out, r->f, "process_start_time_seconds", GAUGE,
		       "Start time of the exporter since unix epoch in seconds.");
		sample_fixed(out, "process_start_time_seconds", s->self.start_time_cs, 2);
	}
	family(out, r->f, "procmem_exporter_build_info", INFO,
	       "Build information about procmem_exporter, value 1.");
	sample_label(out, "procmem_exporter_build_info", GAUGE, "version", PROCMEM_VERSION,
		     strlen(PROCMEM_VERSION), 1);
}

void expo_render(const struct snapshot *s, enum expo_format f, struct buf *out)
{
	struct render r = { .s = s, .f = f, .out = out, .labels = BUF_INIT };
	size_t k;

	assert(s && out);
	if (build_labels(&r) < 0) {
		buf_set_failed(out);
		goto out;
	}
	for (k = 0; k < sizeof(proc_families) / sizeof(proc_families[0]); k++)
		render_proc_family(&r, &proc_families[k]);
	render_pss_kind(&r);
	for (k = 0; k < sizeof(quadrant_families) / sizeof(quadrant_families[0]); k++)
		render_proc_quadrants(&r, &quadrant_families[k]);
	render_start_time(&r);
	render_info(&r);
	render_machine(&r);
	render_aggregate(&r, AGG_USER, s->users, s->nusers);
	render_aggregate(&r, AGG_UNIT, s->units, s->nunits);
	render_aggregate(&r, AGG_CGROUP, s->cgroups, s->ncgroups);
	render_aggregate(&r, AGG_CONTAINER, s->containers, s->ncontainers);
	render_container_quadrants(&r);
	render_aggregate(&r, AGG_POD, s->pods, s->npods);
	render_cgroup_counts(&r);
	render_mappings(&r);
	render_self_collect(&r);
	render_self_process(&r);
out:
	free(r.label_off);
	buf_done(&r.labels);
}

void expo_render_tail(const struct expo_tail *t, enum expo_format f, struct buf *out)
{
	size_t i;
	char code[8];

	assert(t && out);
	/* --once has no server, and no requests to count */
	if (t->ncodes)
		family(out, f, "procmem_http_requests", COUNTER,
		       "HTTP responses sent in full, by status code (libmicrohttpd's own error answers included).");
	for (i = 0; i < t->ncodes; i++) {
		int n = snprintf(code, sizeof(code), "%u", t->codes[i]);
		sample_label(out, "procmem_http_requests", COUNTER, "code", code, (size_t)n, t->requests[i]);
	}
	family(out, f, "process_cpu_seconds", COUNTER, "Total user and system CPU time spent in seconds.");
	buf_addstr(out, "process_cpu_seconds_total ");
	buf_add_fixed(out, t->cpu_us, 6);
	buf_addch(out, '\n');
	if (f == EXPO_OPENMETRICS)
		buf_addstr(out, "# EOF\n");
}
