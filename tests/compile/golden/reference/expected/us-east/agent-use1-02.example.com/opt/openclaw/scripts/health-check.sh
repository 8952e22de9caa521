#!/usr/bin/env bash
# openclaw health check: the gateway and each provider probed through a circuit breaker with
# retries, host checks (units, disk, memory, workspace), the degradation mode, a JSON report
# and a Prometheus textfile. Every parameter comes from ../config/health-check.conf.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
load_conf "${OPENCLAW_HOST_CONF:-$HERE/../config/host.conf}"
load_conf "${OPENCLAW_CONF:-$HERE/../config/health-check.conf}"
# What each degradation mode keeps stopped (OFF_<MODE>), as mode.sh applies it.
load_conf "${OPENCLAW_MODE_CONF:-$HERE/../config/mode.conf}"

NOW=$(now)
BREAKER_DIR="$STATE_DIR/breakers"
mkdir -p "$BREAKER_DIR" "$LOG_DIR" || exit 1

CHECKS_JSON=()
METRICS=()
FAILED=0
TOTAL=0

record() { # record NAME ok|fail|skipped DETAIL
  CHECKS_JSON+=("{\"name\": $(json_str "$1"), \"status\": $(json_str "$2"), \"detail\": $(json_str "$3")}")
  local v=1
  [ "$2" = fail ] && v=0
  [ "$2" = skipped ] || METRICS+=("openclaw_check_ok{check=$(json_str "$1")} $v")
  if [ "$2" != skipped ]; then
    TOTAL=$((TOTAL + 1))
    [ "$2" = ok ] || FAILED=$((FAILED + 1))
  fi
}

alert() { "$ALERT_CMD" "$@" || log "alert command failed: $*"; }

# --- probes and retries -------------------------------------------------------------------

# probe_once URL TIMEOUT KEYENV: prints "CODE SECONDS"; CODE is the HTTP status, "timeout",
# or "000" when nothing answered. KEYENV "-": the LLM gateway holds the key, none is sent.
probe_once() {
  local conf out rc
  conf="url = $(curl_quote "$1")"
  if [ -n "$3" ] && [ "$3" != - ] && [ -n "${!3:-}" ]; then
    conf+=$'\n'"header = $(curl_quote "Authorization: Bearer ${!3}")"
  fi
  out=$(printf '%s\n' "$conf" | curl -sS -o /dev/null -w '%{http_code} %{time_total}' \
    --max-time "$2" --config - 2>/dev/null)
  rc=$?
  if [ "$rc" -eq 28 ]; then
    printf 'timeout %s\n' "$2"
  else
    printf '%s\n' "${out:-000 0}"
  fi
}

matches() { # matches SPEC CODE: 429 = 429, 5xx = 5??, timeout = timeout
  case $1 in
    timeout) [ "$2" = timeout ] ;;
    ?xx) [ "${2:0:1}" = "${1:0:1}" ] && [ "$2" != timeout ] ;;
    *) [ "$1" = "$2" ] ;;
  esac
}

retryable() { # retryable CODE: never on do_not_retry_on, only on retry_on
  local spec code=$1
  [ "$code" = 000 ] && code=timeout # no answer at all counts as a timeout
  for spec in "${RETRY_NEVER[@]}"; do matches "$spec" "$code" && return 1; done
  for spec in "${RETRY_ON[@]}"; do matches "$spec" "$code" && return 0; done
  return 1
}

next_delay() {
  case $RETRY_BACKOFF in
    exponential) awk -v d="$1" -v m="$RETRY_MAX_DELAY" 'BEGIN { d *= 2; print (d > m ? m : d) }' ;;
    linear) awk -v d="$1" -v i="$RETRY_INITIAL_DELAY" -v m="$RETRY_MAX_DELAY" \
      'BEGIN { d += i; print (d > m ? m : d) }' ;;
    *) printf '%s\n' "$1" ;;
  esac
}

