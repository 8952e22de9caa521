# shellcheck shell=bash
# Helpers shared by the openclaw scripts. Sourced, never run. Managed by openclaw.

# The clock: OPENCLAW_NOW (epoch seconds) lets tests step time.
now() { printf '%s\n' "${OPENCLAW_NOW:-$(date +%s)}"; }

log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${0##*/}" "$*" >&2; }

# Tests set OPENCLAW_NO_SLEEP to walk retries without waiting, OPENCLAW_TRACE to see them.
pause() {
  [ -z "${OPENCLAW_TRACE:-}" ] || printf 'pause %s\n' "$1" >>"$OPENCLAW_TRACE"
  [ -n "${OPENCLAW_NO_SLEEP:-}" ] || sleep "$1"
}

# Source a compiled config; a missing one is a configuration error (EX_CONFIG).
load_conf() {
  if [ ! -r "$1" ]; then
    log "cannot read configuration $1"
    exit 78
  fi
  # shellcheck source=/dev/null
  . "$1"
}

# write_atomic FILE: standard input to FILE through a temp file in the same directory and a
# rename, so readers never see a half-written file.
write_atomic() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX") || return 1
  if cat >"$tmp" && chmod 0640 "$tmp" && mv -f "$tmp" "$1"; then
    return 0
  fi
  rm -f "$tmp"
  return 1
}

# fcmp A OP B: compare decimals (bash only does integers).
fcmp() {
  awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
    if (op == ">") r = a > b; else if (op == ">=") r = a >= b
    else if (op == "<") r = a < b; else r = a <= b
    exit !r }'
}

# json_str TEXT: a JSON string literal.
json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

# curl_quote TEXT: a value for curl's --config syntax. Secrets go to curl on standard input,
# never in its arguments, where any local user could read them.
curl_quote() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  printf '"%s"' "$s"
}
