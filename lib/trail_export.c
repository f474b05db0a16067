/* The audit trail read back: JSON Lines export, the latest checkpoint. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <sodium.h>
#include <sqlite3.h>

#include "audit.h"
#include "trail.h"
#include "trail_int.h"
#include "xmalloc.h"

#define DK_CACHE	8	/* data keys export keeps open */

/* The data keys opened so far, the last DK_CACHE of them. */
struct dkcache {
	sqlite3_stmt	*st;
	unsigned char	 pk[AUDIT_BOX_PUBBYTES];
	const unsigned char *sk;
	unsigned char	*keys;		/* sodium_malloc'd, DK_CACHE keys */
	char		 id[DK_CACHE][AUDIT_KEYID_LEN + 1];
	int		 ok[DK_CACHE];
	int		 next;
};

/* The opened data key `id` in *dk: 0, or -1 with why. */
static int
datakey_get(struct dkcache *c, const char *id, const unsigned char **dk,
    const char **why)
{
	const void	*sealed;
	int		 i, rc;

	if (strlen(id) != AUDIT_KEYID_LEN) {
		*why = "no data key";
		return -1;
	}
	for (i = 0; i < DK_CACHE; i++)
		if (strcmp(c->id[i], id) == 0)
			goto found;
	i = c->next;
	c->next = (c->next + 1) % DK_CACHE;
	snprintf(c->id[i], sizeof(c->id[i]), "%s", id);
	c->ok[i] = 0;
	sodium_memzero(c->keys + i * AUDIT_DATAKEYBYTES, AUDIT_DATAKEYBYTES);
	sqlite3_reset(c->st);
	sqlite3_bind_text(c->st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(c->st);
	if (rc == SQLITE_ROW && sqlite3_column_type(c->st, 0) == SQLITE_BLOB) {
		sealed = sqlite3_column_blob(c->st, 0);
		if (audit_datakey_open(sealed,
		    (size_t)sqlite3_column_bytes(c->st, 0), c->pk, c->sk,
		    c->keys + i * AUDIT_DATAKEYBYTES) == 0)
			c->ok[i] = 1;
		else
			c->ok[i] = -1;
	}
	sqlite3_reset(c->st);
found:
	if (c->ok[i] == 1) {
		*dk = c->keys + i * AUDIT_DATAKEYBYTES;
		return 0;
	}
	*why = c->ok[i] == 0 ? "no data key" : "does not open";
	return -1;
}

void
trail_format_time(int64_t us, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 secs;
	int64_t		 frac;
	char		 date[32];

	frac = us % 1000000;
	secs = (time_t)(us / 1000000);
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%s.%06lldZ", date, (long long)frac);
}

static char *
base64(const void *p, size_t len)
{
	size_t	 n;
	char	*b;

	n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	b = xmalloc(n);
	sodium_bin2base64(b, n, p, len, sodium_base64_VARIANT_ORIGINAL);
	return b;
}

/* The personal object of a row, or "personal_error". */
static void
add_personal(cJSON *o, struct dkcache *c, sqlite3_stmt *st)
{
	const unsigned char	*dk, *sealed;
	const char		*why = "does not open";
	char			*plain = NULL;
	size_t			 plainlen = 0;
	cJSON			*p = NULL;
	int64_t			 seq = sqlite3_column_int64(st, AC_SEQ);

	if (sqlite3_column_type(st, AC_KEY_ID) != SQLITE_TEXT) {
		why = "no data key";
		goto fail;
	}
	if (datakey_get(c, (const char *)sqlite3_column_text(st, AC_KEY_ID),
	    &dk, &why) == -1)
		goto fail;
	sealed = sqlite3_column_blob(st, AC_SEALED);
	if (audit_unseal(dk, (const char *)sqlite3_column_text(st, AC_KEY_ID),
	    seq, sealed, (size_t)sqlite3_column_bytes(st, AC_SEALED), &plain,
	    &plainlen) == -1)
		goto fail;
	if ((p = cJSON_ParseWithLength(plain, plainlen)) == NULL) {
		why = "not JSON";
		goto fail;
	}
	cJSON_AddItemToObject(o, "personal", p);
	sodium_memzero(plain, plainlen);
	free(plain);
	return;
fail:
	if (plain != NULL) {
		sodium_memzero(plain, plainlen);
		free(plain);
	}
	cJSON_AddStringToObject(o, "personal_error", why);
}

static cJSON *
export_row(sqlite3_stmt *st, struct dkcache *c)
{
	cJSON		*o;
	const char	*name;
	char		 num[32], utc[48], hex[2 * AUDIT_HASHBYTES + 1], *b;
	int		 i, n;

	o = cJSON_CreateObject();
	n = sqlite3_column_count(st);
	for (i = 0; i < n; i++) {
		name = sqlite3_column_name(st, i);
		if (i == TRAIL_COL_HASH &&
		    sqlite3_column_type(st, i) == SQLITE_BLOB &&
		    sqlite3_column_bytes(st, i) == AUDIT_HASHBYTES) {
			sodium_bin2hex(hex, sizeof(hex),
			    sqlite3_column_blob(st, i), AUDIT_HASHBYTES);
			cJSON_AddStringToObject(o, name, hex);
			continue;
		}
		if (i == AC_SEALED && c->sk != NULL &&
		    sqlite3_column_type(st, i) != SQLITE_NULL) {
			add_personal(o, c, st);
			continue;
		}
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			snprintf(num, sizeof(num), "%lld",
			    (long long)sqlite3_column_int64(st, i));
			cJSON_AddRawToObject(o, name, num);
			if (i == AC_UTC_US) {
				trail_format_time(sqlite3_column_int64(st, i), utc,
				    sizeof(utc));
				cJSON_AddStringToObject(o, "utc", utc);
			}
			break;
		case SQLITE_FLOAT:
			cJSON_AddNumberToObject(o, name,
			    sqlite3_column_double(st, i));
			break;
		case SQLITE_TEXT:
			cJSON_AddStringToObject(o, name,
			    (const char *)sqlite3_column_text(st, i));
			break;
		case SQLITE_BLOB:
			b = base64(sqlite3_column_blob(st, i),
			    (size_t)sqlite3_column_bytes(st, i));
			cJSON_AddStringToObject(o, name, b);
			free(b);
			break;
		default:
			cJSON_AddNullToObject(o, name);
			break;
		}
	}
	return o;
}

