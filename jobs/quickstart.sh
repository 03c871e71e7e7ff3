#!/usr/bin/env bash
# The main job on embedded local Spark with a small synthetic cohort: builds if needed, generates
# the demo cohort, runs every stage that exists so far, and says where the outputs are.
#   jobs/quickstart.sh            # 2000 subjects
#   SUBJECTS=20000 jobs/quickstart.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CF="$ROOT/jobs/cohort-fusion"
SUBJECTS="${SUBJECTS:-2000}"
start=$(date +%s)

echo "== 1/2 generate: synthetic demo cohort ($SUBJECTS subjects, five modality kinds) -> work/demo/input"
"$CF" generate --subjects "$SUBJECTS" --output work/demo/input

echo "== 2/2 ingest: validate, align, split -> work/demo/cohort"
"$CF" ingest --config conf/demo.conf

echo
echo "Done in $(( $(date +%s) - start )) s. Outputs:"
echo "  work/demo/input              the generated tables (subjects, clinical, omics, imaging, labs, notes)"
echo "  work/demo/cohort/aligned     the aligned cohort (Parquet, one row per subject)"
echo "  work/demo/cohort/rejects     rejected rows with their reasons"
echo "  work/demo/cohort/qc.txt      the QC summary printed above (qc.json: the same as JSON)"
echo "The real PBC example: jobs/cohort-fusion ingest --config conf/pbc.conf"
