/* cgroup.c — /proc/PID/cgroup, and what a cgroup path says about containers and pods; see
 * cgroup.h for the rules and why they are strict.
 *
 * The names recognised, and where they come from:
 *  - the kubelet (pkg/kubelet/cm): a pod's cgroup is {ROOT..., "kubepods", QOS?, "pod"+UID}, QOS
 *    "burstable" or "besteffort" (none for Guaranteed pods); the cgroupfs driver joins them as
 *    directories, the systemd driver writes each as a slice whose name spells out its ancestors
 *    ("kubepods-burstable-pod<UID>.slice" inside "kubepods-burstable.slice" inside
 *    "kubepods.slice"), with '_' for the '-' of the UID since '-' separates the levels;
 *  - the runtimes, for a container's own cgroup: Docker "docker-<ID>.scope" (systemd driver) or
 *    "/docker/<ID>" (cgroupfs), containerd's CRI plugin "cri-containerd-<ID>.scope", CRI-O
 *    "crio-<ID>.scope" (and "crio-<ID>" for the cgroupfs driver and the systemd driver's
 *    sandboxes; "crio-conmon-<ID>.scope" is its monitor, not the container), Podman
 *    "libpod-<ID>.scope" or "libpod-<ID>" ("libpod-conmon-" is the monitor), LXC 4 and later
 *    "lxc.payload.<NAME>" (older: "/lxc/<NAME>"; "lxc.monitor.<NAME>" is the monitor),
 *    systemd-machined "machine-<NAME>.scope" (systemd-nspawn, libvirt); a bare ID directly in a
 *    pod cgroup is a container of an unknown CRI runtime (containerd or cri-dockerd under the
 *    cgroupfs driver). IDs are 64 lowercase hex digits, as cAdvisor matches them.
 */
#include "cgroup.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#define ID_LEN 64

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_hex_lower(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool bytes_eq(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	return len == n && memcmp(p, lit, n) == 0;
}

static bool bytes_prefix(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	return len >= n && memcmp(p, lit, n) == 0;
}

static bool bytes_suffix(const char *p, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	return len >= n && memcmp(p + len - n, lit, n) == 0;
}

const char *cgroup_runtime_name(enum cgroup_runtime r)
{
	static const char *const names[CGROUP_RUNTIME_COUNT] = {
		[CGROUP_RUNTIME_NONE] = "",	     [CGROUP_RUNTIME_UNKNOWN] = "",
		[CGROUP_RUNTIME_DOCKER] = "docker", [CGROUP_RUNTIME_CONTAINERD] = "containerd",
		[CGROUP_RUNTIME_CRIO] = "crio",     [CGROUP_RUNTIME_PODMAN] = "podman",
		[CGROUP_RUNTIME_LXC] = "lxc",	     [CGROUP_RUNTIME_MACHINED] = "machined",
	};
	return (unsigned)r < CGROUP_RUNTIME_COUNT ? names[r] : "";
}

/* ---- path components ----------------------------------------------------------------------- */

struct comp {
	const char *s;
	size_t n;
	size_t end; /* offset just past it in the path */
};

/* The next non-empty component at or after *off; false at the end. */
static bool next_comp(const char *path, size_t len, size_t *off, struct comp *ret)
{
	size_t i = *off, start;

	while (i < len && path[i] == '/')
		i++;
	if (i >= len)
		return false;
	start = i;
	while (i < len && path[i] != '/')
		i++;
	*ret = (struct comp){ path + start, i - start, i };
	*off = i;
	return true;
}

static bool comp_is_dotdot(const struct comp *c)
{
	return bytes_eq(c->s, c->n, "..");
}

/* A path that tells nothing: the root ("/"), or in a cgroup namespace only the way up out of
 * it ("/..", "/../.."), whose target the namespace hides. */
static bool path_informative(const char *path, size_t len)
{
	struct comp c;
	size_t off = 0;

	while (next_comp(path, len, &off, &c))
		if (!comp_is_dotdot(&c))
			return true;
	return false;
}

/* ---- containers ------------------------------------------------------------------------------- */

static bool is_id(const char *s, size_t n)
{
	size_t i;

	if (n != ID_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!is_hex_lower(s[i]))
			return false;
	return true;
}

/* PREFIX<ID>SUFFIX, SUFFIX optional when `suffix_optional`. */
static bool id_between(const struct comp *c, const char *prefix, const char *suffix,
		       bool suffix_optional, const char **ret_id)
{
	size_t p = strlen(prefix), s = strlen(suffix);

	if (!bytes_prefix(c->s, c->n, prefix))
		return false;
	if (c->n == p + ID_LEN + s && bytes_suffix(c->s, c->n, suffix) && is_id(c->s + p, ID_LEN)) {
		*ret_id = c->s + p;
		return true;
	}
	if (suffix_optional && c->n == p + ID_LEN && is_id(c->s + p, ID_LEN)) {
		*ret_id = c->s + p;
		return true;
	}
	return false;
}

static void set_container(struct cgroup_identity *id, const struct comp *c, enum cgroup_runtime rt,
			  const char *name, size_t n)
{
	assert(n <= CGROUP_NAME_MAX);
	id->container_end = c->end;
	id->runtime = rt;
	memcpy(id->container_id, name, n);
	id->container_id[n] = '\0';
	id->container_id_len = n;
}

/* systemd's unit name escaping undone: "\xNN" is the byte NN. */
static void set_machine(struct cgroup_identity *id, const struct comp *c, const char *name, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		int hi, lo;

		if (name[i] == '\\' && n - i >= 4 && name[i + 1] == 'x' &&
		    (hi = hex_value(name[i + 2])) >= 0 && (lo = hex_value(name[i + 3])) >= 0) {
			id->container_id[k++] = (char)(hi << 4 | lo);
			i += 3;
		} else {
			id->container_id[k++] = name[i];
		}
	}
	id->container_id[k] = '\0';
	id->container_id_len = k;
	id->container_end = c->end;
	id->runtime = CGROUP_RUNTIME_MACHINED;
}

