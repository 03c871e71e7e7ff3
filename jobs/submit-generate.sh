#!/usr/bin/env bash
# spark-submit wrapper for the generate stage: SPARK_HOME=... jobs/submit-generate.sh [options]
exec "$(dirname "${BASH_SOURCE[0]}")/submit.sh" generate "$@"
