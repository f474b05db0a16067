/*
 * The retention floor: how recent a cutoff `polrecctl audit prune` may
 * give.  Records younger than [audit] retention_min are never removed,
 * and no cutoff lies in the future.
 */
#ifndef POLREC_RETENTION_H
#define POLREC_RETENTION_H

#include <stddef.h>
#include <stdint.h>

/*
 * May events older than cutoff_us be removed at now_us, with a floor
 * of floor_s seconds?  0, or -1 and a reason naming the floor and the
 * latest cutoff allowed.
 */
int	 retention_check(int64_t now_us, int64_t cutoff_us, long long floor_s,
	    char *err, size_t errlen);

/* A duration in its largest whole unit, as polrecd.conf takes it: 5y,
 * 1825d, 90s. */
void	 retention_format_duration(long long secs, char *buf, size_t len);

#endif
