/* auth.c — HTTP basic auth: the users file, credential decoding, bcrypt checks; see auth.h.
 * The base64 under the credentials is base64.c's; the thread that runs checks is workq.c's.
 *
 * bcrypt comes from libcrypt (libxcrypt) through crypt_rn(), with the stored hash as the setting:
 * the result equals the stored hash exactly when the password is right. The verification cache
 * holds, per user, HMAC-SHA256(key, "user:password") of the last password that verified, keyed
 * with random bytes that never leave the process, so the cache is no password-cracking oracle
 * to anyone who reads it.
 */
#include "auth.h"

#include <assert.h>
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "base64.h"
#include "workq.h"

#define MAC_LEN 32	/* SHA-256 */
#define BCRYPT_LEN 60	/* "$2b$10$" + 22 characters of salt + 31 of hash */

struct auth_user {
	char *name;
	size_t name_len;
	unsigned line;
	char hash[BCRYPT_LEN + 1];
	bool have_ok;
	uint8_t ok_mac[MAC_LEN];
};

struct auth {
	struct auth_user *users;
	size_t n, alloc;
	uint8_t key[MAC_LEN];
	unsigned max_cost;
	char dummy[CRYPT_GENSALT_OUTPUT_SIZE]; /* a bcrypt setting: what unknown users pay */
	pthread_mutex_t lock;		       /* guards have_ok and ok_mac */
};

/* ---- constant-time helpers ----------------------------------------------------------------- */

static bool ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return d == 0;
}

/* The user named so, or NULL; looks at every entry whatever it finds. */
static struct auth_user *find_user(struct auth *a, const char *name, size_t len)
{
	struct auth_user *found = NULL;

	for (size_t i = 0; i < a->n; i++) {
		struct auth_user *u = &a->users[i];
		if (u->name_len == len && ct_equal(u->name, name, len))
			found = u;
	}
	return found;
}

/* ---- the users file ------------------------------------------------------------------------ */

static bool is_bcrypt_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '/';
}

/* "$2a$", "$2b$" or "$2y$", two digits of cost 04-31, '$', 53 characters of [./A-Za-z0-9]. */
static bool is_bcrypt(const char *h, size_t len, unsigned *ret_cost)
{
	unsigned cost;

	if (len != BCRYPT_LEN || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || h[2] == '\0' ||
	    h[3] != '$' || h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' || h[6] != '$')
		return false;
	cost = (unsigned)(h[4] - '0') * 10 + (unsigned)(h[5] - '0');
	if (cost < 4 || cost > 31)
		return false;
	for (size_t i = 7; i < len; i++)
		if (!is_bcrypt_char(h[i]))
			return false;
	*ret_cost = cost;
	return true;
}

static int add_user(struct auth *a, const char *name, size_t name_len, const char *hash, unsigned line)
{
	struct auth_user *u;

	if (a->n == a->alloc) {
		size_t alloc = a->alloc ? a->alloc * 2 : 8;
		struct auth_user *users = realloc(a->users, alloc * sizeof(*users));
		if (!users)
			return -ENOMEM;
		a->users = users;
		a->alloc = alloc;
	}
	u = &a->users[a->n];
	*u = (struct auth_user){ .name_len = name_len, .line = line };
	u->name = strndup(name, name_len);
	if (!u->name)
		return -ENOMEM;
	memcpy(u->hash, hash, BCRYPT_LEN);
	u->hash[BCRYPT_LEN] = '\0';
	a->n++;
	return 0;
}

struct auth *auth_new(void)
{
	struct auth *a = calloc(1, sizeof(*a));

	if (a)
		pthread_mutex_init(&a->lock, NULL);
	return a;
}

int auth_add_user(struct auth *a, const char *name, size_t name_len, const char *hash, size_t hash_len,
		  unsigned line, struct buf *err)
{
	struct auth_user *dup;
	unsigned cost;

	assert(a && name && hash && err);
	if (name_len == 0) {
		buf_addstr(err, "empty user name");
		return -EINVAL;
	}
	if (name[0] == ' ' || name[0] == '\t' || name[name_len - 1] == ' ' || name[name_len - 1] == '\t') {
		buf_addstr(err, "the user name starts or ends with whitespace");
		return -EINVAL;
	}
	for (size_t i = 0; i < name_len; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
			buf_addstr(err, "a control character in the user name");
			return -EINVAL;
		}
		/* basic credentials split at the first ':': such a user could never log in */
		if (name[i] == ':') {
			buf_addstr(err, "a ':' in the user name (basic auth cannot carry one)");
			return -EINVAL;
		}
	}
	/* the name is no secret and helps find the line; the hash is never echoed */
	if (!is_bcrypt(hash, hash_len, &cost)) {
		buf_addf(err, "the hash of user \"%.*s\" is not bcrypt ($2a$, $2b$ or $2y$, cost 04 to 31, "
			      "60 characters; make one with htpasswd -B or mkpasswd -m bcrypt)",
			 (int)name_len, name);
		return -EINVAL;
	}
	dup = find_user(a, name, name_len);
	if (dup) {
		buf_addf(err, "user \"%.*s\" appears twice (first on line %u)", (int)name_len, name, dup->line);
		return -EINVAL;
	}
	if (cost > a->max_cost)
		a->max_cost = cost;
	return add_user(a, name, name_len, hash, line);
}

