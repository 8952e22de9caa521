#!/usr/bin/env bash
# openclaw budget check: token use per provider since each budget's reset, alerts at the
# threshold, and at the limit the budget's action (alert, or switch_provider: the provider is
# left out of the active routing order until the budget resets).
# Parameters: ../config/budget-check.conf. Usage: the LLM gateway's records (one file per
# UTC day, one tab-separated line per request; config/openclaw_usage.py writes them):
#   TS PROVIDER MODEL_GROUP TOKENS_IN TOKENS_OUT COST OUTCOME STATUS LATENCY_MS
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
load_conf "${OPENCLAW_HOST_CONF:-$HERE/../config/host.conf}"
load_conf "${OPENCLAW_CONF:-$HERE/../config/budget-check.conf}"

NOW=$(now)

period_start() { # period_start RESET: epoch seconds (UTC) when the current period began
  local day=$((NOW / 86400))
  case $1 in
    hourly) echo $((NOW - NOW % 3600)) ;;
    daily) echo $((day * 86400)) ;;
    weekly) echo $(((day - (day + 3) % 7) * 86400)) ;; # 1970-01-01 was a Thursday
    monthly) date -u -d "$(date -u -d "@$NOW" +%Y-%m-01)" +%s ;;
  esac
}

# usage SINCE PROVIDERS(comma-separated, empty = all): USED, the tokens of answered requests
# (a cached answer asked no provider); a line that is not a record is counted in MALFORMED.
usage() {
  local first day f out files=()
  USED=0
  first=$(date -u -d "@$1" +%F)
  for f in "$USAGE_DIR"/usage-*.tsv; do
    [ -f "$f" ] || continue
    day=${f##*/usage-}
    [[ ! "${day%.tsv}" < "$first" ]] && files+=("$f")
  done
  [ "${#files[@]}" -gt 0 ] || return 0
  out=$(awk -F '\t' -v since="$1" -v wanted=",$2," '
    NF != 9 || $1 !~ /^[0-9]+$/ || $4 !~ /^[0-9]+$/ || $5 !~ /^[0-9]+$/ { bad++; next }
    $1 >= since && $7 == "ok" && (wanted == ",," || index(wanted, "," $2 ",") > 0) {
      sum += $4 + $5 }
    END { printf "%.0f %d\n", sum, bad }' "${files[@]}")
  USED=${out%% *}
  MALFORMED=$((MALFORMED > ${out#* } ? MALFORMED : ${out#* }))
}

MALFORMED=0
declare -A EXHAUSTED=()
STATE_LINES=()

evaluate() { # evaluate INDEX PROVIDER-LIST LABEL
  local i=$1 used ratio key
  usage "$(period_start "${BUDGET_RESETS[$i]}")" "$2"
  used=$USED
  ratio=$(awk -v u="$used" -v l="${BUDGET_LIMITS[$i]}" 'BEGIN { printf "%.4f", u / l }')
  STATE_LINES+=("${BUDGET_NAMES[$i]} $3 $used ${BUDGET_LIMITS[$i]} $ratio")
  key="budget-${BUDGET_NAMES[$i]}-$3"
  if fcmp "$ratio" ">=" 1; then
    if [ "${BUDGET_ACTIONS[$i]}" = switch_provider ] && [ "$3" != all ]; then
      EXHAUSTED[$3]=1
      "$ALERT_CMD" fire "$key" critical "budget ${BUDGET_NAMES[$i]} exhausted for $3 on $HOST_NAME ($used of ${BUDGET_LIMITS[$i]} tokens): $3 taken out of routing until ${BUDGET_RESETS[$i]} reset"
    else
      "$ALERT_CMD" fire "$key" critical "budget ${BUDGET_NAMES[$i]} exhausted ($3) on $HOST_NAME: $used of ${BUDGET_LIMITS[$i]} tokens"
    fi
  elif fcmp "$ratio" ">=" "${BUDGET_ALERT_AT[$i]}"; then
    "$ALERT_CMD" fire "$key" warning "budget ${BUDGET_NAMES[$i]} ($3) at $(awk -v r="$ratio" 'BEGIN { printf "%d", r * 100 }')% on $HOST_NAME"
  else
    "$ALERT_CMD" resolve "$key" "budget ${BUDGET_NAMES[$i]} ($3) back under its threshold"
  fi
}

for i in "${!BUDGET_NAMES[@]}"; do
  if [ "${BUDGET_SCOPES[$i]}" = per_provider ]; then
    read -r -a covered <<<"${BUDGET_PROVIDERS[$i]}"
    for p in "${covered[@]}"; do evaluate "$i" "$p" "$p"; done
  else
    evaluate "$i" "" all
  fi
done

# Records the check cannot read would make a budget look unspent: said, never zero.
if [ "$MALFORMED" -gt 0 ]; then
  log "$MALFORMED usage record(s) in $USAGE_DIR are malformed and not counted"
  "$ALERT_CMD" fire usage-records-malformed warning "$MALFORMED usage record(s) on $HOST_NAME are malformed and not counted towards the budgets"
else
  "$ALERT_CMD" resolve usage-records-malformed "usage records readable again"
fi

active=()
refs=()
for i in "${!PROVIDER_NAMES[@]}"; do
  if [ -z "${EXHAUSTED[${PROVIDER_NAMES[$i]}]:-}" ]; then
    active+=("${PROVIDER_NAMES[$i]}")
    # Providers sharing one gateway model group share its reference: list it once.
    [[ " ${refs[*]} " == *" ${MODEL_REFS[$i]} "* ]] || refs+=("${MODEL_REFS[$i]}")
  fi
done
previous=$(cat "$ACTIVE_PROVIDERS_FILE" 2>/dev/null || true)
current=$(printf '%s\n' "${active[@]}")
configured=$(printf '%s\n' "${PROVIDER_NAMES[@]}")
# The first run with every provider in force: openclaw.json already has the configured order
# (apply merged it); OpenClaw's CLI is not run for nothing.
if [ -z "$previous" ] && [ "$current" = "$configured" ]; then
  printf '%s\n' "$current" | write_atomic "$ACTIVE_PROVIDERS_FILE" ||
    log "cannot write $ACTIVE_PROVIDERS_FILE"
  previous=$current
fi
# Tell the running gateway only when the order changes, and never leave it without a model.
# OpenClaw's CLI and a gateway that is still starting (migrating its state) must not meet:
# the switch waits for /readyz, and the next run tries again.
if [ "${#active[@]}" -gt 0 ] && [ "$current" != "$previous" ] &&
  ! curl -fsS --max-time 5 "$GATEWAY_URL/readyz" 2>/dev/null | grep -q '"ready":true'; then
  log "gateway not ready: the switch to ${active[*]} waits for the next run"
elif [ "${#active[@]}" -gt 0 ] && [ "$current" != "$previous" ]; then
  fallbacks="["
  for ((i = 1; i < ${#refs[@]}; i++)); do
    fallbacks+="$( ((i > 1)) && printf ', ')$(json_str "${refs[$i]}")"
  done
  fallbacks+="]"
  if "${CONFIG_SET_CMD[@]}" agents.defaults.model.primary "${refs[0]}" &&
    "${CONFIG_SET_CMD[@]}" agents.defaults.model.fallbacks "$fallbacks"; then
    log "model order now: ${active[*]}"
    printf '%s\n' "$current" | write_atomic "$ACTIVE_PROVIDERS_FILE" ||
      log "cannot write $ACTIVE_PROVIDERS_FILE"
  else
    "$ALERT_CMD" fire budget-routing critical "could not switch the model order on $HOST_NAME to: ${active[*]}"
  fi
fi
printf '%s\n' "${STATE_LINES[@]}" | write_atomic "$BUDGET_STATE_FILE" ||
  log "cannot write $BUDGET_STATE_FILE"
if [ "${#active[@]}" -eq 0 ] && [ "${#PROVIDER_NAMES[@]}" -gt 0 ]; then
  "$ALERT_CMD" fire budget-all-exhausted critical "every provider is over budget on $HOST_NAME"
fi
exit 0
