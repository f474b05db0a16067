/*
 * polrecd under systemd (Type=notify): READY=1 once it can answer, or
 * after [admin] ready_wait at the latest with STATUS= saying what is
 * missing; STATUS= as it changes; RELOADING=1 and READY=1 around a
 * reload; STOPPING=1; WATCHDOG=1 from the event loop, so that a loop
 * that no longer turns is restarted.  Nothing without $NOTIFY_SOCKET.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "conf.h"
#include "legs.h"
#include "log.h"
#include "polrecd.h"
#include "sdnotify.h"
#include "xmalloc.h"

#define SYSTEMD_START_POLL_MS	100	/* while not ready: READY=1 soon */
#define SYSTEMD_STATUS_MS	1000	/* then: STATUS= as it changes */
#define SYSTEMD_STATUS_MAX	512

struct systemd {
	struct polrecd	*sd_sc;
	struct event	*sd_ev_status;
	struct event	*sd_ev_watchdog;
	uint64_t	 sd_start_us;
	uint64_t	 sd_watchdog_us;	/* WATCHDOG_USEC; 0: none */
	int		 sd_ready;		/* READY=1 sent */
	int		 sd_stopping;
	char		 sd_status[SYSTEMD_STATUS_MAX];	/* last sent */
	char		 sd_reload_failed[160];	/* until a reload works */
};

static void
send_msg(const char *msg)
{
	if (sdnotify_send(msg) == -1)
		log_warn("systemd: cannot notify %s", getenv("NOTIFY_SOCKET"));
}

/* The lines of text joined by "; " into buf after prefix. */
static void
join_lines(char *buf, size_t len, const char *prefix, const char *text)
{
	const char	*s, *nl;
	size_t		 off;

	snprintf(buf, len, "%s", prefix);
	for (s = text; s != NULL && *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s);
		off = strlen(buf);
		if (off + 1 < len)
			snprintf(buf + off, len - off, "%s%.*s",
			    s == text ? "" : "; ", (int)(nl - s), s);
		if (*nl == '\0')
			break;
	}
}

/*
 * What systemctl status shows: "answering; N live call(s)" and the
 * alarms raised, or what keeps the recorder from answering.  The number
 * of reasons; 0: it answers.
 */
static int
status_text(struct systemd *sd, char *buf, size_t len)
{
	struct polrecd	*sc = sd->sd_sc;
	char		*text = NULL, *s, *nl;
	size_t		 tlen = 0, off;
	FILE		*f;
	int		 n;

	if ((f = open_memstream(&text, &tlen)) == NULL) {
		snprintf(buf, len, "status unknown");
		return 0;
	}
	n = alarms_readiness(sc, f);
	fclose(f);
	if (n > 0)
		join_lines(buf, len, sd->sd_ready ? "not answering: " :
		    "starting: ", text);
	else
		snprintf(buf, len, "answering; %zu live call%s", legs_live(sc),
		    legs_live(sc) == 1 ? "" : "s");
	free(text);
	text = NULL;
	/* The alarms raised, by name. */
	if ((f = open_memstream(&text, &tlen)) == NULL)
		return n;
	alarms_report(sc, f);
	fclose(f);
	for (s = text; s != NULL && strncmp(s, "alarm ", 6) == 0; s = nl + 1) {
		off = strlen(buf);
		if (off + 1 < len)
			snprintf(buf + off, len - off, "%s%.*s",
			    s == text ? "; alarms: " : ", ",
			    (int)strcspn(s + 6, ":"), s + 6);
		if ((nl = strchr(s, '\n')) == NULL)
			break;
	}
	free(text);
	if (sd->sd_reload_failed[0] != '\0') {
		off = strlen(buf);
		if (off + 1 < len)
			snprintf(buf + off, len - off, "; reload failed (%s), "
			    "the running configuration kept",
			    sd->sd_reload_failed);
	}
	return n;
}

static void
arm_status(struct systemd *sd, unsigned int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	event_del(sd->sd_ev_status);
	if (event_add(sd->sd_ev_status, &tv) == -1)
		log_warnx("systemd: cannot arm the status timer");
}

