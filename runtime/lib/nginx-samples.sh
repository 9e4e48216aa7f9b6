#!/usr/bin/env bash
# nginx-samples.sh PORT PERIOD: every PERIOD seconds, one line from nginx's stub_status in Heroku's
# l2met form, for log-based metrics:
#   sample#nginx.connections.active=5 … count#nginx.requests=120 count#nginx.connections.dropped=0
# sample# are the connections at that moment, count# what happened since the line before (dropped:
# accepted but not handled, worker_connections being full). Run by start-nginx as a supervised
# child; it never ends on its own. It asks nginx over 127.0.0.1:PORT in plain bash (no curl needed)
# and leaves its own request and connection out of the figures.
set -euo pipefail
# shellcheck source=runtime/lib/nap.sh
. "$(dirname "${BASH_SOURCE[0]}")/nap.sh"
port=$1 period=$2
STATUS_PATH=/.nginx-pgbouncer/stub_status
# The dyno's SIGTERM is not for us: start-nginx stops us with SIGHUP once nginx is gone (see
# supervise.sh).
trap '' TERM
trap 'exit 0' HUP

# read_status: ACTIVE READING WRITING WAITING ACCEPTED HANDLED REQUESTS from stub_status; fails
# when nginx does not answer with it (an app's own config without the location).
read_status() {
  local line head="" body=()
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$STATUS_PATH" >&3
  while IFS= read -r -t 5 line <&3; do
    line=${line%$'\r'}
    [[ -n $head ]] || head=$line
    body+=("$line")
  done
  exec 3<&-
  [[ $head == "HTTP/1."?" 200"* ]] || return 1
  [[ ${body[*]} =~ Active\ connections:\ ([0-9]+).*\ ([0-9]+)\ ([0-9]+)\ ([0-9]+)\ *Reading:\ ([0-9]+)\ Writing:\ ([0-9]+)\ Waiting:\ ([0-9]+) ]] || return 1
  local m=("${BASH_REMATCH[@]}")
  STATUS=("${m[1]}" "${m[5]}" "${m[6]}" "${m[7]}" "${m[2]}" "${m[3]}" "${m[4]}")
}

if ! read_status 2>/dev/null; then
  echo "nginx-samples: no stub_status at 127.0.0.1:$port$STATUS_PATH: samples are off (an own config/nginx.conf.erb needs the location of the README's \"Seeing nginx\")" >&2
  while :; do nap 3600; done
fi
last=("${STATUS[@]}")
while :; do
  nap "$period"
  read_status 2>/dev/null || continue
  # Our own request is in the counters, and our own connection is active and writing.
  printf 'sample#nginx.connections.active=%d sample#nginx.connections.reading=%d sample#nginx.connections.writing=%d sample#nginx.connections.waiting=%d count#nginx.requests=%d count#nginx.connections.dropped=%d\n' \
    $((STATUS[0] - 1)) "${STATUS[1]}" $((STATUS[2] - 1)) "${STATUS[3]}" \
    $((STATUS[6] - last[6] - 1)) $(((STATUS[4] - last[4]) - (STATUS[5] - last[5])))
  last=("${STATUS[@]}")
done
