/* cJSON helpers: typed, case-insensitive member lookups that never crash. */
#ifndef POLREC_JSONX_H
#define POLREC_JSONX_H

#include <stddef.h>

struct cJSON;

/*
 * Member lookups.  Names match case-insensitively (the first member wins);
 * a NULL or non-object container, an absent member, a JSON null or a
 * member of the wrong type all give NULL, so lookups chain safely:
 * jsonx_string(jsonx_object(o, "a"), "b").
 */
const struct cJSON *jsonx_get(const struct cJSON *, const char *);
const struct cJSON *jsonx_object(const struct cJSON *, const char *);
const struct cJSON *jsonx_array(const struct cJSON *, const char *);
const char	*jsonx_string(const struct cJSON *, const char *);

/* A member sent as true/false or as the string "true"/"false"; else def. */
int		 jsonx_bool(const struct cJSON *, const char *, int def);

/*
 * An integer sent as a JSON number or as a numeric string, within
 * [min, max].  Returns 0 and the value, or -1 if absent, not integral,
 * not numeric or out of range.
 */
int		 jsonx_integer(const struct cJSON *, const char *,
		    long long min, long long max, long long *);
int		 jsonx_item_integer(const struct cJSON *, long long min,
		    long long max, long long *);

/*
 * Elements of an array, counting no further than max + 1 so a caller can
 * bound its allocations; 0 for NULL or a non-array.
 */
size_t		 jsonx_count(const struct cJSON *, size_t max);

/* Index of s in names[] ignoring case, or -1. */
int		 jsonx_match(const char *s, const char *const names[],
		    size_t n);

#endif
