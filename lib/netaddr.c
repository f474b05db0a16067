/* Client networks: addresses, prefixes and CIDR blocks. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"
#include "xmalloc.h"

static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

int
netaddr_parse(const char *s, struct netaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (s == NULL)
		return -1;
	if (inet_pton(AF_INET, s, a->bytes) == 1) {
		a->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->bytes) == 1) {
		if (memcmp(a->bytes, v4mapped, sizeof(v4mapped)) == 0) {
			memmove(a->bytes, a->bytes + 12, 4);
			memset(a->bytes + 4, 0, 12);
			a->family = 4;
		} else
			a->family = 6;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	return -1;
}

static void
mask_bits(unsigned char *b, size_t len, int bits)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (bits >= 8)
			bits -= 8;
		else if (bits > 0) {
			b[i] &= (unsigned char)(0xff << (8 - bits));
			bits = 0;
		} else
			b[i] = 0;
	}
}

void
netaddr_mask(struct netaddr *a, int bits4, int bits6)
{
	if (a->family == 4)
		mask_bits(a->bytes, 4, bits4);
	else if (a->family == 6)
		mask_bits(a->bytes, 16, bits6);
}

void
netaddr_format(const struct netaddr *a, int bits, char *buf, size_t len)
{
	char	 text[INET6_ADDRSTRLEN];

	if (a->family == 0 || inet_ntop(a->family == 4 ? AF_INET : AF_INET6,
	    a->bytes, text, sizeof(text)) == NULL) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%s/%d", text, bits);
}

int
netaddr_network(const char *addr, int bits4, int bits6, char *buf,
    size_t len)
{
	struct netaddr	 a;

	if (netaddr_parse(addr, &a) == -1) {
		snprintf(buf, len, "?");
		return -1;
	}
	netaddr_mask(&a, bits4, bits6);
	netaddr_format(&a, a.family == 4 ? bits4 : bits6, buf, len);
	return 0;
}

int
netaddr_cidr_parse(const char *s, struct netaddr_cidr *c, char *err,
    size_t errlen)
{
	char		 addr[NETADDR_TEXT_MAX];
	const char	*slash, *errstr = NULL;
	size_t		 n;
	int		 max;

	memset(c, 0, sizeof(*c));
	slash = strchr(s, '/');
	n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(addr)) {
		snprintf(err, errlen, "%s: not an address or network", s);
		return -1;
	}
	memcpy(addr, s, n);
	addr[n] = '\0';
	/* A mapped IPv4 block would change its length: not accepted. */
	if (netaddr_parse(addr, &c->net) == -1 || (c->net.family == 4 &&
	    strchr(addr, ':') != NULL)) {
		snprintf(err, errlen, "%s: not an address or network", s);
		return -1;
	}
	max = c->net.family == 4 ? 32 : 128;
	c->bits = max;
	if (slash != NULL) {
		c->bits = (int)strtonum(slash + 1, 0, max, &errstr);
		if (errstr != NULL) {
			snprintf(err, errlen, "%s: prefix length %s (0 to %d)",
			    s, errstr, max);
			return -1;
		}
	}
	netaddr_mask(&c->net, c->bits, c->bits);
	return 0;
}

int
netaddr_cidr_match(const struct netaddr_cidr *c, const struct netaddr *a)
{
	struct netaddr	 m;

	if (a->family != c->net.family)
		return 0;
	m = *a;
	netaddr_mask(&m, c->bits, c->bits);
	return memcmp(m.bytes, c->net.bytes, sizeof(m.bytes)) == 0;
}
