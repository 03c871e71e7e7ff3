#!/usr/bin/env bash
# Runs one cohort-fusion stage with spark-submit on a cluster (YARN, Kubernetes, standalone).
#
#   jobs/submit.sh [--wait] [spark-submit options...] -- <stage> [stage options...]
#   jobs/submit.sh [--wait] <stage> [stage options...]        (spark-submit options from SPARK_SUBMIT_ARGS only)
#
#   SPARK_HOME=/opt/spark jobs/submit.sh --wait --master yarn --deploy-mode cluster --files conf/demo.conf \
#     -- ingest --config demo.conf
#
# spark-submit options before `--` are passed as given (a bash array, never word-split), e.g. a --conf
# value with spaces. SPARK_SUBMIT_ARGS (kept for compatibility) is word-split and goes before them.
# Spark settings: conf/spark-cluster.properties, or the file in COHORT_FUSION_SPARK_PROPERTIES or given as
# --properties-file (see
# conf/spark-{yarn,k8s,standalone,gpu}.properties), merged into the cluster's spark-defaults.conf
# (${SPARK_CONF_DIR:-$SPARK_HOME/conf}/spark-defaults.conf): the project's value wins for each key the
# project file sets; its extraJavaOptions (Spark's Java 17 module options) are appended to the cluster's.
# spark-submit gets the merged file as --properties-file, which would otherwise replace spark-defaults.conf.
# Java options given as --driver-java-options or --conf spark.{driver,executor}.extraJavaOptions=... are
# appended too instead of replacing the module options. Every --files is combined into one.
#
# Logging: conf/log4j2-cluster.properties is shipped with --files; the driver reads it from this machine
# in client mode. On YARN (--master yarn) executors and a cluster-mode driver read it by its shipped name
# (it is in the container's working directory). Standalone workers and Kubernetes pods get shipped files
# only after the JVM started: install the file on every host and set COHORT_FUSION_LOG4J_REMOTE to its
# path, else those JVMs keep Spark's log4j config.
#
# Every stage run gets a run id (--run-id, default: a new UUID, or COHORT_FUSION_RUN_ID), recorded in
# <output.dir>/_status/<stage>.json. --wait: after spark-submit returns (standalone cluster mode is told to
# wait for the driver), read that status on this machine (cohort-fusion status) and exit with the stage's
# outcome, because spark-submit exits 0 in standalone cluster mode even when the driver failed:
#   0 the stage succeeded; 2 bad input or config; 1 any other failure; 3 retrain only: not promoted;
#   4 no final status of this run appeared within COHORT_FUSION_WAIT_TIMEOUT seconds (default 300)
#     although spark-submit exited 0 (driver killed, status not written, or not visible from here).
# Without --wait the exit code is spark-submit's. In cluster deploy mode put the config and the data on
# storage the driver can read (hdfs://, s3a://, see conf/cluster-example.conf) or ship the config with
# --files and pass its bare name to --config; --wait reads the config again here (same arguments).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() {
  echo "usage: jobs/submit.sh [--wait] [spark-submit options...] -- <stage> [stage options...]" >&2
  echo "       jobs/submit.sh [--wait] <stage> [stage options...]   (stages: jobs/cohort-fusion --help)" >&2
  exit 2
}
: "${SPARK_HOME:?set SPARK_HOME to a Spark 3.5.x (Scala 2.12) installation}"

WAIT=false
SUBMIT_ARGS=()
STAGE_ARGS=()
HAS_SEPARATOR=false
for a in "$@"; do [ "$a" = "--" ] && HAS_SEPARATOR=true && break; done
if $HAS_SEPARATOR; then
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    if [ "$1" = "--wait" ]; then WAIT=true; else SUBMIT_ARGS+=("$1"); fi
    shift
  done
  shift # the --
  STAGE_ARGS=("$@")
