#!/usr/bin/env bash
# openclaw autoscaler (root, on a timer): reads the task queue's depth from PostgreSQL and
# starts or stops one openclaw-worker@N instance per run, between the configured bounds.
# Hosts sharing the queue take turns through a Redis lock. Parameters: ../config/autoscale.conf.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
load_conf "${OPENCLAW_HOST_CONF:-$HERE/../config/host.conf}"
load_conf "${OPENCLAW_CONF:-$HERE/../config/autoscale.conf}"

report() { # report DEPTH WORKERS ACTION
  printf '{"timestamp": %s, "depth": %s, "workers": %s, "action": %s}\n' "$(now)" \
    "${1:-null}" "$2" "$(json_str "$3")" | write_atomic "$AUTOSCALE_REPORT" ||
    log "cannot write $AUTOSCALE_REPORT"
}

# The URL's password goes through the environment, never the command line (ps shows that).
url=${!QUEUE_URL_ENV:-}
if [ -z "$url" ]; then
  log "$QUEUE_URL_ENV is not set in the .env"
  exit 78
fi
if ! pg_env "$url"; then
  log "$QUEUE_URL_ENV is not a postgres:// URL"
  exit 78
fi
if ! depth=$(PGCONNECT_TIMEOUT=10 psql -X -A -t -q -v ON_ERROR_STOP=1 \
    -c "$DEPTH_QUERY" 2>&1); then
  log "cannot read the queue depth: ${depth//$'\n'/ }"
  exit 1
fi
depth=${depth//[[:space:]]/}
if ! [[ $depth =~ ^[0-9]+$ ]]; then
  log "the depth query did not return a count: $depth"
  exit 1
fi

active=()
for ((i = 1; i <= MAX_INSTANCES; i++)); do
  systemctl is-active --quiet "openclaw-worker@$i.service" && active+=("$i")
done
count=${#active[@]}

if [ -n "$LOCK_URL_ENV" ]; then
  lock_url=${!LOCK_URL_ENV:-}
  if [ -z "$lock_url" ]; then
    log "$LOCK_URL_ENV is not set in the .env"
    exit 78
  fi
  if [[ $lock_url =~ ^(rediss?://)(([^:@/]*):([^@]*)@)?(.*)$ ]] && [ -n "${BASH_REMATCH[2]}" ]; then
    export REDISCLI_AUTH="${BASH_REMATCH[4]}"
    lock_url="${BASH_REMATCH[1]}${BASH_REMATCH[3]:+${BASH_REMATCH[3]}@}${BASH_REMATCH[5]}"
  fi
  rc() { redis-cli --no-auth-warning -u "$lock_url" "$@" 2>/dev/null; }
  # One host decides at a time; the lock is leased for one decision and released after it
  # (only if still this host's), so hosts sharing the queue take turns.
  if [ "$(rc SET "$LOCK_KEY" "$HOST_NAME" NX EX "$LOCK_TTL")" != OK ]; then
    holder=$(rc GET "$LOCK_KEY")
    log "queue depth $depth, $count worker(s): ${holder:-another host} holds the scaling lock"
    report "$depth" "$count" "waiting for ${holder:-the lock}"
    exit 0
  fi
  release() {
    rc EVAL "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end" \
      1 "$LOCK_KEY" "$HOST_NAME" >/dev/null
  }
  trap release EXIT
fi

action="none"
if fcmp "$depth" "$UP_OP" "$UP_AT" && [ "$count" -lt "$MAX_INSTANCES" ]; then
  for ((i = 1; i <= MAX_INSTANCES; i++)); do
    if ! systemctl is-active --quiet "openclaw-worker@$i.service"; then
      systemctl start "openclaw-worker@$i.service" && action="started openclaw-worker@$i"
      break
    fi
  done
elif fcmp "$depth" "$DOWN_OP" "$DOWN_AT" && [ "$count" -gt "$MIN_INSTANCES" ]; then
  last=${active[$((count - 1))]}
  if [ "$last" -gt "$MIN_INSTANCES" ]; then
    systemctl stop "openclaw-worker@$last.service" && action="stopped openclaw-worker@$last"
  fi
fi
log "queue depth $depth, $count worker(s): $action"
[ "$action" = none ] || count=$(systemctl list-units --state=active --no-legend \
  'openclaw-worker@*.service' 2>/dev/null | wc -l)
report "$depth" "$count" "$action"
