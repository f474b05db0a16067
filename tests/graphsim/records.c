/* The request record: what the simulator was asked, in a ring and in -r. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/http.h>

#include "graphsim.h"
#include "log.h"
#include "xmalloc.h"

/*
 * Append one record to the ring (the oldest goes when it is full) and to
 * the -r file, as one JSON line.  The record's body is taken.
 */
void
records_add(struct sim *sim, struct sim_record *rec)
{
	cJSON		*r;
	char		 stamp[32], *line;
	size_t		 slot;

	sim_format_time(stamp, sizeof(stamp), 1);
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "time", stamp);
	cJSON_AddStringToObject(r, "method", sim_method_name(rec->method));
	cJSON_AddStringToObject(r, "path", rec->path);
	if (rec->version != NULL)
		cJSON_AddStringToObject(r, "version", rec->version);
	else
		cJSON_AddNullToObject(r, "version");
	cJSON_AddStringToObject(r, "action", rec->action);
	cJSON_AddStringToObject(r, "call_id", rec->call_id);
	if (rec->client_request_id != NULL)
		cJSON_AddStringToObject(r, "client_request_id",
		    rec->client_request_id);
	else
		cJSON_AddNullToObject(r, "client_request_id");
	cJSON_AddStringToObject(r, "request_id", rec->request_id);
	cJSON_AddBoolToObject(r, "auth_ok", rec->auth_ok);
	if (rec->token_tid != NULL)
		cJSON_AddStringToObject(r, "token_tid", rec->token_tid);
	cJSON_AddNumberToObject(r, "status", rec->status);
	if (rec->body != NULL) {
		cJSON_AddItemToObject(r, "body", rec->body);
		rec->body = NULL;
	} else
		cJSON_AddNullToObject(r, "body");
	if (rec->fault != NULL)
		cJSON_AddStringToObject(r, "fault", rec->fault);
	if (rec->error != NULL)
		cJSON_AddStringToObject(r, "error", rec->error);
	if ((line = cJSON_PrintUnformatted(r)) == NULL)
		fatalx("cJSON_PrintUnformatted");
	cJSON_Delete(r);

	if (sim->reqlog != NULL && (fprintf(sim->reqlog, "%s\n", line) < 0 ||
	    fflush(sim->reqlog) == EOF))
		log_warn("request log");
	if (sim->nrecords < SIM_MAX_RECORDS) {
		slot = (sim->records_head + sim->nrecords) % SIM_MAX_RECORDS;
		sim->nrecords++;
	} else {
		slot = sim->records_head;
		sim->records_head = (sim->records_head + 1) % SIM_MAX_RECORDS;
		cJSON_free(sim->records[slot]);
	}
	sim->records[slot] = line;
}

/* GET /_sim/requests: the recorded requests, oldest first. */
void
records_write(struct sim *sim, struct evhttp_request *req)
{
	struct evbuffer	*b;
	size_t		 i;

	if ((b = evbuffer_new()) == NULL)
		fatalx("evbuffer_new");
	evbuffer_add(b, "[", 1);
	for (i = 0; i < sim->nrecords; i++) {
		if (i > 0)
			evbuffer_add(b, ",\n", 2);
		evbuffer_add_printf(b, "%s", sim->records[
		    (sim->records_head + i) % SIM_MAX_RECORDS]);
	}
	evbuffer_add(b, "]\n", 2);
	sim_reply(req, HTTP_OK, (const char *)evbuffer_pullup(b, -1),
	    evbuffer_get_length(b));
	evbuffer_free(b);
}

void
records_clear(struct sim *sim)
{
	size_t	 i;

	for (i = 0; i < sim->nrecords; i++)
		cJSON_free(sim->records[(sim->records_head + i) %
		    SIM_MAX_RECORDS]);
	sim->records_head = sim->nrecords = 0;
}