/* A container's cgroup anywhere outside a pod. `parent` is the component above (n == 0: none). */
static bool outside_pod_container(struct cgroup_identity *id, const struct comp *c,
				  const struct comp *parent)
{
	const char *x;

	if (c->n > CGROUP_NAME_MAX)
		return false;
	if (id_between(c, "docker-", ".scope", false, &x)) {
		set_container(id, c, CGROUP_RUNTIME_DOCKER, x, ID_LEN);
	} else if (is_id(c->s, c->n) && bytes_eq(parent->s, parent->n, "docker")) {
		set_container(id, c, CGROUP_RUNTIME_DOCKER, c->s, ID_LEN);
	} else if (id_between(c, "cri-containerd-", ".scope", false, &x)) {
		set_container(id, c, CGROUP_RUNTIME_CONTAINERD, x, ID_LEN);
	} else if (id_between(c, "crio-", ".scope", true, &x)) {
		set_container(id, c, CGROUP_RUNTIME_CRIO, x, ID_LEN);
	} else if (id_between(c, "libpod-", ".scope", true, &x)) {
		set_container(id, c, CGROUP_RUNTIME_PODMAN, x, ID_LEN);
	} else if (bytes_prefix(c->s, c->n, "lxc.payload.") && c->n > 12) {
		set_container(id, c, CGROUP_RUNTIME_LXC, c->s + 12, c->n - 12);
	} else if (bytes_eq(parent->s, parent->n, "lxc")) {
		set_container(id, c, CGROUP_RUNTIME_LXC, c->s, c->n);
	} else if (bytes_prefix(c->s, c->n, "machine-") && bytes_suffix(c->s, c->n, ".scope") &&
		   c->n > 8 + 6) {
		set_machine(id, c, c->s + 8, c->n - 8 - 6);
	} else {
		return false;
	}
	return true;
}

