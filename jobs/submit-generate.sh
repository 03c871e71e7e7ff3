#!/usr/bin/env bash
# spark-submit wrapper for the generate stage (see jobs/submit.sh):
#   SPARK_HOME=... jobs/submit-generate.sh [--wait] [spark-submit options... --] [generate options...]
set -euo pipefail
SUBMIT="$(dirname "${BASH_SOURCE[0]}")/submit.sh"
for a in "$@"; do
  if [ "$a" = "--" ]; then
    PRE=()
    while [ "$1" != "--" ]; do PRE+=("$1"); shift; done
    shift
    exec "$SUBMIT" "${PRE[@]+"${PRE[@]}"}" -- generate "$@"
  fi
done
if [ "${1:-}" = "--wait" ]; then shift; exec "$SUBMIT" --wait -- generate "$@"; fi
exec "$SUBMIT" -- generate "$@"
