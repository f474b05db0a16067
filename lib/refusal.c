/* Refused requests, aggregated per reason and source network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"
#include "refusal.h"
#include "xmalloc.h"

struct refusals {
	struct refusal	*rows;
	size_t		 nrows, maxrows;
	uint64_t	 pending;
};

struct refusals *
refusals_new(size_t max_rows)
{
	struct refusals	*r;

	r = xcalloc(1, sizeof(*r));
	/* At least one row per network, and the last for "other". */
	r->maxrows = max_rows >= 2 ? max_rows : REFUSAL_DEFAULT_ROWS;
	r->rows = xcalloc(r->maxrows, sizeof(*r->rows));
	return r;
}

void
refusals_free(struct refusals *r)
{
	if (r == NULL)
		return;
	free(r->rows);
	free(r);
}

int
refusal_network(const char *addr, char *buf, size_t len)
{
	return netaddr_network(addr, 24, 64, buf, len);
}

static struct refusal *
row_find(struct refusals *r, const char *outcome, const char *reason,
    int status, const char *net)
{
	struct refusal	*row;
	size_t		 i;

	for (i = 0; i < r->nrows; i++) {
		row = &r->rows[i];
		if (row->status == status && strcmp(row->network, net) == 0 &&
		    strcmp(row->reason, reason) == 0 &&
		    strcmp(row->outcome, outcome) == 0)
			return row;
	}
	return NULL;
}

static void
note_call(struct refusal *row, const char *id)
{
	size_t	 i;

	if (id == NULL || *id == '\0')
		return;
	if (row->call_id[0] == '\0') {
		snprintf(row->call_id, sizeof(row->call_id), "%s", id);
		return;
	}
	if (strncmp(row->call_id, id, sizeof(row->call_id) - 1) == 0)
		return;
	for (i = 0; i < row->nmore; i++)
		if (strncmp(row->more_calls[i], id,
		    sizeof(row->more_calls[i]) - 1) == 0)
			return;
	if (row->nmore < REFUSAL_CALLS)
		snprintf(row->more_calls[row->nmore++],
		    sizeof(row->more_calls[0]), "%s", id);
	else
		row->calls_not_kept++;
}

void
refusals_note(struct refusals *r, const char *outcome, const char *reason,
    int status, const char *addr, const char *call_id, int64_t utc_us)
{
	struct refusal	*row;
	char		 net[REFUSAL_NET_MAX], o[16], why[REFUSAL_REASON_MAX];

	/* Cut as they will be stored, so the same reason finds its row. */
	snprintf(o, sizeof(o), "%s", outcome != NULL ? outcome : "refused");
	snprintf(why, sizeof(why), "%s", reason != NULL ? reason : "");
	(void)refusal_network(addr, net, sizeof(net));
	if ((row = row_find(r, o, why, status, net)) == NULL &&
	    r->nrows == r->maxrows - 1) {
		/*
		 * Full: the last slot takes everything else, as network
		 * "other"; its reason stays while all agree.
		 */
		row = &r->rows[r->maxrows - 1];
		if (row->count == 0) {
			memset(row, 0, sizeof(*row));
			snprintf(row->outcome, sizeof(row->outcome), "%s", o);
			snprintf(row->reason, sizeof(row->reason), "%s", why);
			row->status = status;
			snprintf(row->network, sizeof(row->network), "other");
		} else if (strcmp(row->reason, why) != 0 ||
		    strcmp(row->outcome, o) != 0 || row->status != status) {
			snprintf(row->outcome, sizeof(row->outcome), "mixed");
			snprintf(row->reason, sizeof(row->reason),
			    "several reasons");
			row->status = 0;
		}
	} else if (row == NULL) {
		row = &r->rows[r->nrows++];
		memset(row, 0, sizeof(*row));
		snprintf(row->outcome, sizeof(row->outcome), "%s", o);
		snprintf(row->reason, sizeof(row->reason), "%s", why);
		row->status = status;
		snprintf(row->network, sizeof(row->network), "%s", net);
	}
	row->count++;
	row->last_utc_us = utc_us;
	if (row->first_utc_us == 0)
		row->first_utc_us = utc_us;
	note_call(row, call_id);
	r->pending++;
}

size_t
refusals_rows(const struct refusals *r)
{
	return r->nrows + (r->rows[r->maxrows - 1].count > 0);
}

uint64_t
refusals_pending(const struct refusals *r)
{
	return r->pending;
}

void
refusals_flush(struct refusals *r,
    void (*emit)(const struct refusal *, void *), void *arg)
{
	size_t	 i;

	for (i = 0; i < r->nrows; i++)
		emit(&r->rows[i], arg);
	if (r->rows[r->maxrows - 1].count > 0)
		emit(&r->rows[r->maxrows - 1], arg);
	r->rows[r->maxrows - 1].count = 0;
	r->nrows = 0;
	r->pending = 0;
}
