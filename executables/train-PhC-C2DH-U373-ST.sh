#!/usr/bin/env bash
# train-PhC-C2DH-U373-ST.sh: train the ST model of PhC-C2DH-U373 with ctc-toolkit.
#
# Prerequisites: as for the executables; a GPU shortens training a lot.
# Data: ../PhC-C2DH-U373/01, ../PhC-C2DH-U373/02 (training sequences with NN_GT and NN_ST).
# Output: models/PhC-C2DH-U373-ST (config.json + weights.pt); rerun with --resume after an
# interruption: ./train-PhC-C2DH-U373-ST.sh --resume
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$HERE"
[ -d "$ROOT/models" ] || ROOT="$(dirname "$HERE")"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m ctc train "../PhC-C2DH-U373" --truth ST --out "$ROOT/models/PhC-C2DH-U373-ST" "$@"
