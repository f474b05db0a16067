/*
 * A large audit trail for measurements: N synthetic invitation events,
 * written by the real trail writer with the appliance's keys from
 * KEY_DIR, a checkpoint every 1000 events and the head seal per commit,
 * as polrecd writes them.  Test tool only; never installed.
 *
 *	mktrail DATABASE KEY_DIR N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "db.h"
#include "keyfile.h"
#include "trail.h"
#include "xmalloc.h"

#define BATCH		10000
#define CP_EVERY	1000

int
main(int argc, char *argv[])
{
	struct trail_keys	 k;
	struct trail_event	 ev;
	struct trail		*t;
	sqlite3			*db;
	const char		*errstr = NULL;
	char			 err[512], call[64];
	long long		 n, i;
	int64_t			 now;

	if (argc != 4) {
		fprintf(stderr, "usage: mktrail DATABASE KEY_DIR N\n");
		return 2;
	}
	n = strtonum(argv[3], 1, 1000000000LL, &errstr);
	if (errstr != NULL || sodium_init() < 0 ||
	    keyfile_read(argv[2], KEYFILE_SIGNING, k.sign_sk,
	    sizeof(k.sign_sk), KEYFILE_SECRET, err, sizeof(err)) == -1 ||
	    keyfile_read(argv[2], KEYFILE_AUDITOR_PUB, k.auditor_pk,
	    sizeof(k.auditor_pk), 0, err, sizeof(err)) == -1 ||
	    db_open(argv[1], &db, err, sizeof(err)) == -1 ||
	    (t = trail_open(db, &k, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mktrail: %s\n", errstr ? errstr : err);
		return 1;
	}
	sqlite3_exec(db, "PRAGMA synchronous = OFF", NULL, NULL, NULL);
	now = (int64_t)time(NULL) * 1000000 - n * 1000;
	for (i = 0; i < n; i++) {
		if (i % BATCH == 0 &&
		    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			goto sqlfail;
		memset(&ev, 0, sizeof(ev));
		snprintf(call, sizeof(call), "%08llx-0000-4000-8000-%012llx",
		    i / 7, i);
		ev.utc_us = now + i * 1000;
		ev.mono_us = i * 1000;
		ev.clock_synced = 1;
		ev.clock_maxerror_us = 1000;
		ev.clock_esterror_us = 100;
		ev.kind = "invitation";
		ev.outcome = "answer";
		ev.reason = "allowed";
		ev.call_id = call;
		ev.tenant = "932899f8-2ea1-4604-8413-27bd2892079f";
		ev.policy = "Test Policy";
		ev.paired = "[\"471f0300-5c1f-4d99-b5f4-2722e877d490\"]";
		ev.http_status = ev.latency_us = ev.attempts = -1;
		ev.personal = "{\"observedParticipantId\":\"x\"}";
		ev.personal_len = strlen(ev.personal);
		if (trail_append(t, &ev, NULL, err, sizeof(err)) == -1)
			goto fail;
		if ((i + 1) % CP_EVERY == 0 &&
		    trail_checkpoint(t, ev.utc_us, err, sizeof(err)) == -1)
			goto fail;
		if ((i + 1) % BATCH == 0 || i + 1 == n) {
			if (trail_seal(t, ev.utc_us, err, sizeof(err)) == -1)
				goto fail;
			if (sqlite3_exec(db, "COMMIT", NULL, NULL,
			    NULL) != SQLITE_OK)
				goto sqlfail;
			trail_committed(t);
		}
	}
	printf("mktrail: %lld events in %s\n", n, argv[1]);
	trail_free(t);
	db_close(db);
	return 0;
sqlfail:
	snprintf(err, sizeof(err), "%s", sqlite3_errmsg(db));
fail:
	fprintf(stderr, "mktrail: %s\n", err);
	return 1;
}
