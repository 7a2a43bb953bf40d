#!/usr/bin/env bash
# train-Fluo-C2DL-MSC-GT+ST.sh: train the GT+ST model of Fluo-C2DL-MSC with ctc-toolkit.
#
# Prerequisites: as for the executables; a GPU shortens training a lot.
# Data: ../Fluo-C2DL-MSC/01, ../Fluo-C2DL-MSC/02 (training sequences with NN_GT and NN_ST).
# Output: models/Fluo-C2DL-MSC-GT+ST (config.json + weights.pt); rerun with --resume after an
# interruption: ./train-Fluo-C2DL-MSC-GT+ST.sh --resume
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc train "../Fluo-C2DL-MSC" --truth GT+ST --out "$ROOT/models/Fluo-C2DL-MSC-GT+ST" "$@"
