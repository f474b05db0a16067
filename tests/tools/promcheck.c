/*
 * A strict checker of the Prometheus text exposition format 0.0.4, for
 * the tests (promtool is in Debian's 100 MB prometheus package): reads
 * the exposition on stdin and exits 0 when it is well-formed, else 1
 * with "line N: why" on stderr.  Stricter than the format needs, as our
 * own output should be: every family has HELP and TYPE before its
 * samples; families are contiguous; counters end in _total and are not
 * negative; a name and label set appears once; histograms have
 * increasing le, cumulative counts, +Inf equal to _count, and _sum; the
 * text ends with a newline.  With -l it lists "family type samples".
 * Test tool only; never installed.
 *
 *	promcheck [-l] < exposition
 */
#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TEXT	(8 * 1024 * 1024)
#define MAX_FAMILIES	1024
#define MAX_SAMPLES	65536
#define MAX_LINE	4096

struct family {
	char	 name[256];
	char	 type[16];
	int	 help, samples, closed;
};

struct sample {
	char	 key[MAX_LINE];		/* name{sorted labels without le} */
	char	 name[256];
	double	 le, value;
	int	 has_le, family;
};

static struct family	 fam[MAX_FAMILIES];
static int		 nfam, current = -1, lineno;
static struct sample	*smp;
static int		 nsmp;

static void __attribute__((__noreturn__, __format__(printf, 1, 2)))
bad(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "line %d: ", lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int
valid_name(const char *s, int colon)
{
	if (!(isalpha((unsigned char)*s) || *s == '_' || (colon && *s == ':')))
		return 0;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' ||
		    (colon && *s == ':')))
			return 0;
	return 1;
}

static int
find_family(const char *name)
{
	int	 i;

	for (i = 0; i < nfam; i++)
		if (strcmp(fam[i].name, name) == 0)
			return i;
	return -1;
}

static double
parse_value(const char *s)
{
	char	*end;
	double	 v;

	if (strcmp(s, "+Inf") == 0)
		return INFINITY;
	if (strcmp(s, "-Inf") == 0)
		return -INFINITY;
	if (strcmp(s, "NaN") == 0)
		return NAN;
	if (*s == '\0' || isspace((unsigned char)*s))
		bad("missing value");
	v = strtod(s, &end);
	if (*end != '\0' || strpbrk(s, "xXpP") != NULL ||
	    strncasecmp(s + (*s == '-' || *s == '+'), "inf", 3) == 0 ||
	    strncasecmp(s + (*s == '-' || *s == '+'), "nan", 3) == 0)
		bad("bad value \"%s\"", s);
	return v;
}

static void
comment(char *l)
{
	char	*kw, *name, *rest, *p;
	int	 f;

	if (strncmp(l, "# HELP ", 7) != 0 && strncmp(l, "# TYPE ", 7) != 0)
		return;		/* an ordinary comment */
	kw = l + 2;
	kw[4] = '\0';
	name = l + 7;
	if ((rest = strchr(name, ' ')) == NULL)
		bad("%s without text", kw);
	*rest++ = '\0';
	if (!valid_name(name, 1))
		bad("bad metric name \"%s\"", name);
	if ((f = find_family(name)) == -1) {
		if (nfam == MAX_FAMILIES)
			bad("too many families");
		f = nfam++;
		snprintf(fam[f].name, sizeof(fam[f].name), "%s", name);
	}
	if (fam[f].closed || (current != f && fam[f].samples > 0))
		bad("%s %s after its samples", kw, name);
	if (current != -1 && current != f)
		fam[current].closed = 1;
	current = f;
	if (strcmp(kw, "HELP") == 0) {
		if (fam[f].help++)
			bad("second HELP for %s", name);
		for (p = rest; *p; p++)
			if (*p == '\\' && p[1] != '\\' && p[1] != 'n')
				bad("bad escape in HELP of %s", name);
			else if (*p == '\\')
				p++;
		return;
	}
	if (fam[f].type[0] != '\0')
		bad("second TYPE for %s", name);
	if (strcmp(rest, "counter") != 0 && strcmp(rest, "gauge") != 0 &&
	    strcmp(rest, "histogram") != 0 && strcmp(rest, "summary") != 0 &&
	    strcmp(rest, "untyped") != 0)
		bad("bad type \"%s\"", rest);
	if (strcmp(rest, "counter") == 0 && (strlen(name) < 6 ||
	    strcmp(name + strlen(name) - 6, "_total") != 0))
		bad("counter %s does not end in _total", name);
	snprintf(fam[f].type, sizeof(fam[f].type), "%s", rest);
}

