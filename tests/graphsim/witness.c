/*
 * A checkpoint witness: polrecd POSTs each signed checkpoint of its
 * audit trail here ([audit] witness_url), and the simulator keeps them,
 * as a witness off the recorder host would.  Tests and auditors fetch
 * the newest with GET /_sim/witness/latest and give it to `polrecctl
 * audit verify -c`.  The checkpoint's signature is checked against the
 * public key it carries; pinning that key is the verifier's job.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/http.h>

#include "audit.h"
#include "graphsim.h"
#include "log.h"
#include "xmalloc.h"

#define WITNESS_MAX_BODY	65536

static void
witness_free_all(struct sim *sim)
{
	size_t	 i;

	for (i = 0; i < sim->nwitnessed; i++)
		free(sim->witnessed[i]);
	free(sim->witnessed);
	sim->witnessed = NULL;
	sim->nwitnessed = 0;
}

static void
witness_answer(struct sim *sim, struct evhttp_request *req)
{
	struct audit_checkpoint	 cp;
	unsigned char		 pk[AUDIT_SIGN_PUBBYTES];
	cJSON			*o;
	char			*body, err[256], receipt[64];
	size_t			 len;

	if ((body = sim_read_body(req, &len)) == NULL ||
	    len > WITNESS_MAX_BODY ||
	    audit_checkpoint_from_json(body, len, &cp, pk, err,
	    sizeof(err)) == -1 || audit_checkpoint_verify(&cp, pk) == -1) {
		sim->stats.witness_refused++;
		free(body);
		sim_reply_error(req, HTTP_BADREQUEST, "not a signed checkpoint");
		return;
	}
	sim->witnessed = xreallocarray(sim->witnessed, sim->nwitnessed + 1,
	    sizeof(*sim->witnessed));
	sim->witnessed[sim->nwitnessed++] = body;
	sim->stats.witness_accepted++;
	snprintf(receipt, sizeof(receipt), "witness-%zu", sim->nwitnessed);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "receipt", receipt);
	cJSON_AddNumberToObject(o, "seq", (double)cp.seq);
	cJSON_AddNumberToObject(o, "received", (double)time(NULL));
	sim_reply_json(req, HTTP_OK, o);
	cJSON_Delete(o);
}

static void
witness_resume(struct sim *sim, struct evhttp_request *req, void *arg)
{
	struct sim_fault	*f = arg;

	if (f->drop)
		sim_drop(req);
	else if (f->status != 0)
		sim_reply_error(req, f->status, "fault injected");
	else
		witness_answer(sim, req);
	free(f);
}

/* POST /witness: a signed checkpoint, kept; faults as action "witness". */
void
witness_handle(struct sim *sim, struct evhttp_request *req)
{
	struct sim_fault	 f;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		sim_reply_error(req, HTTP_BADMETHOD, "POST a checkpoint");
		return;
	}
	sim->stats.witness_requests++;
	if (faults_take(sim, SIM_FAULT_WITNESS, &f)) {
		struct sim_fault	*copy = xmalloc(sizeof(*copy));

		*copy = f;
		sim_defer(sim, req, f.delay_ms, witness_resume, copy);
		return;
	}
	witness_answer(sim, req);
}

/* GET /_sim/witness: {"count": N, "checkpoints": [...]} */
void
witness_show(struct sim *sim, struct evhttp_request *req)
{
	cJSON	*o, *a;
	size_t	 i;

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "count", (double)sim->nwitnessed);
	a = cJSON_AddArrayToObject(o, "checkpoints");
	for (i = 0; i < sim->nwitnessed; i++)
		cJSON_AddItemToArray(a, cJSON_Parse(sim->witnessed[i]));
	sim_reply_json(req, HTTP_OK, o);
	cJSON_Delete(o);
}

/* GET /_sim/witness/latest: the newest checkpoint as it was POSTed. */
void
witness_latest(struct sim *sim, struct evhttp_request *req)
{
	const char	*s;

	if (sim->nwitnessed == 0) {
		sim_reply_error(req, HTTP_NOTFOUND, "no checkpoint witnessed");
		return;
	}
	s = sim->witnessed[sim->nwitnessed - 1];
	sim_reply(req, HTTP_OK, s, strlen(s));
}

void
witness_shutdown(struct sim *sim)
{
	witness_free_all(sim);
}