# probe URL TIMEOUT KEYENV MAX_ATTEMPTS: sets CODE, LATENCY, ATTEMPTS; success = 2xx/3xx.
probe() {
  local attempt=1 delay=$RETRY_INITIAL_DELAY
  while :; do
    read -r CODE LATENCY < <(probe_once "$1" "$2" "$3")
    ATTEMPTS=$attempt
    case $CODE in [23]??) return 0 ;; esac
    # Probed without its key (the LLM gateway's): refusing the missing key is an answer.
    if [ "$3" = - ]; then case $CODE in 401 | 403) return 0 ;; esac; fi
    retryable "$CODE" || return 1
    [ "$attempt" -lt "$4" ] || return 1
    pause "$delay"
    delay=$(next_delay "$delay")
    attempt=$((attempt + 1))
  done
}

# --- circuit breakers ---------------------------------------------------------------------

read_breaker() { # sets B_STATE B_FAILURES B_OPENED B_COOLDOWN B_LAST B_NOTE
  local file="$BREAKER_DIR/$1.json" json
  B_STATE=CLOSED B_FAILURES=0 B_OPENED=0 B_COOLDOWN=$BREAKER_COOLDOWN_MIN B_LAST=0 B_NOTE=""
  [ -e "$file" ] || return 0
  json=$(cat "$file" 2>/dev/null)
  if [[ $json =~ \"state\":\ *\"(CLOSED|OPEN|HALF_OPEN)\" ]]; then
    B_STATE=${BASH_REMATCH[1]}
    [[ $json =~ \"failures\":\ *([0-9]+) ]] && B_FAILURES=${BASH_REMATCH[1]}
    [[ $json =~ \"opened_at\":\ *([0-9]+) ]] && B_OPENED=${BASH_REMATCH[1]}
    [[ $json =~ \"cooldown\":\ *([0-9.]+) ]] && B_COOLDOWN=${BASH_REMATCH[1]}
    [[ $json =~ \"last_check\":\ *([0-9]+) ]] && B_LAST=${BASH_REMATCH[1]}
  else
    B_NOTE="state file was unreadable; treated as CLOSED"
    log "breaker $1: $B_NOTE"
  fi
}

write_breaker() {
  printf '{"target": %s, "state": "%s", "failures": %s, "opened_at": %s, "cooldown": %s, "last_check": %s}\n' \
    "$(json_str "$1")" "$B_STATE" "$B_FAILURES" "$B_OPENED" "$B_COOLDOWN" "$B_LAST" |
    write_atomic "$BREAKER_DIR/$1.json" || log "cannot write breaker state of $1"
}

open_breaker() { # open_breaker TARGET COOLDOWN
  B_STATE=OPEN B_OPENED=$NOW B_COOLDOWN=$2
  alert fire "breaker-$1" critical "circuit breaker OPEN for $1 on $HOST_NAME ($REGION): last result $CODE; next probe in ${2}s"
}

# breaker TARGET URL TIMEOUT KEYENV: sets RESULT (ok|fail|open) and updates the breaker.
breaker() {
  local target=$1 before
  read_breaker "$target"
  before=$B_STATE
  CODE="" LATENCY=0 ATTEMPTS=0
  if [ "$B_STATE" != CLOSED ] && [ $((NOW - B_LAST)) -lt "${BREAKER_PROBE_INTERVAL%.*}" ]; then
    RESULT=open # looked at less than probe_interval ago
    return
  fi
  # The gateway is ours and cheap to ask: while open it gets a half-open probe every
  # probe_interval, and the first success closes it (a fixed gateway is healthy at once,
  # not after the cooldown). A provider waits out its cooldown.
  if [ "$B_STATE" = OPEN ] && [ "$target" != gateway ] &&
    fcmp $((NOW - B_OPENED)) "<" "$B_COOLDOWN"; then
    B_LAST=$NOW
    RESULT=open
    write_breaker "$target"
    return
  fi
  [ "$B_STATE" = OPEN ] && B_STATE=HALF_OPEN
  B_LAST=$NOW
  if [ "$B_STATE" = HALF_OPEN ]; then # one probe decides
    if probe "$2" "$3" "$4" 1; then
      B_STATE=CLOSED B_FAILURES=0 B_COOLDOWN=$BREAKER_COOLDOWN_MIN
      RESULT=ok
      alert resolve "breaker-$target" "circuit breaker CLOSED again for $target on $HOST_NAME"
    else
      open_breaker "$target" "$(awk -v c="$B_COOLDOWN" -v m="$BREAKER_COOLDOWN_MAX" \
        'BEGIN { c *= 2; print (c > m ? m : c) }')"
      RESULT=fail
    fi
  elif probe "$2" "$3" "$4" "$RETRY_MAX_ATTEMPTS"; then
    B_FAILURES=0
    RESULT=ok
  else
    B_FAILURES=$((B_FAILURES + 1))
    RESULT=fail
    if [ "$B_FAILURES" -ge "$BREAKER_FAILURE_THRESHOLD" ]; then
      open_breaker "$target" "$BREAKER_COOLDOWN_MIN"
    fi
  fi
  write_breaker "$target"
  [ "$before" = "$B_STATE" ] || log "breaker $target: $before -> $B_STATE"
}

BREAKERS_JSON=()
check_target() { # check_target NAME URL TIMEOUT KEYENV
  breaker "$@"
  local detail="$CODE after $ATTEMPTS attempt(s)"
  [ "$RESULT" = open ] && detail="breaker open, not probed"
  [ -n "$B_NOTE" ] && detail="$detail; $B_NOTE"
  record "probe:$1" "$([ "$RESULT" = ok ] && echo ok || echo fail)" "$detail"
  BREAKERS_JSON+=("$(json_str "$1"): {\"state\": \"$B_STATE\", \"failures\": $B_FAILURES, \"cooldown\": $B_COOLDOWN, \"opened_at\": $B_OPENED}")
  local n=0
  case $B_STATE in HALF_OPEN) n=1 ;; OPEN) n=2 ;; esac
  METRICS+=("openclaw_breaker_state{target=$(json_str "$1")} $n")
}

# --- the checks ---------------------------------------------------------------------------

# A gateway whose unit became active less than the startup delay ago and does not answer yet
# is starting: not a failure, and not counted by its breaker.
GATEWAY_STARTING=""
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 &&
  [ "$(systemctl show -p ActiveState --value openclaw-gateway.service 2>/dev/null)" = active ]; then
  since=$(systemctl show -p ActiveEnterTimestampMonotonic --value openclaw-gateway.service)
  read -r up _ </proc/uptime
  age=$(( ${up%.*} - ${since:-0} / 1000000 ))
  [ "${since:-0}" -gt 0 ] && [ "$age" -lt "${STARTUP_DELAY%.*}" ] && GATEWAY_STARTING=$age
fi
if [ -n "$GATEWAY_STARTING" ] &&
  ! curl -fsS -o /dev/null --max-time "$LIVENESS_TIMEOUT" "$GATEWAY_URL$LIVENESS_PATH" 2>/dev/null
then
  record probe:gateway skipped "starting: active ${GATEWAY_STARTING}s of the ${STARTUP_DELAY%.*}s startup delay"
  GATEWAY_RESULT=starting
  GATEWAY_LATENCY=0
else
  check_target gateway "$GATEWAY_URL$LIVENESS_PATH" "$LIVENESS_TIMEOUT" ""
  GATEWAY_RESULT=$RESULT
  GATEWAY_LATENCY=$LATENCY
fi
if [ "$GATEWAY_RESULT" = ok ]; then
  if probe "$GATEWAY_URL$READINESS_PATH" "$READINESS_TIMEOUT" "" "$RETRY_MAX_ATTEMPTS"; then
    record readiness ok "$CODE"
  else
    # OpenClaw's /readyz says how long it has been up: a gateway still starting (its
    # sidecars, its state migration) is not a failure until the startup delay has passed.
    body=$(curl -s --max-time "$READINESS_TIMEOUT" "$GATEWAY_URL$READINESS_PATH" 2>/dev/null |
      head -c 4000)
    uptime_ms=-1
    [[ $body =~ \"uptimeMs\":\ *([0-9]+) ]] && uptime_ms=${BASH_REMATCH[1]}
    if [ "$uptime_ms" -ge 0 ] && [ "$uptime_ms" -lt $(( ${STARTUP_DELAY%.*} * 1000 )) ]; then
      record readiness skipped "starting: up $((uptime_ms / 1000))s of the ${STARTUP_DELAY%.*}s startup delay"
    else
      record readiness fail "$CODE after $ATTEMPTS attempt(s)"
    fi
  fi
else
  record readiness skipped "gateway not live ($GATEWAY_RESULT)"
fi

PROVIDERS_DOWN=0
for i in "${!PROVIDER_NAMES[@]}"; do
  if [ -z "${PROVIDER_URLS[$i]}" ]; then
    record "probe:${PROVIDER_NAMES[$i]}" skipped "no endpoint configured"
    continue
  fi
  check_target "${PROVIDER_NAMES[$i]}" "${PROVIDER_URLS[$i]}" "${PROVIDER_TIMEOUTS[$i]}" \
    "${PROVIDER_KEY_ENVS[$i]}"
  [ "$B_STATE" = OPEN ] && PROVIDERS_DOWN=$((PROVIDERS_DOWN + 1))
done

# Units the mode in force keeps stopped (mode.sh) are not failures.
IN_FORCE=$(head -n 1 "$STATE_DIR/mode" 2>/dev/null)
case $IN_FORCE in FULL | DEGRADED | MINIMAL | MAINTENANCE) ;; *) IN_FORCE=FULL ;; esac
declare -n HELD="OFF_$IN_FORCE"
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  for unit in "${UNITS[@]}"; do
    if [[ " ${HELD[*]} " == *" $unit "* ]]; then
      record "unit:$unit" skipped "stopped by the $IN_FORCE mode"
    elif state=$(systemctl is-active "$unit" 2>/dev/null); then
      record "unit:$unit" ok "$state"
    else
      record "unit:$unit" fail "${state:-unknown}"
    fi
  done
else
  record units skipped "no running systemd"
fi

# secrets.audit.alert_on_access: non-root accesses to the .env the audit check counted.
if [ -n "$AUDIT_HITS_FILE" ] && read -r a_total a_when a_user a_comm <"$AUDIT_HITS_FILE" 2>/dev/null
then
  a_seen=$(cat "$AUDIT_SEEN_FILE" 2>/dev/null || echo 0)
  if [ "${a_total:-0}" -gt "${a_seen:-0}" ] 2>/dev/null; then
    alert fire secrets-access critical "the .env files on $HOST_NAME ($REGION) was accessed by ${a_user:-?} (${a_comm:-?}) at $(date -u -d "@${a_when:-0}" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo "${a_when:-?}"); $((a_total - a_seen)) new access(es)"
    printf '%s\n' "$a_total" | write_atomic "$AUDIT_SEEN_FILE" || log "cannot write $AUDIT_SEEN_FILE"
  fi
  record audit ok "${a_total:-0} non-root access(es) to the .env files"
fi

DISK_PCT=$(df -P "$ROOT" 2>/dev/null | awk 'NR == 2 { sub("%", "", $5); print $5 }')
if [ -z "$DISK_PCT" ]; then
  record disk fail "df failed for $ROOT"
elif fcmp "$DISK_PCT" ">" "$(awk -v f="$DISK_MAX_USAGE" 'BEGIN { print f * 100 }')"; then
  record disk fail "${DISK_PCT}% used"
else
  record disk ok "${DISK_PCT}% used"
fi

# Bash's 64-bit arithmetic: mawk's printf %d stops at 2^31 - 1 (2 GiB in bytes).
MEM_AVAIL=0 MEM_TOTAL=0
while read -r name value _; do
  case $name in
    MemAvailable:) [[ $value =~ ^[0-9]+$ ]] && MEM_AVAIL=$((value * 1024)) ;;
    MemTotal:) [[ $value =~ ^[0-9]+$ ]] && MEM_TOTAL=$((value * 1024)) ;;
  esac
done <"${OPENCLAW_MEMINFO:-/proc/meminfo}"
if fcmp "$MEM_AVAIL" "<" "$MEMORY_MIN_FREE"; then
  record memory fail "$MEM_AVAIL bytes available"
else
  record memory ok "$MEM_AVAIL bytes available"
fi

missing=()
for f in "${WORKSPACE_FILES[@]}"; do
  [ -e "$WORKSPACE_DIR/$f" ] || missing+=("$f")
done
if [ "${#missing[@]}" -eq 0 ]; then
  record workspace ok "${#WORKSPACE_FILES[@]} file(s) present"
else
  record workspace fail "missing: ${missing[*]}"
fi

# --- degradation --------------------------------------------------------------------------

# Request figures from the LLM gateway's usage records of the last REQUEST_WINDOW seconds:
# the share of failed provider calls and the p99 latency of answered ones. With fewer than
# MIN_REQUESTS calls (or no gateway), the probes of this run stand in.
ERROR_RATE=$(awk -v f="$FAILED" -v t="$TOTAL" 'BEGIN { print (t ? f / t : 0) }')
P99_LATENCY=$GATEWAY_LATENCY
FIGURES=probes
if [ -n "$USAGE_DIR" ] && [ -d "$USAGE_DIR" ]; then
  since=$((NOW - REQUEST_WINDOW))
  days=("$USAGE_DIR/usage-$(date -u -d "@$since" +%F).tsv" "$USAGE_DIR/usage-$(date -u -d "@$NOW" +%F).tsv")
  [ "${days[0]}" = "${days[1]}" ] && days=("${days[0]}")
  existing=()
  for f in "${days[@]}"; do [ -f "$f" ] && existing+=("$f"); done
  if [ "${#existing[@]}" -gt 0 ]; then
    stats=$(awk -F '\t' -v since="$since" -v now="$NOW" '
      NF == 9 && $1 ~ /^[0-9]+$/ && $1 >= since && $1 <= now && ($7 == "ok" || $7 == "error") {
        n++; if ($7 == "error") bad++; else if ($9 ~ /^[0-9]+$/) print $9 }
      END { printf "N %d %d\n", n, bad }' "${existing[@]}" | sort -n)
    read -r _ n_calls n_failed < <(grep '^N ' <<<"$stats")
    if [ "${n_calls:-0}" -ge "$MIN_REQUESTS" ]; then
      ERROR_RATE=$(awk -v f="$n_failed" -v t="$n_calls" 'BEGIN { print f / t }')
      latencies=$(grep -v '^N ' <<<"$stats")
      k=$(grep -c . <<<"$latencies")
      if [ "$k" -gt 0 ]; then
        p99_ms=$(sed -n "$(((99 * k + 99) / 100))p" <<<"$latencies")
        P99_LATENCY=$(awk -v m="$p99_ms" 'BEGIN { print m / 1000 }')
      fi
      FIGURES="requests: $n_calls call(s), $n_failed failed, in ${REQUEST_WINDOW}s"
    fi
  fi
fi
rank() { case $1 in FULL) echo 0 ;; DEGRADED) echo 1 ;; MINIMAL) echo 2 ;; *) echo 3 ;; esac; }
MODE=FULL
REASONS=()
degrade() { # degrade MODE REASON
  REASONS+=("$2")
  [ "$(rank "$1")" -gt "$(rank "$MODE")" ] && MODE=$1
}
if [ -e "$MAINTENANCE_FLAG" ]; then
  degrade "$MODE_MAINTENANCE" "maintenance flag $MAINTENANCE_FLAG"
fi
if [ "$GATEWAY_RESULT" = ok ] && fcmp "$P99_LATENCY" "${DEGRADE_HIGH_LATENCY[0]}" "${DEGRADE_HIGH_LATENCY[1]}"; then
  degrade "${DEGRADE_HIGH_LATENCY[2]}" "high_latency: ${P99_LATENCY}s p99 ($FIGURES)"
fi
if fcmp "$ERROR_RATE" "${DEGRADE_HIGH_ERROR_RATE[0]}" "${DEGRADE_HIGH_ERROR_RATE[1]}"; then
  degrade "${DEGRADE_HIGH_ERROR_RATE[2]}" "high_error_rate: $ERROR_RATE ($FIGURES)"
fi
if fcmp "$MEM_AVAIL" "${DEGRADE_RESOURCE_PRESSURE[0]}" "${DEGRADE_RESOURCE_PRESSURE[1]}"; then
  degrade "${DEGRADE_RESOURCE_PRESSURE[2]}" "resource_pressure: $MEM_AVAIL bytes available"
fi
if [ "${#PROVIDER_NAMES[@]}" -gt 0 ] && [ "$PROVIDERS_DOWN" -eq "${#PROVIDER_NAMES[@]}" ]; then
  degrade "$MODE_ALL_PROVIDERS_DOWN" "all providers down"
fi
# Worse at once, better only after RECOVER_RUNS runs in a row that say so (hysteresis): a
# host does not flap between modes. The file changes only with the mode: root's
# openclaw-mode.path applies each change (mode.sh).
PREVIOUS_MODE=$(head -n 1 "$STATE_DIR/mode" 2>/dev/null)
case $PREVIOUS_MODE in FULL | DEGRADED | MINIMAL | MAINTENANCE) ;; *) PREVIOUS_MODE=FULL ;; esac
WANTED=$MODE
if [ "$(rank "$MODE")" -lt "$(rank "$PREVIOUS_MODE")" ]; then
  read -r r_mode r_count _ <"$STATE_DIR/mode-recovery" 2>/dev/null || true
  [ "${r_mode:-}" = "$MODE" ] && [[ ${r_count:-} =~ ^[0-9]+$ ]] || r_count=0
  r_count=$((r_count + 1))
  if [ "$r_count" -lt "$RECOVER_RUNS" ]; then
    printf '%s %s\n' "$MODE" "$r_count" | write_atomic "$STATE_DIR/mode-recovery" ||
      log "cannot record the recovery count"
    REASONS+=("recovering to $MODE: $r_count of $RECOVER_RUNS runs")
    MODE=$PREVIOUS_MODE
  fi
fi
[ "$MODE" = "$WANTED" ] && rm -f "$STATE_DIR/mode-recovery"
if [ "$MODE" != "$PREVIOUS_MODE" ] || [ ! -f "$STATE_DIR/mode" ]; then
  printf '%s\n' "$MODE" | write_atomic "$STATE_DIR/mode" || log "cannot record mode"
fi
if [ "$MODE" != "$PREVIOUS_MODE" ]; then
  if [ "$MODE" = FULL ]; then
    alert resolve degradation "$HOST_NAME back to FULL service"
  else
    # A worse mode is a new alert (the mode is its state): MINIMAL is critical.
    alert fire degradation "$([ "$MODE" = MINIMAL ] && echo critical || echo warning)" \
      "$HOST_NAME is $MODE: ${REASONS[*]}" "$MODE"
  fi
fi

# --- threshold alerts ---------------------------------------------------------------------

threshold() { # threshold KEY OBSERVED OP VALUE TEXT
  if fcmp "$2" "$3" "$4"; then
    alert fire "$1" warning "$5 on $HOST_NAME ($REGION)"
  else
    alert resolve "$1" "$1 back to normal on $HOST_NAME"
  fi
}
threshold error_rate "$ERROR_RATE" "${ALERT_ERROR_RATE[@]}" "error rate $ERROR_RATE"
threshold latency_p99 "$GATEWAY_LATENCY" "${ALERT_LATENCY_P99[@]}" "gateway latency ${GATEWAY_LATENCY}s"
MEM_USED=$(awk -v a="$MEM_AVAIL" -v t="$MEM_TOTAL" 'BEGIN { print (t ? 1 - a / t : 0) }')
threshold memory_usage "$MEM_USED" "${ALERT_MEMORY_USAGE[@]}" "memory use $MEM_USED"
threshold disk_usage "$(awk -v p="${DISK_PCT:-0}" 'BEGIN { print p / 100 }')" \
  "${ALERT_DISK_USAGE[@]}" "disk use ${DISK_PCT:-?}%"

# --- replica age (deployment.failover.replicate) -----------------------------------------

REPLICA_JSON=null
if [ -n "${REPLICA_RPO:-}" ]; then
  read -r r_at r_peer _ <"$REPLICA_RECORD" 2>/dev/null || true
  if [[ ${r_at:-} =~ ^[0-9]+$ ]]; then
    r_age=$((NOW - r_at))
    r_text="${r_age}s old on ${r_peer:-?}"
  else
    # Never replicated: counted from when replication was set up on this host.
    r_age=$((NOW - $(stat -c %Y "$REPLICA_SINCE_FILE" 2>/dev/null || echo "$NOW")))
    r_text="never replicated"
  fi
  if [ "$r_age" -gt "$REPLICA_RPO" ]; then
    alert fire replica-stale warning "replica of $HOST_NAME ($REGION) over the rpo of ${REPLICA_RPO}s: $r_text"
  else
    alert resolve replica-stale "replica of $HOST_NAME within the rpo again"
  fi
  REPLICA_JSON=$(printf '{"peer": %s, "age_seconds": %s, "rpo_seconds": %s}' \
    "$([[ ${r_at:-} =~ ^[0-9]+$ ]] && json_str "${r_peer:-}" || echo null)" \
    "$([[ ${r_at:-} =~ ^[0-9]+$ ]] && echo "$r_age" || echo null)" "$REPLICA_RPO")
fi
alert escalate

# --- report and metrics -------------------------------------------------------------------

HEALTHY=true
case $GATEWAY_RESULT in ok | starting) ;; *) HEALTHY=false ;; esac
join() { local IFS=,; printf '%s' "$*"; }
{
  printf '{\n  "timestamp": %s,\n  "host": %s,\n  "region": %s,\n' "$NOW" \
    "$(json_str "$HOST_NAME")" "$(json_str "$REGION")"
  printf '  "healthy": %s,\n  "mode": "%s",\n  "error_rate": %s,\n' "$HEALTHY" "$MODE" "$ERROR_RATE"
  reasons=()
  for r in "${REASONS[@]}"; do reasons+=("$(json_str "$r")"); done
  printf '  "p99_latency": %s,\n  "figures": %s,\n  "mode_reasons": [%s],\n' \
    "${P99_LATENCY:-0}" "$(json_str "$FIGURES")" "$(join "${reasons[@]}")"
  printf '  "checks": [%s],\n' "$(join "${CHECKS_JSON[@]}")"
  printf '  "replica": %s,\n' "$REPLICA_JSON"
  printf '  "breakers": {%s}\n}\n' "$(join "${BREAKERS_JSON[@]}")"
} | write_atomic "$REPORT_FILE" || log "cannot write $REPORT_FILE"

