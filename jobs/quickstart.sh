#!/usr/bin/env bash
# The main job on embedded local Spark with a small synthetic cohort: builds if needed, generates
# the demo cohort, runs every stage that exists so far, and says where the outputs are.
#   jobs/quickstart.sh            # 2000 subjects
#   SUBJECTS=20000 jobs/quickstart.sh
#   CLASSICAL=1 jobs/quickstart.sh   # also the classical baselines linear and gbt (Spark ML; minutes more)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CF="$ROOT/jobs/cohort-fusion"
SUBJECTS="${SUBJECTS:-2000}"
start=$(date +%s)

echo "== 1/7 generate: synthetic demo cohort ($SUBJECTS subjects, five modality kinds) -> work/demo/input"
"$CF" generate --subjects "$SUBJECTS" --output work/demo/input

echo "== 2/7 ingest: validate, align, split -> work/demo/cohort"
"$CF" ingest --config conf/demo.conf

echo "== 3/7 pretrain: one encoder per modality, Spark parameter averaging -> work/demo/pretrain"
"$CF" pretrain --config conf/demo.conf

echo "== 4/7 extract: embeddings per subject on the executors -> work/demo/embeddings"
"$CF" extract --config conf/demo.conf

echo "== 5/7 train: fusion models (default: masked attention) and baselines -> work/demo/train"
TRAIN_SET=()
if [[ "${CLASSICAL:-0}" == 1 ]]; then
  TRAIN_SET=(--set "train.classical.models=[linear, gbt]")
fi
"$CF" train --config conf/demo.conf ${TRAIN_SET[@]+"${TRAIN_SET[@]}"}

echo "== 6/7 evaluate: test split, per missingness pattern, robustness to removed modalities -> work/demo/evaluate"
"$CF" evaluate --config conf/demo.conf

echo "== 7/7 report: comparison table and HTML report -> work/demo/report"
"$CF" report --config conf/demo.conf

echo
echo "Done in $(( $(date +%s) - start )) s. Outputs:"
echo "  work/demo/input              the generated tables (subjects, clinical, omics, imaging, labs, notes)"
echo "  work/demo/cohort/aligned     the aligned cohort (Parquet, one row per subject)"
echo "  work/demo/cohort/rejects     rejected rows with their reasons"
echo "  work/demo/cohort/qc.txt      the QC summary printed above (qc.json: the same as JSON)"
echo "  work/demo/pretrain           encoders (model.zip + SHA-256 + provenance) and unimodal metrics"
echo "  work/demo/embeddings         embeddings table + embeddings.json"
echo "  work/demo/train              fusion models and baselines, summary.json"
echo "  work/demo/evaluate           predictions (Parquet) and metrics.json"
echo "  work/demo/report/index.html  the HTML report"
echo "The real PBC example: the same stages with --config conf/pbc.conf (see README)"
