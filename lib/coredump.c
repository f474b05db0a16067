/* No core dumps: non-dumpable, and a core size limit of 0. */
#include <sys/prctl.h>
#include <sys/resource.h>

#include "coredump.h"

int
coredump_disable(void)
{
	struct rlimit	 rl = { 0, 0 }, now;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return -1;
	/* Already none (LimitCORE=0): setrlimit may be filtered out. */
	if (getrlimit(RLIMIT_CORE, &now) == 0 && now.rlim_cur == 0 &&
	    now.rlim_max == 0)
		return 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		return -1;
	return 0;
}

int
coredump_disabled(void)
{
	struct rlimit	 rl;

	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 0;
	if (getrlimit(RLIMIT_CORE, &rl) == -1 || rl.rlim_cur != 0 ||
	    rl.rlim_max != 0)
		return 0;
	return 1;
}
