#!/bin/bash
# The token endpoint and the key endpoints (OpenID document, JWKS) down
# at start-up and while running, and a signing key rotation in the
# middle: no validly signed notification may be refused for a key polrecd
# has not fetched yet (Teams does not re-send a 401), and the trail must
# reconcile.
set -u
. tests/faults/lib.sh

start_sim
# Down at start-up: the token endpoint for its first 5 requests, the
# OpenID/JWKS endpoints for 2 s.
sim_ctl POST /_sim/faults '{"action":"token","status":503,"count":5}' >/dev/null
sim_ctl POST '/_sim/idp?state=down' >/dev/null
faults_conf
start_polrecd
start_load "$RATE" "$FAULT_SECONDS"
sleep 2
sim_ctl POST '/_sim/idp?state=up' >/dev/null
check "signing keys loaded once the endpoints are back" wait_keys 15
check "a Graph token once the endpoint is back" wait_for 15 log_has 'graph token: acquired'
sleep $(( FAULT_SECONDS / 4 ))
# While running: key endpoints down, then a rotation while they are.
sim_ctl POST '/_sim/idp?state=down' >/dev/null
sleep 1
if sim_ctl POST /_sim/keys/rotate >"$T/rotate.out" 2>&1; then
	echo "# key rotated: $(cat "$T/rotate.out" | tr -d '\n' | cut -c1-120)"
	sleep 1
	sim_ctl POST '/_sim/idp?state=up' >/dev/null
	ROTATED=1
else
	echo "# skip - the simulator cannot rotate its key"
	sim_ctl POST '/_sim/idp?state=up' >/dev/null
	ROTATED=0
fi
# While running: the token endpoint down across a restart.
sleep $(( FAULT_SECONDS / 4 ))
sim_ctl POST /_sim/faults '{"action":"token","status":503,"count":20}' >/dev/null
kill9
restart
check "the load ran" wait_load
sim_ctl DELETE /_sim/faults >/dev/null
sleep 3
stop_clean
nack=$(finals_not_2xx)
echo "# not acknowledged in the end: ${nack:-none}"
n401=$(jq -r 'select(.ev == "final" and .status == 401) | .msg' "$LOADLOG" | grep -c . || true)
check "no validly signed notification refused 401 ($n401; rotation $ROTATED)" test "$n401" -eq 0
reconcile_check "key and token endpoints down, rotation"
check "the trail verifies" verify_trail
exit $FAILED
