/*
 * OpenBSD-style logging: stderr in the foreground, syslog otherwise, the
 * journal (native protocol) when stderr is the journal.
 */
#ifndef POLREC_LOG_H
#define POLREC_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define LOG_MSG_MAX	2048	/* a line, longer ones are cut */
#define LOG_ID_MAX	80	/* ids and names shown in a line */

void	log_init(int foreground, int verbose, const char *ident);
void	log_warn(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_warnx(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_info(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_debug(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2), __noreturn__));
void	fatalx(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2), __noreturn__));

/* Whether stderr is the journal's stream ($JOURNAL_STREAM). */
int	 log_stderr_is_journal(void);

/*
 * One log line as a datagram of the journal's native protocol:
 * PRIORITY=, SYSLOG_FACILITY=, SYSLOG_IDENTIFIER=, POLREC_CALL_ID= when
 * msg starts "call ID", and MESSAGE= (in the binary form when it holds a
 * line end).  Its length, or 0 when it does not fit in len.
 */
size_t	 log_journal_format(char *buf, size_t len, int pri,
	    const char *ident, const char *msg);

/*
 * Copy untrusted text into dst for a log line: control characters and
 * non-ASCII bytes become '?', and long text is cut with "...".  NULL
 * becomes "-".  Returns dst.
 */
const char	*log_sanitize(char *dst, size_t dstlen, const char *src);

/*
 * A person's id (participant, user) for a log line: the id with -v;
 * else "#" and 16 hex digits of a keyed hash whose key lives only in
 * this process.  NULL becomes "-".  Returns dst.
 */
const char	*log_person(char *dst, size_t dstlen, const char *id);

#endif