{
  echo "# HELP openclaw_check_ok 1 when a health check passed."
  echo "# TYPE openclaw_check_ok gauge"
  echo "# HELP openclaw_breaker_state 0 closed, 1 half-open, 2 open."
  echo "# TYPE openclaw_breaker_state gauge"
  printf '%s\n' "${METRICS[@]}"
  echo "# TYPE openclaw_degradation_mode gauge"
  for m in FULL DEGRADED MINIMAL MAINTENANCE; do
    printf 'openclaw_degradation_mode{mode="%s"} %s\n' "$m" "$([ "$m" = "$MODE" ] && echo 1 || echo 0)"
  done
  if [ -n "${REPLICA_RPO:-}" ] && [[ ${r_at:-} =~ ^[0-9]+$ ]]; then
    echo "# TYPE openclaw_replica_age_seconds gauge"
    echo "openclaw_replica_age_seconds $r_age"
  fi
  echo "# TYPE openclaw_health_check_timestamp_seconds gauge"
  echo "openclaw_health_check_timestamp_seconds $NOW"
  if [ -r "$STATE_DIR/budgets.state" ]; then
    echo "# TYPE openclaw_budget_used_ratio gauge"
    while read -r name provider used limit ratio; do
      [ -n "${ratio:-}" ] || continue
      printf 'openclaw_budget_used_ratio{budget="%s",provider="%s"} %s\n' "$name" "$provider" "$ratio"
      printf 'openclaw_budget_used_tokens{budget="%s",provider="%s"} %s\n' "$name" "$provider" "$used"
      printf 'openclaw_budget_limit_tokens{budget="%s",provider="%s"} %s\n' "$name" "$provider" "$limit"
    done <"$STATE_DIR/budgets.state"
  fi
} | write_atomic "$METRICS_TEXTFILE" || log "cannot write $METRICS_TEXTFILE"

[ "$HEALTHY" = true ] || exit 2
exit 0
