/* Allocation wrappers that treat out-of-memory as fatal, and strtonum. */
#ifndef POLREC_XMALLOC_H
#define POLREC_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));

/*
 * Bounded integer parsing in the manner of OpenBSD strtonum(3): returns
 * the value, or 0 with *errstr set to "invalid", "too small" or
 * "too large".
 */
long long	 strtonum(const char *, long long, long long, const char **);

#endif