int
trail_export(sqlite3 *db, const struct trail_filter *f, FILE *out,
    char *err, size_t errlen)
{
	static const struct trail_filter all;
	struct dkcache	 c;
	sqlite3_stmt	*st = NULL;
	cJSON		*o;
	char		*line;
	int64_t		 since, until;
	int		 rc, rv = -1;

	memset(&c, 0, sizeof(c));
	if (f == NULL)
		f = &all;
	since = f->since_utc_us != 0 ? f->since_utc_us : INT64_MIN;
	until = f->until_utc_us != 0 ? f->until_utc_us - 1 : INT64_MAX;
	if (f->auditor_sk != NULL) {
		if (sodium_init() < 0 || (c.keys = sodium_malloc(DK_CACHE *
		    AUDIT_DATAKEYBYTES)) == NULL) {
			snprintf(err, errlen, "out of secure memory");
			goto done;
		}
		c.sk = f->auditor_sk;
		if (crypto_scalarmult_base(c.pk, c.sk) != 0) {
			snprintf(err, errlen, "not an auditor secret key");
			goto done;
		}
		if (trail_prepare(db, "SELECT sealed_key FROM audit_datakey "
		    "WHERE key_id = ?", &c.st, err, errlen) == -1)
			goto done;
	}
	if (trail_prepare(db, f->call_id != NULL ?
	    "SELECT " TRAIL_EVENT_COLUMNS ", hash FROM audit_event WHERE "
	    "utc_us >= ?1 AND utc_us <= ?2 AND call_id = ?3 ORDER BY seq" :
	    "SELECT " TRAIL_EVENT_COLUMNS ", hash FROM audit_event WHERE "
	    "utc_us >= ?1 AND utc_us <= ?2 ORDER BY seq", &st, err,
	    errlen) == -1)
		goto done;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, until);
	if (f->call_id != NULL)
		sqlite3_bind_text(st, 3, f->call_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		o = export_row(st, &c);
		line = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (line == NULL) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		if (fprintf(out, "%s\n", line) < 0) {
			cJSON_free(line);
			snprintf(err, errlen, "cannot write the export");
			goto done;
		}
		cJSON_free(line);
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(db));
		goto done;
	}
	if (fflush(out) == EOF || ferror(out)) {
		snprintf(err, errlen, "cannot write the export");
		goto done;
	}
	rv = 0;
