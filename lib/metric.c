/* Prometheus text exposition: histograms, bounded label sets, writers. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "metric.h"

void
histogram_init(struct histogram *h, const double *bounds, size_t n,
    double extra)
{
	size_t	 i;
	int	 placed = extra <= 0;

	memset(h, 0, sizeof(*h));
	for (i = 0; i < n && h->h_n < HISTOGRAM_MAX_BUCKETS; i++) {
		if (!placed && extra <= bounds[i]) {
			placed = 1;
			h->h_le[h->h_n++] = extra;
			if (extra == bounds[i])
				continue;
			if (h->h_n == HISTOGRAM_MAX_BUCKETS)
				break;
		}
		h->h_le[h->h_n++] = bounds[i];
	}
	if (!placed && h->h_n < HISTOGRAM_MAX_BUCKETS)
		h->h_le[h->h_n++] = extra;
}

void
histogram_observe(struct histogram *h, double v)
{
	size_t	 i;

	if (isnan(v))
		return;
	for (i = 0; i < h->h_n; i++)
		if (v <= h->h_le[i]) {
			h->h_bucket[i]++;
			break;
		}
	h->h_count++;
	h->h_sum += v;
}

static void
clean_value(const char *in, char *out, size_t len)
{
	size_t	 i;

	for (i = 0; in != NULL && in[i] != '\0' && i + 1 < len; i++)
		out[i] = (in[i] >= 'a' && in[i] <= 'z') ||
		    (in[i] >= 'A' && in[i] <= 'Z') ||
		    (in[i] >= '0' && in[i] <= '9') || in[i] == '_' ||
		    in[i] == '.' || in[i] == '-' || in[i] == '/' ? in[i] : '_';
	out[i] = '\0';
	if (i == 0)
		snprintf(out, len, "none");
}

void
labelset_add(struct labelset *l, const char *value, uint64_t n)
{
	char	 v[LABEL_VALUE_MAX];
	size_t	 i;

	clean_value(value, v, sizeof(v));
	for (i = 0; i < l->l_n; i++)
		if (strcmp(l->l_value[i], v) == 0) {
			l->l_count[i] += n;
			return;
		}
	/* The last slot is kept for "other". */
	if (l->l_n < LABELSET_MAX - 1 && strcmp(v, "other") != 0) {
		memcpy(l->l_value[l->l_n], v, sizeof(v));
		l->l_count[l->l_n++] = n;
		return;
	}
	for (i = 0; i < l->l_n; i++)
		if (strcmp(l->l_value[i], "other") == 0) {
			l->l_count[i] += n;
			return;
		}
	snprintf(l->l_value[l->l_n], LABEL_VALUE_MAX, "other");
	l->l_count[l->l_n++] = n;
}

uint64_t
labelset_get(const struct labelset *l, const char *value)
{
	size_t	 i;

	for (i = 0; i < l->l_n; i++)
		if (strcmp(l->l_value[i], value) == 0)
			return l->l_count[i];
	return 0;
}

void
metric_escape(const char *in, char *buf, size_t len)
{
	size_t	 o = 0;

	if (len == 0)
		return;
	for (; in != NULL && *in != '\0'; in++) {
		const char	*rep = NULL;

		if (*in == '\\')
			rep = "\\\\";
		else if (*in == '"')
			rep = "\\\"";
		else if (*in == '\n')
			rep = "\\n";
		if (rep != NULL) {
			if (o + 2 >= len)
				break;
			buf[o++] = rep[0];
			buf[o++] = rep[1];
		} else {
			if (o + 1 >= len)
				break;
			buf[o++] = *in;
		}
	}
	buf[o] = '\0';
}

void
metric_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
metric_u64(FILE *f, const char *name, const char *labels, uint64_t v)
{
	if (labels != NULL && *labels != '\0')
		fprintf(f, "%s{%s} %llu\n", name, labels,
		    (unsigned long long)v);
	else
		fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

void
metric_double(FILE *f, const char *name, const char *labels, double v)
{
	if (labels != NULL && *labels != '\0')
		fprintf(f, "%s{%s} %.9g\n", name, labels, v);
	else
		fprintf(f, "%s %.9g\n", name, v);
}

void
metric_histogram(FILE *f, const char *name, const char *labels,
    const struct histogram *h)
{
	const char	*sep = labels != NULL && *labels != '\0' ? "," : "";
	uint64_t	 cum = 0;
	size_t		 i;

	if (labels == NULL)
		labels = "";
	for (i = 0; i < h->h_n; i++) {
		cum += h->h_bucket[i];
		fprintf(f, "%s_bucket{%s%sle=\"%.9g\"} %llu\n", name, labels,
		    sep, h->h_le[i], (unsigned long long)cum);
	}
	fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
	    (unsigned long long)h->h_count);
	fprintf(f, "%s_sum%s%s%s %.9g\n", name, *labels ? "{" : "", labels,
	    *labels ? "}" : "", h->h_sum);
	fprintf(f, "%s_count%s%s%s %llu\n", name, *labels ? "{" : "", labels,
	    *labels ? "}" : "", (unsigned long long)h->h_count);
}

void
metric_labelset(FILE *f, const char *name, const char *help,
    const char *label, const struct labelset *l)
{
	char	 lab[LABEL_VALUE_MAX * 2 + 64], esc[LABEL_VALUE_MAX * 2];
	size_t	 i;

	metric_head(f, name, "counter", help);
	for (i = 0; i < l->l_n; i++) {
		metric_escape(l->l_value[i], esc, sizeof(esc));
		snprintf(lab, sizeof(lab), "%s=\"%s\"", label, esc);
		metric_u64(f, name, lab, l->l_count[i]);
	}
}

void
metric_labelset2(FILE *f, const char *name, const char *help,
    const char *label1, const char *label2, const struct labelset *l)
{
	char		 lab[LABEL_VALUE_MAX * 2 + 64];
	char		 esc[LABEL_VALUE_MAX * 2];
	const char	*v, *slash;
	size_t		 i;

	metric_head(f, name, "counter", help);
	for (i = 0; i < l->l_n; i++) {
		metric_escape(l->l_value[i], esc, sizeof(esc));
		v = esc;
		if ((slash = strchr(v, '/')) == NULL)
			snprintf(lab, sizeof(lab), "%s=\"%s\",%s=\"other\"",
			    label1, v, label2);
		else
			snprintf(lab, sizeof(lab), "%s=\"%.*s\",%s=\"%s\"",
			    label1, (int)(slash - v), v, label2, slash + 1);
		metric_u64(f, name, lab, l->l_count[i]);
	}
}