else
  if [ "${1:-}" = "--wait" ]; then WAIT=true; shift; fi
  if [[ "${1:-}" == -* ]] && [[ "${1:-}" != "--help" ]]; then
    echo "jobs/submit.sh: put spark-submit options before -- and the stage after it" >&2
    usage
  fi
  STAGE_ARGS=("$@")
fi
[ ${#STAGE_ARGS[@]} -ge 1 ] || usage
STAGE="${STAGE_ARGS[0]}"

# SPARK_SUBMIT_ARGS: documented as word-split since the first version of this script.
# shellcheck disable=SC2206
LEGACY=(${SPARK_SUBMIT_ARGS:-})
ALL_SUBMIT=("${LEGACY[@]+"${LEGACY[@]}"}" "${SUBMIT_ARGS[@]+"${SUBMIT_ARGS[@]}"}")

# Pull out what must be merged rather than passed twice (spark-submit keeps only the last --files, and
# an extraJavaOptions given on the command line would replace the module options of the properties file).
PASS=()
FILES=()
DRIVER_OPTS=()
EXECUTOR_OPTS=()
DEPLOY_MODE=""
MASTER=""
PROPS_ARG=""
MEMORY_SETS=() # memory settings on the command line: spark-submit applies them, the native bounds need them
i=0
while [ $i -lt ${#ALL_SUBMIT[@]} ]; do
  a="${ALL_SUBMIT[$i]}"
  next="${ALL_SUBMIT[$((i + 1))]:-}"
  case "$a" in
    --files) FILES+=("$next"); i=$((i + 2)); continue ;;
    --files=*) FILES+=("${a#--files=}") ;;
    --driver-java-options) DRIVER_OPTS+=("$next"); i=$((i + 2)); continue ;;
    --driver-java-options=*) DRIVER_OPTS+=("${a#--driver-java-options=}") ;;
    --conf|-c)
      case "$next" in
        spark.driver.extraJavaOptions=*) DRIVER_OPTS+=("${next#*=}") ;;
        spark.executor.extraJavaOptions=*) EXECUTOR_OPTS+=("${next#*=}") ;;
        spark.files=*) FILES+=("${next#*=}") ;;
        *) [[ "$next" == spark.submit.deployMode=* ]] && DEPLOY_MODE="${next#*=}"
           [[ "$next" == spark.driver.memory* || "$next" == spark.executor.memory* ]] && MEMORY_SETS+=("$next")
           [[ "$next" == spark.master=* ]] && MASTER="${next#*=}"
           PASS+=("$a" "$next") ;;
      esac
      i=$((i + 2)); continue ;;
    --properties-file) PROPS_ARG="$next"; i=$((i + 2)); continue ;; # the project file, merged like the default one
    --master) MASTER="$next"; PASS+=("$a" "$next"); i=$((i + 2)); continue ;;
    --master=*) MASTER="${a#--master=}"; PASS+=("$a") ;;
    --deploy-mode) DEPLOY_MODE="$next"; PASS+=("$a" "$next"); i=$((i + 2)); continue ;;
    --executor-memory) MEMORY_SETS+=("spark.executor.memory=$next"); PASS+=("$a" "$next"); i=$((i + 2)); continue ;;
    --executor-memory=*) MEMORY_SETS+=("spark.executor.memory=${a#--executor-memory=}"); PASS+=("$a") ;;
    --driver-memory) MEMORY_SETS+=("spark.driver.memory=$next"); PASS+=("$a" "$next"); i=$((i + 2)); continue ;;
    --driver-memory=*) MEMORY_SETS+=("spark.driver.memory=${a#--driver-memory=}"); PASS+=("$a") ;;
    --deploy-mode=*) DEPLOY_MODE="${a#--deploy-mode=}"; PASS+=("$a") ;;
    *) PASS+=("$a") ;;
  esac
  i=$((i + 1))
done

