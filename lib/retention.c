/* The retention floor of the audit trail (see retention.h). */
#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "retention.h"
#include "trail.h"

void
retention_format_duration(long long secs, char *buf, size_t len)
{
	static const struct {
		long long	 unit;
		char		 suffix;
	} units[] = {
		{ CONF_YEAR, 'y' }, { 7 * 86400, 'w' }, { 86400, 'd' },
		{ 3600, 'h' }, { 60, 'm' },
	};
	size_t	 i;

	for (i = 0; secs > 0 && i < sizeof(units) / sizeof(units[0]); i++)
		if (secs % units[i].unit == 0) {
			snprintf(buf, len, "%lld%c", secs / units[i].unit,
			    units[i].suffix);
			return;
		}
	snprintf(buf, len, "%llds", secs);
}

int
retention_check(int64_t now_us, int64_t cutoff_us, long long floor_s,
    char *err, size_t errlen)
{
	char	 cutoff[40], latest[40], floor[32];
	int64_t	 latest_us;

	trail_format_time(cutoff_us, cutoff, sizeof(cutoff));
	if (cutoff_us > now_us) {
		snprintf(err, errlen, "cutoff %s is in the future", cutoff);
		return -1;
	}
	if (floor_s < 0 || floor_s > (now_us - INT64_MIN / 2) / 1000000)
		latest_us = INT64_MIN / 2;
	else
		latest_us = now_us - (int64_t)floor_s * 1000000;
	if (cutoff_us > latest_us) {
		retention_format_duration(floor_s, floor, sizeof(floor));
		trail_format_time(latest_us, latest, sizeof(latest));
		snprintf(err, errlen, "cutoff %s is within the retention floor "
		    "([audit] retention_min = %s): the latest cutoff allowed "
		    "now is %s", cutoff, floor, latest);
		return -1;
	}
	return 0;
}
