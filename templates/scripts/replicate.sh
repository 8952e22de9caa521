#!/usr/bin/env bash
# openclaw replicate: OpenClaw's state and the workspace to the peer host that failover.json
# names (deployment.failover.replicate), with rsync over SSH. The key comes from systemd
# (LoadCredential); the peer's entry for it runs rrsync write-only in this host's replica, so
# it can neither read nor open a shell. A complete copy is recorded as "EPOCH PEER" for the
# health check (replica age against the rpo). Parameters: ../config/replicate.conf.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
load_conf "${OPENCLAW_HOST_CONF:-$HERE/../config/host.conf}"
load_conf "${OPENCLAW_CONF:-$HERE/../config/replicate.conf}"

# host, address, port, user of the peer, tab-separated; nothing when there is none.
peer=$(python3 - "$FAILOVER_JSON" <<'PY'
import json, sys
p = (json.load(open(sys.argv[1])).get("replication") or {}).get("peer")
if p:
    print("\t".join(str(p[k]) for k in ("host", "address", "port", "user")))
PY
) || { log "cannot read $FAILOVER_JSON"; exit 78; }
if [ -z "$peer" ]; then
  log "no replication peer in $FAILOVER_JSON"
  exit 0
fi
IFS=$'\t' read -r peer_host peer_address peer_port peer_user <<<"$peer"
KEY="${CREDENTIALS_DIRECTORY:-/nonexistent}/replication-key"

# OpenClaw keeps sessions in SQLite databases that change while the gateway runs: each is
# copied through SQLite's backup API into a snapshot first (a consistent copy), shipped in
# place of the live file. Everything else goes as it is.
SNAP="$STATE_DIR/replica-snapshot"
start=$(now)
mkdir -p "$STATE_DIR/openclaw" "$WORKSPACE_DIR" 2>/dev/null
rm -rf "$SNAP" && mkdir -p "$SNAP" || exit 1
if ! python3 "$HERE/openclaw_sqlite.py" snapshot "$STATE_DIR/openclaw" "$SNAP" >"$SNAP.list"; then
  log "cannot snapshot the SQLite databases in $STATE_DIR/openclaw"
  "$ALERT_CMD" fire replication-failed warning "replication from $HOST_NAME: no snapshot"
  exit 1
fi

ssh_cmd="ssh -F /dev/null -i $KEY -p $peer_port -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$KNOWN_HOSTS -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10"
# -rlt: links stay links (rrsync munges them on the peer); no owners, groups or devices.
# Readable inside the replica: its top directory (the replica account's, group the service
# group, 2750) is what keeps everyone else out, and the service account reads it back in a
# failover. The live databases are left out here (and kept on the peer), then the snapshot
# takes their place.
if rsync -rltp --relative --delete --chmod=D755,F644 --exclude-from="$SNAP.list" \
  --exclude=/openclaw/openclaw.json --exclude='/openclaw/openclaw.json.*' -e "$ssh_cmd" \
  "$STATE_DIR/./openclaw/" "$(dirname "$WORKSPACE_DIR")/./$(basename "$WORKSPACE_DIR")/" \
  "$peer_user@$peer_address:" &&
  rsync -rltp --chmod=D755,F644 -e "$ssh_cmd" "$SNAP/" "$peer_user@$peer_address:openclaw/"
then
  rm -rf "$SNAP" "$SNAP.list"
  printf '%s %s\n' "$start" "$peer_host" | write_atomic "$REPLICA_RECORD" 0640 ||
    log "cannot write $REPLICA_RECORD"
  "$ALERT_CMD" resolve replication-failed "replication to $peer_host works again from $HOST_NAME"
  log "replicated to $peer_host ($peer_address)"
  exit 0
fi
rm -rf "$SNAP" "$SNAP.list"
"$ALERT_CMD" fire replication-failed warning "replication from $HOST_NAME to $peer_host failed"
exit 1
