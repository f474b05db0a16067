/*
 * An RFC 3161 time stamping authority (POST /tsa) for the audit trail's
 * checkpoints, answering with OpenSSL's TS_RESP_CTX as `openssl ts
 * -reply` would; GET and POST /_sim/tsa show what it stamped and make it
 * refuse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "graphsim.h"
#include "log.h"
#include "xmalloc.h"

#define TSA_QUERY_TYPE	"application/timestamp-query"
#define TSA_REPLY_TYPE	"application/timestamp-reply"
#define TSA_QUERY_MAX	(64 * 1024)
#define TSA_MAX_STAMPS	1000		/* remembered for GET /_sim/tsa */
#define TSA_MAX_REJECT	1000000
#ifndef HTTP_UNSUPPORTED_MEDIA
#define HTTP_UNSUPPORTED_MEDIA	415
#endif
#ifndef HTTP_ENTITYTOOLARGE
#define HTTP_ENTITYTOOLARGE	413
#endif

/* One time stamp granted. */
struct tsa_stamp {
	uint64_t	 serial;
	char		 gen_time[32];		/* as in the token */
	char		 imprint[2 * EVP_MAX_MD_SIZE + 1];	/* hex */
};

struct sim_tsa {
	TS_RESP_CTX		*ctx;
	uint64_t		 serial;	/* the last one given */
	unsigned int		 reject;	/* refuse the next ones */
	struct tsa_stamp	*stamps;	/* ring of the last ones */
	size_t			 head, nstamps;
};

static ASN1_INTEGER	*next_serial(TS_RESP_CTX *, void *);
static void		 answer(struct sim *, struct evhttp_request *);
static void		 resume_fault(struct sim *, struct evhttp_request *,
			    void *);
static void		 apply_fault(struct sim *, struct evhttp_request *,
			    const struct sim_fault *);
static void		 remember(struct sim_tsa *, TS_RESP *);
static X509		*read_cert(const char *);

static X509 *
read_cert(const char *path)
{
	FILE	*fp;
	X509	*x;

	if ((fp = fopen(path, "r")) == NULL) {
		log_warn("%s", path);
		return NULL;
	}
	if ((x = PEM_read_X509(fp, NULL, NULL, NULL)) == NULL)
		log_warnx("%s: no PEM certificate", path);
	fclose(fp);
	return x;
}

/*
 * The TSA's certificate (extendedKeyUsage critical timeStamping, as
 * TS_RESP_CTX insists), its key and optionally the chain to put in
 * tokens beside it.  SHA-256 only, policy SIM_TSA_POLICY, accuracy 1 s,
 * genTime to the microsecond, the TSA's name in the token.
 */
