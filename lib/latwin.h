/*
 * The answer latencies of the last few minutes, for their quantiles:
 * a ring of LATWIN_SLOTS slots, each a histogram of one span/SLOTS
 * stretch of time, with log-scale buckets (four to a doubling, from
 * LATWIN_MIN_US).  Fixed size, no allocation, no clock read: the
 * caller passes the time.  A quantile is the upper bound of its
 * bucket (at most 19% high), never above the largest latency seen.
 */
#ifndef POLREC_LATWIN_H
#define POLREC_LATWIN_H

#include <stddef.h>
#include <stdint.h>

#define LATWIN_SLOTS	30
#define LATWIN_BUCKETS	96
#define LATWIN_MIN_US	100

struct latwin {
	uint64_t	 lw_slot_us;			/* span of one slot */
	uint64_t	 lw_stamp[LATWIN_SLOTS];	/* slot number held */
	uint64_t	 lw_max[LATWIN_SLOTS];
	uint32_t	 lw_count[LATWIN_SLOTS][LATWIN_BUCKETS];
};

/* A window of span_us (rounded to whole slots; at least one µs a slot). */
void	 latwin_init(struct latwin *, uint64_t span_us);
void	 latwin_add(struct latwin *, uint64_t now_us, uint64_t latency_us);

/*
 * The latency at quantile q (0 < q <= 1) of the samples in the window
 * ending at now_us, in *out_us, and how many there are in *count.
 * 0, or -1 when the window is empty.
 */
int	 latwin_quantile(const struct latwin *, uint64_t now_us, double q,
	    uint64_t *out_us, uint64_t *count);

#endif
