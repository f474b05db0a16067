/* OpenBSD-style logging: stderr in the foreground, syslog otherwise. */
#ifndef POLREC_LOG_H
#define POLREC_LOG_H

#include <stdarg.h>
#include <stddef.h>

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

/*
 * Copy untrusted text into dst for a log line: control characters and
 * non-ASCII bytes become '?', and long text is cut with "...".  NULL
 * becomes "-".  Returns dst.
 */
const char	*log_sanitize(char *dst, size_t dstlen, const char *src);

#endif
