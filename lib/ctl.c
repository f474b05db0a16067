/* Control-socket frames: encode, decode and validate (see ctl.h). */
#include <arpa/inet.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "log.h"
#include "xmalloc.h"

void
ctl_hdr_encode(unsigned char out[CTL_HDR_LEN], const struct ctl_hdr *h)
{
	uint32_t	 v32;
	uint16_t	 v16;

	v32 = htonl(h->type);
	memcpy(out, &v32, 4);
	v32 = htonl(h->len);
	memcpy(out + 4, &v32, 4);
	v16 = htons(h->version);
	memcpy(out + 8, &v16, 2);
	v16 = htons(h->flags);
	memcpy(out + 10, &v16, 2);
}

int
ctl_hdr_decode(const unsigned char in[CTL_HDR_LEN], struct ctl_hdr *h,
    const char **errstr)
{
	uint32_t	 v32;
	uint16_t	 v16;

	memcpy(&v32, in, 4);
	h->type = ntohl(v32);
	memcpy(&v32, in + 4, 4);
	h->len = ntohl(v32);
	memcpy(&v16, in + 8, 2);
	h->version = ntohs(v16);
	memcpy(&v16, in + 10, 2);
	h->flags = ntohs(v16);

	if (h->version != CTL_VERSION) {
		*errstr = "protocol version mismatch";
		return -1;
	}
	if (h->type < CTL_REQUEST || h->type > CTL_END) {
		*errstr = "unknown message type";
		return -1;
	}
	if (h->len > CTL_MAX_PAYLOAD) {
		*errstr = "message too long";
		return -1;
	}
	if (h->flags != 0) {
		*errstr = "unknown flags";
		return -1;
	}
	*errstr = NULL;
	return 0;
}

unsigned char *
ctl_frame(enum ctl_type type, const char *payload, size_t len,
    size_t *outlen)
{
	struct ctl_hdr	 h;
	unsigned char	*buf;

	if (len > CTL_MAX_PAYLOAD)
		return NULL;
	h.type = type;
	h.len = (uint32_t)len;
	h.version = CTL_VERSION;
	h.flags = 0;
	buf = xmalloc(CTL_HDR_LEN + len);
	ctl_hdr_encode(buf, &h);
	if (len > 0)
		memcpy(buf + CTL_HDR_LEN, payload, len);
	*outlen = CTL_HDR_LEN + len;
	return buf;
}

unsigned char *
ctl_frame_json(enum ctl_type type, const cJSON *obj, size_t *outlen)
{
	unsigned char	*frame;
	char		*text;

	if ((text = cJSON_PrintUnformatted(obj)) == NULL)
		return NULL;
	frame = ctl_frame(type, text, strlen(text), outlen);
	cJSON_free(text);
	return frame;
}

void
ctl_argv_free(char **argv, int argc)
{
	int	 i;

	if (argv == NULL)
		return;
	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isprint((unsigned char)*s))
			return 0;
	return 1;
}

int
ctl_request_parse(const char *payload, size_t len, char ***argvp,
    const char **errstr)
{
	cJSON		*root, *args, *a;
	char		**argv = NULL;
	int		 argc = 0, n;

	*argvp = NULL;
	root = cJSON_ParseWithLength(payload, len);
	if (root == NULL || !cJSON_IsObject(root)) {
		*errstr = "request is not a JSON object";
		goto fail;
	}
	args = cJSON_GetObjectItemCaseSensitive(root, "argv");
	if (!cJSON_IsArray(args)) {
		*errstr = "request has no argv array";
		goto fail;
	}
	n = cJSON_GetArraySize(args);
	if (n < 1 || n > CTL_MAX_ARGS) {
		*errstr = "request has too few or too many arguments";
		goto fail;
	}
	argv = xcalloc((size_t)n, sizeof(*argv));
	cJSON_ArrayForEach(a, args) {
		if (!cJSON_IsString(a) || a->valuestring == NULL ||
		    strlen(a->valuestring) > CTL_MAX_ARG_LEN ||
		    !printable(a->valuestring)) {
			*errstr = "request argument is not a short printable "
			    "string";
			goto fail;
		}
		argv[argc++] = xstrdup(a->valuestring);
	}
	cJSON_Delete(root);
	*argvp = argv;
	*errstr = NULL;
	return argc;
fail:
	ctl_argv_free(argv, argc);
	cJSON_Delete(root);
	return -1;
}

char *
ctl_request_build(int argc, char *const argv[])
{
	cJSON	*root, *args;
	char	*text, *out;
	int	 i;

	root = cJSON_CreateObject();
	args = cJSON_AddArrayToObject(root, "argv");
	for (i = 0; i < argc; i++)
		cJSON_AddItemToArray(args, cJSON_CreateString(argv[i]));
	if ((text = cJSON_PrintUnformatted(root)) == NULL)
		fatalx("ctl_request_build: out of memory");
	cJSON_Delete(root);
	out = xstrdup(text);
	cJSON_free(text);
	return out;
}

const char *
ctl_type_name(uint32_t type)
{
	switch (type) {
	case CTL_REQUEST:	return "request";
	case CTL_OK:		return "ok";
	case CTL_ERROR:		return "error";
	case CTL_RECORD:	return "record";
	case CTL_END:		return "end";
	}
	return "unknown";
}
