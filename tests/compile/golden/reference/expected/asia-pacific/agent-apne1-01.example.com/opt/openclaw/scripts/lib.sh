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

# write_atomic FILE [MODE]: standard input to FILE (mode MODE, default 0640) through a temp
# file in the same directory and a rename, so readers never see a half-written file.
write_atomic() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX") || return 1
  if cat >"$tmp" && chmod "${2:-0640}" "$tmp" && mv -f "$tmp" "$1"; then
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

# url_decode TEXT: %XX escapes decoded (a URL's user, password and query values).
url_decode() {
  local s=${1//+/ }
  printf '%b' "${s//%/\\x}"
}

# pg_env URL: a postgres:// URL as libpq's PG* variables, exported, so psql runs with no
# connection string on its command line, where any local user could read the password
# (ps, /proc/*/cmdline). The password may hold '@', '&' or '%' (percent-encoded in the URL),
# in the userinfo or as ?password=. Returns 1 for anything that is not a postgres URL.
pg_env() {
  local u=${1#*://} q='' cred hostport kv key value
  [[ $1 =~ ^postgres(ql)?:// ]] || return 1
  if [[ $u == *\?* ]]; then q=${u#*\?}; u=${u%%\?*}; fi
  if [[ $u == *@* ]]; then
    cred=${u%@*}; u=${u##*@}
    export PGUSER; PGUSER=$(url_decode "${cred%%:*}")
    if [[ $cred == *:* ]]; then export PGPASSWORD; PGPASSWORD=$(url_decode "${cred#*:}"); fi
  fi
  hostport=${u%%/*}
  if [[ $u == */* ]] && [ -n "${u#*/}" ]; then
    export PGDATABASE; PGDATABASE=$(url_decode "${u#*/}")
  fi
  if [[ $hostport =~ ^(.*):([0-9]+)$ ]]; then
    export PGHOST=${BASH_REMATCH[1]} PGPORT=${BASH_REMATCH[2]}
  elif [ -n "$hostport" ]; then
    export PGHOST=$hostport
  fi
  if [ -n "${PGHOST:-}" ]; then PGHOST=${PGHOST#[}; PGHOST=${PGHOST%]}; fi
  local IFS='&'
  for kv in $q; do
    key=${kv%%=*}; value=$(url_decode "${kv#*=}")
    case $key in
      password) export PGPASSWORD=$value ;;
      user) export PGUSER=$value ;;
      host) export PGHOST=$value ;;
      port) export PGPORT=$value ;;
      dbname) export PGDATABASE=$value ;;
      sslmode) export PGSSLMODE=$value ;;
      application_name) export PGAPPNAME=$value ;;
      *) log "ignoring the queue URL's parameter ${key}" ;;
    esac
  done
}
