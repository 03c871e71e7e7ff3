#!/usr/bin/env bash
# Runs one cohort-fusion stage with spark-submit on a cluster (YARN, Kubernetes, standalone).
#   SPARK_HOME=/opt/spark jobs/submit.sh ingest --config conf/demo.conf
# Spark settings: conf/spark-cluster.properties, or the file in COHORT_FUSION_SPARK_PROPERTIES
# (see conf/spark-yarn.properties, conf/spark-k8s.properties, conf/spark-standalone.properties).
# Extra spark-submit arguments (e.g. --master yarn --deploy-mode cluster): SPARK_SUBMIT_ARGS.
# In cluster deploy mode the driver runs remotely: put the pipeline config and the data on
# storage it can read (HDFS, S3, a shared mount) or ship the config with --files.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${SPARK_HOME:?set SPARK_HOME to a Spark 3.5.x (Scala 2.12) installation}"
[ $# -ge 1 ] || { echo "usage: jobs/submit.sh <stage> [options]  (stages: jobs/cohort-fusion --help)" >&2; exit 2; }
STAGE="$1"; shift
JAR=$(ls "$ROOT"/target/cohort-fusion-*-spark.jar 2>/dev/null | head -1 || true)
if [ -z "$JAR" ]; then
  echo "cohort-fusion: building the spark-submit jar (mvn package) ..." >&2
  (cd "$ROOT" && mvn -q -B -ntp -DskipTests package >&2)
  JAR=$(ls "$ROOT"/target/cohort-fusion-*-spark.jar | head -1)
fi
PROPS="${COHORT_FUSION_SPARK_PROPERTIES:-$ROOT/conf/spark-cluster.properties}"
# shellcheck disable=SC2086
exec "$SPARK_HOME/bin/spark-submit" \
  --class org.cohortfusion.cli.CohortFusion \
  --name "cohort-fusion $STAGE" \
  --properties-file "$PROPS" \
  ${SPARK_SUBMIT_ARGS:-} \
  "$JAR" "$STAGE" "$@"
