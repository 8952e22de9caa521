#!/usr/bin/env bash
# openclaw backup: state, workspace and config (without the .env) into a dated tarball,
# written atomically, keeping the newest BACKUP_KEEP. Parameters: ../config/backup.conf.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
load_conf "${OPENCLAW_HOST_CONF:-$HERE/../config/host.conf}"
load_conf "${OPENCLAW_CONF:-$HERE/../config/backup.conf}"

NOW=$(now)
mkdir -p "$BACKUP_DIR" || exit 1
name="$BACKUP_DIR/openclaw-$(date -u -d "@$NOW" +%Y%m%dT%H%M%SZ).tar.gz"
excludes=()
for x in "${BACKUP_EXCLUDE[@]}"; do excludes+=("--exclude=$x"); done
present=()
for x in "${BACKUP_INCLUDE[@]}"; do [ -e "$ROOT/$x" ] && present+=("$x"); done

tmp=$(mktemp "$name.XXXXXX") || exit 1
# OpenClaw's SQLite files change while the gateway runs: tar says so with exit 1 and still
# writes a complete archive (crash-consistent for those files); 2 and up is a failure.
tar -czf "$tmp" -C "$ROOT" --warning=no-file-changed --warning=no-file-removed \
  --warning=no-file-ignored "${excludes[@]}" "${present[@]}"
rc=$?
[ "$rc" -eq 1 ] && log "some files changed while they were read (live databases)"
if [ "$rc" -gt 1 ]; then
  rm -f "$tmp"
  "$ALERT_CMD" fire backup-failed warning "backup failed on $HOST_NAME"
  exit 1
fi
if ! { chmod 0600 "$tmp" && mv -f "$tmp" "$name"; }; then
  rm -f "$tmp"
  exit 1
fi
"$ALERT_CMD" resolve backup-failed "backup works again on $HOST_NAME"

# Keep the newest BACKUP_KEEP (names sort by time).
mapfile -t all < <(find "$BACKUP_DIR" -maxdepth 1 -name 'openclaw-*.tar.gz' -printf '%f\n' | sort)
excess=$((${#all[@]} - BACKUP_KEEP))
for ((i = 0; i < excess; i++)); do rm -f "$BACKUP_DIR/${all[$i]}"; done
log "saved $name"
exit 0
