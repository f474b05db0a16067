/*
 * Refused webhook requests, aggregated: a flood of bad tokens or
 * malformed bodies must not fill the disk, yet every refusal stays
 * accounted for.  Refusals are counted per (outcome, reason, status,
 * source network), the network being the /24 of an IPv4 address and the
 * /64 of an IPv6 one; the caller flushes the table once a second, and
 * each row becomes one audit event carrying its count, its window and
 * the call ids seen (the first in the clear column, a few more in the
 * detail): a real invitation refused for a bad token is evidence of a
 * call not recorded.  The table is bounded: when it is full, what has
 * no row goes into its last one, network "other" (its reason stays
 * while they all agree, else "several reasons").
 */
#ifndef POLREC_REFUSAL_H
#define POLREC_REFUSAL_H

#include <stddef.h>
#include <stdint.h>

#define REFUSAL_CALLS		8	/* call ids kept after the first */
#define REFUSAL_ID_MAX		64	/* a call id, with its NUL */
#define REFUSAL_REASON_MAX	64
#define REFUSAL_NET_MAX		48	/* "2001:db8:1:2::/64", "other" */
#define REFUSAL_DEFAULT_ROWS	256

struct refusal {
	char		 outcome[16];		/* refused, deferred, ... */
	char		 reason[REFUSAL_REASON_MAX];
	int		 status;		/* HTTP status replied */
	char		 network[REFUSAL_NET_MAX];
	uint64_t	 count;
	int64_t		 first_utc_us, last_utc_us;
	char		 call_id[REFUSAL_ID_MAX];	/* first seen, or "" */
	char		 more_calls[REFUSAL_CALLS][REFUSAL_ID_MAX];
	size_t		 nmore;
	uint64_t	 calls_not_kept;	/* refusals whose id was not kept */
};

struct refusals;

struct refusals	*refusals_new(size_t max_rows);
void		 refusals_free(struct refusals *);

/*
 * One refusal from the peer address addr (numeric IPv4 or IPv6, as
 * text; anything else counts as network "?"), with the call id of what
 * it carried when known (NULL or "": none).  Strings are cut to fit.
 */
void		 refusals_note(struct refusals *, const char *outcome,
		    const char *reason, int status, const char *addr,
		    const char *call_id, int64_t utc_us);

/* Rows held, and refusals they stand for, since the last flush. */
size_t		 refusals_rows(const struct refusals *);
uint64_t	 refusals_pending(const struct refusals *);

/* Hand every row to emit, oldest first, then empty the table. */
void		 refusals_flush(struct refusals *,
		    void (*emit)(const struct refusal *, void *), void *);

/* The network of a numeric address: "203.0.113.0/24", "2001:db8::/64"
 * (IPv4-mapped IPv6 counts as IPv4), "?" when it is not one.  0 or -1. */
int		 refusal_network(const char *addr, char *buf, size_t len);

#endif
