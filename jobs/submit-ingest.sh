#!/usr/bin/env bash
# spark-submit wrapper for the ingest stage: SPARK_HOME=... jobs/submit-ingest.sh [options]
exec "$(dirname "${BASH_SOURCE[0]}")/submit.sh" ingest "$@"