int auth_seal(struct auth *a, struct buf *err)
{
	assert(a && err);
	if (getrandom(a->key, sizeof(a->key), 0) != (ssize_t)sizeof(a->key) ||
	    !crypt_gensalt_rn("$2b$", a->max_cost ? a->max_cost : 4, NULL, 0, a->dummy, (int)sizeof(a->dummy))) {
		buf_addstr(err, "cannot draw random bytes");
		return -EIO;
	}
	return 0;
}

/* One line, without its newline and trailing whitespace: a user, a comment or nothing. */
static int parse_line(struct auth *a, const char *p, size_t n, unsigned line, struct buf *err)
{
	const char *colon;
	size_t i;

	for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	if (i == n || p[i] == '#')
		return 0;
	colon = memchr(p, ':', n);
	if (!colon) {
		buf_addstr(err, "expected user:bcrypt-hash");
		return -EINVAL;
	}
	return auth_add_user(a, p, (size_t)(colon - p), colon + 1, n - (size_t)(colon - p) - 1, line, err);
}

int auth_parse(const char *text, size_t len, struct auth **ret, unsigned *ret_line, struct buf *err)
{
	const char *p = text, *end = text + len;
	struct auth *a;
	unsigned line = 0;
	int r;

	assert((text || len == 0) && ret && ret_line && err);
	a = auth_new();
	if (!a)
		return -ENOMEM;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol ? eol : end) - p);

		line++;
		if (memchr(p, '\0', n)) {
			buf_addstr(err, "a NUL byte; not a text file");
			r = -EINVAL;
			goto fail;
		}
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
			n--;
		r = parse_line(a, p, n, line, err);
		if (r < 0)
			goto fail;
		p = eol ? eol + 1 : end;
	}
	line = 0;
	if (a->n == 0) {
		buf_addstr(err, "no users (expected user:bcrypt-hash lines)");
		r = -EINVAL;
		goto fail;
	}
	r = auth_seal(a, err);
	if (r < 0)
		goto fail;
	*ret = a;
	return 0;
fail:
	*ret_line = line;
	auth_free(a);
	return r;
}