/* The family a sample name belongs to (histogram suffixes). */
static int
family_of(const char *name)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	char	 base[256];
	size_t	 i, n = strlen(name), k;
	int	 f;

	for (i = 0; i < 3; i++) {
		k = strlen(sfx[i]);
		if (n > k && strcmp(name + n - k, sfx[i]) == 0) {
			snprintf(base, sizeof(base), "%.*s", (int)(n - k),
			    name);
			if ((f = find_family(base)) != -1 &&
			    (strcmp(fam[f].type, "histogram") == 0 ||
			    (i > 0 && strcmp(fam[f].type, "summary") == 0)))
				return f;
		}
	}
	return find_family(name);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
sample(char *l)
{
	struct sample	*s;
	char		*p = l, *labels[64], *val, *lname, *lval;
	char		 buf[MAX_LINE];
	int		 nl = 0, i, f;

	if (nsmp == MAX_SAMPLES)
		bad("too many samples");
	s = &smp[nsmp];
	memset(s, 0, sizeof(*s));
	while (*p && *p != '{' && *p != ' ')
		p++;
	snprintf(s->name, sizeof(s->name), "%.*s", (int)(p - l), l);
	if (!valid_name(s->name, 1))
		bad("bad metric name \"%s\"", s->name);
	if (*p == '{') {
		p++;
		while (*p != '}') {
			lname = p;
			while (*p && *p != '=')
				p++;
			if (*p != '=')
				bad("label without =");
			*p++ = '\0';
			if (!valid_name(lname, 0) ||
			    strncmp(lname, "__", 2) == 0)
				bad("bad label name \"%s\"", lname);
			if (*p++ != '"')
				bad("label %s: value not quoted", lname);
			lval = p;
			for (; *p != '"'; p++) {
				if (*p == '\0')
					bad("unterminated label value");
				if (*p == '\\') {
					if (p[1] != '\\' && p[1] != '"' &&
					    p[1] != 'n')
						bad("bad escape in label %s",
						    lname);
					p++;
				}
			}
			*p++ = '\0';
			if (strcmp(lname, "le") == 0) {
				s->has_le = 1;
				s->le = parse_value(lval);
			} else {
				if (nl == 64)
					bad("too many labels");
				labels[nl] = malloc(strlen(lname) +
				    strlen(lval) + 4);
				sprintf(labels[nl++], "%s=\"%s\"", lname, lval);
			}
			for (i = 0; i < nl - 1; i++)
				if (strncmp(labels[i], lname, strlen(lname))
				    == 0 && labels[i][strlen(lname)] == '=')
					bad("label %s twice", lname);
			if (*p == ',')
				p++;
			else if (*p != '}')
				bad("expected , or } after a label");
		}
		p++;
	}
	if (*p++ != ' ')
		bad("expected a space before the value");
	val = p;
	if ((p = strchr(val, ' ')) != NULL) {
		*p++ = '\0';
		if (*p == '\0' || strspn(p, "-0123456789") != strlen(p))
			bad("bad timestamp");
	}
	s->value = parse_value(val);
	qsort(labels, nl, sizeof(labels[0]), cmp_str);
	snprintf(buf, sizeof(buf), "%s{", s->name);
	for (i = 0; i < nl; i++) {
		strncat(buf, labels[i], sizeof(buf) - strlen(buf) - 2);
		strcat(buf, ",");
		free(labels[i]);
	}
	snprintf(s->key, sizeof(s->key), "%s}", buf);
	if ((f = family_of(s->name)) == -1 || fam[f].type[0] == '\0')
		bad("%s: sample before its TYPE", s->name);
	if (!fam[f].help)
		bad("%s: sample before its HELP", s->name);
	if (fam[f].closed || (current != f && current != -1 &&
	    fam[f].samples > 0))
		bad("%s: family %s not contiguous", s->name, fam[f].name);
	if (current != -1 && current != f)
		fam[current].closed = 1;
	current = f;
	s->family = f;
	fam[f].samples++;
	if (strcmp(fam[f].type, "counter") == 0 && !(s->value >= 0))
		bad("%s: counter negative or NaN", s->name);
	if (strcmp(fam[f].type, "histogram") == 0 &&
	    (strcmp(s->name + strlen(fam[f].name), "_bucket") == 0) !=
	    s->has_le)
		bad("%s: le only and always on _bucket", s->name);
	for (i = 0; i < nsmp; i++)
		if (strcmp(smp[i].key, s->key) == 0 && smp[i].has_le ==
		    s->has_le && (!s->has_le || smp[i].le == s->le))
			bad("%s: name and labels seen before", s->key);
	nsmp++;
}

