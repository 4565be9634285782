/* main.c — the daemon: options, signals, the collection loop, systemd glue, logging.
 *
 * Threads: this one runs the collection loop; libmicrohttpd runs one serving thread. Signals are
 * blocked everywhere except here while a cycle runs or while this thread waits (in ppoll), and
 * their handlers only set flags; the loop acts on them between processes or between cycles.
 *
 * This is the only file that logs: to stderr, with "<N>" priority prefixes that journald turns
 * into priorities when stderr is connected to the journal ($JOURNAL_STREAM).
 */
#include <assert.h>
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "collect.h"
#include "config.h"
#include "expo.h"
#include "http.h"
#include "notify.h"
#include "pattern.h"
#include "publish.h"
#include "version.h"
#include "webconfig.h"

static const char progname[] = "procmem_exporter";
static volatile sig_atomic_t got_stop, got_reload;
static bool log_to_journal;

/* ---- logging ---------------------------------------------------------------------------- */

static void vlog(int prio, const char *errtext, const char *fmt, va_list ap)
{
	static const char *const words[] = { "emergency", "alert", "critical", "error",
					     "warning", "notice", "info", "debug" };
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_to_journal)
		fprintf(stderr, "<%d>%s%s%s\n", prio, line, errtext ? ": " : "", errtext ? errtext : "");
	else if (prio <= LOG_WARNING)
		fprintf(stderr, "%s: %s: %s%s%s\n", progname, words[prio], line, errtext ? ": " : "",
			errtext ? errtext : "");
	else
		fprintf(stderr, "%s: %s%s%s\n", progname, line, errtext ? ": " : "", errtext ? errtext : "");
}

__attribute__((format(printf, 2, 3))) static void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, NULL, fmt, ap);
	va_end(ap);
}

/* Like log_msg, with the text of the negative errno r appended. */
__attribute__((format(printf, 3, 4))) static void log_errno(int prio, int r, const char *fmt, ...)
{
	va_list ap;

	assert(r < 0);
	va_start(ap, fmt);
	vlog(prio, strerror(-r), fmt, ap);
	va_end(ap);
}

/* journald connects stderr and says so in $JOURNAL_STREAM ("device:inode") */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* ---- signals ---------------------------------------------------------------------------- */

static void on_stop(int sig)
{
	(void)sig;
	got_stop = 1;
}

static void on_reload(int sig)
{
	(void)sig;
	got_reload = 1;
}

/* Blocks the signals we handle; *ret_old (may be NULL) gets the mask before. */
static void block_signals(sigset_t *ret_old)
{
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, ret_old);
}