int auth_load(const char *path, struct auth **ret, struct buf *err)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	unsigned line = 0;
	int r;

	assert(path && ret && err);
	r = buf_read_file(&text, path, 1024 * 1024);
	if (r == -EFBIG)
		buf_addf(err, "%s: larger than 1 MiB; not a users file", path);
	else if (r < 0)
		buf_addf(err, "%s: %s", path, strerror(-r));
	else {
		r = auth_parse(text.buf, text.len, ret, &line, &why);
		if (r < 0 && line)
			buf_addf(err, "%s:%u: %s", path, line, why.buf);
		else if (r < 0)
			buf_addf(err, "%s: %s", path, why.len ? why.buf : strerror(-r));
	}
	explicit_bzero(text.buf, text.len);
	buf_done(&text);
	buf_done(&why);
	return r < 0 ? r : 0;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->users[i].name);
	if (a->users) /* NULL when the first line failed: explicit_bzero() wants a pointer */
		explicit_bzero(a->users, a->n * sizeof(*a->users));
	free(a->users);
	pthread_mutex_destroy(&a->lock);
	explicit_bzero(a, sizeof(*a));
	free(a);
}

size_t auth_user_count(const struct auth *a)
{
	return a->n;
}

size_t auth_weak_users(const struct auth *a, unsigned min_cost, struct buf *out)
{
	size_t i, n = 0;

	for (i = 0; i < a->n; i++) {
		const char *h = a->users[i].hash; /* checked by is_bcrypt(): "$2b$NN$..." */
		unsigned cost = (unsigned)(h[4] - '0') * 10 + (unsigned)(h[5] - '0');

		if (cost >= min_cost)
			continue;
		buf_addf(out, "%s\"%.*s\" (cost %u, line %u)", n ? ", " : "", (int)a->users[i].name_len,
			 a->users[i].name, cost, a->users[i].line);
		n++;
	}
	return n;
}

bool auth_same(const struct auth *a, const struct auth *b)
{
	if (!a || !b)
		return a == b;
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct auth_user *u = &a->users[i];
		struct auth_user *v = find_user((struct auth *)b, u->name, u->name_len);
		if (!v || strcmp(u->hash, v->hash) != 0)
			return false;
	}
	return true;
}

/* ---- the Authorization header -------------------------------------------------------------- */

int auth_decode_basic(const char *header, char **ret, size_t *ret_len, size_t *ret_colon)
{
	const char *p = header;
	size_t len;
	unsigned char *out;
	ssize_t n;
	void *colon;

	assert(header && ret && ret_len && ret_colon);
	if (strncasecmp(p, "Basic", 5) != 0 || (p[5] != ' ' && p[5] != '\t'))
		return -EINVAL;
	for (p += 5; *p == ' ' || *p == '\t'; p++)
		;
	len = strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	out = malloc(BASE64_DECODED_MAX(len) + 1);
	if (!out)
		return -ENOMEM;
	n = base64_decode(p, len, out);
	if (n < 0 || memchr(out, '\0', (size_t)n) || !(colon = memchr(out, ':', (size_t)n))) {
		auth_free_credentials((char *)out, BASE64_DECODED_MAX(len) + 1);
		return -EINVAL;
	}
	out[n] = '\0';
	*ret = (char *)out;
	*ret_len = (size_t)n;
	*ret_colon = (size_t)((unsigned char *)colon - out);
	return 0;
}

void auth_free_credentials(char *creds, size_t len)
{
	if (!creds)
		return;
	explicit_bzero(creds, len);
	free(creds);
}

/* ---- checking ------------------------------------------------------------------------------ */

static int credentials_mac(const struct auth *a, const char *user, size_t user_len, const char *pass,
			   size_t pass_len, uint8_t mac[MAC_LEN])
{
	gnutls_hmac_hd_t h;

	if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, a->key, sizeof(a->key)) < 0)
		return -ENOMEM;
	if (gnutls_hmac(h, user, user_len) < 0 || gnutls_hmac(h, ":", 1) < 0 ||
	    gnutls_hmac(h, pass, pass_len) < 0) {
		gnutls_hmac_deinit(h, NULL);
		return -EIO;
	}
	gnutls_hmac_deinit(h, mac);
	return 0;
}

