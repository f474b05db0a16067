/*
 * Client networks, for admission and for aggregating refusals: numeric
 * IPv4 and IPv6 addresses, the network of an address at a prefix length
 * (IPv4-mapped IPv6 counts as IPv4), and lists of CIDR blocks
 * (`[http] allow_from`).  Pure functions; no name resolution.
 */
#ifndef POLREC_NETADDR_H
#define POLREC_NETADDR_H

#include <stddef.h>
#include <stdint.h>

#define NETADDR_TEXT_MAX	48	/* "2001:db8:1:2::/64" and NUL */

struct netaddr {
	int		 family;	/* 4 or 6; 0: not an address */
	unsigned char	 bytes[16];	/* IPv4 in the first 4 */
};

/* Parse a numeric address (a scope id is refused).  0 or -1. */
int	 netaddr_parse(const char *, struct netaddr *);

/* Keep the first bits4 (IPv4) or bits6 (IPv6) bits of a, zero the rest. */
void	 netaddr_mask(struct netaddr *, int bits4, int bits6);

/* "203.0.113.0/24" for a masked address and its prefix length. */
void	 netaddr_format(const struct netaddr *, int bits, char *, size_t);

/* The network of a numeric address as text, "?" when it is not one. */
int	 netaddr_network(const char *addr, int bits4, int bits6, char *,
	    size_t);

/* A list of CIDR blocks ("10.0.0.0/8", "2001:db8::/32", "192.0.2.1"). */
struct netaddr_cidr {
	struct netaddr	 net;
	int		 bits;
};

/* Parse one block; 0, or -1 with why in err. */
int	 netaddr_cidr_parse(const char *, struct netaddr_cidr *, char *err,
	    size_t errlen);

/* Whether a is in the block. */
int	 netaddr_cidr_match(const struct netaddr_cidr *,
	    const struct netaddr *);

#endif
