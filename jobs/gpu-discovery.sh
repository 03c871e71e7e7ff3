#!/usr/bin/env bash
# Spark GPU discovery script: prints this host's GPUs as Spark's ResourceInformation JSON,
#   {"name":"gpu","addresses":["0","1"]}
# The addresses are nvidia-smi indices, which Nd4jDeviceBinder uses as CUDA device ordinals.
# Point spark.executor.resource.gpu.discoveryScript (and, for standalone workers,
# spark.worker.resource.gpu.discoveryScript) at this file; see conf/spark-gpu.properties.
set -euo pipefail
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "gpu-discovery.sh: nvidia-smi not found; reporting no GPUs" >&2
  echo '{"name":"gpu","addresses":[]}'
  exit 0
fi
ADDRESSES=$(nvidia-smi --query-gpu=index --format=csv,noheader | sed -e 's/[[:space:]]//g' -e '/^$/d' \
  | awk 'BEGIN{ORS=""} {printf "%s\"%s\"", (NR>1?",":""), $0}')
echo "{\"name\":\"gpu\",\"addresses\":[${ADDRESSES}]}"
