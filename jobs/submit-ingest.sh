#!/usr/bin/env bash
# spark-submit wrapper for the ingest stage (see jobs/submit.sh):
#   SPARK_HOME=... jobs/submit-ingest.sh [--wait] [spark-submit options... --] [ingest options...]
set -euo pipefail
SUBMIT="$(dirname "${BASH_SOURCE[0]}")/submit.sh"
for a in "$@"; do
  if [ "$a" = "--" ]; then
    PRE=()
    while [ "$1" != "--" ]; do PRE+=("$1"); shift; done
    shift
    exec "$SUBMIT" "${PRE[@]+"${PRE[@]}"}" -- ingest "$@"
  fi
done
if [ "${1:-}" = "--wait" ]; then shift; exec "$SUBMIT" --wait -- ingest "$@"; fi
exec "$SUBMIT" -- ingest "$@"
