/* A sliding window of latencies for their quantiles: see latwin.h. */
#include <math.h>
#include <string.h>

#include "latwin.h"

void
latwin_init(struct latwin *w, uint64_t span_us)
{
	memset(w, 0, sizeof(*w));
	w->lw_slot_us = span_us / LATWIN_SLOTS;
	if (w->lw_slot_us == 0)
		w->lw_slot_us = 1;
}

static size_t
bucket_of(uint64_t us)
{
	double	 b;

	if (us <= LATWIN_MIN_US)
		return 0;
	b = ceil(4.0 * log2((double)us / LATWIN_MIN_US));
	return b >= LATWIN_BUCKETS - 1 ? LATWIN_BUCKETS - 1 : (size_t)b;
}

static uint64_t
bucket_top(size_t i)
{
	return (uint64_t)ceil(LATWIN_MIN_US * exp2((double)i / 4.0));
}

void
latwin_add(struct latwin *w, uint64_t now_us, uint64_t latency_us)
{
	uint64_t	 n = now_us / w->lw_slot_us + 1;	/* 0: unused */
	size_t		 s = (size_t)(n % LATWIN_SLOTS);

	if (w->lw_stamp[s] != n) {
		w->lw_stamp[s] = n;
		w->lw_max[s] = 0;
		memset(w->lw_count[s], 0, sizeof(w->lw_count[s]));
	}
	if (w->lw_count[s][bucket_of(latency_us)] < UINT32_MAX)
		w->lw_count[s][bucket_of(latency_us)]++;
	if (latency_us > w->lw_max[s])
		w->lw_max[s] = latency_us;
}

int
latwin_quantile(const struct latwin *w, uint64_t now_us, double q,
    uint64_t *out_us, uint64_t *count)
{
	uint64_t	 n = now_us / w->lw_slot_us + 1, sum[LATWIN_BUCKETS];
	uint64_t	 total = 0, max = 0, rank, seen = 0;
	size_t		 s, b;

	memset(sum, 0, sizeof(sum));
	for (s = 0; s < LATWIN_SLOTS; s++) {
		/* Only the slots of the last LATWIN_SLOTS stretches. */
		if (w->lw_stamp[s] == 0 || w->lw_stamp[s] > n ||
		    n - w->lw_stamp[s] >= LATWIN_SLOTS)
			continue;
		for (b = 0; b < LATWIN_BUCKETS; b++) {
			sum[b] += w->lw_count[s][b];
			total += w->lw_count[s][b];
		}
		if (w->lw_max[s] > max)
			max = w->lw_max[s];
	}
	*count = total;
	*out_us = 0;
	if (total == 0)
		return -1;
	if (q <= 0)
		q = 1e-9;
	if (q > 1)
		q = 1;
	rank = (uint64_t)ceil(q * (double)total);
	for (b = 0; b < LATWIN_BUCKETS; b++) {
		seen += sum[b];
		if (seen >= rank)
			break;
	}
	*out_us = b < LATWIN_BUCKETS && bucket_top(b) < max ?
	    bucket_top(b) : max;
	return 0;
}
