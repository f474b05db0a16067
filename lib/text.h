/*
 * Text from the network made safe to store and show: no control
 * characters in what auditors read with sqlite3 or a terminal.
 */
#ifndef POLREC_TEXT_H
#define POLREC_TEXT_H

#include <stddef.h>

struct cJSON;

#define TEXT_REPLACEMENT	'?'

/*
 * In place: each C0 control (U+0001..U+001F), DEL (U+007F) and C1
 * control (U+0080..U+009F, two bytes in UTF-8) becomes one '?', as does
 * each byte that is not part of a well-formed UTF-8 sequence (a stray
 * 0x9b is CSI to some terminals).  Everything else is kept.  The string
 * never grows.  Returns how many were replaced; NULL gives 0.
 */
size_t	 text_sanitize(char *s);

/* Every string value and member name of a cJSON tree, likewise. */
size_t	 text_sanitize_json(struct cJSON *);

/*
 * A JSON text (detail, recorder lists) with its strings sanitised,
 * escaped ones (\u001b) included, since json_extract() would give them
 * back raw.  Returns the count replaced: 0 leaves *out NULL (keep the
 * input), else *out is a new unformatted JSON text the caller frees.
 * Text that is not JSON is sanitised as plain text.
 */
size_t	 text_sanitize_json_text(const char *in, char **out);

#endif
