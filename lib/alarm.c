/* Named alarms with edge detection, and sliding-window counts. */
#include <stdio.h>
#include <string.h>

#include "alarm.h"

void
alarmtab_init(struct alarmtab *t)
{
	memset(t, 0, sizeof(*t));
}

int
alarmtab_add(struct alarmtab *t, const char *name, int blocking)
{
	struct alarm	*a;

	if (t->n == ALARM_MAX || name == NULL)
		return -1;
	a = &t->al[t->n];
	memset(a, 0, sizeof(*a));
	a->a_name = name;
	a->a_blocking = blocking;
	return (int)t->n++;
}

enum alarm_edge
alarmtab_set(struct alarmtab *t, size_t i, int on, const char *reason,
    int64_t now)
{
	struct alarm	*a;
	enum alarm_edge	 e = ALARM_STEADY;

	if (i >= t->n)
		return ALARM_STEADY;
	a = &t->al[i];
	if (on) {
		if (!a->a_raised) {
			a->a_raised = 1;
			a->a_since = now;
			e = ALARM_RAISED;
		}
		snprintf(a->a_reason, sizeof(a->a_reason), "%s",
		    reason != NULL && *reason != '\0' ? reason : a->a_name);
		memcpy(a->a_last, a->a_reason, sizeof(a->a_last));
	} else if (a->a_raised) {
		a->a_raised = 0;
		a->a_since = now;
		a->a_reason[0] = '\0';
		e = ALARM_CLEARED;
	}
	return e;
}

const struct alarm *
alarmtab_get(const struct alarmtab *t, size_t i)
{
	return i < t->n ? &t->al[i] : NULL;
}

int
alarmtab_find(const struct alarmtab *t, const char *name)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->al[i].a_name, name) == 0)
			return (int)i;
	return -1;
}

size_t
alarmtab_raised(const struct alarmtab *t, int blocking_only)
{
	size_t	 i, n = 0;

	for (i = 0; i < t->n; i++)
		if (t->al[i].a_raised && (!blocking_only ||
		    t->al[i].a_blocking))
			n++;
	return n;
}

void
window_init(struct window *w, uint64_t span_us)
{
	memset(w, 0, sizeof(*w));
	w->w_width_us = span_us / WINDOW_SLOTS;
	if (w->w_width_us == 0)
		w->w_width_us = 1;
}

void
window_add(struct window *w, uint64_t now_us, uint64_t n)
{
	uint64_t	 tick = now_us / w->w_width_us;
	size_t		 i = tick % WINDOW_SLOTS;

	if (w->w_tick[i] != tick) {
		w->w_tick[i] = tick;
		w->w_count[i] = 0;
	}
	w->w_count[i] += n;
}

uint64_t
window_sum(const struct window *w, uint64_t now_us)
{
	uint64_t	 tick = now_us / w->w_width_us, sum = 0;
	size_t		 i;

	for (i = 0; i < WINDOW_SLOTS; i++)
		if (w->w_tick[i] <= tick && tick - w->w_tick[i] <
		    WINDOW_SLOTS)
			sum += w->w_count[i];
	return sum;
}