int
tsa_load(struct sim *sim, const char *certfile, const char *keyfile,
    const char *chainfile)
{
	struct sim_tsa		*tsa;
	STACK_OF(X509)		*chain = NULL;
	ASN1_OBJECT		*policy = NULL;
	EVP_PKEY		*key = NULL;
	X509			*cert = NULL, *x;
	FILE			*fp = NULL;
	int			 rv = -1;

	tsa = xcalloc(1, sizeof(*tsa));
	tsa->stamps = xcalloc(TSA_MAX_STAMPS, sizeof(*tsa->stamps));
	if ((cert = read_cert(certfile)) == NULL)
		goto done;
	if ((fp = fopen(keyfile, "r")) == NULL) {
		log_warn("%s", keyfile);
		goto done;
	}
	if ((key = PEM_read_PrivateKey(fp, NULL, NULL, NULL)) == NULL) {
		log_warnx("%s: no PEM private key", keyfile);
		goto done;
	}
	fclose(fp);
	fp = NULL;
	if (chainfile != NULL) {
		if ((chain = sk_X509_new_null()) == NULL)
			fatalx("sk_X509_new_null");
		if ((fp = fopen(chainfile, "r")) == NULL) {
			log_warn("%s", chainfile);
			goto done;
		}
		while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL)
			if (sk_X509_push(chain, x) <= 0)
				fatalx("sk_X509_push");
		ERR_clear_error();	/* the end of the file */
		if (sk_X509_num(chain) == 0) {
			log_warnx("%s: no PEM certificate", chainfile);
			goto done;
		}
	}
	if ((tsa->ctx = TS_RESP_CTX_new()) == NULL ||
	    (policy = OBJ_txt2obj(SIM_TSA_POLICY, 1)) == NULL)
		fatalx("TS_RESP_CTX_new");
	if (TS_RESP_CTX_set_signer_cert(tsa->ctx, cert) != 1) {
		log_warnx("%s: not a TSA certificate (extendedKeyUsage must "
		    "be critical and timeStamping only)", certfile);
		goto done;
	}
	if (X509_check_private_key(cert, key) != 1) {
		log_warnx("%s does not match %s", keyfile, certfile);
		goto done;
	}
	if (TS_RESP_CTX_set_signer_key(tsa->ctx, key) != 1 ||
	    TS_RESP_CTX_set_signer_digest(tsa->ctx, EVP_sha256()) != 1 ||
	    TS_RESP_CTX_set_ess_cert_id_digest(tsa->ctx, EVP_sha256()) != 1 ||
	    TS_RESP_CTX_set_def_policy(tsa->ctx, policy) != 1 ||
	    TS_RESP_CTX_add_md(tsa->ctx, EVP_sha256()) != 1 ||
	    TS_RESP_CTX_set_accuracy(tsa->ctx, 1, 0, 0) != 1 ||
	    TS_RESP_CTX_set_clock_precision_digits(tsa->ctx, 6) != 1 ||
	    (chain != NULL && TS_RESP_CTX_set_certs(tsa->ctx, chain) != 1))
		fatalx("cannot set up the TSA");
	TS_RESP_CTX_add_flags(tsa->ctx, TS_TSA_NAME);
	TS_RESP_CTX_set_serial_cb(tsa->ctx, next_serial, tsa);
	rv = 0;
 done:
	if (fp != NULL)
		fclose(fp);
	ASN1_OBJECT_free(policy);
	sk_X509_pop_free(chain, X509_free);	/* set_certs copied it */
	EVP_PKEY_free(key);
	X509_free(cert);
	if (rv == -1) {
		TS_RESP_CTX_free(tsa->ctx);
		free(tsa->stamps);
		free(tsa);
		ERR_clear_error();
		return -1;
	}
	tsa_unload(sim);
	sim->tsa = tsa;
	return 0;
}

void
tsa_unload(struct sim *sim)
{
	if (sim->tsa == NULL)
		return;
	TS_RESP_CTX_free(sim->tsa->ctx);
	free(sim->tsa->stamps);
	free(sim->tsa);
	sim->tsa = NULL;
}

/*
 * Serials are 1, 2, ...  While POST /_sim/tsa?reject=N is pending the
 * TSA refuses instead: rejection, systemFailure.
 */
static ASN1_INTEGER *
next_serial(TS_RESP_CTX *ctx, void *arg)
{
	struct sim_tsa	*tsa = arg;
	ASN1_INTEGER	*n;

	if (tsa->reject > 0) {
		tsa->reject--;
		TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION,
		    "refused on request of /_sim/tsa");
		TS_RESP_CTX_add_failure_info(ctx, TS_INFO_SYSTEM_FAILURE);
		return NULL;
	}
	if ((n = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_uint64(n, tsa->serial + 1) != 1) {
		ASN1_INTEGER_free(n);
		return NULL;
	}
	tsa->serial++;
	return n;
}

/* POST /tsa: a DER TimeStampReq in, a DER TimeStampResp out. */
void
tsa_handle(struct sim *sim, struct evhttp_request *req)
{
	struct sim_fault	 f, *copy;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		sim_reply_error(req, HTTP_BADMETHOD, "method not allowed");
		return;
	}
	sim->stats.tsa_requests++;
	if (sim->tsa == NULL) {
		sim_reply_error(req, HTTP_NOTFOUND,
		    "no TSA: serve with -t cert.pem -K key.pem");
		return;
	}
	if (faults_take(sim, SIM_FAULT_TSA, &f)) {
		/* Drops always go through a timer: see sim_drop. */
		if (f.delay_ms > 0 || f.drop) {
			copy = xmalloc(sizeof(*copy));
			*copy = f;
			sim_defer(sim, req, f.delay_ms, resume_fault, copy);
			return;
		}
		apply_fault(sim, req, &f);
		return;
	}
	answer(sim, req);
}