/* The container directly in a pod's cgroup. */
static void pod_container(struct cgroup_identity *id, const struct comp *c)
{
	const char *x;

	if (id_between(c, "cri-containerd-", ".scope", false, &x))
		set_container(id, c, CGROUP_RUNTIME_CONTAINERD, x, ID_LEN);
	else if (id_between(c, "crio-", ".scope", true, &x))
		set_container(id, c, CGROUP_RUNTIME_CRIO, x, ID_LEN);
	else if (id_between(c, "docker-", ".scope", false, &x))
		set_container(id, c, CGROUP_RUNTIME_DOCKER, x, ID_LEN);
	else if (is_id(c->s, c->n))
		set_container(id, c, CGROUP_RUNTIME_UNKNOWN, c->s, ID_LEN);
}

/* ---- pods ------------------------------------------------------------------------------------ */

/* "pod" + UID as the kubelet names it: a UUID with `dash` between its groups, or 32 hex digits
 * (a static pod's config hash). Writes the UID with '-' between the groups. */
static bool pod_uid(const char *s, size_t n, char dash, struct cgroup_identity *id)
{
	size_t i;

	if (!bytes_prefix(s, n, "pod"))
		return false;
	s += 3;
	n -= 3;
	if (n == 36) {
		for (i = 0; i < n; i++) {
			bool sep = i == 8 || i == 13 || i == 18 || i == 23;
			if (sep ? s[i] != dash : !is_hex_lower(s[i]))
				return false;
		}
	} else if (n == 32) {
		for (i = 0; i < n; i++)
			if (!is_hex_lower(s[i]))
				return false;
	} else {
		return false;
	}
	for (i = 0; i < n; i++)
		id->pod_uid[i] = s[i] == dash ? '-' : s[i];
	id->pod_uid[n] = '\0';
	id->pod_uid_len = n;
	return true;
}

static bool is_qos(const char *s, size_t n)
{
	return bytes_eq(s, n, "burstable") || bytes_eq(s, n, "besteffort");
}

/* A systemd driver pod slice, "[ROOT-...]kubepods[-QOS]-pod<UID_>.slice": sets the UID and
 * returns the number of '-' separated parts of its name (so the depth it must sit at), else 0. */
static size_t systemd_pod_slice(const struct comp *c, struct cgroup_identity *id)
{
	struct {
		const char *s;
		size_t n;
	} last[3] = { { "", 0 }, { "", 0 }, { "", 0 } }; /* the last three parts */
	const char *s = c->s;
	size_t n, i = 0, m = 0;

	if (c->n <= 6 || !bytes_suffix(s, c->n, ".slice"))
		return 0;
	n = c->n - 6;
	for (;;) {
		const char *d = memchr(s + i, '-', n - i);
		size_t e = d ? (size_t)(d - s) : n;

		if (e == i)
			return 0; /* "a--b" or a trailing '-': no slice systemd would make */
		last[0] = last[1];
		last[1] = last[2];
		last[2].s = s + i;
		last[2].n = e - i;
		m++;
		if (!d)
			break;
		i = e + 1;
	}
	if (m < 2 || !pod_uid(last[2].s, last[2].n, '_', id))
		return 0;
	if (bytes_eq(last[1].s, last[1].n, "kubepods") ||
	    (m >= 3 && is_qos(last[1].s, last[1].n) && bytes_eq(last[0].s, last[0].n, "kubepods")))
		return m;
	id->pod_uid_len = 0;
	id->pod_uid[0] = '\0';
	return 0;
}

/* Whether `c` is the slice of the pod slice `pod`'s ancestors at depth `k` (1-based): the first
 * k parts of its name, plus ".slice". */
static bool is_chain_slice(const struct comp *c, const struct comp *pod, size_t k)
{
	size_t i, seen = 0;

	for (i = 0; i < pod->n; i++) {
		if (pod->s[i] != '-')
			continue;
		if (++seen == k)
			return c->n == i + 6 && memcmp(c->s, pod->s, i) == 0 &&
			       memcmp(c->s + i, ".slice", 6) == 0;
	}
	return false;
}

#define MAX_CHAIN 16

/* The pod of a path whose components from the anchor on are c[0..nc). Returns the index of the
 * pod component, or -1. */
