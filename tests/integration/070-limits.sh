# Hard limits: slow clients and a flood of unauthenticated requests do not
# starve a real invitation.  Connections past max_connections_per_address
# are refused at once with 503; idle ones are closed after
# request_timeout.  Prints the invitation's latency under the flood.
. tests/integration/lib.sh

start_sim
write_conf "[http]
max_connections_per_address = 8
max_connections = 200
request_timeout = 3"
start_polrecd
check "signing keys fetched" wait_keys

# 30 slow clients from 127.0.0.2: half a request, then silence.
slow=
for i in $(seq 1 30); do
	(printf 'POST /api/calling HTTP/1.1\r\nHost: x\r\nContent-Type: appl'
	    sleep 6) | timeout 10 socat -t 8 - \
	    "TCP:$POLRECD_ADDR,bind=127.0.0.2" >"$T/slow-$i.out" 2>&1 &
	slow="$slow $!"
done
sleep 1
"$SIM" play -u "$WEBHOOK" tests/scenarios/example3.json >"$T/during-slow.out"
check "invitation accepted while 30 slow clients hang" test $? -eq 0
ms=$(sed -n 's/.*(expected 202) \([0-9]*\) ms.*/\1/p' "$T/during-slow.out")
check "and answered in ${ms:-?} ms (< 500)" test "${ms:-9999}" -lt 500
refused=$(grep -l '503 Service Unavailable' "$T"/slow-*.out | wc -l)
check "slow clients past the per-address cap refused at once ($refused of 30)" \
    test "$refused" -ge 22
check "refusal logged" log_has 'max_connections_per_address reached'
wait $slow
check "slow clients closed by request_timeout, not kept" \
    sh -c "! grep -l 'HTTP/1.1 202' '$T'/slow-*.out >/dev/null 2>&1"

# A flood of unauthenticated requests from four concurrent players.
cat >"$T/flood.json" <<SCEN
{"name":"flood","steps":[{"file":"$PWD/tests/scenarios/notifications/example3-invitation.json",
 "token":"none","repeat":500,"expect_status":401}]}
SCEN
start=$(date +%s%N)
flood=
for i in 1 2 3 4; do
	"$SIM" play -u "$WEBHOOK" "$T/flood.json" >"$T/flood-$i.out" 2>&1 &
	flood="$flood $!"
done
sleep 0.3
worst=0
for i in 1 2 3 4 5; do
	"$SIM" play -u "$WEBHOOK" tests/scenarios/example3.json >"$T/valid-$i.out" 2>&1 ||
	    not_ok "valid invitation $i during the flood"
	ms=$(sed -n 's/.*(expected 202) \([0-9]*\) ms.*/\1/p' "$T/valid-$i.out")
	[ "${ms:-9999}" -gt "$worst" ] && worst=${ms:-9999}
	sleep 0.1
done
wait $flood
end=$(date +%s%N)
flooded=$(grep -h 'flood step' "$T"/flood-*.out | grep -c ' 401 ' || true)
rate=$(( flooded * 1000000000 / (end - start) ))
echo "# flood: $flooded unauthenticated requests at ~$rate/s; worst valid" \
    "invitation latency ${worst} ms"
check "the flood was refused (401s: $flooded)" test "$flooded" -ge 1000
check "valid invitations during the flood: worst ${worst} ms (< 1000)" \
    test "$worst" -lt 1000
check "suppressed-failure summary keeps the log bounded" \
    test "$(grep -c 'refused (401)' "$T/polrecd.log")" -lt 500
check "SIGTERM: clean exit 0" stop_polrecd
exit $FAILED
