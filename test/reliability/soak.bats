#!/usr/bin/env bats
# The soak: SOAK_ROUNDS rounds (15 by default, each server with each end once; the record run is
# SOAK_ROUNDS=200 npm run -s test:soak) of the reference article's web dyno, for gunicorn, uWSGI
# and waitress in turn, each booted under load and ended one way in turn: SIGTERM to every
# process as Heroku sends it, or kill -9 of nginx's master, the app server, pgbouncer or stunnel.
# Every round must hold all of:
#   - every process of the dyno gone within 10 s of the end;
#   - after a SIGTERM: exit status 0, or 143 where the app server ends by that SIGTERM itself
#     (waitress), and every request in flight answered: 200 under gunicorn, which drains; under
#     uWSGI (the article's die-on-term) and waitress, which end their requests at once when
#     Heroku's SIGTERM reaches them (it reaches every process), 200 or nginx's 502, never a hang
#     or a reset; the load's requests answered so, or refused;
#   - after a kill -9: exit status non-zero (Heroku restarts the dyno);
#   - nothing left behind, zombies included.
load ../support/helpers

# SOAK_SERVERS and SOAK_ENDS narrow a run to the cases being chased (SOAK_ENDS="pgbouncer stunnel").
read -ra SERVERS <<<"${SOAK_SERVERS:-gunicorn uwsgi waitress}"
read -ra ENDS <<<"${SOAK_ENDS:-sigterm nginx app pgbouncer stunnel}"

setup_file() {
  load ../support/helpers
  start_platform
  local server
  for server in "${SERVERS[@]}"; do django_slug "$server" heroku-24 >/dev/null; done
}

teardown_file() { stop_platform; }

teardown() { stop_dyno_if_running; }

# app_pattern SERVER: how pkill finds the app server's master (not the supervisor, whose command
# line ends with the app's).
app_pattern() {
  case $1 in gunicorn) echo 'bin/gunicorn' ;; uwsgi) echo '^uwsgi uwsgi.ini' ;; waitress) echo '^python run.py' ;; esac
}

# load_until FILE STOPFILE: requests to / one after another until STOPFILE exists, each outcome
# on a line of FILE: the HTTP code, 000 for a refused connection.
load_until() {
  while [[ ! -e $2 ]]; do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 "http://127.0.0.1:$PORT/" || true
  done >"$1"
}

# snapshot FILE: what of the dyno still runs, into FILE: each process with its group, state and
# signal masks (one whose SIGTERM is pending, blocked or not caught has missed the stop). For the
# failure message of a slow end.
snapshot() {
  local pid
  {
    ps -u "$DYNO_USER" -o pid=,ppid=,pgid=,stat=,etimes=,wchan:24=,args=
    for pid in $(pgrep -u "$DYNO_USER"); do
      echo "$pid $(grep -E '^(SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt)' "/proc/$pid/status" 2>/dev/null | xargs)"
    done
  } >"$1"
}

# soak_round N: round N, or a failure naming the round and what broke.
soak_round() {
  local n=$1 server=${SERVERS[$1 % ${#SERVERS[@]}]} end=${ENDS[$1 / ${#SERVERS[@]} % ${#ENDS[@]}]} slug w="$BATS_TEST_TMPDIR/r$1"
  mkdir -p "$w"
  slug=$(django_slug "$server" heroku-24)
  dyno::clear_tmp
  PORT=$("$REPO/test/support/free-port.sh")
  load_until "$w/load" "$w/stop" &
  local load=$!
  start_dyno "$slug" "$(procfile "$slug" web)"
  dyno::wait_http / 30 || { tail -n 20 "$DYNO_LOG"; echo "round $n ($server): did not boot"; return 1; }
  local inflight=()
  if [[ $end == sigterm ]]; then
    # In flight means in the app: a request still in the socket's backlog when the app stops
    # accepting (its workers still booting) is one no app server answers.
    local marks="$TEST_WORK/inflight-$n" i
    mkdir -p "$marks" && chown "$DYNO_USER" "$marks"
    for i in 1 2; do curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 "http://127.0.0.1:$PORT/slow?s=1&mark=$marks/$i" >>"$w/inflight" & inflight+=($!); done
    for _ in $(seq 200); do [[ -e $marks/1 && -e $marks/2 ]] && break; sleep 0.05; done
    [[ -e $marks/1 && -e $marks/2 ]] || { tail -n 20 "$DYNO_LOG"; echo "round $n ($server): the requests did not reach the app in 10 s"; return 1; }
  fi
  local started=$SECONDS status=0
  case $end in
    sigterm) pkill -TERM -u "$DYNO_USER" ;;
    nginx) pkill -KILL -o -u "$DYNO_USER" -f 'nginx: master' ;;
    app) pkill -KILL -o -u "$DYNO_USER" -f "$(app_pattern "$server")" ;;
    pgbouncer) pkill -KILL -o -u "$DYNO_USER" -f 'vendor/pgbouncer/bin/pgbouncer' ;;
    stunnel) pkill -KILL -o -u "$DYNO_USER" -f 'vendor/stunnel/bin/stunnel' ;;
  esac || { echo "round $n ($server, $end): nothing to end"; return 1; }
  # Past 5 s the end is already too slow: what still runs then goes into the failure message.
  while kill -0 "$DYNO_PID" 2>/dev/null; do
    [[ -e $w/snapshot ]] || ((SECONDS - started < 5)) || snapshot "$w/snapshot"
    sleep 0.1
  done
  wait "$DYNO_PID" || status=$?
  local left="" took=$((SECONDS - started))
  while ((SECONDS - started <= 10)); do
    left=$(ps -u "$DYNO_USER" -o pid=,stat=,args= || true)
    [[ -n $left ]] || break
    sleep 0.1
  done
  touch "$w/stop"
  wait "$load" ${inflight[@]+"${inflight[@]}"} || true
  local what="round $n ($server, $end)"
  ((took <= 10)) || { tail -n 40 "$DYNO_LOG"; echo "still running 5 s after the end began:"; cat "$w/snapshot"; echo "$what: the dyno took $took s to end"; return 1; }
  [[ -z $left ]] || { echo "$what: still there after 10 s: $left"; return 1; }
  if [[ $end == sigterm ]]; then
    ((status == 0 || status == 143)) || { tail -n 20 "$DYNO_LOG"; echo "$what: exit status $status"; return 1; }
    local answers='^200$'
    [[ $server == gunicorn ]] || answers='^(200|502)$'
    ! grep -qvE "$answers" "$w/inflight" || { tail -n 30 "$DYNO_LOG"; echo "$what: in flight: $(xargs <"$w/inflight")"; return 1; }
    ! grep -qvE "$answers|^000$" "$w/load" || { echo "$what: the load got $(sort "$w/load" | uniq -c | xargs)"; return 1; }
  else
    ((status != 0)) || { echo "$what: exit status 0"; return 1; }
  fi
  grep -q "stopped (exit status $status)" "$DYNO_LOG" || { tail -n 20 "$DYNO_LOG"; echo "$what: no last line with status $status"; return 1; }
}

@test "soak: booted under load, ended by SIGTERM or kill -9 of each part, for each server: every round clean" {
  local rounds=${SOAK_ROUNDS:-15} n started=$SECONDS
  for ((n = 0; n < rounds; n++)); do
    run soak_round "$n"
    ((status == 0)) || fail "$output"
  done
  echo "# $rounds rounds in $((SECONDS - started)) s, none failed" >&3
}