/* Installs the handlers and blocks the signals; *ret_unblocked is the mask to wait with. */
static void setup_signals(sigset_t *ret_unblocked)
{
	struct sigaction sa = { 0 };

	block_signals(ret_unblocked);
	sigdelset(ret_unblocked, SIGTERM);
	sigdelset(ret_unblocked, SIGINT);
	sigdelset(ret_unblocked, SIGHUP);

	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_reload;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* ---- the loop --------------------------------------------------------------------------- */

static void collect_opts_from(const struct config *cfg, struct collect_opts *o)
{
	*o = (struct collect_opts){
		.smaps = cfg->smaps,
		.smaps_max_rss = cfg->smaps_max_rss,
		.smaps_budget_ns = cfg->smaps_budget_ns,
		.smaps_min_age_ns = cfg->smaps_min_age_ns,
		.smaps_max_age_ns = cfg->smaps_max_age_ns,
		.smaps_large_share_ppm = cfg->smaps_large_share_ppm,
		.mapping_top = cfg->mapping_top,
		.select = {
			.include = cfg->include_pattern,
			.exclude = cfg->exclude_pattern,
			.min_rss = cfg->min_rss,
			.top = cfg->top,
			.cgroup_top = cfg->cgroup_top,
			.detail_top = cfg->detail_top,
			.top_min_age_ns = cfg->top_min_age_ns,
			.top_margin_pct = cfg->top_margin_pct,
		},
		.stop = &got_stop,
	};
}

struct watchdog {
	uint64_t every_ns; /* 0: no watchdog */
	uint64_t last_ns;
};

static void watchdog_tick(void *userdata)
{
	struct watchdog *w = userdata;

	notify_watchdog();
	w->last_ns = clock_monotonic_ns();
}

static void report_status(const struct snapshot *s)
{
	const uint64_t *e = s->errors_total;

	notify_status("%zu processes read, %llu with series; cycle %llu ms; errors so far: %llu vanished, "
		      "%llu permission, %llu parse, %llu skipped",
		      s->nprocs, (unsigned long long)s->processes_exported,
		      (unsigned long long)(s->duration_ns / 1000000u),
		      (unsigned long long)e[COLLECT_ERR_VANISHED], (unsigned long long)e[COLLECT_ERR_PERMISSION],
		      (unsigned long long)e[COLLECT_ERR_PARSE],
		      (unsigned long long)(e[COLLECT_ERR_SKIPPED_LARGE] + e[COLLECT_ERR_SKIPPED_BUDGET]));
}

static bool same_string(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void swap_ptr(char **a, char **b)
{
	char *t = *a;

	*a = *b;
	*b = t;
}

/* How the server is secured (webconfig.h): from --web.config.file or the shorthand flags, and
 * the files they name. Read at start-up, where a bad one is a bad configuration (exit 2), and on
 * a reload, where a bad one fails the reload like a bad configuration file does. */
static int web_load(const struct config *cfg, struct web_config *ret, struct buf *err)
{
	if (cfg->web_config_file)
		return web_config_load(cfg->web_config_file, ret, err);
	return web_config_from_flags(cfg->tls_cert, cfg->tls_key, cfg->basic_auth_file, ret, err);
}

/* Whether this process has CAP_SYS_PTRACE in its effective set (capget(2): no libcap needed
 * for one bit, and no /proc read outside the collector). */
static bool have_ptrace_capability(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[CAP_SYS_PTRACE / 32].effective & (1u << (CAP_SYS_PTRACE % 32));
}

/* Says once, the first time smaps is refused, what is missing and what would fix it: an
 * ordinary user gets EACCES on almost every process, and the counter alone explains nothing. */
struct permission_warning {
	bool said;
	uint64_t before; /* permission errors counted before the cycle at hand */
};

static void warn_permission_once(struct permission_warning *w, const struct snapshot *s)
{
	uint64_t total = s->errors_total[COLLECT_ERR_PERMISSION], now = total - w->before;

	w->before = total;
	if (w->said || now == 0)
		return;
	w->said = true;
	if (!have_ptrace_capability())
		log_msg(LOG_WARNING, "permission denied reading the smaps, smaps_rollup and exe link of %llu of "
				     "%zu processes: as uid %u without CAP_SYS_PTRACE this daemon may read only "
				     "its own user's dumpable processes, so the others lack PSS, USS, quadrants "
				     "and exe (their status figures are exported). Run it as root or with "
				     "CAP_SYS_PTRACE (the systemd unit grants it: AmbientCapabilities=). Counted "
				     "in procmem_collect_errors_total{reason=\"permission\"}; said once",
			(unsigned long long)now, s->nprocs, (unsigned)geteuid());
	else
		log_msg(LOG_WARNING, "permission denied reading the smaps of %llu of %zu processes even with "
				     "CAP_SYS_PTRACE: an LSM policy (AppArmor, SELinux) or another user namespace "
				     "refuses it; they lack PSS, USS, quadrants and exe. Counted in "
				     "procmem_collect_errors_total{reason=\"permission\"}; said once",
			(unsigned long long)now, s->nprocs);
}

/* Says once per configuration (start, and again after each SIGHUP), the first time a match of
 * --include or --exclude gave up at PCRE2's step, depth or heap limit (see pattern.h), that some
 * processes were taken as not matching it: without this a pattern that backtracks badly would
 * leave processes out of --include without a word. */
struct pattern_warning {
	bool said_include, said_exclude;
};

static void warn_pattern_once(bool *said, const struct pattern *p, const char *option, const char *effect)
{
	uint64_t n = p ? pattern_gave_up(p) : 0;

	if (n == 0 || *said)
		return;
	*said = true;
	log_msg(LOG_WARNING, "%s: %llu match%s gave up at PCRE2's limits (a pattern that backtracks "
			     "exponentially); those processes were taken as not matching it, so %s. "
			     "Write the pattern without nested alternatives under a repetition; said once",
		option, (unsigned long long)n, n == 1 ? "" : "es", effect);
}

static void warn_patterns_once(struct pattern_warning *w, const struct config *cfg)
{
	warn_pattern_once(&w->said_include, cfg->include_pattern, "--include", "not included");
	warn_pattern_once(&w->said_exclude, cfg->exclude_pattern, "--exclude", "not excluded");
}

/* bcrypt under cost 10 is accepted (old hashes exist) but said, at start and at each reload,
 * with the file the users came from: the web configuration file or the users file. */
static void warn_weak_hashes(const struct web_config *web, const struct config *cfg)
{
	struct buf users = BUF_INIT;

	if (web->auth && auth_weak_users(web->auth, AUTH_MIN_COST, &users) > 0)
		log_msg(LOG_WARNING, "%s: bcrypt cost under %d, cheap to guess: %s; make new hashes with "
				     "htpasswd -nbBC %d USER PASSWORD",
			cfg->web_config_file ? cfg->web_config_file : cfg->basic_auth_file, AUTH_MIN_COST, users.buf,
			AUTH_MIN_COST);
	buf_done(&users);
}

/* SIGHUP: re-read the configuration; a bad one is reported and the running one kept. `ready`:
 * whether READY=1 was sent already; a reload must not announce a daemon that has no cycle yet. */
static void reload(struct config *cfg, const struct web_config *running, struct collector *col, int argc,
		   char **argv, bool ready)
{
	struct buf err = BUF_INIT;
	struct config next;
	struct web_config next_web;

	notify_reloading();
	if (config_load(&next, argc, argv, &err) < 0) {
		log_msg(LOG_ERR, "reload failed, keeping the running configuration: %s", err.buf);
	} else if (web_load(&next, &next_web, &err) < 0) {
		log_msg(LOG_ERR, "reload failed, keeping the running configuration: %s", err.buf);
		config_done(&next);
	} else {
		/* the server keeps what it started with (its socket, its TLS credentials, its
		 * verifier's users, its headers), the publisher its gzip level: name what changed,
		 * and what of it waits for a restart (a file changed under the same name too) */
		struct buf changed = BUF_INIT, restart = BUF_INIT;

		config_changes(cfg, &next, &changed, &restart);
		if (next.web_config_file || cfg->web_config_file) {
			if (same_string(next.web_config_file, cfg->web_config_file) && !web_config_same(&next_web, running))
				buf_addf(&restart, "%sthe contents of web.config.file or of the files it names",
					 restart.len ? ", " : "");
		} else {
			if (same_string(next.tls_cert, cfg->tls_cert) && same_string(next.tls_key, cfg->tls_key) &&
			    !tls_pem_same(&next_web.tls, &running->tls))
				buf_addf(&restart, "%sthe contents of tls-cert or tls-key", restart.len ? ", " : "");
			if (same_string(next.basic_auth_file, cfg->basic_auth_file) && !auth_same(next_web.auth, running->auth))
				buf_addf(&restart, "%sthe users in basic-auth-file", restart.len ? ", " : "");
		}
		warn_weak_hashes(&next_web, &next);
		web_config_done(&next_web);
		/* what the running server, collector and publisher were built with stays, so that
		 * the next reload compares with what runs */
		swap_ptr(&next.listen_address, &cfg->listen_address);
		swap_ptr(&next.procfs, &cfg->procfs);
		swap_ptr(&next.web_config_file, &cfg->web_config_file);
		swap_ptr(&next.tls_cert, &cfg->tls_cert);
		swap_ptr(&next.tls_key, &cfg->tls_key);
		swap_ptr(&next.basic_auth_file, &cfg->basic_auth_file);
		next.health_open = cfg->health_open;
		next.gzip_level = cfg->gzip_level;
		config_done(cfg);
		*cfg = next;
		collector_clear_caches(col);
		if (buf_failed(&changed) || buf_failed(&restart))
			log_msg(LOG_INFO, "configuration reloaded");
		else
			log_msg(LOG_INFO, "configuration reloaded: %s%s", changed.len ? "changed " : "nothing "
				"changed that applies now", changed.buf);
		if (restart.len)
			log_msg(LOG_WARNING, "reload: changes to %s take effect at the next restart", restart.buf);
		buf_done(&changed);
		buf_done(&restart);
	}
	buf_done(&err);
	if (ready)
		notify_ready();
}

/* Waits until `deadline` (monotonic ns) or a signal, pinging the watchdog on the way. */
static void wait_until(uint64_t deadline, struct watchdog *wd, const sigset_t *unblocked)
{
	for (;;) {
		uint64_t now = clock_monotonic_ns(), until = deadline;
		struct timespec ts;

		if (got_stop || got_reload || now >= deadline)
			return;
		if (wd->every_ns) {
			if (now - wd->last_ns >= wd->every_ns)
				watchdog_tick(wd);
			if (wd->last_ns + wd->every_ns < until)
				until = wd->last_ns + wd->every_ns;
		}
		ts.tv_sec = (time_t)((until - now) / 1000000000u);
		ts.tv_nsec = (long)((until - now) % 1000000000u);
		ppoll(NULL, 0, &ts, unblocked);
	}
}

static int run_once(struct config *cfg, struct collector *col)
{
	struct expo_tail tail = { 0 };
	struct collect_opts o;
	struct snapshot *s;
	struct buf out = BUF_INIT;
	int r;

	collect_opts_from(cfg, &o);
	o.stop = NULL;
	r = collector_cycle(col, &o, &s);
	if (r < 0) {
		log_errno(LOG_ERR, r, "collection failed");
		return 1;
	}
	warn_permission_once(&(struct permission_warning){ false, 0 }, s);
	tail.cpu_us = clock_cpu_us();
	expo_render(s, EXPO_TEXT, &out);
	expo_render_tail(&tail, EXPO_TEXT, &out);
	snapshot_free(s);
	if (buf_failed(&out)) {
		log_msg(LOG_ERR, "rendering failed: out of memory");
		buf_done(&out);
		return 1;
	}
	r = 0;
	if (fwrite(out.buf, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
		r = errno ? -errno : -EIO;
	if (r < 0)
		log_errno(LOG_ERR, r, "writing to standard output");
	buf_done(&out);
	return r < 0 ? 1 : 0;
}

/* After a cycle that needed much more memory than usual (a process mapping 60,000 files came
 * and went), the freed blocks stay in glibc's heap: small ones (a mapped file's entry, its
 * path) are below the mmap threshold, and glibc gives back only the free top of the heap, so a
 * few live blocks above them hold everything below resident. malloc_trim() hands every free
 * page back (MADV_DONTNEED), wherever it lies. Measured (tests/integration/
 * test_live_mapped_files.py): 60,000 files of 3.9 KB paths took the daemon to 20 MB; the cycle
 * after the process was gone it held 18.5 MB without the trim, 6 MB with it. mallinfo2() walks
 * the bins (some tens of microseconds), so the check costs nothing in a steady cycle. */
#define TRIM_FREE_BYTES (4u << 20)

static void give_memory_back(void)
{
	struct mallinfo2 mi = mallinfo2();

	if (mi.fordblks > TRIM_FREE_BYTES)
		malloc_trim(0);
}

/* Starts serving on listen_fd (from systemd), or on a socket bound to the configured address
 * when it is -1; logs what failed. */
static int start_http(const struct config *cfg, const struct web_config *web, int listen_fd,
		      struct publisher *pub, struct http_server **ret)
{
	struct http_opts ho = {
		.listen_address = cfg->listen_address,
		.listen_fd = listen_fd,
		.web = web,
		.health_open = cfg->health_open,
		/* healthy while cycles complete: three intervals, and at least a minute of slack */
		.stale_ns = 3 * cfg->interval_ns + 60000000000u,
	};
	struct buf err = BUF_INIT;
	int r;

	r = http_start(&ho, pub, ret, &err);
	if (r < 0)
		log_msg(LOG_ERR, "%s", err.buf);
	else
		log_msg(LOG_INFO, "%s %s listening on %s (%s%s%s%s%ssmaps %s, interval %llu ms)", progname,
			PROCMEM_VERSION, http_address(*ret), listen_fd >= 0 ? "socket from systemd; " : "",
			web->tls.cert ? "TLS; " : "",
			web->tls.cert && web->client_auth != TLS_CLIENT_NONE ? "client certificates; " : "",
			web->auth ? "basic auth" : "",
			web->auth ? (cfg->health_open ? ", health endpoints open; " : "; ") : "",
			smaps_mode_name(cfg->smaps), (unsigned long long)(cfg->interval_ns / 1000000u));
	buf_done(&err);
	return r;
}

/* What the daemon loop carries from one step to the next. */
struct daemon {
	struct config *cfg; /* replaced in place by a reload */
	const struct web_config *web;
	struct collector *col;
	int argc;
	char **argv;
	struct publisher *pub;
	struct http_server *http; /* NULL until serving */
	int listen_fd;	/* from systemd, or -1 */
	struct watchdog wd;
	struct permission_warning perm;
	struct pattern_warning patterns;
	sigset_t unblocked; /* the mask to collect and wait with */
	bool ready;	    /* READY=1 sent */
	uint64_t next;	    /* the next cycle's tick on the interval's grid (monotonic ns) */
};

/* The publisher, with what the pages show besides the cycle: the endpoints (the route table's
 * rows), the version and the machine's name (a person may have several pages open). */
static struct publisher *publisher_for_pages(int gzip_level)
{
	struct publisher *pub = publisher_new(gzip_level);
	struct page_endpoint links[HTTP_ENDPOINTS_MAX];
	size_t nlinks = http_endpoints(links, HTTP_ENDPOINTS_MAX);
	char host[256] = "";

	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	if (pub && publisher_set_page_info(pub, PROCMEM_VERSION, host, links, nlinks) < 0) {
		publisher_free(pub);
		pub = NULL;
	}
	return pub;
}

/* Signals, the publisher, the socket; logs what failed. */
static int daemon_start(struct daemon *d)
{
	int fd = -1, r;

	setup_signals(&d->unblocked); /* before MHD starts its thread, which inherits the mask */
	d->pub = publisher_for_pages(d->cfg->gzip_level);
	if (!d->pub) {
		log_msg(LOG_ERR, "out of memory");
		return -ENOMEM;
	}
	r = notify_listen_fd(&fd);
	if (r < 0) {
		log_msg(LOG_ERR, "socket activation: expected one listening stream socket from systemd");
		return r;
	}
	d->listen_fd = r > 0 ? fd : -1;
	/* A socket from systemd already queues connections, and the first of them is what started
	 * us: serve it only once there is a cycle to show, rather than answering it with a 503.
	 * A socket of our own is bound at once, so a taken address fails before the first cycle. */
	if (d->listen_fd < 0)
		return start_http(d->cfg, d->web, d->listen_fd, d->pub, &d->http);
	return 0;
}

/* One collection cycle, with the signals let in while it runs. -EINTR: stopped by a signal. */
static int daemon_collect(struct daemon *d, struct snapshot **ret)
{
	struct collect_opts o;
	int r;

	collect_opts_from(d->cfg, &o);
	if (d->wd.every_ns) {
		o.tick = watchdog_tick;
		o.tick_userdata = &d->wd;
		o.tick_ns = d->wd.every_ns;
	}
	/* signals may arrive during the cycle: the collector checks got_stop between processes */
	sigprocmask(SIG_SETMASK, &d->unblocked, NULL);
	/* the cycle's time is its tick on the interval's grid, not when it got to run: ages
	 * compared with --smaps-min-age and --smaps-max-age are then whole intervals, and a
	 * process due after four intervals is not put off to the fifth by a few ms of delay */
	r = collector_cycle_at(d->col, &o, d->next, ret);
	block_signals(NULL);
	return r;
}

/* Publishes the cycle's snapshot (the publisher owns it from here); after the first, starts
 * serving if not yet and says ready. A failure to publish keeps the previous publication; only
 * a server that cannot start is fatal (< 0). */
static int daemon_publish(struct daemon *d, struct snapshot *s, uint64_t start)
{
	int r;

	report_status(s);
	warn_permission_once(&d->perm, s);
	warn_patterns_once(&d->patterns, d->cfg);
	r = publisher_publish(d->pub, s);
	if (r < 0) {
		log_errno(LOG_WARNING, r, "publishing the cycle failed");
		return 0;
	}
	if (d->ready)
		return 0;
	if (!d->http) {
		r = start_http(d->cfg, d->web, d->listen_fd, d->pub, &d->http);
		if (r < 0)
			return r;
	}
	d->ready = true;
	notify_ready();
	log_msg(LOG_INFO, "first cycle done in %llu ms; ready",
		(unsigned long long)((clock_monotonic_ns() - start) / 1000000u));
	return 0;
}

/* Sleeps until the next cycle's tick on the interval's grid (a cycle that overran skips ticks),
 * reloading the configuration on SIGHUP on the way; returns early on SIGTERM or SIGINT. */
static void daemon_sleep_or_reload(struct daemon *d)
{
	do
		d->next += d->cfg->interval_ns;
	while (d->next <= clock_monotonic_ns());
	for (;;) {
		wait_until(d->next, &d->wd, &d->unblocked);
		if (got_stop || !got_reload)
			return;
		got_reload = 0;
		reload(d->cfg, d->web, d->col, d->argc, d->argv, d->ready);
		d->patterns = (struct pattern_warning){ false, false };
		/* a new interval applies from now */
		if (d->next > clock_monotonic_ns() + d->cfg->interval_ns)
			d->next = clock_monotonic_ns() + d->cfg->interval_ns;
	}
}

static int run_daemon(struct config *cfg, const struct web_config *web, struct collector *col, int argc,
		      char **argv)
{
	struct daemon d = {
		.cfg = cfg, .web = web, .col = col, .argc = argc, .argv = argv, .listen_fd = -1,
		.wd = { notify_watchdog_ns() / 2, clock_monotonic_ns() },
	};
	int status = 1;

	if (daemon_start(&d) < 0)
		goto out;
	d.next = clock_monotonic_ns();
	while (!got_stop) {
		uint64_t start = clock_monotonic_ns();
		struct snapshot *s;
		int r = daemon_collect(&d, &s);

		if (r == -EINTR)
			break;
		if (r < 0)
			log_errno(LOG_WARNING, r, "collection cycle failed; serving the previous one");
		else if (daemon_publish(&d, s, start) < 0)
			goto out;
		give_memory_back();
		if (d.wd.every_ns)
			watchdog_tick(&d.wd);
		daemon_sleep_or_reload(&d);
	}
	notify_stopping();
	log_msg(LOG_INFO, "stopping");
	status = 0;
out:
	http_stop(d.http);
	publisher_free(d.pub);
	return status;
}

/* The configuration and, for a daemon, the web configuration; a bad one is said here (the
 * caller exits 2). --check-config resolves the address too, which a start would find out with
 * exit 1; a start does not: a name server down at boot is a failure to retry, not bad input. */
static int load_configuration(struct config *cfg, struct web_config *web, int argc, char **argv)
{
	struct buf err = BUF_INIT;
	int r;

	r = config_load(cfg, argc, argv, &err);
	/* --once serves nothing: it needs neither certificate nor users */
	if (r >= 0 && !cfg->help && !cfg->version && !cfg->once) {
		r = web_load(cfg, web, &err);
		if (r >= 0 && cfg->check_config && (r = config_resolve_listen_address(cfg->listen_address, &err)) < 0)
			web_config_done(web);
		if (r < 0)
			config_done(cfg);
	}
	/* under the journal, at priority err like every other failure; on a terminal, the plain
	 * "program: file:line: ..." of command-line tools */
	if (r < 0 && log_to_journal)
		log_msg(LOG_ERR, "%s", err.buf);
	else if (r < 0)
		fprintf(stderr, "%s: %s\n", progname, err.buf);
	buf_done(&err);
	return r;
}

/* --help, --version and --check-config are answered here; true when one was. */
static bool answered_at_once(const struct config *cfg, const struct web_config *web)
{
	if (cfg->help) {
		config_usage(stdout, progname);
		return true;
	}
	if (cfg->version) {
		printf("%s %s\n", progname, PROCMEM_VERSION);
		return true;
	}
	if (!cfg->once)
		warn_weak_hashes(web, cfg);
	if (cfg->check_config) {
		printf("%s: configuration OK\n", progname);
		return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	struct collector *col = NULL;
	struct config cfg;
	struct web_config web = { 0 };
	int r, status = 0;

	/* Each cycle allocates and frees its snapshot and renderings, blocks of hundreds of
	 * kilobytes to megabytes. By default glibc raises its mmap threshold after the first such
	 * free and from then on keeps these blocks in the heap, where the pages stay resident
	 * after free: the daemon's RSS becomes the most it ever held at once, twice over. A
	 * fixed threshold keeps big blocks in mmap(), returned to the kernel when freed. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	log_to_journal = stderr_is_journal();
	if (load_configuration(&cfg, &web, argc, argv) < 0)
		return 2;
	if (answered_at_once(&cfg, &web))
		goto out;
	r = collector_new(cfg.procfs, &col);
	if (r < 0) {
		log_errno(LOG_ERR, r, "cannot open %s", cfg.procfs);
		status = 1;
		goto out;
	}
	status = cfg.once ? run_once(&cfg, col) : run_daemon(&cfg, &web, col, argc, argv);
	collector_free(col);
out:
	web_config_done(&web);
	config_done(&cfg);
	return status;
}