done:
	sqlite3_finalize(st);
	sqlite3_finalize(c.st);
	sodium_free(c.keys);
	sodium_memzero(c.pk, sizeof(c.pk));
	return rv;
}

int
trail_latest_checkpoint(sqlite3 *db, struct audit_checkpoint *cp,
    unsigned char pk[AUDIT_SIGN_PUBBYTES], char *err, size_t errlen)
{
	struct audit_checkpoint	 row;
	sqlite3_stmt		*st;
	int			 rc, rv = -1;

	memset(cp, 0, sizeof(*cp));
	if (sqlite3_prepare_v2(db, "SELECT c.seq, c.utc_us, c.head, c.key_id, "
	    "c.sig, k.public_key FROM audit_checkpoint c LEFT JOIN audit_key k "
	    "ON k.key_id = c.key_id AND k.kind = 'signing' "
	    "ORDER BY c.seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(db));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		snprintf(err, errlen, "no checkpoint in the audit trail");
		rv = 1;
		goto done;
	}
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "cannot read the audit trail: %s",
		    sqlite3_errmsg(db));
		goto done;
	}
	rc = trail_read_checkpoint(st, &row);
	/* The rest once its signing key is known too. */
	cp->seq = row.seq;
	if (rc == -1) {
		snprintf(err, errlen, "checkpoint at %lld is malformed",
		    (long long)cp->seq);
		goto done;
	}
	if (sqlite3_column_type(st, 5) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, 5) != AUDIT_SIGN_PUBBYTES) {
		snprintf(err, errlen, "checkpoint at %lld: its signing key is "
		    "not in audit_key", (long long)cp->seq);
		goto done;
	}
	*cp = row;
	memcpy(pk, sqlite3_column_blob(st, 5), AUDIT_SIGN_PUBBYTES);
	if (audit_checkpoint_verify(cp, pk) == -1) {
		snprintf(err, errlen, "checkpoint at %lld: the signature does "
		    "not verify", (long long)cp->seq);
		goto done;
	}
	rv = 0;
done:
	sqlite3_finalize(st);
	return rv;
}

/* `n` decimal digits at s into *v; 0 or -1. */
static int
digits(const char *s, int n, int *v)
{
	int	 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
trail_parse_time(const char *s, int64_t *utc_us)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	struct tm	 tm;
	const char	*errstr = NULL, *p;
	long long	 secs;
	time_t		 t;
	int		 y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	int		 nfrac, leap;

	*utc_us = 0;
	if (s == NULL || *s == '\0')
		return -1;
	if (strspn(s, "0123456789") == strlen(s)) {
		/* Up to the year 9999. */
		secs = strtonum(s, 0, 253402300799LL, &errstr);
		if (errstr != NULL)
			return -1;
		*utc_us = (int64_t)secs * 1000000;
		return 0;
	}
	if (strlen(s) < 10 || digits(s, 4, &y) == -1 || s[4] != '-' ||
	    digits(s + 5, 2, &mo) == -1 || s[7] != '-' ||
	    digits(s + 8, 2, &d) == -1)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap))
		return -1;
	p = s + 10;
	if (*p == 'T') {
		if (strlen(p) < 10 || digits(p + 1, 2, &h) == -1 ||
		    p[3] != ':' || digits(p + 4, 2, &mi) == -1 ||
		    p[6] != ':' || digits(p + 7, 2, &sec) == -1 ||
		    h > 23 || mi > 59 || sec > 59)
			return -1;
		p += 9;
		if (*p == '.') {
			p++;
			for (nfrac = 0; nfrac < 6 && *p >= '0' && *p <= '9';
			    nfrac++, p++)
				frac = frac * 10 + (*p - '0');
			if (nfrac == 0 || (*p >= '0' && *p <= '9'))
				return -1;
			for (; nfrac < 6; nfrac++)
				frac *= 10;
		}
		if (*p++ != 'Z')
			return -1;
	}
	if (*p != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*utc_us = (int64_t)t * 1000000 + frac;
	return 0;
}