static int find_pod(const struct comp *c, size_t nc, bool relative, struct cgroup_identity *id)
{
	size_t i, k, depth;

	/* cgroupfs driver: kubepods[/QOS]/pod<UID>, from the root; in a namespace, any tail of it */
	i = 0;
	if (nc > i && bytes_eq(c[i].s, c[i].n, "kubepods"))
		i++;
	else if (!relative)
		goto systemd;
	if (nc > i && is_qos(c[i].s, c[i].n))
		i++;
	if (nc > i && pod_uid(c[i].s, c[i].n, '-', id))
		return (int)i;
systemd:
	/* systemd driver: the pod slice after exactly its ancestors' slices (in a namespace, after
	 * the last of them or none) */
	for (i = 0; i < nc && i < MAX_CHAIN; i++) {
		if (!bytes_suffix(c[i].s, c[i].n, ".slice"))
			return -1;
		depth = systemd_pod_slice(&c[i], id);
		if (!depth)
			continue;
		if (relative ? i >= depth : i != depth - 1)
			break;
		for (k = 0; k < i; k++)
			if (!is_chain_slice(&c[k], &c[i], depth - i + k))
				break;
		if (k == i)
			return (int)i;
		break;
	}
	id->pod_uid_len = 0;
	id->pod_uid[0] = '\0';
	return -1;
}

void cgroup_identify(const char *path, size_t len, struct cgroup_identity *ret)
{
	struct comp c[MAX_CHAIN + 2], cur, parent = { "", 0, 0 };
	struct cgroup_identity id = { .runtime = CGROUP_RUNTIME_NONE };
	size_t off = 0, nc = 0;
	bool relative = false, any;
	int pod;

	assert(path || len == 0);
	assert(ret);
	/* the anchor: after the "/.." components of a path relative to a cgroup namespace */
	while ((any = next_comp(path, len, &off, &cur)) && comp_is_dotdot(&cur))
		relative = true;
	if (!any) { /* the root, or only the way out of a namespace */
		*ret = id;
		return;
	}
	/* the first components: enough for a pod and the container in it */
	c[nc++] = cur;
	while (nc < sizeof(c) / sizeof(c[0]) && next_comp(path, len, &off, &c[nc]))
		nc++;
	pod = find_pod(c, nc, relative, &id);
	if (pod >= 0) {
		id.pod_end = c[pod].end;
		if ((size_t)pod + 1 < nc)
			pod_container(&id, &c[pod + 1]);
		*ret = id;
		return;
	}
	/* outside pods: the outermost container, at any depth */
	off = 0;
	while (next_comp(path, len, &off, &cur)) {
		if (!comp_is_dotdot(&cur) && outside_pod_container(&id, &cur, &parent))
			break;
		parent = cur;
	}
	*ret = id;
}

/* ---- systemd units ---------------------------------------------------------------------------- */

static bool unit_char_valid(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == ':' ||
	       c == '-' || c == '_' || c == '.' || c == '\\' || c == '@';
}

/* systemd's unit_name_is_valid(UNIT_NAME_PLAIN | UNIT_NAME_INSTANCE): a plain name or a
 * template's instance ("getty@tty1.service"); not a template itself ("getty@.service"), which
 * no process can be in, nor a name that starts with '@'. */
bool systemd_unit_name_valid(const char *name, size_t len)
{
	static const struct {
		const char *s;
		size_t n;
	} types[] = {
		{ ".service", 8 }, { ".scope", 6 }, { ".socket", 7 }, { ".mount", 6 }, { ".swap", 5 },
	};
	const char *dot = NULL, *at = NULL;
	size_t i;

	/* UNIT_NAME_MAX is 256 including the NUL */
	if (len == 0 || len > 255)
		return false;
	for (i = 0; i < len; i++) {
		if (!unit_char_valid(name[i]))
			return false;
		if (name[i] == '.')
			dot = name + i;
		else if (name[i] == '@' && !at)
			at = name + i;
	}
	if (!dot || dot == name || at == name || (at && at + 1 >= dot))
		return false;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if ((size_t)(name + len - dot) == types[i].n && memcmp(dot, types[i].s, types[i].n) == 0)
			return true;
	return false;
}