static void
resume_fault(struct sim *sim, struct evhttp_request *req, void *arg)
{
	struct sim_fault	*f = arg;

	apply_fault(sim, req, f);
	free(f);
}

static void
apply_fault(struct sim *sim, struct evhttp_request *req,
    const struct sim_fault *f)
{
	char	 secs[16];

	if (f->drop) {
		sim_drop(req);
		return;
	}
	if (f->status == 0) {
		answer(sim, req);
		return;
	}
	if (f->retry_after > 0) {
		snprintf(secs, sizeof(secs), "%d", f->retry_after);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", secs);
	}
	sim_reply_error(req, f->status, "fault injected by the simulator");
}

/*
 * TS_RESP_create_response answers bad requests itself (rejection,
 * badDataFormat or badAlg) as a real TSA does; only its own failures
 * are a 500.
 */
static void
answer(struct sim *sim, struct evhttp_request *req)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	const char		*ctype;
	unsigned char		*body = NULL, *der = NULL;
	TS_RESP			*resp = NULL;
	BIO			*bio = NULL;
	size_t			 len;
	long			 status;
	int			 n;

	ctype = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Type");
	if (ctype == NULL || strncasecmp(ctype, TSA_QUERY_TYPE,
	    strlen(TSA_QUERY_TYPE)) != 0) {
		sim->stats.tsa_errors++;
		sim_reply_error(req, HTTP_UNSUPPORTED_MEDIA,
		    "Content-Type must be " TSA_QUERY_TYPE);
		return;
	}
	len = evbuffer_get_length(in);
	if (len == 0 || len > TSA_QUERY_MAX) {
		sim->stats.tsa_errors++;
		sim_reply_error(req, len == 0 ? HTTP_BADREQUEST :
		    HTTP_ENTITYTOOLARGE, "empty or too large a query");
		return;
	}
	body = xmalloc(len);
	if (evbuffer_copyout(in, body, len) != (ev_ssize_t)len)
		fatalx("evbuffer_copyout");
	if ((bio = BIO_new_mem_buf(body, (int)len)) == NULL)
		fatalx("BIO_new_mem_buf");
	if ((resp = TS_RESP_create_response(sim->tsa->ctx, bio)) == NULL ||
	    (n = i2d_TS_RESP(resp, &der)) <= 0) {
		log_warnx("tsa: cannot make a reply");
		sim->stats.tsa_errors++;
		sim_reply_error(req, HTTP_INTERNAL, "cannot make a reply");
		goto done;
	}
	status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(
	    TS_RESP_get_status_info(resp)));
	if (status == TS_STATUS_GRANTED) {
		sim->stats.tsa_stamps_issued++;
		remember(sim->tsa, resp);
		log_debug("tsa: stamp %llu issued",
		    (unsigned long long)sim->tsa->serial);
	} else {
		sim->stats.tsa_refused++;
		log_debug("tsa: refused, status %ld", status);
	}
	evhttp_add_header(out, "Content-Type", TSA_REPLY_TYPE);
	sim_reply(req, HTTP_OK, (const char *)der, (size_t)n);
 done:
	ERR_clear_error();
	OPENSSL_free(der);
	TS_RESP_free(resp);
	BIO_free(bio);
	free(body);
}