JAR=$(ls "$ROOT"/target/cohort-fusion-*-spark.jar 2>/dev/null | head -1 || true)
if [ -z "$JAR" ]; then
  echo "cohort-fusion: building the spark-submit jar (mvn package) ..." >&2
  (cd "$ROOT" && mvn -q -B -ntp -DskipTests -Dspotless.check.skip=true package >&2)
  JAR=$(ls "$ROOT"/target/cohort-fusion-*-spark.jar | head -1)
fi
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
PROPS="${PROPS_ARG:-${COHORT_FUSION_SPARK_PROPERTIES:-$ROOT/conf/spark-cluster.properties}}"
[ -f "$PROPS" ] || { echo "jobs/submit.sh: no Spark properties file $PROPS" >&2; exit 2; }
DEFAULTS="${SPARK_CONF_DIR:-$SPARK_HOME/conf}/spark-defaults.conf"

# The deploy mode decides where the driver finds the log4j config: the command line wins, then the
# project file, then the cluster's defaults (spark-submit's own order), else client.
prop_value() { # KEY FILE: the value of KEY in a spark-defaults style file, if set
  [ -f "$2" ] && sed -nE "s/^[[:space:]]*${1//./\\.}[[:space:]=:]+([^[:space:]]+).*/\1/p" "$2" | tail -1
}
[ -n "$DEPLOY_MODE" ] || DEPLOY_MODE="$(prop_value spark.submit.deployMode "$PROPS" || true)"
[ -n "$DEPLOY_MODE" ] || DEPLOY_MODE="$(prop_value spark.submit.deployMode "$DEFAULTS" || true)"
DEPLOY_MODE="${DEPLOY_MODE:-client}"
[ -n "$MASTER" ] || MASTER="$(prop_value spark.master "$PROPS" || true)"
[ -n "$MASTER" ] || MASTER="$(prop_value spark.master "$DEFAULTS" || true)"

LOG4J_LOCAL="$ROOT/conf/log4j2-cluster.properties"
FILES+=("$LOG4J_LOCAL")
# Remote JVMs (executors; the driver in cluster mode) read the shipped file by name only where it is in
# their working directory at JVM start: YARN containers. Standalone workers and Kubernetes pods get it
# after start (log4j would find nothing and print errors): there Spark's own log4j config stays unless
# COHORT_FUSION_LOG4J_REMOTE names the file's path on every host.
LOG4J_REMOTE="${COHORT_FUSION_LOG4J_REMOTE:-}"
if [ -z "$LOG4J_REMOTE" ] && [ "$MASTER" = "yarn" ]; then LOG4J_REMOTE="$(basename "$LOG4J_LOCAL")"; fi
if [ "$DEPLOY_MODE" = "cluster" ]; then DRIVER_LOG4J="$LOG4J_REMOTE"; else DRIVER_LOG4J="$LOG4J_LOCAL"; fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/cohort-fusion-submit.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
MERGE_ARGS=("$TMP/spark.properties" "$PROPS" "$DEFAULTS")
[ -n "$DRIVER_LOG4J" ] && MERGE_ARGS+=(--driver-java-option "-Dlog4j2.configurationFile=$DRIVER_LOG4J")
[ -n "$LOG4J_REMOTE" ] && MERGE_ARGS+=(--executor-java-option "-Dlog4j2.configurationFile=$LOG4J_REMOTE")
for o in "${DRIVER_OPTS[@]+"${DRIVER_OPTS[@]}"}"; do MERGE_ARGS+=(--driver-java-option "$o"); done
for o in "${EXECUTOR_OPTS[@]+"${EXECUTOR_OPTS[@]}"}"; do MERGE_ARGS+=(--executor-java-option "$o"); done
# On YARN and Kubernetes: ND4J's native memory bounded to the containers (SparkProperties explains).
MERGE_ARGS+=(--master "$MASTER" --deploy-mode "$DEPLOY_MODE")
for kv in "${MEMORY_SETS[@]+"${MEMORY_SETS[@]}"}"; do MERGE_ARGS+=(--memory-setting "$kv"); done
"$JAVA" -cp "$JAR" org.cohortfusion.cli.SparkProperties "${MERGE_ARGS[@]}"
FILES_CSV="$(IFS=,; echo "${FILES[*]}")"

