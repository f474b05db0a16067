/* libFuzzer harness: a byte stream of control frames, decoded as polrecd does. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ctl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_hdr	 h;
	const char	*errstr;
	char		**argv;
	int		 argc;

	while (size >= CTL_HDR_LEN) {
		if (ctl_hdr_decode(data, &h, &errstr) == -1)
			return 0;
		if (size - CTL_HDR_LEN < h.len)
			return 0;
		argc = ctl_request_parse((const char *)data + CTL_HDR_LEN,
		    h.len, &argv, &errstr);
		if (argc > 0)
			ctl_argv_free(argv, argc);
		data += CTL_HDR_LEN + h.len;
		size -= CTL_HDR_LEN + h.len;
	}
	return 0;
}
