#!/usr/bin/env bash
# train-Fluo-C3DL-MDA231-GT+ST.sh: train the GT+ST model of Fluo-C3DL-MDA231 with ctc-toolkit.
#
# Prerequisites: as for the executables; a GPU shortens training a lot.
# Data: ../Fluo-C3DL-MDA231/01, ../Fluo-C3DL-MDA231/02 (training sequences with NN_GT and NN_ST).
# Output: models/Fluo-C3DL-MDA231-GT+ST (config.json + weights.pt); rerun with --resume after an
# interruption: ./train-Fluo-C3DL-MDA231-GT+ST.sh --resume
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc train "../Fluo-C3DL-MDA231" --truth GT+ST --out "$ROOT/models/Fluo-C3DL-MDA231-GT+ST" "$@"
