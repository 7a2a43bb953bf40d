#!/usr/bin/env bash
# train-Fluo-C2DL-Huh7-GT.sh: train the GT model of Fluo-C2DL-Huh7 with ctc-toolkit.
#
# Prerequisites: as for the executables; a GPU shortens training a lot.
# Data: ../Fluo-C2DL-Huh7/01, ../Fluo-C2DL-Huh7/02 (training sequences with NN_GT).
# Output: models/Fluo-C2DL-Huh7-GT (config.json + weights.pt); rerun with --resume after an
# interruption: ./train-Fluo-C2DL-Huh7-GT.sh --resume
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc train "../Fluo-C2DL-Huh7" --truth GT --out "$ROOT/models/Fluo-C2DL-Huh7-GT" "$@"
