#!/bin/bash
# The man pages match the code:
#  - every directive of lib/conf.c's table is in polrecd.conf(5) (as
#    .It Ic NAME) and in etc/polrecd.conf under its [section];
#  - every polrecctl command (polrecctl -j help) is in polrecctl(8);
#  - every metric family /metrics serves is in polrecd(8)'s METRICS
#    (skipped, saying so, without an admin listener or that section);
#  - every example "runs".  What that means here: each command line of
#    an EXAMPLES literal block (after a "#" or "$" prompt, "\e" lines
#    joined, pipes and redirections cut) that calls polrecctl is checked
#    with polrecctl -n (the command and its options are valid); those
#    that talk to polrecd are then run against a test polrecd and the
#    simulator, after Example 3's call was answered, and must exit as
#    the example shows (0, or the code of the {"error":...} line under
#    it).  polrecd -n runs against the test configuration; polrecd -d
#    is what every other script does, and is not run again.  Other
#    programs' lines (sqlite3, echo) are not ours: listed, not run.
. tests/integration/lib.sh

PCTL=build/polrecctl
CALL=e71f0300-9c1f-4d99-b5f4-2722e877d497

# Directives: "section", "name" pairs of the directive table.
awk '/directives\[\] = \{/ {on = 1; next} on && /^};/ {exit}
    on && match($0, /\{ *"[a-z_]+", *"[a-z_]+"/) {
	s = substr($0, RSTART, RLENGTH); gsub(/[{" ]/, "", s); print s }' \
    lib/conf.c | tr ',' ' ' >"$T/directives"
n=$(wc -l <"$T/directives")
check "the directive table parsed ($n directives)" test "$n" -ge 40
missing5= missingetc=
while read -r sec name; do
	grep -q "^\.It Ic $name\( \|$\)" man/polrecd.conf.5 ||
	    missing5="$missing5 [$sec] $name"
	awk -v sec="[$sec]" -v name="$name" '
	    /^[;#]? *\[[a-z]+\] *$/ { s = $0; sub(/^[;#] */, "", s);
		sub(/ *$/, "", s); cur = s }
	    cur == sec && $0 ~ "^[;#]? *" name " *=" { found = 1 }
	    END { exit !found }' etc/polrecd.conf ||
	    missingetc="$missingetc [$sec] $name"
done <"$T/directives"
check "every directive is in polrecd.conf(5)${missing5:+: missing$missing5}" \
    test -z "$missing5"
check "every directive is in etc/polrecd.conf${missingetc:+: missing$missingetc}" \
    test -z "$missingetc"

# Commands: from polrecctl's own table.
$PCTL -j help | jq -r '.commands[] | "\(.command)\t\(.offline)"' >"$T/commands"
n=$(wc -l <"$T/commands")
check "polrecctl -j help lists the commands ($n)" test "$n" -ge 15
missing=
while IFS=$'\t' read -r words offline; do
	grep -q "^\.\(It \)\?Cm $words\( \|$\)" man/polrecctl.8 ||
	    missing="$missing, $words"
done <"$T/commands"
check "every command is in polrecctl(8)${missing:+: missing${missing#,}}" \
    test -z "$missing"
check "polrecctl help (text) lists as many" \
    test "$($PCTL help | grep -c '^  [a-z]')" -ge "$(wc -l <"$T/commands")"

start_sim
write_conf "[recording]
keepalive_interval = 60"
start_polrecd
wait_keys
play_files "$PWD/tests/scenarios/notifications/example3-invitation.json"
check "Example 3 answered (the examples' call)" \
    wait_for 5 log_has "call $CALL: answered in"

# Metrics: the families /metrics serves, each in polrecd(8)'s METRICS.
awk '/^\.Sh METRICS/ {on = 1; next} /^\.Sh / {on = 0} on' man/polrecd.8 >"$T/metrics.8"
addr=$(admin_addr)
if [ -z "$addr" ]; then
	ok "metrics in polrecd(8) # SKIP no admin listener (/metrics) in this build"
elif [ ! -s "$T/metrics.8" ]; then
	ok "metrics in polrecd(8) # SKIP polrecd(8) has no METRICS section yet"
else
	curl -s "http://$addr/metrics" | sed -n 's/^# TYPE \([a-z_:]*\) .*/\1/p' |
	    sort -u >"$T/families"
	n=$(wc -l <"$T/families")
	missing=
	while read -r m; do
		grep -q "^\.It Li $m\( \|$\)" "$T/metrics.8" || missing="$missing $m"
	done <"$T/families"
	check "/metrics serves families ($n)" test "$n" -ge 10
	check "every metric family is in polrecd(8) METRICS${missing:+: missing$missing}" \
	    test -z "$missing"
fi

# Examples: "CMD<tab>NEXT LINE" for each prompt line of EXAMPLES.
examples() {
	awk '/^\.Sh EXAMPLES/ {ex = 1; next} /^\.Sh / {ex = 0}
	    ex && /^\.Bd -literal/ {lit = 1; next} /^\.Ed/ {lit = 0}
	    ex && lit {
		line = $0
		while (line ~ /\\e$/ && (getline nxt) > 0) {
			sub(/\\e$/, "", line); sub(/^ */, " ", nxt); line = line nxt
		}
		if (want) { print cmd "\t" line; want = 0 }
		if (line ~ /^([a-z]+)?[#$] /) { cmd = line; want = 1 }
	    }
	    END { if (want) print cmd "\t" }' "$1"
}
nrun=0 nparsed=0
for page in man/polrecctl.8 man/polrecd.8 man/polrecd.conf.5; do
	examples "$page" >"$T/examples"
	while IFS=$'\t' read -r line next; do
		cmd=${line#*[#$] }
		cmd=${cmd%% |*}
		cmd=${cmd%% >*}
		cmd=$(printf '%s' "$cmd" | sed 's/\\e/\\/g')
		read -ra w <<<"$cmd"
		want=0
		case $next in
		'{"error":{"code":'*) want=${next#*\"code\":}; want=${want%%,*} ;;
		esac
		case ${w[0]} in
		polrecctl)
			# -n first: nothing is opened or written.
			$PCTL -n "${w[@]:1}" >"$T/ex.out" 2>&1
			rc=$?
			nparsed=$((nparsed + 1))
			check "${page##*/} example parses (polrecctl -n, exit $want): $cmd" \
			    test $rc -eq $((want == 2 ? 2 : 0))
			[ $rc -eq 0 ] || continue
			# Those for polrecd (not offline in polrecctl's own
			# table): run them.  Offline ones name this host's
			# files and are never run here.
			words=$(sed -n 's/^polrecctl: \(.*\): a valid command$/\1/p' "$T/ex.out")
			offline=$(awk -F '\t' -v c="$words" '$1 == c {print $2}' "$T/commands")
			if [ -n "$words" ] && [ "$offline" = false ]; then
				if [ "${w[1]}" = monitor ]; then
					timeout 2 $PCTL -s "$T/ctl.sock" "${w[@]:1}" >/dev/null 2>&1
					rc=$?; [ $rc -eq 124 ] && rc=0
				else
					$PCTL -s "$T/ctl.sock" "${w[@]:1}" >"$T/ex.out" 2>&1
					rc=$?
				fi
				nrun=$((nrun + 1))
				check "${page##*/} example runs against polrecd (exit $want): $cmd" \
				    test $rc -eq "$want"
			fi
			;;
		polrecd)
			if [ "${w[1]}" = -n ]; then
				nrun=$((nrun + 1))
				check "${page##*/} example runs: $cmd (on the test's file)" \
				    sh -c "'$POLRECD' -n -f '$T/polrecd.conf' >'$T/n.out' 2>&1"
			else
				echo "# ${page##*/}: not run (starting polrecd is what every script does): $cmd"
			fi
			;;
		*)
			echo "# ${page##*/}: not ours, not run: $cmd"
			;;
		esac
	done <"$T/examples"
done
echo "# examples: $nparsed polrecctl lines parsed, $nrun run against a test polrecd"
check "examples found and run" test "$nrun" -ge 6
check "SIGTERM: clean exit 0" stop_polrecd
exit $FAILED
