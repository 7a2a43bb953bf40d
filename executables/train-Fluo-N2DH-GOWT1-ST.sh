#!/usr/bin/env bash
# train-Fluo-N2DH-GOWT1-ST.sh: train the ST model of Fluo-N2DH-GOWT1 with ctc-toolkit.
#
# Prerequisites: as for the executables; a GPU shortens training a lot.
# Data: ../Fluo-N2DH-GOWT1/01, ../Fluo-N2DH-GOWT1/02 (training sequences with NN_GT and NN_ST).
# Output: models/Fluo-N2DH-GOWT1-ST (config.json + weights.pt); rerun with --resume after an
# interruption: ./train-Fluo-N2DH-GOWT1-ST.sh --resume
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc train "../Fluo-N2DH-GOWT1" --truth ST --out "$ROOT/models/Fluo-N2DH-GOWT1-ST" "$@"
