#!/usr/bin/env bash
# The main job on embedded local Spark with a small synthetic cohort: builds if needed, generates
# the demo cohort, runs every stage that exists so far, and says where the outputs are.
#   jobs/quickstart.sh            # 2000 subjects
#   SUBJECTS=20000 jobs/quickstart.sh
#   jobs/quickstart.sh --retrain  # second act: a new snapshot, retrain, the gate's decision (after the first act)
#   CLASSICAL=1 jobs/quickstart.sh   # also the classical baselines linear and gbt (Spark ML; minutes more)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CF="$ROOT/jobs/cohort-fusion"
SUBJECTS="${SUBJECTS:-2000}"
# The first act's stages share this run id, so the retrain act can take its run as the first champion.
RUN_ID="quickstart-1"
start=$(date +%s)

if [ "${1:-}" = "--retrain" ]; then
  if [ ! -f work/demo/_status/evaluate.json ] || ! grep -q "\"$RUN_ID\"" work/demo/_status/evaluate.json; then
    echo "Run jobs/quickstart.sh first: the retrain act starts from its outputs." >&2
    exit 2
  fi
  echo "== retrain 1/3: the first act's attention model becomes the first champion (every stage of run $RUN_ID is done,"
  echo "   so retrain goes straight to the gate: it must beat the best unimodal model) -> work/demo/registry"
  set +e
  "$CF" retrain --config conf/demo.conf --run-id "$RUN_ID"
  code=$?
  set -e
  echo "   exit code $code (0 promoted, 3 not promoted)"
  if [ "$code" = 3 ]; then
    echo "   Not promoted: registering it as champion by hand, so the second snapshot has a champion to meet"
    "$CF" registry promote attention --config conf/demo.conf --version 1 --reason "quick start: first champion"
  elif [ "$code" != 0 ]; then
    exit "$code"
  fi
  NEW=$((SUBJECTS * 6 / 5))
  echo "== retrain 2/3: a second snapshot: the same $SUBJECTS subjects, $((NEW - SUBJECTS)) new ones, imaging missing for half -> work/demo/snapshot-2"
  "$CF" generate --subjects "$NEW" --missing imaging=0.5 --output work/demo/snapshot-2
  echo "== retrain 3/3: retrain on it: ingest, extract with the champion's encoders (cached embeddings reused),"
  echo "   train the challenger, score both on the same test subjects, the gate"
  set +e
  "$CF" retrain --config conf/demo.conf --set cohort-dir=work/demo/snapshot-2
  code=$?
  set -e
  echo
  echo "Retrain done in $(( $(date +%s) - start )) s with exit code $code (0: promoted, 3: gate not passed). Outputs:"
  echo "  work/demo/retrain/retrain.json   the decision, every gate criterion with both sides' numbers, drift, lineage"
  echo "  work/demo/retrain/report.html    the same as a page"
  echo "  work/demo/registry               versions, aliases and the event log: jobs/cohort-fusion registry list -c conf/demo.conf"
  exit "$code"
fi

echo "== 1/7 generate: synthetic demo cohort ($SUBJECTS subjects, five modality kinds) -> work/demo/input"
"$CF" generate --subjects "$SUBJECTS" --output work/demo/input

echo "== 2/7 ingest: validate, align, split -> work/demo/cohort"
"$CF" ingest --config conf/demo.conf --run-id "$RUN_ID"

echo "== 3/7 pretrain: one encoder per modality, Spark parameter averaging -> work/demo/pretrain"
"$CF" pretrain --config conf/demo.conf --run-id "$RUN_ID"

echo "== 4/7 extract: embeddings per subject on the executors -> work/demo/embeddings"
"$CF" extract --config conf/demo.conf --run-id "$RUN_ID"

echo "== 5/7 train: fusion models (default: masked attention) and baselines -> work/demo/train"
TRAIN_SET=()
if [[ "${CLASSICAL:-0}" == 1 ]]; then
  TRAIN_SET=(--set "train.classical.models=[linear, gbt]")
fi
"$CF" train --config conf/demo.conf --run-id "$RUN_ID" ${TRAIN_SET[@]+"${TRAIN_SET[@]}"}

echo "== 6/7 evaluate: test split, per missingness pattern, robustness to removed modalities -> work/demo/evaluate"
"$CF" evaluate --config conf/demo.conf --run-id "$RUN_ID"

echo "== 7/7 report: comparison table and HTML report -> work/demo/report"
"$CF" report --config conf/demo.conf --run-id "$RUN_ID"

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
echo "Second act, scheduled retraining on a new snapshot: jobs/quickstart.sh --retrain"
