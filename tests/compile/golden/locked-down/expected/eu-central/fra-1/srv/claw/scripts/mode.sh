#!/usr/bin/env bash
# openclaw mode: what each degradation mode runs. Run as root by openclaw-mode.service, which
# openclaw-mode.path starts when the health check writes a new state/mode. Parameters:
# ../config/mode.conf. DEGRADED stops the dashboard, the autoscaler and the workers it added;
# MINIMAL and MAINTENANCE every worker too (the gateway, the LLM gateway and the checks run
# in every mode); FULL starts again what the config runs. What a mode changes on the request
# path (fallback model, no tools) the LLM gateway reads from the record written here.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
load_conf "${OPENCLAW_HOST_CONF:-$HERE/../config/host.conf}"
load_conf "${OPENCLAW_CONF:-$HERE/../config/mode.conf}"

# The service account writes the mode: read without following a link or blocking on a FIFO,
# at most 32 bytes, and only a known mode counts (nothing of the file is ever echoed).
mode=$(perl -e 'use Fcntl; sysopen(my $f, $ARGV[0], O_RDONLY|O_NOFOLLOW|O_NONBLOCK) or exit 1;
  -f $f or exit 1; read($f, my $b, 32); print $b' "$MODE_FILE" 2>/dev/null | head -n 1)
case $mode in
  FULL | DEGRADED | MINIMAL | MAINTENANCE) ;;
  *)
    log "no valid mode in $MODE_FILE: nothing changed"
    exit 0
    ;;
esac
previous=$(head -c 64 "$MODE_RECORD" 2>/dev/null | cut -d ' ' -f 1)

declare -n off="OFF_$mode"
stop=() start=()
for unit in "${MANAGED[@]}"; do
  if [[ " ${off[*]} " == *" $unit "* ]]; then stop+=("$unit"); else start+=("$unit"); fi
done
if [ "$mode" != FULL ]; then
  while read -r unit _; do
    n=${unit#openclaw-worker@}
    n=${n%.service}
    [[ $n =~ ^[0-9]+$ ]] || continue
    if [[ " ${ALL_WORKERS_OFF[*]} " == *" $mode "* ]] || [ "$n" -gt "$MIN_WORKERS" ]; then
      [[ " ${stop[*]} " == *" $unit "* ]] || stop+=("$unit")
    fi
  done < <(systemctl list-units --plain --no-legend --state=active 'openclaw-worker@*.service')
fi
[ "${#stop[@]}" -eq 0 ] || systemctl stop "${stop[@]}" || log "could not stop: ${stop[*]}"
[ "${#start[@]}" -eq 0 ] || systemctl start "${start[@]}" || log "could not start: ${start[*]}"
# World-readable: the LLM gateway's account reads it before each request (openclaw_policy.py).
printf '%s %s\n' "$mode" "$(now)" | write_atomic "$MODE_RECORD" 0644 ||
  log "cannot record the mode in $MODE_RECORD"
log "mode ${previous:-FULL} -> $mode: stopped ${stop[*]:-nothing}; started ${start[*]:-nothing}"
exit 0