# A run id for every pipeline stage, so that --wait (or a scheduler) reads this run's status only.
IS_STAGE=false
# Every command that records a status (StatusCommand; SubmitScriptTest keeps this list equal to them).
case "$STAGE" in generate|ingest|pretrain|extract|train|evaluate|report|cv|run|study|retrain) IS_STAGE=true ;; esac
if $IS_STAGE && [[ " ${STAGE_ARGS[*]} " != *" --help "* ]]; then
  RUN_ID=""
  for ((j = 1; j < ${#STAGE_ARGS[@]}; j++)); do
    [ "${STAGE_ARGS[$j]}" = "--run-id" ] && RUN_ID="${STAGE_ARGS[$((j + 1))]:-}"
    [[ "${STAGE_ARGS[$j]}" == --run-id=* ]] && RUN_ID="${STAGE_ARGS[$j]#--run-id=}"
  done
  if [ -z "$RUN_ID" ]; then
    RUN_ID="${COHORT_FUSION_RUN_ID:-$(cat /proc/sys/kernel/random/uuid 2>/dev/null || date -u +%Y%m%dT%H%M%SZ-$$)}"
    STAGE_ARGS+=(--run-id "$RUN_ID")
  fi
  echo "cohort-fusion: $STAGE run id $RUN_ID" >&2
else
  IS_STAGE=false
fi

SUBMIT=("$SPARK_HOME/bin/spark-submit" --class org.cohortfusion.cli.CohortFusion --name "cohort-fusion $STAGE"
  --properties-file "$TMP/spark.properties" --files "$FILES_CSV")
# Standalone cluster mode returns right after submitting unless told to wait for the driver.
$WAIT && SUBMIT+=(--conf spark.standalone.submit.waitAppCompletion=true)
SUBMIT+=("${PASS[@]+"${PASS[@]}"}" "$JAR" "${STAGE_ARGS[@]}")

set +e
"${SUBMIT[@]}"
SUBMIT_RC=$?
set -e
if ! $WAIT || ! $IS_STAGE; then
  exit $SUBMIT_RC
fi
echo "cohort-fusion: spark-submit exited $SUBMIT_RC; reading the status of $STAGE run $RUN_ID" >&2

# --wait: the stage's own record decides. Read with the same stage arguments, on this machine.
status() {
  "$JAVA" -Dlog4j2.configurationFile="$LOG4J_LOCAL" \
    -cp "$JAR:$SPARK_HOME/jars/*:${SPARK_CONF_DIR:-$SPARK_HOME/conf}${HADOOP_CONF_DIR:+:$HADOOP_CONF_DIR}" \
    org.cohortfusion.cli.CohortFusion status --files "$FILES_CSV" "${STAGE_ARGS[@]}"
}
DEADLINE=$(($(date +%s) + ${COHORT_FUSION_WAIT_TIMEOUT:-300}))
while true; do
  set +e
  status
  RC=$?
  set -e
  case $RC in
    0|1|2|3) [ $RC -eq 0 ] && [ $SUBMIT_RC -ne 0 ] &&
             echo "cohort-fusion: spark-submit exited $SUBMIT_RC but $STAGE run $RUN_ID recorded SUCCEEDED" >&2
           exit $RC ;;
  esac
  # Unknown: spark-submit's failure is the best verdict there is; after a 0, poll for the status.
  [ $SUBMIT_RC -ne 0 ] && exit $SUBMIT_RC
  if [ "$(date +%s)" -ge $DEADLINE ]; then
    echo "cohort-fusion: no final status of $STAGE run $RUN_ID after spark-submit returned 0" >&2
    exit 4
  fi
  sleep "${COHORT_FUSION_WAIT_POLL:-10}"
done
