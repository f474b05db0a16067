/*
 * Named alarms and sliding-window counts, with no clock and no event
 * loop: the caller evaluates each condition and passes the time.  An
 * alarm is raised or clear; alarmtab_set says when that changes (an edge),
 * so the daemon logs one line when it starts and one when it ends.
 */
#ifndef POLREC_ALARM_H
#define POLREC_ALARM_H

#include <stddef.h>
#include <stdint.h>

#define ALARM_MAX		16
#define ALARM_REASON_MAX	200

enum alarm_edge {
	ALARM_STEADY = 0,	/* as it was */
	ALARM_RAISED,		/* clear before, raised now */
	ALARM_CLEARED,		/* raised before, clear now */
};

struct alarm {
	const char	*a_name;	/* static: "missed_answers", ... */
	int		 a_blocking;	/* keeps the recorder from answering */
	int		 a_raised;
	int64_t		 a_since;	/* caller's clock: the last edge */
	char		 a_reason[ALARM_REASON_MAX];	/* while raised */
	char		 a_last[ALARM_REASON_MAX];	/* the last reason */
};

struct alarmtab {
	struct alarm	 al[ALARM_MAX];
	size_t		 n;
};

void	 alarmtab_init(struct alarmtab *);
/* A new alarm, clear; its index, or -1 when the table is full. */
int	 alarmtab_add(struct alarmtab *, const char *name, int blocking);
/*
 * Raise (on != 0, with a reason) or clear alarm i at now.  While raised
 * the reason may change without an edge; the edge is returned.
 */
enum alarm_edge alarmtab_set(struct alarmtab *, size_t i, int on,
	    const char *reason, int64_t now);
const struct alarm *alarmtab_get(const struct alarmtab *, size_t i);
int	 alarmtab_find(const struct alarmtab *, const char *name);
size_t	 alarmtab_raised(const struct alarmtab *, int blocking_only);

/*
 * A count over the last span (e.g. answers missed in five minutes), in
 * WINDOW_SLOTS slots of span / WINDOW_SLOTS each; times in µs of a
 * monotonic clock.  The sum is exact to one slot's width.
 */
#define WINDOW_SLOTS	60

struct window {
	uint64_t	 w_width_us;
	uint64_t	 w_count[WINDOW_SLOTS];
	uint64_t	 w_tick[WINDOW_SLOTS];	/* the tick a slot counts */
};

void	 window_init(struct window *, uint64_t span_us);
void	 window_add(struct window *, uint64_t now_us, uint64_t n);
uint64_t window_sum(const struct window *, uint64_t now_us);

#endif