static void
on_status(evutil_socket_t fd, short what, void *arg)
{
	struct systemd	*sd = arg;
	char		 status[SYSTEMD_STATUS_MAX], msg[SYSTEMD_STATUS_MAX + 32];
	uint64_t	 waited;
	int		 n;

	(void)fd;
	(void)what;
	if (sd->sd_stopping)
		return;
	n = status_text(sd, status, sizeof(status));
	if (!sd->sd_ready) {
		waited = polrecd_now_us() - sd->sd_start_us;
		if (n > 0 && waited <
		    (uint64_t)sd->sd_sc->sc_conf->admin_ready_wait * 1000000) {
			if (strcmp(status, sd->sd_status) != 0) {
				snprintf(msg, sizeof(msg), "STATUS=%s", status);
				send_msg(msg);
				snprintf(sd->sd_status, sizeof(sd->sd_status), "%s", status);
			}
			return;
		}
		/* Ready, or waited long enough: never block the start. */
		sd->sd_ready = 1;
		if (n > 0) {
			(void)status_text(sd, status, sizeof(status));
			log_warnx("systemd: ready after %llu s without "
			    "answering (ready_wait): %s",
			    (unsigned long long)(waited / 1000000), status);
		} else
			log_info("systemd: ready: %s", status);
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
		send_msg(msg);
		snprintf(sd->sd_status, sizeof(sd->sd_status), "%s", status);
		arm_status(sd, SYSTEMD_STATUS_MS);
		return;
	}
	if (strcmp(status, sd->sd_status) != 0) {
		if (n > 0 && strncmp(sd->sd_status, "not answering", 13) != 0)
			log_warnx("systemd: %s", status);
		else if (n == 0 && strncmp(sd->sd_status, "not answering",
		    13) == 0)
			log_info("systemd: %s", status);
		snprintf(msg, sizeof(msg), "STATUS=%s", status);
		send_msg(msg);
		snprintf(sd->sd_status, sizeof(sd->sd_status), "%s", status);
	}
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	send_msg("WATCHDOG=1");
}

struct systemd *
systemd_new(struct polrecd *sc)
{
	struct systemd	*sd;
	struct timeval	 tv;
	uint64_t	 half;

	if (!sdnotify_enabled())
		return NULL;
	sd = xcalloc(1, sizeof(*sd));
	sd->sd_sc = sc;
	sd->sd_start_us = polrecd_now_us();
	if ((sd->sd_ev_status = event_new(sc->sc_base, -1, EV_PERSIST,
	    on_status, sd)) == NULL)
		goto fail;
	arm_status(sd, SYSTEMD_START_POLL_MS);
	if ((sd->sd_watchdog_us = sdnotify_watchdog_usec()) > 0) {
		half = sd->sd_watchdog_us / 2;
		tv.tv_sec = (time_t)(half / 1000000);
		tv.tv_usec = (suseconds_t)(half % 1000000);
		if ((sd->sd_ev_watchdog = event_new(sc->sc_base, -1,
		    EV_PERSIST, on_watchdog, sd)) == NULL ||
		    event_add(sd->sd_ev_watchdog, &tv) == -1)
			goto fail;
		send_msg("WATCHDOG=1");
	}
	log_info("systemd: notifying %s%s", getenv("NOTIFY_SOCKET"),
	    sd->sd_watchdog_us > 0 ? "; watchdog pings from the event loop" :
	    "");
	if (sd->sd_watchdog_us > 0)
		log_info("systemd: watchdog every %llu ms",
		    (unsigned long long)(sd->sd_watchdog_us / 2000));
	return sd;
 fail:
	systemd_free(sd);
	return NULL;
}

void
systemd_free(struct systemd *sd)
{
	if (sd == NULL)
		return;
	if (sd->sd_ev_status != NULL)
		event_free(sd->sd_ev_status);
	if (sd->sd_ev_watchdog != NULL)
		event_free(sd->sd_ev_watchdog);
	free(sd);
}

/* Before a reload: systemd waits for READY=1 again. */
void
systemd_reloading(struct systemd *sd)
{
	char	 msg[128];

	if (sd == NULL || !sd->sd_ready || sd->sd_stopping)
		return;
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\n"
	    "STATUS=reloading the configuration",
	    (unsigned long long)polrecd_now_us());
	send_msg(msg);
	sd->sd_status[0] = '\0';
}

/* After it, done or failed (the running configuration kept). */
void
systemd_reloaded(struct systemd *sd, const char *failed)
{
	char	 status[SYSTEMD_STATUS_MAX], msg[SYSTEMD_STATUS_MAX + 32];

	if (sd == NULL)
		return;
	/* Said in STATUS= until a reload works. */
	snprintf(sd->sd_reload_failed, sizeof(sd->sd_reload_failed), "%s",
	    failed != NULL ? failed : "");
	if (!sd->sd_ready || sd->sd_stopping)
		return;
	(void)status_text(sd, status, sizeof(status));
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	send_msg(msg);
	snprintf(sd->sd_status, sizeof(sd->sd_status), "%s", status);
}

void
systemd_stopping(struct systemd *sd)
{
	char	 msg[128];

	if (sd == NULL || sd->sd_stopping)
		return;
	sd->sd_stopping = 1;
	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=stopping; %zu live "
	    "call%s", legs_live(sd->sd_sc), legs_live(sd->sd_sc) == 1 ? "" :
	    "s");
	send_msg(msg);
}
