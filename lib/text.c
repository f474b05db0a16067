/* Control characters out of stored text (see text.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "text.h"
#include "xmalloc.h"

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t
utf8_len(const unsigned char *s)
{
	size_t	 n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) ||
	    (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) ||
	    (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

size_t
text_sanitize(char *s)
{
	unsigned char	*r, *w;
	size_t		 n, count = 0;

	if (s == NULL)
		return 0;
	r = w = (unsigned char *)s;
	while (*r != '\0') {
		n = utf8_len(r);
		if (n == 0 || (n == 1 && (*r < 0x20 || *r == 0x7f)) ||
		    (n == 2 && r[0] == 0xc2 && r[1] <= 0x9f)) {
			*w++ = TEXT_REPLACEMENT;
			r += n > 0 ? n : 1;
			count++;
			continue;
		}
		memmove(w, r, n);
		w += n;
		r += n;
	}
	*w = '\0';
	return count;
}

size_t
text_sanitize_json(cJSON *item)
{
	cJSON	*c;
	size_t	 count = 0;

	if (item == NULL)
		return 0;
	if ((item->type & cJSON_StringIsConst) == 0)
		count += text_sanitize(item->string);
	if (cJSON_IsString(item))
		count += text_sanitize(item->valuestring);
	for (c = item->child; c != NULL; c = c->next)
		count += text_sanitize_json(c);
	return count;
}

size_t
text_sanitize_json_text(const char *in, char **out)
{
	cJSON	*root;
	char	*copy;
	size_t	 count;

	*out = NULL;
	if (in == NULL)
		return 0;
	if ((root = cJSON_Parse(in)) == NULL) {
		copy = xstrdup(in);
		if ((count = text_sanitize(copy)) == 0)
			free(copy);
		else
			*out = copy;
		return count;
	}
	if ((count = text_sanitize_json(root)) > 0 &&
	    (*out = cJSON_PrintUnformatted(root)) == NULL)
		fatalx("cJSON_PrintUnformatted");
	cJSON_Delete(root);
	return count;
}
