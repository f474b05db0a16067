/* libFuzzer harness: polrecd.conf text into conf_parse(). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*c = NULL;
	char		*errs = NULL;

	if (size > CONF_MAX_FILE)
		return 0;
	if (conf_parse("fuzz.conf", (const char *)data, size, &c, &errs) == 0)
		conf_free(c);
	free(errs);
	return 0;
}