static void
remember(struct sim_tsa *tsa, TS_RESP *resp)
{
	struct tsa_stamp	*s;
	TS_TST_INFO		*tst;
	TS_MSG_IMPRINT		*mi;
	const ASN1_GENERALIZEDTIME *t;
	ASN1_OCTET_STRING	*msg;
	int			 len;

	if ((tst = TS_RESP_get_tst_info(resp)) == NULL)
		return;
	s = &tsa->stamps[(tsa->head + tsa->nstamps) % TSA_MAX_STAMPS];
	if (tsa->nstamps == TSA_MAX_STAMPS)
		tsa->head = (tsa->head + 1) % TSA_MAX_STAMPS;
	else
		tsa->nstamps++;
	memset(s, 0, sizeof(*s));
	s->serial = tsa->serial;
	if ((t = TS_TST_INFO_get_time(tst)) != NULL) {
		len = ASN1_STRING_length(t);
		if (len > 0 && (size_t)len < sizeof(s->gen_time))
			memcpy(s->gen_time, ASN1_STRING_get0_data(t), len);
	}
	mi = TS_TST_INFO_get_msg_imprint(tst);
	msg = TS_MSG_IMPRINT_get_msg(mi);
	len = ASN1_STRING_length(msg);
	if (len > 0 && len <= EVP_MAX_MD_SIZE)
		sodium_bin2hex(s->imprint, sizeof(s->imprint),
		    ASN1_STRING_get0_data(msg), len);
}

/*
 * GET /_sim/tsa: {"enabled": B, "policy": OID, "issued": N,
 * "last_serial": S, "reject": R, "stamps": [{"serial": S, "gen_time":
 * T, "imprint": hex}, ...]}, the last TSA_MAX_STAMPS, oldest first.
 */
void
tsa_show(struct sim *sim, struct evhttp_request *req)
{
	struct sim_tsa		*tsa = sim->tsa;
	const struct tsa_stamp	*s;
	cJSON			*o, *a, *r;
	size_t			 i;

	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "enabled", tsa != NULL);
	cJSON_AddStringToObject(o, "policy", SIM_TSA_POLICY);
	cJSON_AddNumberToObject(o, "issued", sim->stats.tsa_stamps_issued);
	cJSON_AddNumberToObject(o, "last_serial", tsa != NULL ?
	    (double)tsa->serial : 0);
	cJSON_AddNumberToObject(o, "reject", tsa != NULL ? tsa->reject : 0);
	a = cJSON_AddArrayToObject(o, "stamps");
	for (i = 0; tsa != NULL && i < tsa->nstamps; i++) {
		s = &tsa->stamps[(tsa->head + i) % TSA_MAX_STAMPS];
		r = cJSON_CreateObject();
		cJSON_AddNumberToObject(r, "serial", (double)s->serial);
		cJSON_AddStringToObject(r, "gen_time", s->gen_time);
		cJSON_AddStringToObject(r, "imprint", s->imprint);
		cJSON_AddItemToArray(a, r);
	}
	sim_reply_json(req, HTTP_OK, o);
	cJSON_Delete(o);
}

/*
 * POST /_sim/tsa?reject=N: the next N requests are refused with a
 * TimeStampResp of status rejection (systemFailure), not an HTTP error
 * (for those, arm a fault on action "tsa").  N = 0 disarms.
 */
void
tsa_control(struct sim *sim, struct evhttp_request *req)
{
	const char	*errstr = NULL;
	char		*v;
	long long	 n;

	if (sim->tsa == NULL) {
		sim_reply_error(req, HTTP_CONFLICT, "no TSA configured");
		return;
	}
	if ((v = sim_query_param(req, "reject")) == NULL) {
		sim_reply_error(req, HTTP_BADREQUEST, "expected ?reject=N");
		return;
	}
	n = strtonum(v, 0, TSA_MAX_REJECT, &errstr);
	free(v);
	if (errstr != NULL) {
		sim_reply_error(req, HTTP_BADREQUEST,
		    "reject must be an integer from 0 to 1000000");
		return;
	}
	sim->tsa->reject = (unsigned int)n;
	tsa_show(sim, req);
}

/* POST /_sim/reset: the stamps are forgotten; serials keep counting. */
void
tsa_reset(struct sim *sim)
{
	if (sim->tsa == NULL)
		return;
	sim->tsa->head = sim->tsa->nstamps = 0;
	sim->tsa->reject = 0;
}