int auth_check_cached(struct auth *a, const char *user, size_t user_len, const char *pass, size_t pass_len)
{
	uint8_t mac[MAC_LEN];
	struct auth_user *u;
	int ok = 0;

	assert(a && user && pass);
	u = find_user(a, user, user_len);
	if (!u || credentials_mac(a, user, user_len, pass, pass_len, mac) < 0)
		return 0;
	pthread_mutex_lock(&a->lock);
	ok = u->have_ok && ct_equal(u->ok_mac, mac, MAC_LEN);
	pthread_mutex_unlock(&a->lock);
	explicit_bzero(mac, sizeof(mac));
	return ok;
}

int auth_check(struct auth *a, const char *user, size_t user_len, const char *pass, size_t pass_len)
{
	char phrase[CRYPT_MAX_PASSPHRASE_SIZE];
	struct crypt_data *cd;
	struct auth_user *u;
	const char *out;
	uint8_t mac[MAC_LEN];
	bool usable;
	int ok = 0;

	assert(a && user && pass);
	if (auth_check_cached(a, user, user_len, pass, pass_len))
		return 1;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return 0;
	u = find_user(a, user, user_len);
	/* a password crypt cannot take (too long, a NUL byte) fails, but after the same work */
	usable = pass_len < sizeof(phrase) && !memchr(pass, '\0', pass_len);
	memcpy(phrase, pass, usable ? pass_len : 0);
	phrase[usable ? pass_len : 0] = '\0';
	out = crypt_rn(phrase, u ? u->hash : a->dummy, cd, (int)sizeof(*cd));
	ok = usable && u && out && strlen(out) == BCRYPT_LEN && ct_equal(out, u->hash, BCRYPT_LEN);
	explicit_bzero(phrase, sizeof(phrase));
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	if (ok && credentials_mac(a, user, user_len, pass, pass_len, mac) == 0) {
		pthread_mutex_lock(&a->lock);
		memcpy(u->ok_mac, mac, MAC_LEN);
		u->have_ok = true;
		pthread_mutex_unlock(&a->lock);
		explicit_bzero(mac, sizeof(mac));
	}
	return ok;
}

/* ---- checks off the caller's thread ----------------------------------------------------------- */

struct auth_verifier {
	struct auth *auth;
	struct workq *q;
};

/* One check waiting for the worker: its credentials, copied (zeroed when freed). */
struct check {
	struct auth *auth;
	auth_done_fn done;
	void *userdata;
	size_t user_len, pass_len;
	char creds[]; /* user, then password */
};

/* The worker's job (workq_fn): a cancelled check fails. */
static void check_run(void *arg, bool cancelled)
{
	struct check *j = arg;
	int ok = 0;

	if (!cancelled)
		ok = auth_check(j->auth, j->creds, j->user_len, j->creds + j->user_len, j->pass_len);
	j->done(j->userdata, ok);
	explicit_bzero(j->creds, j->user_len + j->pass_len);
	free(j);
}

int auth_verifier_new(struct auth *a, unsigned queue_max, struct auth_verifier **ret)
{
	struct auth_verifier *v;
	int r;

	assert(a && queue_max > 0 && ret);
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->auth = a;
	r = workq_new(queue_max, &v->q);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	return 0;
}

int auth_verifier_submit(struct auth_verifier *v, const char *user, size_t user_len, const char *pass,
			 size_t pass_len, auth_done_fn done, void *userdata)
{
	struct check *j;
	int r;

	assert(v && user && pass && done);
	j = malloc(sizeof(*j) + user_len + pass_len);
	if (!j)
		return -ENOMEM;
	*j = (struct check){ .auth = v->auth, .done = done, .userdata = userdata, .user_len = user_len,
			     .pass_len = pass_len };
	memcpy(j->creds, user, user_len);
	memcpy(j->creds + user_len, pass, pass_len);
	r = workq_submit(v->q, check_run, j);
	if (r < 0) {
		explicit_bzero(j->creds, user_len + pass_len);
		free(j);
	}
	return r;
}

void auth_verifier_free(struct auth_verifier *v)
{
	if (!v)
		return;
	workq_free(v->q);
	free(v);
}
