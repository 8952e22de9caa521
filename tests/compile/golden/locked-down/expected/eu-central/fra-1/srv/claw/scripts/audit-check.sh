#!/usr/bin/env bash
# openclaw audit check (root, on a timer): new audit records of access to the .env
# (secrets.audit) by anyone but root are counted into a small report the health check
# (the service user) turns into an alert. Root's own reads (systemd's EnvironmentFile=,
# openclaw's apply) are expected and only logged by auditd. Parameters: ../config/audit-check.conf.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
load_conf "${OPENCLAW_HOST_CONF:-$HERE/../config/host.conf}"
load_conf "${OPENCLAW_CONF:-$HERE/../config/audit-check.conf}"

mkdir -p "$(dirname "$AUDIT_HITS_FILE")" || exit 1
if ! command -v ausearch >/dev/null 2>&1; then
  log "ausearch not found: auditd is not installed, nothing to check"
  exit 0
fi

# Interpreted records since the last run (the checkpoint); exit 1 only means none.
records=$(ausearch --input-logs -k "$AUDIT_KEY" --checkpoint "$AUDIT_CHECKPOINT" -i 2>/dev/null)
rc=$?
if [ "$rc" -gt 1 ] && [ "$rc" -ne 10 ]; then
  # 10..12: the checkpoint no longer matches rotated logs; start over from now.
  rm -f "$AUDIT_CHECKPOINT"
fi

read -r total _ <"$AUDIT_HITS_FILE" 2>/dev/null || total=0
total=${total:-0}
last=""
while IFS= read -r line; do
  case $line in type=SYSCALL*) ;; *) continue ;; esac
  uid=$(sed -n 's/.* uid=\([^ ]*\).*/\1/p' <<<"$line")
  comm=$(sed -n 's/.* comm=\([^ ]*\).*/\1/p' <<<"$line")
  if [ -z "$uid" ] || [ "$uid" = root ]; then continue; fi
  total=$((total + 1))
  last="$uid ${comm:-?}"
done <<<"$records"

if [ -n "$last" ]; then
  printf '%s %s %s\n' "$total" "$(now)" "$last" | write_atomic "$AUDIT_HITS_FILE" ||
    log "cannot write $AUDIT_HITS_FILE"
  log "the .env was accessed by $last ($total access(es) by non-root users so far)"
elif [ ! -e "$AUDIT_HITS_FILE" ]; then
  printf '0 %s\n' "$(now)" | write_atomic "$AUDIT_HITS_FILE" || log "cannot write $AUDIT_HITS_FILE"
fi
exit 0
