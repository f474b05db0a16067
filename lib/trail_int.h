/*
 * What the trail's writer (trail.c), verifier (trail_verify.c) and
 * exporter (trail_export.c) share: audit_event's column list, statement
 * helpers, audit_value builders and the checkpoint row reader.  Private
 * to lib/trail*.c; the API is trail.h.
 */
#ifndef POLREC_TRAIL_INT_H
#define POLREC_TRAIL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"

struct sqlite3;
struct sqlite3_stmt;

/* audit_event's columns in AUDIT_COLUMNS order (the hash order). */
#define TRAIL_EVENT_COLUMNS	"seq, utc_us, mono_us, clock_synced, " \
	"clock_maxerror_us, clock_esterror_us, kind, outcome, reason, " \
	"call_id, chain_id, tenant, policy, paired_recorders, " \
	"other_recorders, msg_id, http_status, graph_code, request_id, " \
	"latency_us, attempts, detail, key_id, sealed"
#define TRAIL_COL_HASH		AUDIT_NCOLUMNS	/* after them in a SELECT */

/* A persistent statement: 0, or -1 with a message in err. */
int	 trail_prepare(struct sqlite3 *, const char *sql,
	    struct sqlite3_stmt **, char *err, size_t errlen);

/*
 * One integer from a query with at most one parameter: 0 with *out, 1
 * when there is no row or it is NULL, -1 on error.
 */
int	 trail_query_int(struct sqlite3 *, const char *sql, int64_t arg,
	    int64_t *out, char *err, size_t errlen);

void	 trail_val_null(struct audit_value *);
void	 trail_val_int(struct audit_value *, int64_t);
/* Text or blob bytes; p may be NULL when there are none. */
void	 trail_val_bytes(struct audit_value *, enum audit_type,
	    const void *p, size_t len);

/*
 * The checkpoint in the current row's first five columns (seq, utc_us,
 * head, key_id, sig), its types and lengths checked.  0, or -1 when it
 * is malformed: then cp holds only its seq.
 */
int	 trail_read_checkpoint(struct sqlite3_stmt *,
	    struct audit_checkpoint *);

/* The time stamps, after the walk verified the checkpoints (trail_tsa.c):
 * 0, 1 with the report's problem, -1. */
struct trail_verify_opts;
struct trail_report;
int	 trail_verify_timestamps(struct sqlite3 *,
	    const struct trail_verify_opts *, struct trail_report *);

#endif