/* Whether name[0..len) is a valid slice name: the cgroup components systemd nests units in. */
static bool slice_name_valid(const char *name, size_t len)
{
	size_t i;

	if (len <= 6 || len > 255 || memcmp(name + len - 6, ".slice", 6) != 0)
		return false;
	for (i = 0; i < len; i++)
		if (!unit_char_valid(name[i]))
			return false;
	return true;
}

/* The unit of a cgroup path, found as systemd's cg_path_get_unit() finds it: skip the leading
 * slices; the component after them is the unit if it is a unit name, else there is none. Not
 * the first unit-like component anywhere: in "/lxc.payload.web1/system.slice/agent.service"
 * agent.service is a unit of the container's own systemd, not of this machine's, and
 * `systemctl status PID` on the host names no unit for it. */
static void cgroup_path_unit(const char *path, size_t len, const char **ret, size_t *ret_len)
{
	struct comp c;
	size_t off = 0;

	*ret = "";
	*ret_len = 0;
	while (next_comp(path, len, &off, &c)) {
		if (c.n > 1 && c.s[0] == '_') { /* systemd's cg_escape() */
			c.s++;
			c.n--;
		}
		if (slice_name_valid(c.s, c.n))
			continue;
		if (systemd_unit_name_valid(c.s, c.n)) {
			*ret = c.s;
			*ret_len = c.n;
		}
		return;
	}
}

/* ---- the file --------------------------------------------------------------------------------- */

struct hierarchy {
	const char *path;
	size_t len;
	bool present;
};

/* The controller list of a v1 line: legacy names ([a-z0-9_], cgroup_subsys.legacy_name) and at
 * most one "name=NAME" (cgroup1_parse_param() allows [A-Za-z0-9_.-] in NAME), comma-separated.
 * Notes whether the memory controller and the name=systemd hierarchy are among them. */
static bool v1_controllers(const char *s, size_t n, bool *memory, bool *systemd)
{
	size_t i = 0;

	*memory = *systemd = false;
	if (n == 0)
		return false;
	while (i <= n) {
		const char *t = s + i;
		const char *comma = memchr(t, ',', n - i);
		size_t tn = comma ? (size_t)(comma - t) : n - i, k;

		if (tn == 0)
			return false;
		if (bytes_prefix(t, tn, "name=")) {
			if (tn == 5)
				return false;
			for (k = 5; k < tn; k++)
				if (!((t[k] >= 'a' && t[k] <= 'z') || (t[k] >= 'A' && t[k] <= 'Z') ||
				      is_digit(t[k]) || t[k] == '_' || t[k] == '.' || t[k] == '-'))
					return false;
			*systemd = *systemd || bytes_eq(t, tn, "name=systemd");
		} else {
			for (k = 0; k < tn; k++)
				if (!((t[k] >= 'a' && t[k] <= 'z') || is_digit(t[k]) || t[k] == '_'))
					return false;
			*memory = *memory || bytes_eq(t, tn, "memory");
		}
		i += tn + 1;
	}
	return true;
}

/* A hierarchy ID as the kernel prints it (%d): no sign, no leading zero, within an int. */
static bool hierarchy_id(const char **p, const char *end, long *ret)
{
	const char *s = *p;
	long v = 0;

	if (s >= end || !is_digit(*s) || (*s == '0' && s + 1 < end && is_digit(s[1])))
		return false;
	for (; s < end && is_digit(*s); s++) {
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return false;
	}
	*p = s;
	*ret = v;
	return true;
}

static int set_once(struct hierarchy *h, const char *path, size_t len)
{
	if (h->present)
		return -EBADMSG; /* the same controller in two hierarchies: a forged line */
	*h = (struct hierarchy){ path, len, true };
	return 0;
}

/* Whether the next line of the reference at *r starts with prefix[0..n) and its path; moves
 * *r past that line. */
