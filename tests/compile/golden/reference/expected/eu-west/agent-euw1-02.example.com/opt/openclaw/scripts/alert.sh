#!/usr/bin/env bash
# openclaw alerts: send, deduplicate, escalate and resolve. Parameters: ../config/alert.conf.
#   alert.sh fire KEY SEVERITY MESSAGE [STATE]
#                                        first channel; not re-sent within the dedup window
#                                        unless SEVERITY or STATE (a mode) changed; a failed
#                                        delivery is tried again on the next call
#   alert.sh resolve KEY MESSAGE         a recovery message to every channel that was told
#   alert.sh escalate                    alerts firing past the escalation delay go one
#                                        channel further
# A failing channel is logged and never fails the caller: this script always exits 0 once
# its arguments are valid.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
load_conf "${OPENCLAW_HOST_CONF:-$HERE/../config/host.conf}"
load_conf "${OPENCLAW_ALERT_CONF:-$HERE/../config/alert.conf}"

NOW=$(now)
mkdir -p "$ALERT_STATE_DIR" 2>/dev/null || log "cannot create $ALERT_STATE_DIR"

note() { printf '%s %s\n' "$NOW" "$*" >>"$ALERT_LOG" 2>/dev/null || true; }

env_value() { [ -n "$1" ] && printf '%s' "${!1:-}"; }

send_telegram() {
  local token chat
  token=$(env_value "$TG_TOKEN_ENV")
  chat=${TG_CHAT_ID:-$(env_value "$TG_CHAT_ID_ENV")}
  if [ -z "$token" ] || [ -z "$chat" ]; then
    log "telegram: no bot token or chat id in the environment"
    return 1
  fi
  printf 'url = %s\ndata-urlencode = %s\ndata-urlencode = %s\n' \
    "$(curl_quote "$TG_API_URL/bot$token/sendMessage")" \
    "$(curl_quote "chat_id=$chat")" "$(curl_quote "text=$1")" |
    curl -sS -f -o /dev/null --max-time 10 --config - 2>/dev/null
}

send_json() { # send_json URL BODY
  printf 'url = %s\nheader = "Content-Type: application/json"\ndata-binary = %s\n' \
    "$(curl_quote "$1")" "$(curl_quote "$2")" |
    curl -sS -f -o /dev/null --max-time 10 --config - 2>/dev/null
}

send_webhook() { # send_webhook MESSAGE STATUS
  local url=${HOOK_URL:-$(env_value "$HOOK_URL_ENV")}
  [ -n "$url" ] || { log "webhook: no URL"; return 1; }
  send_json "$url" "{\"host\": $(json_str "$HOST_NAME"), \"region\": $(json_str "$REGION"), \"key\": $(json_str "$KEY"), \"severity\": $(json_str "$SEVERITY"), \"status\": $(json_str "$2"), \"message\": $(json_str "$1"), \"timestamp\": $NOW}"
}

send_pagerduty() { # send_pagerduty MESSAGE STATUS
  local key action=trigger
  key=$(env_value "$PD_KEY_ENV")
  [ -n "$key" ] || { log "pagerduty: no routing key"; return 1; }
  [ "$2" = resolved ] && action=resolve
  send_json "$PD_API_URL" "{\"routing_key\": $(json_str "$key"), \"event_action\": \"$action\", \"dedup_key\": $(json_str "$HOST_NAME/$KEY"), \"payload\": {\"summary\": $(json_str "$1"), \"source\": $(json_str "$HOST_NAME"), \"severity\": $(json_str "$SEVERITY")}}"
}

send_email() { # send_email MESSAGE STATUS
  command -v sendmail >/dev/null || { log "email: no sendmail"; return 1; }
  printf 'From: %s\nTo: %s\nSubject: [openclaw %s] %s %s\n\n%s\n' "$MAIL_FROM" \
    "${MAIL_TO[*]}" "$2" "$HOST_NAME" "$KEY" "$1" | sendmail -t
}

