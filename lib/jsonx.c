/* cJSON helpers: typed, case-insensitive member lookups that never crash. */
#include <math.h>
#include <stddef.h>
#include <strings.h>

#include <cJSON.h>

#include "jsonx.h"
#include "xmalloc.h"

/* Doubles hold every integer up to 2^53 exactly; beyond that, refuse. */
#define JSONX_EXACT_LIMIT	9007199254740992.0

const cJSON *
jsonx_get(const cJSON *obj, const char *name)
{
	const cJSON	*item;

	if (obj == NULL || name == NULL || !cJSON_IsObject(obj))
		return NULL;
	/* cJSON_GetObjectItem compares names case-insensitively. */
	item = cJSON_GetObjectItem(obj, name);
	if (item == NULL || cJSON_IsNull(item))
		return NULL;
	return item;
}

const cJSON *
jsonx_object(const cJSON *obj, const char *name)
{
	const cJSON	*item;

	item = jsonx_get(obj, name);
	return cJSON_IsObject(item) ? item : NULL;
}

const cJSON *
jsonx_array(const cJSON *obj, const char *name)
{
	const cJSON	*item;

	item = jsonx_get(obj, name);
	return cJSON_IsArray(item) ? item : NULL;
}

const char *
jsonx_string(const cJSON *obj, const char *name)
{
	const cJSON	*item;

	item = jsonx_get(obj, name);
	if (!cJSON_IsString(item) || item->valuestring == NULL)
		return NULL;
	return item->valuestring;
}

int
jsonx_bool(const cJSON *obj, const char *name, int def)
{
	const cJSON	*item;

	if ((item = jsonx_get(obj, name)) == NULL)
		return def;
	if (cJSON_IsBool(item))
		return cJSON_IsTrue(item) ? 1 : 0;
	if (cJSON_IsString(item) && item->valuestring != NULL) {
		if (strcasecmp(item->valuestring, "true") == 0)
			return 1;
		if (strcasecmp(item->valuestring, "false") == 0)
			return 0;
	}
	return def;
}

int
jsonx_item_integer(const cJSON *item, long long min, long long max,
    long long *out)
{
	const char	*errstr;
	double		 d;
	long long	 v;

	if (item == NULL || min > max)
		return -1;
	if (cJSON_IsNumber(item)) {
		d = item->valuedouble;
		if (!isfinite(d) || d >= JSONX_EXACT_LIMIT ||
		    d <= -JSONX_EXACT_LIMIT)
			return -1;
		v = (long long)d;
		if ((double)v != d)
			return -1;
	} else if (cJSON_IsString(item) && item->valuestring != NULL) {
		v = strtonum(item->valuestring, min, max, &errstr);
		if (errstr != NULL)
			return -1;
	} else
		return -1;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
jsonx_integer(const cJSON *obj, const char *name, long long min,
    long long max, long long *out)
{
	return jsonx_item_integer(jsonx_get(obj, name), min, max, out);
}

size_t
jsonx_count(const cJSON *array, size_t max)
{
	const cJSON	*item;
	size_t		 n = 0;

	if (array == NULL || !cJSON_IsArray(array))
		return 0;
	for (item = array->child; item != NULL && n <= max; item = item->next)
		n++;
	return n;
}

int
jsonx_match(const char *s, const char *const names[], size_t n)
{
	size_t	 i;

	if (s == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcasecmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}
