/* cgroup.h — whose a process is, from /proc/PID/cgroup: its systemd unit, its cgroup, and the
 * container and Kubernetes pod that cgroup belongs to. Pure: text in, pointers into it (or small
 * fixed buffers) out; nothing is opened, nothing allocated.
 *
 * The file (kernel/cgroup/cgroup.c, proc_cgroup_show()) has one line per hierarchy,
 * "ID:CONTROLLERS:PATH\n": v1 hierarchies newest first (their IDs are allocated cyclically, so
 * they decrease down the file), then the unified hierarchy as "0::PATH" once cgroup2 has been
 * mounted. PATH is printed raw: a cgroup name may hold any byte but '/' and NUL, and the kernel
 * refuses only '\n' (mkdir since 3.16, cgroup v1 rename since 5.13 and the June 2021 stable
 * kernels). On an older kernel, a user who may rename cgroups in a delegated v1 subtree can make
 * a name that ends one line and forges the next. So a file is accepted only as the kernel
 * writes it: every line well formed, hierarchy IDs strictly decreasing, the unified line last,
 * the name=systemd and memory controllers on one line each. Anything else is refused whole
 * (-EBADMSG) and the process is attributed to nothing, rather than to what a forger wrote.
 * Those rules cannot see a forged line after the last real one (a renamed cgroup in the lowest
 * hierarchy, on a machine that never mounted cgroup2), so a reference is compared as well: the
 * set of hierarchies is the machine's, the same in every process's file, so every file must list
 * the same "ID:CONTROLLERS:" in the same order as a trusted one (the daemon's own); a forged line
 * always adds one.
 * Inside a cgroup namespace, paths outside the reader's namespace root start with "/.."
 * components (cgroup_path_ns()); they are kept as printed.
 */
#ifndef PROCMEM_CGROUP_H
#define PROCMEM_CGROUP_H

#include <stdbool.h>
#include <stddef.h>

enum cgroup_runtime {
	CGROUP_RUNTIME_NONE,	   /* not in a container */
	CGROUP_RUNTIME_UNKNOWN,	   /* a bare container ID in a Kubernetes pod (cgroupfs driver) */
	CGROUP_RUNTIME_DOCKER,	   /* docker-ID.scope, /docker/ID */
	CGROUP_RUNTIME_CONTAINERD, /* cri-containerd-ID.scope */
	CGROUP_RUNTIME_CRIO,	   /* crio-ID.scope, crio-ID */
	CGROUP_RUNTIME_PODMAN,	   /* libpod-ID.scope, libpod-ID */
	CGROUP_RUNTIME_LXC,	   /* lxc.payload.NAME, /lxc/NAME */
	CGROUP_RUNTIME_MACHINED,   /* machine-NAME.scope: systemd-nspawn, or any machine machined knows */
	CGROUP_RUNTIME_COUNT
};
/* The runtime label's value: "" for NONE and UNKNOWN, else "docker", "containerd", "crio",
 * "podman", "lxc", "machined". */
const char *cgroup_runtime_name(enum cgroup_runtime r);

/* A cgroup name is at most NAME_MAX bytes (kernfs); a machine name unescaped is no longer. */
#define CGROUP_NAME_MAX 255
/* A pod UID: a UUID (36 bytes) or, for a static pod, the 32 hex digits of its config hash. */
#define CGROUP_POD_UID_MAX 36

/* The container and pod a cgroup path names, recognised from the path alone. Containers are
 * found from the top: the outermost component that names one wins, because everything above a
 * container was made by the host's runtime while everything below it may be named freely by
 * whoever runs inside (a "docker-<id>.scope" made by a container's own systemd, or by a user in a
 * delegated subtree, cannot claim the processes above it). A pod is recognised only where the
 * kubelet puts it: the kubepods hierarchy at the root of the path (or, for a path relative to a
 * cgroup namespace, right after its "/.." components), under either cgroup driver; a
 * kubepods-lookalike deeper down is nobody's pod. The container of a pod is its pod cgroup's
 * direct child. */
struct cgroup_identity {
	size_t container_end; /* bytes of the path that are the container's cgroup; 0: none */
	enum cgroup_runtime runtime;
	char container_id[CGROUP_NAME_MAX + 1]; /* the 64-digit ID, or the LXC or machine name
						   (systemd's \xNN escapes undone); "" if none */
	size_t container_id_len;
	size_t pod_end; /* bytes of the path that are the pod's cgroup; 0: none */
	char pod_uid[CGROUP_POD_UID_MAX + 1]; /* with '-' where the systemd driver writes '_' */
	size_t pod_uid_len;
};
void cgroup_identify(const char *path, size_t len, struct cgroup_identity *ret);

/* What one /proc/PID/cgroup file says. */
struct cgroup_info {
	/* The process's cgroup: the unified path when it is not the root, else the name=systemd
	 * one, else the memory controller's (the hierarchy cAdvisor names containers by on a v1
	 * machine); a root path ("/", or only "/.." components) is taken only when no hierarchy has
	 * better. Points into the buffer; NULL when the file names no hierarchy. */
	const char *path;
	size_t path_len;
	/* The systemd unit, as systemctl status PID tells it: from the name=systemd path on a v1
	 * or hybrid machine, else from the unified one; leading slices skipped, the next component
	 * the unit if it is a valid unit name ("/system.slice/nginx.service" gives nginx.service,
	 * ".../user@1000.service/app.slice/x.scope" gives user@1000.service, a container's own
	 * "/lxc.payload.web/system.slice/x.service" none). systemd's escaping of a component (a
	 * leading '_') is undone. Points into the buffer; length 0 when in no unit. */
	const char *unit;
	size_t unit_len;
};
/* ref[0..ref_len): a cgroup file known to be genuine that this one must match line for line up
 * to each path (ref NULL: none, the rules alone). Returns 0; -EBADMSG for a file the kernel
 * would not write (see the top of this file); -ESTALE for one that does not match the reference
 * (forged, or the machine's hierarchies changed after the reference was read: read it again).
 * On error *ret is not written. An empty file parses to no path and no unit. */
int proc_cgroup_parse(const char *buf, size_t len, const char *ref, size_t ref_len,
		      struct cgroup_info *ret);

/* Whether name[0..len) is a valid systemd unit name of a type that holds processes
 * (.service, .scope, .socket, .mount, .swap): a plain name or a template instance
 * ("getty@tty1.service"), not a template ("getty@.service"). */
bool systemd_unit_name_valid(const char *name, size_t len);

#endif