/* Each histogram label set: le increasing, cumulative, +Inf == _count. */
static void
check_histograms(void)
{
	char	 want[MAX_LINE];
	int	 i, j, f, seen_inf;
	double	 last_le, last_v, count, inf;

	lineno = 0;
	for (i = 0; i < nsmp; i++) {
		f = smp[i].family;
		if (strcmp(fam[f].type, "histogram") != 0 || !smp[i].has_le)
			continue;
		/* Only the first bucket of each label set starts a check. */
		for (j = 0; j < i; j++)
			if (smp[j].has_le &&
			    strcmp(smp[j].key, smp[i].key) == 0)
				break;
		if (j < i)
			continue;
		last_le = -INFINITY;
		last_v = 0;
		seen_inf = 0;
		inf = 0;
		for (j = i; j < nsmp; j++) {
			if (!smp[j].has_le || strcmp(smp[j].key, smp[i].key))
				continue;
			if (!(smp[j].le > last_le))
				bad("%s: le not increasing", smp[j].key);
			if (smp[j].value < last_v)
				bad("%s: buckets not cumulative", smp[j].key);
			last_le = smp[j].le;
			last_v = smp[j].value;
			if (isinf(smp[j].le)) {
				seen_inf = 1;
				inf = smp[j].value;
			}
		}
		if (!seen_inf)
			bad("%s: no le=\"+Inf\" bucket", smp[i].key);
		/* _count and _sum with the same labels. */
		snprintf(want, sizeof(want), "%s_count%s", fam[f].name,
		    smp[i].key + strlen(smp[i].name));
		for (j = 0, count = -1; j < nsmp; j++)
			if (strcmp(smp[j].key, want) == 0)
				count = smp[j].value;
		if (count != inf)
			bad("%s: +Inf bucket %g, _count %g", smp[i].key, inf,
			    count);
		snprintf(want, sizeof(want), "%s_sum%s", fam[f].name,
		    smp[i].key + strlen(smp[i].name));
		for (j = 0; j < nsmp; j++)
			if (strcmp(smp[j].key, want) == 0)
				break;
		if (j == nsmp)
			bad("%s: no _sum", smp[i].key);
	}
}

int
main(int argc, char *argv[])
{
	static char	 text[MAX_TEXT + 1];
	size_t		 len = 0, n;
	char		*l, *nl;
	int		 ch, list = 0, i;

	while ((ch = getopt(argc, argv, "l")) != -1) {
		if (ch != 'l') {
			fprintf(stderr, "usage: promcheck [-l] < text\n");
			return 2;
		}
		list = 1;
	}
	if ((smp = calloc(MAX_SAMPLES, sizeof(*smp))) == NULL)
		return 2;
	while ((n = fread(text + len, 1, MAX_TEXT - len, stdin)) > 0)
		len += n;
	if (len == MAX_TEXT)
		bad("more than %d bytes", MAX_TEXT);
	text[len] = '\0';
	if (len == 0 || text[len - 1] != '\n')
		bad("the text does not end with a newline");
	if (strlen(text) != len)
		bad("a NUL byte");
	for (l = text; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		*nl = '\0';
		lineno++;
		if (nl - l >= MAX_LINE)
			bad("line too long");
		if (strchr(l, '\r') != NULL)
			bad("carriage return");
		if (*l == '\0')
			bad("empty line");
		if (*l == '#')
			comment(l);
		else
			sample(l);
	}
	for (i = 0; i < nfam; i++)
		if (fam[i].type[0] == '\0' || !fam[i].help)
			bad("family %s lacks HELP or TYPE", fam[i].name);
	check_histograms();
	for (i = 0; list && i < nfam; i++)
		printf("%s %s %d\n", fam[i].name, fam[i].type, fam[i].samples);
	return 0;
}
