/*
 * Prometheus text exposition (format 0.0.4) with bounded label sets:
 * histograms with fixed buckets, counters by a label whose values come
 * from outside (Graph's error codes) capped at LABELSET_MAX distinct
 * values and then counted as "other", and writers to a stdio stream
 * (open_memstream in the daemon, a file in tests).  No clock is read.
 */
#ifndef POLREC_METRIC_H
#define POLREC_METRIC_H

#include <stdint.h>
#include <stdio.h>

#define HISTOGRAM_MAX_BUCKETS	16
#define LABELSET_MAX		32	/* distinct values, "other" included */
#define LABEL_VALUE_MAX		48

struct histogram {
	size_t		 h_n;
	double		 h_le[HISTOGRAM_MAX_BUCKETS];	/* increasing */
	uint64_t	 h_bucket[HISTOGRAM_MAX_BUCKETS];	/* not summed */
	uint64_t	 h_count;
	double		 h_sum;
};

/*
 * Buckets at bounds[0..n) (increasing) plus `extra` when > 0 (e.g. the
 * answer budget), kept in order and without a duplicate; the largest
 * are dropped beyond HISTOGRAM_MAX_BUCKETS.
 */
void	 histogram_init(struct histogram *, const double *bounds, size_t n,
	    double extra);
void	 histogram_observe(struct histogram *, double v);

struct labelset {
	size_t		 l_n;
	char		 l_value[LABELSET_MAX][LABEL_VALUE_MAX];
	uint64_t	 l_count[LABELSET_MAX];
};

/*
 * Count n under value: cleaned to [A-Za-z0-9_./-], "other" when full.
 * A value "a/b" is two labels' values to metric_labelset2.
 */
void	 labelset_add(struct labelset *, const char *value, uint64_t n);
uint64_t labelset_get(const struct labelset *, const char *value);

/* A label value escaped (\\, \", \n) into buf; always terminated. */
void	 metric_escape(const char *in, char *buf, size_t len);

/* # HELP and # TYPE lines; type is "counter", "gauge" or "histogram". */
void	 metric_head(FILE *, const char *name, const char *type,
	    const char *help);
/* name{labels} value; labels is `k="v",...` already escaped, or NULL. */
void	 metric_u64(FILE *, const char *name, const char *labels,
	    uint64_t v);
void	 metric_double(FILE *, const char *name, const char *labels,
	    double v);
/* The samples of a histogram (after its head); labels as above. */
void	 metric_histogram(FILE *, const char *name, const char *labels,
	    const struct histogram *);
/* A whole counter family by one label from a labelset. */
void	 metric_labelset(FILE *, const char *name, const char *help,
	    const char *label, const struct labelset *);

/* The same by two labels, from values "v1/v2". */
void	 metric_labelset2(FILE *, const char *name, const char *help,
	    const char *label1, const char *label2, const struct labelset *);

#endif
