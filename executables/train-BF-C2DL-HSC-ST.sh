#!/usr/bin/env bash
# train-BF-C2DL-HSC-ST.sh: train the ST model of BF-C2DL-HSC with ctc-toolkit.
#
# Prerequisites: as for the executables; a GPU shortens training a lot.
# Data: ../BF-C2DL-HSC/01, ../BF-C2DL-HSC/02 (training sequences with NN_GT and NN_ST).
# Output: models/BF-C2DL-HSC-ST (config.json + weights.pt); rerun with --resume after an
# interruption: ./train-BF-C2DL-HSC-ST.sh --resume
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc train "../BF-C2DL-HSC" --truth ST --out "$ROOT/models/BF-C2DL-HSC-ST" "$@"