static bool ref_line_matches(const char **r, const char *rend, const char *prefix, size_t n)
{
	const char *eol = *r < rend ? memchr(*r, '\n', (size_t)(rend - *r)) : NULL;
	bool ok;

	if (!eol)
		return false;
	ok = (size_t)(eol - *r) > n && memcmp(*r, prefix, n) == 0 && (*r)[n] == '/';
	*r = eol + 1;
	return ok;
}

/* The hierarchies of a cgroup file that tell where a process is. */
struct hierarchies {
	struct hierarchy unified, systemd, memory;
};

/* One line "ID:CONTROLLERS:PATH\n" at *p, its ID below *prev; its path recorded in h. *p moves
 * to the next line; *ret_path is where this one's path starts. */
static int cgroup_line(const char **p, const char *end, long *prev, struct hierarchies *h,
		       const char **ret_path)
{
	const char *s = *p, *eol = memchr(s, '\n', (size_t)(end - s)), *ctl, *colon, *path;
	bool has_memory = false, has_systemd = false;
	long id;

	/* a line cut short is not trusted: the next one may have been forged into it */
	if (!eol)
		return -EBADMSG;
	if (!hierarchy_id(&s, eol, &id) || id >= *prev || s >= eol || *s != ':')
		return -EBADMSG;
	ctl = s + 1;
	colon = memchr(ctl, ':', (size_t)(eol - ctl));
	if (!colon)
		return -EBADMSG;
	path = colon + 1;
	if (path >= eol || *path != '/')
		return -EBADMSG;
	if (id == 0) {
		if (colon != ctl) /* the unified hierarchy has no controller list */
			return -EBADMSG;
		h->unified = (struct hierarchy){ path, (size_t)(eol - path), true };
	} else {
		if (!v1_controllers(ctl, (size_t)(colon - ctl), &has_memory, &has_systemd))
			return -EBADMSG;
		if (has_systemd && set_once(&h->systemd, path, (size_t)(eol - path)) < 0)
			return -EBADMSG;
		if (has_memory && set_once(&h->memory, path, (size_t)(eol - path)) < 0)
			return -EBADMSG;
	}
	*prev = id;
	*ret_path = path;
	*p = eol + 1;
	return 0;
}

/* The process's cgroup and unit from its hierarchies (see struct cgroup_info). */
static void cgroup_pick(const struct hierarchies *h, struct cgroup_info *ret)
{
	const struct hierarchy *order[3] = { &h->unified, &h->systemd, &h->memory }, *pick = NULL, *unit_from;
	struct cgroup_info info = { 0 };
	size_t i;

	for (i = 0; i < 3 && !pick; i++)
		if (order[i]->present && path_informative(order[i]->path, order[i]->len))
			pick = order[i];
	for (i = 0; i < 3 && !pick; i++)
		if (order[i]->present)
			pick = order[i];
	if (pick) {
		info.path = pick->path;
		info.path_len = pick->len;
	}
	unit_from = h->systemd.present ? &h->systemd : &h->unified;
	if (unit_from->present)
		cgroup_path_unit(unit_from->path, unit_from->len, &info.unit, &info.unit_len);
	else
		info.unit = "";
	*ret = info;
}

int proc_cgroup_parse(const char *buf, size_t len, const char *ref, size_t ref_len,
		      struct cgroup_info *ret)
{
	const char *p = buf, *end = buf + len, *r = ref, *rend = ref ? ref + ref_len : NULL;
	struct hierarchies h = { 0 };
	bool mismatch = false;
	long prev = LONG_MAX;

	assert(buf || len == 0);
	assert(ret);
	while (p < end) {
		const char *line = p, *path;
		int e = cgroup_line(&p, end, &prev, &h, &path);

		if (e < 0)
			return e;
		if (ref && !ref_line_matches(&r, rend, line, (size_t)(path - line)))
			mismatch = true;
	}
	/* checked last, so that a file the kernel would not write is told apart from a stale
	 * reference: one line more or less than the machine's hierarchies */
	if (ref && (mismatch || r != rend))
		return -ESTALE;
	cgroup_pick(&h, ret);
	return 0;
}
