/*
 * OpenBSD-style logging: stderr in the foreground, syslog otherwise, and
 * the journal's native protocol when stderr is the journal (under
 * systemd), so that a line about a call carries its id as a field.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"

#define JOURNAL_SOCKET	"/run/systemd/journal/socket"

enum log_dest {
	DEST_STDERR,
	DEST_SYSLOG,
	DEST_JOURNAL
};

static enum log_dest log_dest = DEST_STDERR;
static int	 log_verbose;
static const char *log_ident = "polrec";
static int	 log_journal_fd = -1;
static struct sockaddr_un log_journal_addr;

static void	logit(int, int, const char *, va_list)
		    __attribute__((__format__ (printf, 3, 0)));

/* Whether stderr is the stream systemd connected to the journal. */
int
log_stderr_is_journal(void)
{
	struct stat		 st;
	unsigned long long	 dev, ino;
	const char		*e = getenv("JOURNAL_STREAM");
	int			 n;

	if (e == NULL || sscanf(e, "%llu:%llu%n", &dev, &ino, &n) != 2 ||
	    e[n] != '\0' || fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/*
 * The journal's socket; POLREC_JOURNAL_SOCKET names another (tests).
 * -1 if there is none to write to.
 */
static int
journal_open(void)
{
	const char	*path = getenv("POLREC_JOURNAL_SOCKET");

	if (path == NULL || path[0] == '\0')
		path = JOURNAL_SOCKET;
	if (strlen(path) >= sizeof(log_journal_addr.sun_path))
		return -1;
	memset(&log_journal_addr, 0, sizeof(log_journal_addr));
	log_journal_addr.sun_family = AF_UNIX;
	memcpy(log_journal_addr.sun_path, path, strlen(path) + 1);
	log_journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return log_journal_fd == -1 ? -1 : 0;
}

void
log_init(int foreground, int verbose, const char *ident)
{
	log_verbose = verbose;
	if (ident != NULL)
		log_ident = ident;
	if (log_journal_fd != -1) {
		close(log_journal_fd);
		log_journal_fd = -1;
	}
	if (log_stderr_is_journal() && journal_open() == 0)
		log_dest = DEST_JOURNAL;
	else if (foreground)
		log_dest = DEST_STDERR;
	else {
		log_dest = DEST_SYSLOG;
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
	tzset();
}

/*
 * The call a log line is about: lines about a call start "call ID" and
 * a colon or a space.  The id is copied to out (printable, no spaces);
 * 0 if the line is about no call.
 */
static int
call_of(const char *msg, char *out, size_t outlen)
{
	size_t	 i;

	if (strncmp(msg, "call ", 5) != 0)
		return 0;
	msg += 5;
	for (i = 0; msg[i] != '\0' && msg[i] != ':' && msg[i] != ' '; i++) {
		if (i + 1 >= outlen || msg[i] <= 0x20 || msg[i] >= 0x7f ||
		    msg[i] == '?')
			return 0;
		out[i] = msg[i];
	}
	out[i] = '\0';
	return i > 0 && msg[i] != '\0';
}

/* Append to buf at *off what fits; -1 if it does not. */
static int
put(char *buf, size_t len, size_t *off, const void *p, size_t n)
{
	if (n > len - *off)
		return -1;
	memcpy(buf + *off, p, n);
	*off += n;
	return 0;
}

size_t
log_journal_format(char *buf, size_t len, int pri, const char *ident,
    const char *msg)
{
	char		 head[256], call[128];
	unsigned char	 size[8];
	uint64_t	 n = strlen(msg);
	size_t		 off = 0, i;
	int		 h;

	h = snprintf(head, sizeof(head), "PRIORITY=%d\nSYSLOG_FACILITY=%d\n"
	    "SYSLOG_IDENTIFIER=%s\n", pri & LOG_PRIMASK, LOG_DAEMON >> 3,
	    ident);
	if (h < 0 || (size_t)h >= sizeof(head) ||
	    put(buf, len, &off, head, (size_t)h) == -1)
		return 0;
	if (call_of(msg, call, sizeof(call)) &&
	    (put(buf, len, &off, "POLREC_CALL_ID=", 15) == -1 ||
	    put(buf, len, &off, call, strlen(call)) == -1 ||
	    put(buf, len, &off, "\n", 1) == -1))
		return 0;
	if (strchr(msg, '\n') == NULL) {
		if (put(buf, len, &off, "MESSAGE=", 8) == -1 ||
		    put(buf, len, &off, msg, (size_t)n) == -1 ||
		    put(buf, len, &off, "\n", 1) == -1)
			return 0;
		return off;
	}
	/* A value with a line end: the name, its size (64-bit LE), bytes. */
	for (i = 0; i < sizeof(size); i++)
		size[i] = (unsigned char)(n >> (8 * i));
	if (put(buf, len, &off, "MESSAGE\n", 8) == -1 ||
	    put(buf, len, &off, size, sizeof(size)) == -1 ||
	    put(buf, len, &off, msg, (size_t)n) == -1 ||
	    put(buf, len, &off, "\n", 1) == -1)
		return 0;
	return off;
}

/* To the journal; failing that, to stderr (the journal's stream). */
static void
journal_write(int pri, const char *msg)
{
	char	 buf[LOG_MSG_MAX + 512];
	size_t	 n;

	if ((n = log_journal_format(buf, sizeof(buf), pri, log_ident,
	    msg)) > 0 && sendto(log_journal_fd, buf, n, MSG_NOSIGNAL,
	    (struct sockaddr *)&log_journal_addr,
	    sizeof(log_journal_addr)) == (ssize_t)n)
		return;
	/* journald reads a "<N>" prefix on its stream as the priority. */
	fprintf(stderr, "<%d>%s: %s\n", pri & LOG_PRIMASK, log_ident, msg);
	fflush(stderr);
}

/* err != 0 appends strerror(err), as log_warn and fatal do. */
static void
logit(int pri, int err, const char *fmt, va_list ap)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 msg[LOG_MSG_MAX], stamp[32];
	int		 saved_errno = errno;
	size_t		 n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_dest == DEST_JOURNAL) {
		if (err != 0 && (n = strlen(msg)) < sizeof(msg))
			snprintf(msg + n, sizeof(msg) - n, ": %s",
			    strerror(err));
		journal_write(pri, msg);
	} else if (log_dest == DEST_STDERR) {
		/* UTC with milliseconds: lines are compared across hosts. */
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		if (err != 0)
			fprintf(stderr, "%s.%03ldZ %s: %s: %s\n", stamp,
			    ts.tv_nsec / 1000000, log_ident, msg,
			    strerror(err));
		else
			fprintf(stderr, "%s.%03ldZ %s: %s\n", stamp,
			    ts.tv_nsec / 1000000, log_ident, msg);
		fflush(stderr);
	} else if (err != 0)
		syslog(pri, "%s: %s", msg, strerror(err));
	else
		syslog(pri, "%s", msg);
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 err = errno;

	va_start(ap, fmt);
	logit(LOG_ERR, err, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	logit(LOG_ERR, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	logit(LOG_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	logit(LOG_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 err = errno;

	va_start(ap, fmt);
	logit(LOG_CRIT, err, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	logit(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/*
 * A person's id (a participant, a user) for a log line: itself with -v,
 * else "#" and a keyed hash of it (the key random, in this process
 * only), so that lines about one person match without naming them.
 */
const char *
log_person(char *dst, size_t dstlen, const char *id)
{
	static unsigned char	 key[crypto_shorthash_KEYBYTES];
	static int		 keyed;
	unsigned char		 h[crypto_shorthash_BYTES];
	char			 hex[2 * crypto_shorthash_BYTES + 1];

	if (id == NULL || log_verbose)
		return log_sanitize(dst, dstlen, id);
	if (!keyed) {
		if (sodium_init() < 0)
			return log_sanitize(dst, dstlen, "#?");
		randombytes_buf(key, sizeof(key));
		keyed = 1;
	}
	crypto_shorthash(h, (const unsigned char *)id, strlen(id), key);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(dst, dstlen, "#%s", hex);
	return dst;
}

const char *
log_sanitize(char *dst, size_t dstlen, const char *src)
{
	size_t	 i;

	if (dstlen == 0)
		return dst;
	if (src == NULL)
		src = "-";
	for (i = 0; src[i] != '\0' && i + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	dst[i] = '\0';
	if (src[i] != '\0' && dstlen > 4)
		memcpy(dst + dstlen - 4, "...", 4);
	return dst;
}
