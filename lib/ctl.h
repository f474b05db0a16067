/*
 * The control-socket wire format shared by polrecd and polrecctl: framed,
 * versioned messages with a JSON payload.
 *
 *	0      4      8      10     12
 *	+------+------+------+------+---------------------+
 *	| type | len  | ver  | flags| payload (len bytes) |
 *	+------+------+------+------+---------------------+
 *
 * All header fields are big-endian.  A request's payload is
 * {"argv":["show","status"]}; replies are OK or ERROR ({"error":reason}),
 * and multi-record replies send RECORDs then an END carrying the count.
 */
#ifndef POLREC_CTL_H
#define POLREC_CTL_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

/*
 * Version 1: first version (REQUEST, OK, ERROR, RECORD, END).
 */
#define CTL_VERSION		1
#define CTL_HDR_LEN		12
#define CTL_MAX_PAYLOAD		(1024 * 1024)
#define CTL_MAX_ARGS		16
#define CTL_MAX_ARG_LEN		256

enum ctl_type {
	CTL_REQUEST = 1,
	CTL_OK,
	CTL_ERROR,
	CTL_RECORD,
	CTL_END,
};

struct ctl_hdr {
	uint32_t	 type;
	uint32_t	 len;
	uint16_t	 version;
	uint16_t	 flags;
};

void	 ctl_hdr_encode(unsigned char [CTL_HDR_LEN], const struct ctl_hdr *);

/* Decode and validate a header; -1 with *errstr on a bad one. */
int	 ctl_hdr_decode(const unsigned char [CTL_HDR_LEN], struct ctl_hdr *,
	    const char **errstr);

/* A whole frame (header + payload) in a new buffer; *outlen its size. */
unsigned char *ctl_frame(enum ctl_type, const char *payload, size_t len,
	    size_t *outlen);

/* A frame whose payload is the JSON text of `obj`. */
unsigned char *ctl_frame_json(enum ctl_type, const struct cJSON *obj,
	    size_t *outlen);

/*
 * Parse a request payload into argv (at most CTL_MAX_ARGS strings of at
 * most CTL_MAX_ARG_LEN printable bytes each).  Returns argc, or -1 with
 * *errstr.  Free with ctl_argv_free.
 */
int	 ctl_request_parse(const char *payload, size_t len, char ***argv,
	    const char **errstr);
void	 ctl_argv_free(char **, int);

/* A request payload for argv (free with free()). */
char	*ctl_request_build(int argc, char *const argv[]);

const char *ctl_type_name(uint32_t);

#endif
