#!/usr/bin/env bash
# train-Fluo-C2DL-MSC-ST.sh: train the ST model of Fluo-C2DL-MSC with ctc-toolkit.
#
# Prerequisites: as for the executables; a GPU shortens training a lot.
# Data: ../Fluo-C2DL-MSC/01, ../Fluo-C2DL-MSC/02 (training sequences with NN_GT and NN_ST).
# Output: models/Fluo-C2DL-MSC-ST (config.json + weights.pt); rerun with --resume after an
# interruption: ./train-Fluo-C2DL-MSC-ST.sh --resume
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc train "../Fluo-C2DL-MSC" --truth ST --out "$ROOT/models/Fluo-C2DL-MSC-ST" "$@"