send() { # send LEVEL MESSAGE STATUS: one channel, by its place in the escalation order;
  # fails when the channel did not take the message
  local channel=${CHANNELS[$1]:-}
  [ -n "$channel" ] || return 1
  local ok=1
  case $channel in
    telegram) send_telegram "$2" && ok=0 ;;
    webhook) send_webhook "$2" "$3" && ok=0 ;;
    pagerduty) send_pagerduty "$2" "$3" && ok=0 ;;
    email) send_email "$2" "$3" && ok=0 ;;
  esac
  if [ "$ok" -eq 0 ]; then
    note "sent $KEY ($3) via $channel"
  else
    note "FAILED $KEY ($3) via $channel"
    log "alert $KEY via $channel failed"
  fi
  return "$ok"
}

state_file() { printf '%s/%s' "$ALERT_STATE_DIR" "${1//[^A-Za-z0-9_.-]/_}"; }

# State of one alert: "FIRST_FIRED LAST_DELIVERED LEVEL SEVERITY STATE"; LAST_DELIVERED is 0
# while no channel has taken it.
read_state() {
  FIRST=0 LAST=0 LEVEL=0 WAS="" WAS_STATE=""
  [ -r "$(state_file "$KEY")" ] &&
    read -r FIRST LAST LEVEL WAS WAS_STATE <"$(state_file "$KEY")"
  [[ "$FIRST$LAST$LEVEL" =~ ^[0-9]+$ ]] || { FIRST=0 LAST=0 LEVEL=0; }
}

save_state() {
  printf '%s %s %s %s %s\n' "$FIRST" "$LAST" "$LEVEL" "$SEVERITY" "${STATE:-}" |
    write_atomic "$(state_file "$KEY")" || log "cannot save alert state of $KEY"
}

[ "${#CHANNELS[@]}" -gt 0 ] || exit 0
case ${1:-} in
  fire)
    [ $# -eq 4 ] || [ $# -eq 5 ] ||
      { log "usage: alert.sh fire KEY SEVERITY MESSAGE [STATE]"; exit 64; }
    KEY=$2 SEVERITY=$3 STATE=${5:-}
    STATE=${STATE//[^A-Za-z0-9_.-]/_}
    read_state
    # The same alert at the same severity and state, delivered inside the window, is not
    # re-sent; a change of severity (a budget going from warning to critical) or of state
    # (DEGRADED to MINIMAL) is news, and an alert no channel took is tried again.
    if [ "$FIRST" -gt 0 ] && [ "$LAST" -gt 0 ] && [ "$WAS" = "$SEVERITY" ] &&
      [ "$WAS_STATE" = "$STATE" ] && [ $((NOW - LAST)) -lt "${DEDUP_WINDOW%.*}" ]; then
      note "suppressed $KEY (sent $((NOW - LAST))s ago)"
      exit 0
    fi
    [ "$FIRST" -gt 0 ] || FIRST=$NOW
    if send "$LEVEL" "[$SEVERITY] $4" firing; then LAST=$NOW; else LAST=0; fi
    save_state
    ;;
  resolve)
    [ $# -eq 3 ] || { log "usage: alert.sh resolve KEY MESSAGE"; exit 64; }
    KEY=$2 SEVERITY=info
    [ -e "$(state_file "$KEY")" ] || exit 0
    read_state
    for ((i = 0; i <= LEVEL; i++)); do send "$i" "[resolved] $3" resolved; done
    rm -f "$(state_file "$KEY")"
    ;;
  escalate)
    for file in "$ALERT_STATE_DIR"/*; do
      [ -e "$file" ] || continue
      KEY=${file##*/}
      STATE=""
      read -r FIRST LAST LEVEL SEVERITY STATE <"$file" || continue
      [[ "$FIRST$LAST$LEVEL" =~ ^[0-9]+$ ]] || continue
      if [ $((LEVEL + 1)) -lt "${#CHANNELS[@]}" ] &&
        [ $((NOW - FIRST)) -ge $(((LEVEL + 1) * ${ESCALATION_DELAY%.*})) ]; then
        # Moved on only once the next channel took it; otherwise tried again next time.
        if send $((LEVEL + 1)) "[escalated $SEVERITY] $KEY still firing on $HOST_NAME since $FIRST" firing; then
          LEVEL=$((LEVEL + 1)) LAST=$NOW
          save_state
        fi
      fi
    done
    ;;
  *)
    log "usage: alert.sh fire KEY SEVERITY MESSAGE | resolve KEY MESSAGE | escalate"
    exit 64
    ;;
esac
exit 0
